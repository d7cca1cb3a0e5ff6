-- Before anything is timed: PostGIS and Wangge must put about as many features in each tile
-- (Wangge's counts, of its tiles without simplification, come with the tile list). Prints
-- tiles|tiles with the same counts in every layer|Wangge's features|PostGIS's features|
-- the largest difference in one tile; the tiles that differ follow, one per line.
WITH c AS (
    SELECT t.id, t.z, t.x, t.y,
           t.streets + t.communities + t.grids + t.roads + t.buildings AS wangge,
           p.streets + p.communities + p.grids + p.roads + p.buildings AS postgis,
           (t.streets, t.communities, t.grids, t.roads, t.buildings)
               = (p.streets, p.communities, p.grids, p.roads, p.buildings) AS same,
           format('%s/%s/%s wangge %s,%s,%s,%s,%s postgis %s,%s,%s,%s,%s', t.z, t.x, t.y, t.streets, t.communities,
                  t.grids, t.roads, t.buildings, p.streets, p.communities, p.grids, p.roads, p.buildings) AS detail
    FROM bench_tiles t, LATERAL bench_mvt_counts(t.z, t.x, t.y) p
)
SELECT count(*) || '|' || count(*) FILTER (WHERE same) || '|' || sum(wangge) || '|' || sum(postgis) || '|'
       || max(abs(wangge - postgis))
FROM c
UNION ALL
SELECT * FROM (SELECT 'differs ' || detail FROM c WHERE NOT same ORDER BY id) d;

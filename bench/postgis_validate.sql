-- Before anything is timed: PostGIS must give the grid code Wangge gave for the first
-- :sample points (same query as pgbench_makepoint.sql). Prints mismatches|checked|in_grid.
SELECT count(*) FILTER (WHERE x.code IS DISTINCT FROM p.grid_code),
       count(*),
       count(x.code)
FROM bench_points p
LEFT JOIN LATERAL (
    SELECT g.code FROM grids g
    WHERE ST_Contains(g.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
    ORDER BY g.code LIMIT 1
) x ON true
WHERE p.id <= :sample;

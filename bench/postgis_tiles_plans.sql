-- The plans of two of bench_mvt()'s queries for the first z14 tile, for the record: a GiST index
-- scan on the EPSG:3857 column is expected in each.
SELECT z, x, y FROM bench_tiles WHERE z = 14 ORDER BY id LIMIT 1 \gset
EXPLAIN (ANALYZE, COSTS OFF)
SELECT ST_AsMVT(t, 'grids', 4096, 'geom', 'fid') FROM (
    SELECT code::bigint AS fid, code, name, 'grid' AS level, households, buildings, community_code AS parent, kind,
           load, version, ST_AsMVTGeom(g3857, ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom
    FROM grids WHERE g3857 && ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096)) t;
EXPLAIN (ANALYZE, COSTS OFF)
SELECT ST_AsMVT(t, 'buildings', 4096, 'geom', 'fid') FROM (
    SELECT fid::bigint AS fid, fid::bigint AS id, name, use, households::bigint AS households, estimated,
           floors::bigint AS floors, grid_code, ST_AsMVTGeom(g3857, ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom
    FROM buildings WHERE g3857 && ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096)) t;

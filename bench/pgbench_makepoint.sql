-- pgbench script (-M prepared): the lookup as an application would send it, coordinates as
-- parameters, drawn uniformly by pgbench in the grids' bounding box (the same distribution as
-- locate_bench's points). pgbench -D min_lon=.. -D min_lat=.. -D max_lon=.. -D max_lat=..
\set lon :min_lon + (:max_lon - :min_lon) * random(0, 1000000000) / 1000000000.0
\set lat :min_lat + (:max_lat - :min_lat) * random(0, 1000000000) / 1000000000.0
SELECT code FROM grids
WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
ORDER BY code LIMIT 1;

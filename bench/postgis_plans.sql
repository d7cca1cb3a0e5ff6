-- The plans of the two pgbench queries, for the record: a GiST index scan is expected in each.
-- Generic plans, as a prepared statement settles on after a few executions.
SET plan_cache_mode = force_generic_plan;
PREPARE by_point_id(integer) AS
    SELECT g.code FROM bench_points p JOIN grids g ON ST_Contains(g.geom, p.geom)
    WHERE p.id = $1 ORDER BY g.code LIMIT 1;
PREPARE by_coordinates(double precision, double precision) AS
    SELECT code FROM grids
    WHERE ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326))
    ORDER BY code LIMIT 1;
SELECT lon, lat FROM bench_points WHERE id = 1 \gset
EXPLAIN (ANALYZE, COSTS OFF) EXECUTE by_point_id(1);
EXPLAIN (ANALYZE, COSTS OFF) EXECUTE by_coordinates(:lon, :lat);

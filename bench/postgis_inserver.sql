-- PostGIS without the client: every benchmark point looked up inside one statement, so no
-- protocol round trip is paid. Run twice by run.sh (the first warms the cache); psql's \timing
-- gives the time.
\timing on
SELECT count(x.code)
FROM bench_points p
LEFT JOIN LATERAL (
    SELECT g.code FROM grids g
    WHERE ST_Contains(g.geom, p.geom)
    ORDER BY g.code LIMIT 1
) x ON true;

-- pgbench script (-M prepared): one lookup of a benchmark point written by locate_bench, the
-- same points the in-process and HTTP benchmarks use. pgbench -D npoints=N.
\set id random(1, :npoints)
SELECT g.code FROM bench_points p JOIN grids g ON ST_Contains(g.geom, p.geom)
WHERE p.id = :id ORDER BY g.code LIMIT 1;

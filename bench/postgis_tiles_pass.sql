-- One timed round of PostGIS tiles, inside the server: a PL/pgSQL loop makes bench_mvt() of every
-- tile of bench_tiles, pass after pass, until :min_seconds have gone by (at least one pass), and
-- times each call with clock_timestamp(). No client round trip and no transfer of the tile is
-- included: the in-process figure of Wangge has neither. The fastest pass counts, and the zooms'
-- median and p95 are those of that pass (as in tiles_bench). One backend, no parallel workers
-- and no JIT: one core, as Wangge's single-thread figure.
-- Prints lines `pg_mvt key=value ...` and `pg_mvt_zoom z=.. key=value ...`.
SET jit = off;
SET max_parallel_workers_per_gather = 0;
SET bench.min_seconds = :'min_seconds';
CREATE TEMP TABLE pass_times (pass integer, id integer, ms double precision, bytes integer);
DO $$
DECLARE
    t record;
    t0 timestamptz;
    start timestamptz := clock_timestamp();
    pass integer := 0;
    tile bytea;
BEGIN
    LOOP
        pass := pass + 1;
        FOR t IN SELECT id, z, x, y FROM bench_tiles ORDER BY id LOOP
            t0 := clock_timestamp();
            tile := bench_mvt(t.z, t.x, t.y);
            INSERT INTO pass_times VALUES (pass, t.id, 1000 * extract(epoch FROM clock_timestamp() - t0),
                                           length(tile));
        END LOOP;
        EXIT WHEN clock_timestamp() - start >= make_interval(secs => current_setting('bench.min_seconds')::float8);
    END LOOP;
END
$$;
WITH passes AS (SELECT pass, sum(ms) AS ms, count(*) AS tiles, sum(bytes) AS bytes FROM pass_times GROUP BY pass),
     best AS (SELECT * FROM passes ORDER BY ms LIMIT 1)
SELECT format('pg_mvt tiles=%s passes=%s seconds=%s tiles_per_s=%s ms_per_tile=%s bytes=%s',
              b.tiles, (SELECT count(*) FROM passes), round((b.ms / 1000)::numeric, 4),
              round((1000 * b.tiles / b.ms)::numeric, 1), round((b.ms / b.tiles)::numeric, 3), b.bytes)
FROM best b
UNION ALL
SELECT * FROM (
    SELECT format('pg_mvt_zoom z=%s tiles=%s median_ms=%s p95_ms=%s max_ms=%s mean_bytes=%s', t.z, count(*),
                  round(percentile_disc(0.5) WITHIN GROUP (ORDER BY p.ms)::numeric, 3),
                  round(percentile_disc(0.95) WITHIN GROUP (ORDER BY p.ms)::numeric, 3),
                  round(max(p.ms)::numeric, 3), round(avg(p.bytes)))
    FROM pass_times p JOIN bench_tiles t USING (id)
    WHERE p.pass = (SELECT pass FROM passes ORDER BY ms LIMIT 1)
    GROUP BY t.z ORDER BY t.z) z;

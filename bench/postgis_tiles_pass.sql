-- One timed round of PostGIS tiles, inside the server: a PL/pgSQL loop makes bench_mvt() of every
-- tile of bench_tiles, pass after pass, until :min_seconds have gone by (at least one pass), and
-- times each call with clock_timestamp(). No client round trip and no transfer of the tile is
-- included: the in-process figure of Wangge has neither. The fastest pass counts, and the zooms'
-- median and p95 are those of that pass (as in tiles_bench); the backend's CPU time is measured
-- over all passes. One backend, no parallel workers and no JIT: one core, as Wangge's
-- single-thread figure.
-- Prints lines `pg_mvt key=value ...` and `pg_mvt_zoom z=.. key=value ...`.
SET jit = off;
SET max_parallel_workers_per_gather = 0;
SET bench.min_seconds = :'min_seconds';
-- One untimed pass first, as tiles_bench makes every tile once before timing: PL/pgSQL plans
-- bench_mvt's queries on their first calls.
SELECT count(bench_mvt(z, x, y)) AS warm_up FROM bench_tiles \g /dev/null
CREATE TEMP TABLE pass_times (pass integer, id integer, ms double precision, bytes integer);
CREATE TEMP TABLE pass_cpu (pass integer, cpu_ms double precision);
-- The backend's CPU time (user + system, /proc/self/stat, in ticks of 10 ms), to tell other
-- processes taking the core (wall time grows, CPU time does not) from slower work.
CREATE FUNCTION pg_temp.cpu_ms() RETURNS double precision LANGUAGE sql AS $$
    SELECT (split_part(f, ' ', 12)::bigint + split_part(f, ' ', 13)::bigint) * 10.0
    FROM (SELECT substring(pg_read_file('/proc/self/stat') FROM '\) (.*)$') AS f) s
$$;
DO $$
DECLARE
    t record;
    t0 timestamptz;
    start timestamptz := clock_timestamp();
    pass integer := 0;
    tile bytea;
    cpu0 double precision;
    ids integer[];
    ms double precision[];
    sizes integer[];
BEGIN
    LOOP
        pass := pass + 1;
        ids := '{}';
        ms := '{}';
        sizes := '{}';
        cpu0 := pg_temp.cpu_ms();
        FOR t IN SELECT id, z, x, y FROM bench_tiles ORDER BY id LOOP
            t0 := clock_timestamp();
            tile := bench_mvt(t.z, t.x, t.y);
            ms := ms || (1000 * extract(epoch FROM clock_timestamp() - t0))::double precision;
            ids := ids || t.id;
            sizes := sizes || length(tile);
        END LOOP;
        INSERT INTO pass_cpu VALUES (pass, pg_temp.cpu_ms() - cpu0);
        INSERT INTO pass_times SELECT pass, u.* FROM unnest(ids, ms, sizes) AS u;
        EXIT WHEN clock_timestamp() - start >= make_interval(secs => current_setting('bench.min_seconds')::float8);
    END LOOP;
END
$$;
WITH passes AS (SELECT pass, sum(ms) AS ms, count(*) AS tiles, sum(bytes) AS bytes FROM pass_times GROUP BY pass),
     best AS (SELECT * FROM passes ORDER BY ms LIMIT 1)
SELECT format('pg_mvt tiles=%s passes=%s seconds=%s tiles_per_s=%s ms_per_tile=%s all_passes_cpu_ms_per_tile=%s bytes=%s',
              b.tiles, (SELECT count(*) FROM passes), round((b.ms / 1000)::numeric, 4),
              round((1000 * b.tiles / b.ms)::numeric, 1), round((b.ms / b.tiles)::numeric, 3),
              round(((SELECT sum(cpu_ms) FROM pass_cpu) / (SELECT sum(tiles) FROM passes))::numeric, 3), b.bytes)
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

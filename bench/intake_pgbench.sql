-- pgbench script (-M prepared), one transaction per report as a client of PostgreSQL + PostGIS
-- would file it: one statement that locates the report's point in the grids (GiST,
-- ST_Contains), inserts the case with its street, community and grid, and commits (autocommit:
-- synchronous_commit=on, fsync=on, so the commit returns once the WAL is flushed).
-- pgbench -D npoints=N; the same points and categories as the wrk script.
\set i random(1, :npoints)
INSERT INTO cases (category, description, source, lon, lat, street_code, community_code, grid_code,
                   locate_status, assignee_level, assignee_code, state)
SELECT c.codes[1 + :i % cardinality(c.codes)], 'bench pg ' || :client_id || '-' || :i, 'hotline', p.lon, p.lat,
       coalesce(left(g.code, 9), ''), coalesce(left(g.code, 12), ''), coalesce(g.code, ''),
       CASE WHEN g.code IS NULL THEN 'outside' ELSE 'grid' END, 'grid', coalesce(g.code, ''), 'dispatched'
FROM intake_points p
CROSS JOIN intake_categories c
LEFT JOIN LATERAL (SELECT code FROM grids WHERE ST_Contains(grids.geom, p.geom) ORDER BY code LIMIT 1) g ON true
WHERE p.id = :i;

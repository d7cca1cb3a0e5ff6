-- Run by bench/run.sh (--only intake) after ogr2ogr has copied the grids from the SpatiaLite
-- file into a cluster running with fsync=on and synchronous_commit=on: the GiST index, the
-- points every report is made at (the file the wrk script reads), the category codes taken in
-- turn, and the table of cases with the indexes Wangge's incidents table has.
-- psql variables: points_csv (absolute path of "lon,lat" lines), categories ('0101,0102,...').
CREATE INDEX grids_geom_gist ON grids USING GIST (geom);

CREATE TABLE intake_points (
    id serial PRIMARY KEY,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    geom geometry(Point, 4326)
);
-- Server-side COPY: the file lives in run.sh's temporary directory, readable by the server.
COPY intake_points (lon, lat) FROM :'points_csv' WITH (FORMAT csv);
UPDATE intake_points SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326);

CREATE TABLE intake_categories (codes text[] NOT NULL);
INSERT INTO intake_categories VALUES (string_to_array(:'categories', ','));

-- A case as Wangge stores one: where it was reported, where it lies (street, community, grid),
-- to whom it falls, its state; indexed as Wangge's incidents are.
CREATE TABLE cases (
    id bigserial PRIMARY KEY,
    category text NOT NULL,
    description text NOT NULL,
    source text NOT NULL,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    street_code text NOT NULL,
    community_code text NOT NULL,
    grid_code text NOT NULL,
    locate_status text NOT NULL,
    assignee_level text NOT NULL,
    assignee_code text NOT NULL,
    state text NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_category_place ON cases (category, lat, lon);
CREATE INDEX cases_grid ON cases (grid_code);
CREATE INDEX cases_community ON cases (community_code);
CREATE INDEX cases_place ON cases (lat, lon);
VACUUM ANALYZE;

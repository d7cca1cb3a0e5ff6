-- Run by bench/run.sh after ogr2ogr has copied streets, communities and grids from the
-- SpatiaLite file: the GiST indexes, the benchmark points written by locate_bench, statistics.
-- psql variable: points_csv (absolute path of the points file).
CREATE INDEX streets_geom_gist ON streets USING GIST (geom);
CREATE INDEX communities_geom_gist ON communities USING GIST (geom);
CREATE INDEX grids_geom_gist ON grids USING GIST (geom);

CREATE TABLE bench_points (
    id integer PRIMARY KEY,
    lon double precision NOT NULL,
    lat double precision NOT NULL,
    grid_code text,               -- what Wangge's locate() answered; NULL for no grid
    geom geometry(Point, 4326)
);
-- Server-side COPY: the file lives in run.sh's temporary directory, readable by the server.
COPY bench_points (id, lon, lat, grid_code) FROM :'points_csv' WITH (FORMAT csv, HEADER);
UPDATE bench_points SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326);
VACUUM ANALYZE;

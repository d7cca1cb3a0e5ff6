-- Run by bench/run.sh after ogr2ogr has copied streets, communities, grids, buildings and roads
-- from the SpatiaLite file (the INTEGER PRIMARY KEY `id` of buildings and roads arrives as `fid`).
-- Gives PostGIS the usual fast setup for ST_AsMVT: geometry transformed to EPSG:3857 once, in a
-- column with a GiST index; the properties Wangge's tiles carry stored as columns of the types
-- ST_AsMVT encodes directly (text, bigint, boolean); the tile list; fresh statistics.
-- psql variable: tiles_csv (absolute path of the tile list written by tiles_bench).

-- Text rather than character varying: ST_AsMVT encodes text directly and anything else through
-- the type's output function.
ALTER TABLE streets ALTER code TYPE text, ALTER name TYPE text;
ALTER TABLE communities ALTER code TYPE text, ALTER street_code TYPE text, ALTER name TYPE text;
ALTER TABLE grids ALTER code TYPE text, ALTER community_code TYPE text, ALTER name TYPE text, ALTER kind TYPE text,
    ALTER version TYPE bigint;
ALTER TABLE buildings ALTER name TYPE text, ALTER use TYPE text, ALTER grid_code TYPE text;
ALTER TABLE roads ALTER name TYPE text, ALTER kind TYPE text;

-- The statistics of the tiles' properties, computed once as Wangge's snapshot does when it loads:
-- households and buildings of a grid from the buildings assigned to it, of a community from its
-- grids, of a street from its communities; a grid's load against the band 250..500.
ALTER TABLE grids ADD households bigint NOT NULL DEFAULT 0, ADD buildings bigint NOT NULL DEFAULT 0, ADD load text;
ALTER TABLE communities ADD households bigint NOT NULL DEFAULT 0, ADD buildings bigint NOT NULL DEFAULT 0;
ALTER TABLE streets ADD households bigint NOT NULL DEFAULT 0, ADD buildings bigint NOT NULL DEFAULT 0;
UPDATE grids g SET households = s.households, buildings = s.buildings
FROM (SELECT grid_code, sum(households) AS households, count(*) AS buildings
      FROM buildings WHERE grid_code IS NOT NULL GROUP BY grid_code) s
WHERE s.grid_code = g.code;
UPDATE grids SET load = CASE WHEN kind = 'unit' THEN 'unit'
                             WHEN households < 250 THEN 'below'
                             WHEN households > 500 THEN 'above'
                             ELSE 'in_band' END;
UPDATE communities c SET households = s.households, buildings = s.buildings
FROM (SELECT community_code, sum(households) AS households, sum(buildings) AS buildings
      FROM grids GROUP BY community_code) s
WHERE s.community_code = c.code;
UPDATE streets st SET households = s.households, buildings = s.buildings
FROM (SELECT street_code, sum(households) AS households, sum(buildings) AS buildings
      FROM communities GROUP BY street_code) s
WHERE s.street_code = st.code;
ALTER TABLE buildings ADD estimated boolean;
UPDATE buildings SET estimated = households_estimated <> 0;

-- Web Mercator once, indexed.
ALTER TABLE streets ADD g3857 geometry(MultiPolygon, 3857);
ALTER TABLE communities ADD g3857 geometry(MultiPolygon, 3857);
ALTER TABLE grids ADD g3857 geometry(MultiPolygon, 3857);
ALTER TABLE buildings ADD g3857 geometry(MultiPolygon, 3857);
ALTER TABLE roads ADD g3857 geometry(MultiLineString, 3857);
UPDATE streets SET g3857 = ST_Transform(geom, 3857);
UPDATE communities SET g3857 = ST_Transform(geom, 3857);
UPDATE grids SET g3857 = ST_Transform(geom, 3857);
UPDATE buildings SET g3857 = ST_Transform(geom, 3857);
UPDATE roads SET g3857 = ST_Transform(geom, 3857);
CREATE INDEX streets_g3857 ON streets USING GIST (g3857);
CREATE INDEX communities_g3857 ON communities USING GIST (g3857);
CREATE INDEX grids_g3857 ON grids USING GIST (g3857);
CREATE INDEX buildings_g3857 ON buildings USING GIST (g3857);
CREATE INDEX roads_g3857 ON roads USING GIST (g3857);

-- The tiles, with the features Wangge put in each source layer (geometry as ST_AsMVTGeom makes it).
CREATE TABLE bench_tiles (
    id integer PRIMARY KEY,
    z integer NOT NULL,
    x integer NOT NULL,
    y integer NOT NULL,
    streets integer NOT NULL,
    communities integer NOT NULL,
    grids integer NOT NULL,
    roads integer NOT NULL,
    buildings integer NOT NULL
);
COPY bench_tiles FROM :'tiles_csv' WITH (FORMAT csv, HEADER);

-- The tile of Wangge's `hierarchy` layer: the five source layers in Wangge's order, each from its
-- minimum zoom, the same properties and feature ids, extent 4096, buffer 64, uncompressed.
-- PL/pgSQL keeps its query plans for the session, as a tile server's prepared statements would.
CREATE FUNCTION bench_mvt(z integer, x integer, y integer) RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    env geometry := ST_TileEnvelope(z, x, y);
    -- The buffer: features reaching into it are drawn, as in Wangge's tiles.
    area geometry := ST_TileEnvelope(z, x, y, margin => 64.0 / 4096);
    tile bytea;
    part bytea;
BEGIN
    SELECT ST_AsMVT(t, 'streets', 4096, 'geom', 'fid') INTO tile FROM (
        SELECT code::bigint AS fid, code, name, 'street' AS level, households, buildings,
               ST_AsMVTGeom(g3857, env, 4096, 64, true) AS geom
        FROM streets WHERE g3857 && area) t;
    SELECT ST_AsMVT(t, 'communities', 4096, 'geom', 'fid') INTO part FROM (
        SELECT code::bigint AS fid, code, name, 'community' AS level, households, buildings,
               street_code AS parent, ST_AsMVTGeom(g3857, env, 4096, 64, true) AS geom
        FROM communities WHERE g3857 && area) t;
    tile := coalesce(tile, '') || coalesce(part, '');
    IF z >= 11 THEN
        SELECT ST_AsMVT(t, 'grids', 4096, 'geom', 'fid') INTO part FROM (
            SELECT code::bigint AS fid, code, name, 'grid' AS level, households, buildings,
                   community_code AS parent, kind, load, version, ST_AsMVTGeom(g3857, env, 4096, 64, true) AS geom
            FROM grids WHERE g3857 && area) t;
        tile := tile || coalesce(part, '');
    END IF;
    IF z >= 12 THEN
        SELECT ST_AsMVT(t, 'roads', 4096, 'geom', 'fid') INTO part FROM (
            SELECT fid::bigint AS fid, name, kind, ST_AsMVTGeom(g3857, env, 4096, 64, true) AS geom
            FROM roads WHERE g3857 && area) t;
        tile := tile || coalesce(part, '');
    END IF;
    IF z >= 14 THEN
        SELECT ST_AsMVT(t, 'buildings', 4096, 'geom', 'fid') INTO part FROM (
            SELECT fid::bigint AS fid, fid::bigint AS id, name, use, households::bigint AS households, estimated,
                   floors::bigint AS floors, grid_code, ST_AsMVTGeom(g3857, env, 4096, 64, true) AS geom
            FROM buildings WHERE g3857 && area) t;
        tile := tile || coalesce(part, '');
    END IF;
    RETURN tile;
END
$$;

-- The features of each source layer in a tile, counted as ST_AsMVT encodes them (a feature whose
-- ST_AsMVTGeom is NULL is left out), for the check against Wangge's counts.
CREATE FUNCTION bench_mvt_counts(z integer, x integer, y integer,
    OUT streets bigint, OUT communities bigint, OUT grids bigint, OUT roads bigint, OUT buildings bigint)
LANGUAGE sql STABLE AS $$
    WITH b AS (SELECT ST_TileEnvelope(z, x, y) AS env, ST_TileEnvelope(z, x, y, margin => 64.0 / 4096) AS area)
    SELECT
        (SELECT count(*) FROM streets s, b WHERE s.g3857 && b.area
             AND ST_AsMVTGeom(s.g3857, b.env, 4096, 64, true) IS NOT NULL),
        (SELECT count(*) FROM communities c, b WHERE c.g3857 && b.area
             AND ST_AsMVTGeom(c.g3857, b.env, 4096, 64, true) IS NOT NULL),
        (SELECT count(*) FROM grids g, b WHERE z >= 11 AND g.g3857 && b.area
             AND ST_AsMVTGeom(g.g3857, b.env, 4096, 64, true) IS NOT NULL),
        (SELECT count(*) FROM roads r, b WHERE z >= 12 AND r.g3857 && b.area
             AND ST_AsMVTGeom(r.g3857, b.env, 4096, 64, true) IS NOT NULL),
        (SELECT count(*) FROM buildings bl, b WHERE z >= 14 AND bl.g3857 && b.area
             AND ST_AsMVTGeom(bl.g3857, b.env, 4096, 64, true) IS NOT NULL)
$$;

VACUUM ANALYZE;

#include "store/schema.hpp"

namespace wangge::store::detail {

const std::vector<std::string_view>& migrations() {
    static const std::vector<std::string_view> all = {
        // 1: the three-level hierarchy and buildings.
        R"sql(
SELECT InitSpatialMetadata('WGS84');
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta (key, value) VALUES ('data_version', '0');

CREATE TABLE streets (
  code TEXT PRIMARY KEY CHECK (length(code) = 9 AND code NOT GLOB '*[^0-9]*'),
  name TEXT NOT NULL DEFAULT '');
SELECT AddGeometryColumn('streets', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('streets', 'geom');

CREATE TABLE communities (
  code TEXT PRIMARY KEY CHECK (length(code) = 12 AND code NOT GLOB '*[^0-9]*'),
  street_code TEXT NOT NULL CHECK (street_code = substr(code, 1, 9)),
  name TEXT NOT NULL DEFAULT '');
SELECT AddGeometryColumn('communities', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('communities', 'geom');
CREATE INDEX communities_street ON communities (street_code);

CREATE TABLE grids (
  code TEXT PRIMARY KEY CHECK (length(code) = 15 AND code NOT GLOB '*[^0-9]*'),
  community_code TEXT NOT NULL CHECK (community_code = substr(code, 1, 12)),
  name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT 'residential' CHECK (kind IN ('residential', 'unit')),
  version INTEGER NOT NULL DEFAULT 0);
SELECT AddGeometryColumn('grids', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('grids', 'geom');
CREATE INDEX grids_community ON grids (community_code);

CREATE TABLE buildings (
  id INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  use TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  floors INTEGER CHECK (floors IS NULL OR floors > 0),
  height_m REAL CHECK (height_m IS NULL OR height_m > 0),
  households INTEGER NOT NULL DEFAULT 0 CHECK (households >= 0),
  households_estimated INTEGER NOT NULL DEFAULT 0 CHECK (households_estimated IN (0, 1)),
  grid_code TEXT);
SELECT AddGeometryColumn('buildings', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('buildings', 'geom');
CREATE INDEX buildings_grid ON buildings (grid_code);

CREATE TABLE roads (
  id INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '');
SELECT AddGeometryColumn('roads', 'geom', 4326, 'MULTILINESTRING', 'XY', 1);
SELECT CreateSpatialIndex('roads', 'geom');
)sql",
        // 2: grid history, for audit and undo of rebalancing (docs/BALANCE.md).
        R"sql(
CREATE TABLE grid_changes (
  id INTEGER PRIMARY KEY,
  community_code TEXT NOT NULL CHECK (length(community_code) = 12),
  action TEXT NOT NULL CHECK (action IN ('rebalance', 'bootstrap', 'undo')),
  base_version INTEGER NOT NULL,
  applied_version INTEGER NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  undoes INTEGER REFERENCES grid_changes (id),
  undone_by INTEGER REFERENCES grid_changes (id),
  summary TEXT NOT NULL DEFAULT '{}');
CREATE INDEX grid_changes_community ON grid_changes (community_code, id);

CREATE TABLE grid_history (
  change_id INTEGER NOT NULL REFERENCES grid_changes (id),
  side TEXT NOT NULL CHECK (side IN ('before', 'after')),
  code TEXT NOT NULL,
  community_code TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  geom BLOB NOT NULL);
CREATE INDEX grid_history_change ON grid_history (change_id);

CREATE TABLE grid_change_buildings (
  change_id INTEGER NOT NULL REFERENCES grid_changes (id),
  building_id INTEGER NOT NULL,
  before_code TEXT,
  after_code TEXT);
CREATE INDEX grid_change_buildings_change ON grid_change_buildings (change_id);
)sql",
        // 3: accounts, area-scoped access and the audit log (docs/SECURITY.md). Secrets are stored
        // only as hashes: Argon2id for passwords, BLAKE2b-256 for random API tokens and sessions.
        R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(name) BETWEEN 1 AND 64),
  display_name TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('admin', 'street', 'community', 'worker', 'viewer')),
  password_hash TEXT,
  disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));

CREATE TABLE user_scopes (
  user_id INTEGER NOT NULL REFERENCES users (id),
  code TEXT NOT NULL CHECK (length(code) IN (9, 12, 15) AND code NOT GLOB '*[^0-9]*'),
  PRIMARY KEY (user_id, code));

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  label TEXT NOT NULL DEFAULT '',
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
  hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users (id),
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT '');
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  user_name TEXT NOT NULL DEFAULT '',
  action TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
  status INTEGER NOT NULL DEFAULT 0,
  method TEXT NOT NULL DEFAULT '',
  target TEXT NOT NULL DEFAULT '',
  codes TEXT NOT NULL DEFAULT '',
  base_version INTEGER,
  data_version INTEGER,
  address TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '');
CREATE INDEX audit_at ON audit (at);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql",
        // 4: workers, their grids, and incidents with their append-only event log
        // (docs/INCIDENTS.md).
        R"sql(
CREATE TABLE workers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  phone TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('grid_leader', 'full_time', 'part_time', 'community_worker', 'street_cadre')),
  user_name TEXT,
  on_duty INTEGER NOT NULL DEFAULT 1 CHECK (on_duty IN (0, 1)),
  shift TEXT NOT NULL DEFAULT '');
CREATE UNIQUE INDEX workers_phone ON workers (phone) WHERE phone <> '';

CREATE TABLE grid_workers (
  grid_code TEXT NOT NULL CHECK (length(grid_code) = 15),
  worker_id INTEGER NOT NULL REFERENCES workers (id),
  rank INTEGER NOT NULL CHECK (rank >= 0),
  PRIMARY KEY (grid_code, worker_id));
CREATE UNIQUE INDEX grid_workers_rank ON grid_workers (grid_code, rank);
CREATE INDEX grid_workers_worker ON grid_workers (worker_id);

CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  category TEXT NOT NULL,
  urgency TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent')),
  description TEXT NOT NULL,
  source TEXT NOT NULL,
  lon REAL NOT NULL,
  lat REAL NOT NULL,
  input_crs TEXT NOT NULL,
  building_id INTEGER,
  street_code TEXT NOT NULL DEFAULT '',
  community_code TEXT NOT NULL DEFAULT '',
  grid_code TEXT NOT NULL DEFAULT '',
  locate_status TEXT NOT NULL,
  reporter_name TEXT NOT NULL DEFAULT '',
  reporter_phone TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  assignee_worker_id INTEGER REFERENCES workers (id),
  assignee_level TEXT NOT NULL CHECK (assignee_level IN ('grid', 'community', 'street')),
  assignee_code TEXT NOT NULL,
  reported_at TEXT NOT NULL,
  due_at TEXT NOT NULL,
  closed_at TEXT,
  extended INTEGER NOT NULL DEFAULT 0,
  reworks INTEGER NOT NULL DEFAULT 0,
  rating INTEGER CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
  duplicate_of INTEGER REFERENCES incidents (id),
  idempotency_key TEXT UNIQUE,
  request_digest TEXT NOT NULL DEFAULT '');
CREATE INDEX incidents_category_place ON incidents (category, lat, lon);
CREATE INDEX incidents_grid ON incidents (grid_code);
CREATE INDEX incidents_community ON incidents (community_code);

CREATE TABLE incident_events (
  id INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT NOT NULL DEFAULT '',
  to_state TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  assignee TEXT NOT NULL DEFAULT '');
CREATE INDEX incident_events_incident ON incident_events (incident_id, id);
CREATE TRIGGER incident_events_append_only_update BEFORE UPDATE ON incident_events
  BEGIN SELECT RAISE(ABORT, 'the incident log is append-only'); END;
CREATE TRIGGER incident_events_append_only_delete BEFORE DELETE ON incident_events
  BEGIN SELECT RAISE(ABORT, 'the incident log is append-only'); END;
)sql",
        // 5: photos of cases (the files themselves live beside the database, under their hash),
        // the address a reporter gave, and the log by time for Open311's updates
        // (docs/INCIDENTS.md).
        R"sql(
ALTER TABLE incidents ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE TABLE incident_photos (
  incident_id INTEGER NOT NULL REFERENCES incidents (id),
  event_id INTEGER REFERENCES incident_events (id),
  hash TEXT NOT NULL CHECK (length(hash) = 64),
  media_type TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
  bytes INTEGER NOT NULL CHECK (bytes > 0),
  PRIMARY KEY (incident_id, hash));
CREATE INDEX incident_photos_hash ON incident_photos (hash);
CREATE TRIGGER incident_photos_append_only_update BEFORE UPDATE ON incident_photos
  BEGIN SELECT RAISE(ABORT, 'the photos of a case are append-only'); END;
CREATE TRIGGER incident_photos_append_only_delete BEFORE DELETE ON incident_photos
  BEGIN SELECT RAISE(ABORT, 'the photos of a case are append-only'); END;
CREATE INDEX incident_events_at ON incident_events (at);
)sql",
        // 6: cases by place, for the incidents layer of the map (a box of a tile: a range of
        // latitudes, then longitudes; docs/TILES.md).
        R"sql(
CREATE INDEX incidents_place ON incidents (lat, lon);
)sql",
        // 7: units (单位): campuses, schools, hospitals, barracks, industrial parks, whose large
        // areas bootstrap makes unit grids (docs/BALANCE.md, "Unit grids").
        R"sql(
CREATE TABLE units (
  id INTEGER PRIMARY KEY,
  source_id TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL CHECK (kind IN ('university', 'school', 'hospital', 'military', 'industrial', 'other')));
SELECT AddGeometryColumn('units', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('units', 'geom');
)sql",
    };
    return all;
}

} // namespace wangge::store::detail

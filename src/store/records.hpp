#pragma once
// The rows Wangge stores, as plain values. Geometries are WGS84 MultiPolygons.
#include "geo/geometry.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::store {

// 居民区网格 (residential, 250-500 households) or 单位网格 (unit: a school, hospital, campus,
// industrial park with its own boundary and responsibility).
enum class GridKind { residential, unit };
std::string_view to_string(GridKind kind) noexcept;
// Accepts "residential"/"unit" and the Chinese names 居民区网格/单位网格 (also 居民/单位).
std::optional<GridKind> parse_grid_kind(std::string_view text) noexcept;

struct StreetRow {
    std::string code; // 9 digits
    std::string name;
    geo::Geometry geom;
};

struct CommunityRow {
    std::string code; // 12 digits, prefixed by street_code
    std::string street_code;
    std::string name;
    geo::Geometry geom;
};

struct GridRow {
    std::string code; // 15 digits, prefixed by community_code
    std::string community_code;
    std::string name;
    GridKind kind = GridKind::residential;
    std::int64_t version = 0; // data version at which this grid's boundary last changed
    geo::Geometry geom;
};

struct BuildingRow {
    std::int64_t id = 0;   // assigned by the store
    std::string source_id; // id in the source data (e.g. OSM way id), may be empty
    std::string name;
    std::string use;     // building type, e.g. "residential", "school", OSM building=*
    std::string address;
    std::optional<int> floors;
    std::optional<double> height_m;
    int households = 0;
    bool households_estimated = false; // true when estimated from footprint and levels
    std::optional<std::string> grid_code; // the grid holding the largest part of the footprint
    geo::Geometry geom;
};

// A road centre line (OSM highway=* or a user's road layer); grid boundaries should follow roads.
struct RoadRow {
    std::int64_t id = 0;
    std::string source_id;
    std::string name;
    std::string kind; // e.g. "primary", "residential" (OSM highway=*)
    geo::Geometry geom; // MultiLineString
};

// An area of a unit (单位): a campus, school, hospital, barracks or industrial park, from OSM
// landuse/amenity areas or a user's own layer (`wangge import units FILE`). Bootstrap makes the
// large ones unit grids (docs/BALANCE.md, "Unit grids").
enum class UnitKind { university, school, hospital, military, industrial, other };
std::string_view to_string(UnitKind kind) noexcept;
// The kind a value names: the words above, OSM values (college, kindergarten, clinic, barracks,
// education, ...) and Chinese ones (大学, 学校, 医院, 部队, 园区, 单位, ...); nullopt for others.
std::optional<UnitKind> parse_unit_kind(std::string_view text) noexcept;

struct UnitRow {
    std::int64_t id = 0;
    std::string source_id;
    std::string name;
    UnitKind kind = UnitKind::other;
    geo::Geometry geom; // MultiPolygon
};

// One change of a community's grids (a rebalance, a bootstrap, or the undo of one): the grids
// before and after, and the buildings whose grid changed with it (grid_history, for audit and undo).
struct GridChange {
    std::int64_t id = 0; // assigned by the store
    std::string community_code;
    std::string action; // "rebalance", "bootstrap" or "undo"
    std::int64_t base_version = 0;    // data version the change was computed on
    std::int64_t applied_version = 0; // data version the change produced
    std::string created_at;           // UTC, ISO 8601, set by the store
    std::optional<std::int64_t> undoes;    // for an undo: the change it reverted
    std::optional<std::int64_t> undone_by; // set when a later undo reverted this change
    std::string summary_json = "{}";
    std::vector<GridRow> before; // grids the change removed or redrew, as they were
    std::vector<GridRow> after;  // grids the change wrote
    struct BuildingMove {
        std::int64_t building_id = 0;
        std::optional<std::string> before, after;
    };
    std::vector<BuildingMove> buildings;
};

// --- accounts (docs/SECURITY.md); times are UTC ISO 8601 text, "2026-12-04T16:00:00Z" ---

// A person or program that signs in. `role` is admin | street | community | worker | viewer;
// `scopes` are division codes, each covering everything below it by prefix.
struct UserRow {
    std::int64_t id = 0;
    std::string name; // unique, case-insensitive
    std::string display_name;
    std::string role;
    std::vector<std::string> scopes;
    std::optional<std::string> password_hash; // Argon2id string; none: tokens only
    bool disabled = false;
    std::string created_at;
};

// An API token: only its hash is stored; the secret is shown once, when it is created.
struct TokenRow {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string user_name; // read with the token
    std::string label;
    std::string hash;
    std::string created_at;
    std::string expires_at;
    std::optional<std::string> last_used_at;
    std::optional<std::string> revoked_at;
};

// A signed-in browser: the cookie's secret is stored as its hash.
struct SessionRow {
    std::string hash;
    std::int64_t user_id = 0;
    std::string created_at;
    std::string expires_at;
    std::string address;
};

// One line of the append-only audit log: who, when, what, from where, and how it ended.
struct AuditRow {
    std::int64_t id = 0;
    std::string at;
    std::string user; // "" for an anonymous request
    std::string action; // e.g. "rebalance.apply", "login", "token.create"
    std::string outcome; // ok | denied | failed
    int status = 0;      // the HTTP status, 0 for the command line
    std::string method;
    std::string target;
    std::vector<std::string> codes; // the areas concerned
    std::optional<std::int64_t> base_version;
    std::optional<std::int64_t> data_version;
    std::string address; // the client's address, "cli" for the command line
    std::string detail;
};

struct AuditFilter {
    std::optional<std::string> user;
    std::optional<std::string> code;  // entries concerning this area or any area below it
    std::optional<std::string> since; // at >= since
    std::optional<std::string> until; // at < until
    std::optional<std::string> action;
    int limit = 100;
    int offset = 0;
};

// --- workers and incidents (docs/INCIDENTS.md) ---

// A person who handles cases. role: grid_leader (网格长), full_time (专职网格员), part_time
// (兼职网格员), community_worker (社区工作者), street_cadre (街道干部).
struct WorkerRow {
    std::int64_t id = 0;
    std::string name;
    std::string phone;
    std::string role;
    std::optional<std::string> user_name; // the account this worker signs in with
    bool on_duty = true;
    std::string shift; // free text, e.g. "08:30-17:30"
};

// A worker's place in a grid: rank 0 is the first-responsible worker, 1, 2, ... the backups in order.
struct GridWorkerRow {
    std::string grid_code;
    std::int64_t worker_id = 0;
    int rank = 0;
};

struct IncidentRow {
    std::int64_t id = 0;
    std::string category; // 小类 code, 4 digits
    std::string urgency;  // normal | urgent
    std::string description;
    std::string source; // resident | patrol | hotline | video
    double lon = 0, lat = 0; // WGS84, after conversion
    std::string input_crs;   // wgs84 | gcj02 | bd09, as reported
    std::optional<std::int64_t> building_id;
    std::string street_code, community_code, grid_code; // where it lies ("" when none)
    std::string locate_status; // grid | no_grid | no_community | not_covered
    std::string reporter_name, reporter_phone;
    std::string state;
    std::optional<std::int64_t> assignee_worker_id;
    std::string assignee_level; // grid | community | street
    std::string assignee_code;  // the grid, community or street answering for it
    std::string reported_at, due_at;
    std::optional<std::string> closed_at;
    bool extended = false;
    int reworks = 0;
    std::optional<int> rating;
    std::optional<std::int64_t> duplicate_of;
    std::optional<std::string> idempotency_key;
    std::string request_digest; // of the request that made it, to tell a retry from a clash
    std::string address; // as the reporter wrote it (Open311 address_string); not used to locate
};

struct IncidentEventRow {
    std::int64_t id = 0;
    std::int64_t incident_id = 0;
    std::string at;
    std::string actor;
    std::string action;
    std::string from_state, to_state;
    std::string note;
    std::string assignee;
};

// A photo of a case: the file is kept under its hash outside the database (store/photo_files.hpp).
struct PhotoRow {
    std::int64_t incident_id = 0;
    std::optional<std::int64_t> event_id; // the step it came with; the report itself when none
    std::string hash;                     // SHA-256 of the stored bytes, hex
    std::string media_type;               // image/jpeg | image/png | image/webp
    std::int64_t bytes = 0;
};

} // namespace wangge::store

#include "store/sqlite_database.hpp"

#include "core/error.hpp"
#include "store/schema.hpp"
#include "store/statement.hpp"

#include <sqlite3.h>

#include <map>
#include <thread>

namespace wangge::store {

using detail::Statement;

std::string_view to_string(GridKind kind) noexcept {
    return kind == GridKind::unit ? "unit" : "residential";
}

std::optional<GridKind> parse_grid_kind(std::string_view text) noexcept {
    if (text == "residential" || text == "居民区网格" || text == "居民" || text.empty())
        return GridKind::residential;
    if (text == "unit" || text == "单位网格" || text == "单位") return GridKind::unit;
    return std::nullopt;
}

// Prepared statements are cached per SQL text for the life of the connection.
struct SqliteDatabase::Statements {
    std::map<std::string, std::unique_ptr<Statement>, std::less<>> cache;
};

namespace {

Statement& cached(sqlite3* db, std::map<std::string, std::unique_ptr<Statement>, std::less<>>& cache,
                  std::string_view sql) {
    auto it = cache.find(sql);
    if (it == cache.end())
        it = cache.emplace(std::string(sql), std::make_unique<Statement>(db, sql)).first;
    return it->second->reset();
}

void exec_sql(sqlite3* db, const std::string& sql) {
    char* err = nullptr;
    if (const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(db);
        sqlite3_free(err);
        detail::sqlite_fail_with(rc, "SQL failed", msg);
    }
}

// SpatiaLite's functions (AddGeometryColumn, CreateSpatialIndex) report a failure by answering 0,
// not by an SQL error: a migration's SELECT of one of them that answers 0 stops the migration,
// whose transaction is then rolled back, instead of leaving a table without its geometry column
// or its spatial index.
void exec_migration(sqlite3* db, int version, const std::string& sql) {
    std::string refused;
    // The column of `SELECT AddGeometryColumn(...)` is named by its expression.
    const auto check = [](void* out, int columns, char** values, char** names) -> int {
        if (columns != 1 || values[0] == nullptr || names[0] == nullptr || std::string_view(values[0]) != "0") return 0;
        const std::string_view name = names[0];
        for (std::string_view call : {"InitSpatialMetadata(", "AddGeometryColumn(", "CreateSpatialIndex(",
                                      "RecoverGeometryColumn(", "DiscardGeometryColumn(", "DisableSpatialIndex("})
            if (name.starts_with(call)) {
                *static_cast<std::string*>(out) = std::string(name);
                return 1;
            }
        return 0;
    };
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), check, &refused, &err);
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    if (!refused.empty())
        throw Error(ErrorKind::io, "migration_failed",
                    "schema migration " + std::to_string(version) + " failed: " + refused + " answered 0");
    if (rc != SQLITE_OK) detail::sqlite_fail_with(rc, "schema migration " + std::to_string(version) + " failed", msg);
    // CreateSpatialIndex answers 1 even when it could not make the index (a table of that name
    // was there) or when the column is missing: after a migration every registered geometry
    // column is a column of its table, and every indexed one has its R*Tree.
    detail::Statement st(db, R"sql(
SELECT g.f_table_name || '.' || g.f_geometry_column,
       (SELECT count(*) FROM pragma_table_info(g.f_table_name) p WHERE lower(p.name) = lower(g.f_geometry_column)),
       g.spatial_index_enabled = 0 OR EXISTS (
         SELECT 1 FROM sqlite_master m
          WHERE lower(m.name) = lower('idx_' || g.f_table_name || '_' || g.f_geometry_column)
            AND m.type = 'table' AND m.sql LIKE 'CREATE VIRTUAL TABLE%')
  FROM geometry_columns g ORDER BY 1)sql");
    while (st.step()) {
        // A geometry column of the operator's own is checked too: its row in geometry_columns or
        // its idx_ table is then what to fix (or remove) before the upgrade is run again.
        if (st.int64(1) == 0)
            throw Error(ErrorKind::io, "migration_failed",
                        "schema migration " + std::to_string(version) + " failed: " + st.text(0) +
                            " is registered in geometry_columns but is not a column of its table");
        if (st.int64(2) == 0)
            throw Error(ErrorKind::io, "migration_failed",
                        "schema migration " + std::to_string(version) + " failed: " + st.text(0) +
                            " has no spatial index (its idx_ table is missing or is not an R*Tree)");
    }
}

std::string_view table_of(Level level) {
    switch (level) {
    case Level::street: return "streets";
    case Level::community: return "communities";
    case Level::grid: return "grids";
    }
    return "grids";
}

std::vector<unsigned char> multi_wkb(const geo::Geometry& g) {
    if (!g.is_polygonal() || g.is_empty())
        throw Error(ErrorKind::unprocessable, "invalid_geometry",
                    "a stored boundary must be a non-empty Polygon or MultiPolygon, not " + g.type_name());
    return geo::to_wkb(geo::to_multi_polygon(g));
}

[[noreturn]] void duplicate(Level level, const std::string& code) {
    throw Error(ErrorKind::conflict, "duplicate_code",
                std::string(to_string(level)) + " " + code +
                    " is already stored (import with --replace to overwrite it)");
}

} // namespace

std::unique_ptr<SqliteDatabase> SqliteDatabase::open(const std::filesystem::path& path, OpenMode mode) {
    std::error_code ec;
    bool exists = std::filesystem::exists(path, ec);
    if (!exists && mode != OpenMode::create)
        throw Error(ErrorKind::io, "no_database",
                    "database " + path.string() + " does not exist (create it with 'wangge demo' or an import)");
    int flags = mode == OpenMode::read_only ? SQLITE_OPEN_READONLY
                                           : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(path.c_str(), &raw, flags, nullptr) != SQLITE_OK) {
        std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
        sqlite3_close(raw);
        throw Error(ErrorKind::io, "database", "cannot open " + path.string() + ": " + msg);
    }
    std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(raw, path));
    sqlite3_enable_load_extension(raw, 1);
    char* err = nullptr;
    if (sqlite3_load_extension(raw, "mod_spatialite", nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(ErrorKind::io, "spatialite",
                    "cannot load the SpatiaLite extension mod_spatialite (Debian package "
                    "libsqlite3-mod-spatialite): " + msg);
    }
    sqlite3_enable_load_extension(raw, 0);
    sqlite3_busy_timeout(raw, 10000);
    // A file of a newer Wangge is refused before anything is written to it (journal_mode=WAL
    // would change its header), whichever the mode.
    if (const int version = db->schema_version(); version > latest_schema_version())
        throw Error(ErrorKind::io, "newer_schema",
                    path.string() + " has schema version " + std::to_string(version) + ", newer than this Wangge (" +
                        std::to_string(latest_schema_version()) + "): use the Wangge that wrote it");
    if (mode != OpenMode::read_only) {
        db->exec("PRAGMA journal_mode=WAL");
        db->exec("PRAGMA synchronous=FULL");
        db->migrate();
    } else if (db->schema_version() != latest_schema_version()) {
        throw Error(ErrorKind::io, "old_schema",
                    path.string() + " has schema version " + std::to_string(db->schema_version()) +
                        "; open it read-write once to migrate it to " +
                        std::to_string(latest_schema_version()));
    }
    return db;
}

SqliteDatabase::SqliteDatabase(sqlite3* db, std::filesystem::path path)
    : m_db(db), m_path(std::move(path)), m_stmts(std::make_unique<Statements>()) {}

SqliteDatabase::~SqliteDatabase() {
    m_stmts.reset(); // finalize statements before closing
    sqlite3_close(m_db);
}

void SqliteDatabase::backup_to(const std::filesystem::path& out, const std::function<void(int, int)>& progress) {
    sqlite3* dest = nullptr;
    if (sqlite3_open_v2(out.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        const std::string msg = dest ? sqlite3_errmsg(dest) : "out of memory";
        sqlite3_close(dest);
        throw Error(ErrorKind::io, "backup", "cannot create " + out.string() + ": " + msg);
    }
    sqlite3_backup* b = sqlite3_backup_init(dest, "main", m_db, "main");
    if (!b) {
        const std::string msg = sqlite3_errmsg(dest);
        sqlite3_close(dest);
        throw Error(ErrorKind::io, "backup", "cannot back up to " + out.string() + ": " + msg);
    }
    // Pages in steps, so that a long copy shows progress; a write by another connection in between
    // restarts the copy from a snapshot that includes it, so the result is always consistent.
    int rc = SQLITE_OK;
    do {
        rc = sqlite3_backup_step(b, 4096);
        if (progress) progress(sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b), sqlite3_backup_pagecount(b));
        if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(50);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    const int final_rc = sqlite3_errcode(dest);
    const std::string msg = sqlite3_errmsg(dest);
    sqlite3_close(dest);
    if (rc != SQLITE_DONE || (final_rc != SQLITE_OK && final_rc != SQLITE_DONE))
        throw Error(ErrorKind::io, "backup", "backing up to " + out.string() + " failed: " + msg);
}

std::string SqliteDatabase::integrity_check() {
    Statement st(m_db, "PRAGMA integrity_check");
    std::string out;
    while (st.step()) {
        if (!out.empty()) out += "; ";
        out += st.text(0);
    }
    return out;
}

int SqliteDatabase::latest_schema_version() noexcept { return static_cast<int>(detail::migrations().size()); }

int SqliteDatabase::schema_version() {
    Statement st(m_db, "PRAGMA user_version");
    st.step();
    return static_cast<int>(st.int64(0));
}

void SqliteDatabase::migrate() {
    const auto& all = detail::migrations();
    int current = schema_version();
    if (current > latest_schema_version())
        throw Error(ErrorKind::io, "newer_schema",
                    m_path.string() + " has schema version " + std::to_string(current) +
                        ", newer than this Wangge (" + std::to_string(latest_schema_version()) + ")");
    for (int v = current; v < latest_schema_version(); ++v) {
        exec("BEGIN IMMEDIATE");
        try {
            exec_migration(m_db, v + 1, std::string(all[static_cast<std::size_t>(v)]));
            exec("PRAGMA user_version = " + std::to_string(v + 1));
            exec("COMMIT");
        } catch (...) {
            rollback();
            throw;
        }
    }
}

void SqliteDatabase::exec(const std::string& sql) { exec_sql(m_db, sql); }

Statement& SqliteDatabase::cached_statement(std::string_view sql) { return cached(m_db, m_stmts->cache, sql); }

std::string SqliteDatabase::name() const { return m_path.string(); }

void SqliteDatabase::begin(Bump) { exec("BEGIN IMMEDIATE"); }

void SqliteDatabase::commit(Bump bump) {
    if (bump == Bump::data_version)
        exec("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'data_version'");
    exec("COMMIT");
}

void SqliteDatabase::rollback() noexcept {
    if (!sqlite3_get_autocommit(m_db)) sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
}

// Under WAL, a deferred transaction reads one committed state from its first read on.
void SqliteDatabase::begin_read() { exec("BEGIN DEFERRED"); }

void SqliteDatabase::end_read() noexcept { rollback(); }

std::int64_t SqliteDatabase::data_version() {
    auto& st = cached(m_db, m_stmts->cache, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'data_version'");
    if (!st.step()) return 0;
    std::int64_t v = st.int64(0);
    st.reset();
    return v;
}

bool SqliteDatabase::wait_for_change(std::chrono::milliseconds timeout) {
    std::this_thread::sleep_for(timeout);
    return false;
}

std::optional<std::string> SqliteDatabase::meta(std::string_view key) {
    auto& st = cached(m_db, m_stmts->cache, "SELECT value FROM meta WHERE key = ?");
    st.bind(1, key);
    if (!st.step()) return std::nullopt;
    std::string v = st.text(0);
    st.reset();
    return v;
}

std::string SqliteDatabase::meta_or_set(std::string_view key, std::string_view value) {
    auto& st = cached(m_db, m_stmts->cache, "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)");
    st.bind(1, key).bind(2, value).run();
    return meta(key).value_or(std::string(value));
}

bool SqliteDatabase::has_code(Level level, const std::string& code) {
    std::string sql = "SELECT 1 FROM " + std::string(table_of(level)) + " WHERE code = ?";
    auto& st = cached(m_db, m_stmts->cache, sql);
    st.bind(1, code);
    bool found = st.step();
    st.reset();
    return found;
}

void SqliteDatabase::put_street(const StreetRow& row, bool replace) {
    require_code(Level::street, row.code);
    if (!replace && has_code(Level::street, row.code)) duplicate(Level::street, row.code);
    auto& st = cached(m_db, m_stmts->cache,
                      "INSERT INTO streets (code, name, geom) VALUES (?, ?, GeomFromWKB(?, 4326)) "
                      "ON CONFLICT (code) DO UPDATE SET name = excluded.name, geom = excluded.geom");
    st.bind(1, row.code).bind(2, row.name).bind(3, multi_wkb(row.geom)).run();
}

void SqliteDatabase::put_community(const CommunityRow& row, bool replace) {
    require_code(Level::community, row.code);
    require_parent(Level::community, row.code, row.street_code);
    if (!replace && has_code(Level::community, row.code)) duplicate(Level::community, row.code);
    auto& st = cached(m_db, m_stmts->cache,
                      "INSERT INTO communities (code, street_code, name, geom) "
                      "VALUES (?, ?, ?, GeomFromWKB(?, 4326)) ON CONFLICT (code) DO UPDATE SET "
                      "street_code = excluded.street_code, name = excluded.name, geom = excluded.geom");
    st.bind(1, row.code).bind(2, row.street_code).bind(3, row.name).bind(4, multi_wkb(row.geom)).run();
}

void SqliteDatabase::put_grid(const GridRow& row, bool replace) {
    require_code(Level::grid, row.code);
    require_parent(Level::grid, row.code, row.community_code);
    if (!replace && has_code(Level::grid, row.code)) duplicate(Level::grid, row.code);
    auto& st = cached(m_db, m_stmts->cache,
                      "INSERT INTO grids (code, community_code, name, kind, version, geom) "
                      "VALUES (?, ?, ?, ?, (SELECT CAST(value AS INTEGER) + 1 FROM meta WHERE key = "
                      "'data_version'), GeomFromWKB(?, 4326)) ON CONFLICT (code) DO UPDATE SET "
                      "community_code = excluded.community_code, name = excluded.name, kind = excluded.kind, "
                      "version = excluded.version, geom = excluded.geom");
    st.bind(1, row.code)
        .bind(2, row.community_code)
        .bind(3, row.name)
        .bind(4, to_string(row.kind))
        .bind(5, multi_wkb(row.geom))
        .run();
}

std::vector<StreetRow> SqliteDatabase::load_streets() {
    Statement st(m_db, "SELECT code, name, AsBinary(geom) FROM streets ORDER BY code");
    std::vector<StreetRow> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), geo::from_wkb(st.blob(2))});
    return out;
}

std::vector<CommunityRow> SqliteDatabase::load_communities() {
    Statement st(m_db, "SELECT code, street_code, name, AsBinary(geom) FROM communities ORDER BY code");
    std::vector<CommunityRow> out;
    while (st.step()) out.push_back({st.text(0), st.text(1), st.text(2), geo::from_wkb(st.blob(3))});
    return out;
}

std::vector<GridRow> SqliteDatabase::load_grids() {
    Statement st(m_db, "SELECT code, community_code, name, kind, version, AsBinary(geom) FROM grids ORDER BY code");
    std::vector<GridRow> out;
    while (st.step()) {
        GridRow r;
        r.code = st.text(0);
        r.community_code = st.text(1);
        r.name = st.text(2);
        r.kind = parse_grid_kind(st.text(3)).value_or(GridKind::residential);
        r.version = st.int64(4);
        r.geom = geo::from_wkb(st.blob(5));
        out.push_back(std::move(r));
    }
    return out;
}

namespace {

// The ten columns of a building as insert and update write them: source_id .. geom.
Statement& bind_building(Statement& st, const BuildingRow& row) {
    return st.bind(1, row.source_id)
        .bind(2, row.name)
        .bind(3, row.use)
        .bind(4, row.address)
        .bind(5, row.floors ? std::optional<std::int64_t>(*row.floors) : std::nullopt)
        .bind(6, row.height_m)
        .bind(7, std::int64_t{row.households})
        .bind(8, std::int64_t{row.households_estimated ? 1 : 0})
        .bind(9, row.grid_code)
        .bind(10, multi_wkb(row.geom));
}

} // namespace

std::int64_t SqliteDatabase::insert_building(const BuildingRow& row) {
    auto& st = cached(m_db, m_stmts->cache,
                      "INSERT INTO buildings (source_id, name, use, address, floors, height_m, households, "
                      "households_estimated, grid_code, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                      "GeomFromWKB(?, 4326))");
    bind_building(st, row).run();
    return sqlite3_last_insert_rowid(m_db);
}

void SqliteDatabase::set_building_grid(std::int64_t id, const std::optional<std::string>& grid_code) {
    auto& st = cached(m_db, m_stmts->cache, "UPDATE buildings SET grid_code = ? WHERE id = ?");
    st.bind(1, grid_code).bind(2, id).run();
}

namespace {

constexpr const char* building_columns = "SELECT id, source_id, name, use, address, floors, height_m, households, "
                                         "households_estimated, grid_code, AsBinary(geom) FROM buildings ";

BuildingRow read_building(Statement& st) {
    BuildingRow r;
    r.id = st.int64(0);
    r.source_id = st.text(1);
    r.name = st.text(2);
    r.use = st.text(3);
    r.address = st.text(4);
    if (!st.is_null(5)) r.floors = static_cast<int>(st.int64(5));
    if (!st.is_null(6)) r.height_m = st.real(6);
    r.households = static_cast<int>(st.int64(7));
    r.households_estimated = st.int64(8) != 0;
    if (!st.is_null(9)) r.grid_code = st.text(9);
    r.geom = geo::from_wkb(st.blob(10));
    return r;
}

} // namespace

void SqliteDatabase::for_each_building(const std::function<void(BuildingRow&&)>& visit) {
    Statement st(m_db, std::string(building_columns) + "ORDER BY id");
    while (st.step()) visit(read_building(st));
}

std::optional<BuildingRow> SqliteDatabase::find_building(std::int64_t id) {
    Statement st(m_db, std::string(building_columns) + "WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    return read_building(st);
}

std::vector<BuildingRow> SqliteDatabase::find_buildings(const std::string& source_id) {
    Statement st(m_db, std::string(building_columns) + "WHERE source_id = ? ORDER BY id");
    st.bind(1, source_id);
    std::vector<BuildingRow> out;
    while (st.step()) out.push_back(read_building(st));
    return out;
}

void SqliteDatabase::update_building(const BuildingRow& row) {
    auto& st = cached(m_db, m_stmts->cache,
                      "UPDATE buildings SET source_id = ?, name = ?, use = ?, address = ?, floors = ?, height_m = ?, "
                      "households = ?, households_estimated = ?, grid_code = ?, geom = GeomFromWKB(?, 4326) "
                      "WHERE id = ?");
    bind_building(st, row).bind(11, row.id).run();
}

std::vector<BuildingRow> SqliteDatabase::load_buildings() {
    std::vector<BuildingRow> out;
    for_each_building([&](BuildingRow&& r) { out.push_back(std::move(r)); });
    return out;
}

std::int64_t SqliteDatabase::insert_road(const RoadRow& row) {
    auto t = row.geom.type();
    if ((t != geo::GeometryType::line_string && t != geo::GeometryType::multi_line_string) || row.geom.is_empty())
        throw Error(ErrorKind::unprocessable, "invalid_geometry",
                    "a road must be a non-empty LineString or MultiLineString, not " + row.geom.type_name());
    auto& st = cached(m_db, m_stmts->cache,
                      "INSERT INTO roads (source_id, name, kind, geom) "
                      "VALUES (?, ?, ?, CastToMultiLineString(GeomFromWKB(?, 4326)))");
    st.bind(1, row.source_id).bind(2, row.name).bind(3, row.kind).bind(4, geo::to_wkb(row.geom)).run();
    return sqlite3_last_insert_rowid(m_db);
}

std::vector<RoadRow> SqliteDatabase::load_roads() {
    Statement st(m_db, "SELECT id, source_id, name, kind, AsBinary(geom) FROM roads ORDER BY id");
    std::vector<RoadRow> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), geo::from_wkb(st.blob(4))});
    return out;
}

std::size_t SqliteDatabase::road_count() {
    Statement st(m_db, "SELECT count(*) FROM roads");
    st.step();
    return static_cast<std::size_t>(st.int64(0));
}

void SqliteDatabase::delete_all_buildings() { exec("DELETE FROM buildings"); }

void SqliteDatabase::delete_all_roads() { exec("DELETE FROM roads"); }

std::string_view to_string(UnitKind kind) noexcept {
    switch (kind) {
    case UnitKind::university: return "university";
    case UnitKind::school: return "school";
    case UnitKind::hospital: return "hospital";
    case UnitKind::military: return "military";
    case UnitKind::industrial: return "industrial";
    case UnitKind::other: return "other";
    }
    return "other";
}

std::optional<UnitKind> parse_unit_kind(std::string_view text) noexcept {
    static const std::pair<std::string_view, UnitKind> words[] = {
        {"university", UnitKind::university}, {"college", UnitKind::university},   {"大学", UnitKind::university},
        {"高校", UnitKind::university},       {"学院", UnitKind::university},      {"school", UnitKind::school},
        {"kindergarten", UnitKind::school},   {"education", UnitKind::school},     {"学校", UnitKind::school},
        {"中学", UnitKind::school},           {"小学", UnitKind::school},          {"hospital", UnitKind::hospital},
        {"clinic", UnitKind::hospital},       {"医院", UnitKind::hospital},        {"military", UnitKind::military},
        {"barracks", UnitKind::military},     {"部队", UnitKind::military},        {"军事", UnitKind::military},
        {"industrial", UnitKind::industrial}, {"园区", UnitKind::industrial},      {"工业", UnitKind::industrial},
        {"other", UnitKind::other},           {"unit", UnitKind::other},           {"单位", UnitKind::other},
    };
    for (const auto& [word, kind] : words)
        if (text == word) return kind;
    return std::nullopt;
}

std::int64_t SqliteDatabase::insert_unit(const UnitRow& row) {
    if (!row.geom.is_polygonal() || row.geom.is_empty())
        throw Error(ErrorKind::unprocessable, "invalid_geometry", "a unit's area must be a non-empty polygon");
    auto& st = cached(m_db, m_stmts->cache,
                      "INSERT INTO units (source_id, name, kind, geom) "
                      "VALUES (?, ?, ?, CastToMultiPolygon(GeomFromWKB(?, 4326)))");
    st.bind(1, row.source_id)
        .bind(2, row.name)
        .bind(3, std::string(to_string(row.kind)))
        .bind(4, geo::to_wkb(row.geom))
        .run();
    return sqlite3_last_insert_rowid(m_db);
}

std::vector<UnitRow> SqliteDatabase::load_units() {
    Statement st(m_db, "SELECT id, source_id, name, kind, AsBinary(geom) FROM units ORDER BY id");
    std::vector<UnitRow> out;
    while (st.step())
        out.push_back({st.int64(0), st.text(1), st.text(2), parse_unit_kind(st.text(3)).value_or(UnitKind::other),
                       geo::from_wkb(st.blob(4))});
    return out;
}

void SqliteDatabase::delete_all_units() { exec("DELETE FROM units"); }

std::optional<BBox> SqliteDatabase::extent() {
    std::optional<BBox> out;
    for (const char* table : {"streets", "communities", "grids", "buildings", "roads", "units"}) {
        Statement st(m_db, std::string("SELECT Min(MbrMinX(geom)), Min(MbrMinY(geom)), Max(MbrMaxX(geom)), "
                                       "Max(MbrMaxY(geom)) FROM ") + table);
        if (!st.step() || st.is_null(0)) continue;
        const BBox b{st.real(0), st.real(1), st.real(2), st.real(3)};
        out = out ? BBox{std::min(out->min_lon, b.min_lon), std::min(out->min_lat, b.min_lat),
                         std::max(out->max_lon, b.max_lon), std::max(out->max_lat, b.max_lat)}
                  : b;
    }
    return out;
}

std::size_t SqliteDatabase::count(Level level) {
    Statement st(m_db, "SELECT count(*) FROM " + std::string(table_of(level)));
    st.step();
    return static_cast<std::size_t>(st.int64(0));
}

std::size_t SqliteDatabase::building_count() {
    Statement st(m_db, "SELECT count(*) FROM buildings");
    st.step();
    return static_cast<std::size_t>(st.int64(0));
}

void SqliteDatabase::delete_grid(const std::string& code) {
    auto& st = cached(m_db, m_stmts->cache, "DELETE FROM grids WHERE code = ?");
    st.bind(1, code).run();
    st.reset();
}

void SqliteDatabase::delete_community(const std::string& code) {
    Statement grids(m_db, "DELETE FROM grids WHERE community_code = ?");
    grids.bind(1, code).run();
    Statement community(m_db, "DELETE FROM communities WHERE code = ?");
    community.bind(1, code).run();
}

std::int64_t SqliteDatabase::insert_grid_change(const GridChange& c) {
    {
        Statement st(m_db, "INSERT INTO grid_changes (community_code, action, base_version, applied_version, undoes, "
                           "undone_by, summary) VALUES (?, ?, ?, ?, ?, ?, ?)");
        st.bind(1, c.community_code)
            .bind(2, c.action)
            .bind(3, c.base_version)
            .bind(4, c.applied_version)
            .bind(5, c.undoes)
            .bind(6, c.undone_by)
            .bind(7, c.summary_json)
            .run();
    }
    const std::int64_t id = sqlite3_last_insert_rowid(m_db);
    Statement grid(m_db, "INSERT INTO grid_history (change_id, side, code, community_code, name, kind, version, geom) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    auto put = [&](const GridRow& g, std::string_view side) {
        grid.reset()
            .bind(1, id)
            .bind(2, side)
            .bind(3, g.code)
            .bind(4, g.community_code)
            .bind(5, g.name)
            .bind(6, to_string(g.kind))
            .bind(7, g.version)
            .bind(8, multi_wkb(g.geom))
            .run();
    };
    for (const GridRow& g : c.before) put(g, "before");
    for (const GridRow& g : c.after) put(g, "after");
    Statement moved(m_db, "INSERT INTO grid_change_buildings (change_id, building_id, before_code, after_code) "
                          "VALUES (?, ?, ?, ?)");
    for (const auto& b : c.buildings) moved.reset().bind(1, id).bind(2, b.building_id).bind(3, b.before).bind(4, b.after).run();
    return id;
}

void SqliteDatabase::set_grid_change_undone(std::int64_t id, std::int64_t undone_by) {
    Statement st(m_db, "UPDATE grid_changes SET undone_by = ? WHERE id = ?");
    st.bind(1, undone_by).bind(2, id).run();
}

namespace {

GridChange change_of(const Statement& st) {
    GridChange c;
    c.id = st.int64(0);
    c.community_code = st.text(1);
    c.action = st.text(2);
    c.base_version = st.int64(3);
    c.applied_version = st.int64(4);
    c.created_at = st.text(5);
    if (!st.is_null(6)) c.undoes = st.int64(6);
    if (!st.is_null(7)) c.undone_by = st.int64(7);
    c.summary_json = st.text(8);
    return c;
}

constexpr std::string_view change_columns =
    "SELECT id, community_code, action, base_version, applied_version, created_at, undoes, undone_by, summary "
    "FROM grid_changes ";

} // namespace

std::optional<GridChange> SqliteDatabase::load_grid_change(std::int64_t id) {
    Statement st(m_db, std::string(change_columns) + "WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    GridChange c = change_of(st);
    Statement grids(m_db, "SELECT side, code, community_code, name, kind, version, geom FROM grid_history "
                          "WHERE change_id = ? ORDER BY rowid");
    grids.bind(1, id);
    while (grids.step()) {
        GridRow g;
        g.code = grids.text(1);
        g.community_code = grids.text(2);
        g.name = grids.text(3);
        g.kind = parse_grid_kind(grids.text(4)).value_or(GridKind::residential);
        g.version = grids.int64(5);
        g.geom = geo::from_wkb(grids.blob(6));
        (grids.text(0) == "before" ? c.before : c.after).push_back(std::move(g));
    }
    Statement moved(m_db, "SELECT building_id, before_code, after_code FROM grid_change_buildings WHERE change_id = ? "
                          "ORDER BY rowid");
    moved.bind(1, id);
    while (moved.step()) {
        GridChange::BuildingMove m;
        m.building_id = moved.int64(0);
        if (!moved.is_null(1)) m.before = moved.text(1);
        if (!moved.is_null(2)) m.after = moved.text(2);
        c.buildings.push_back(std::move(m));
    }
    return c;
}

std::vector<std::string> SqliteDatabase::history_grid_codes(const std::string& community_code) {
    Statement st(m_db, "SELECT DISTINCT code FROM grid_history WHERE community_code = ? ORDER BY code");
    st.bind(1, community_code);
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.text(0));
    return out;
}

std::vector<GridChange> SqliteDatabase::list_grid_changes(const std::string& community_code) {
    Statement st(m_db, std::string(change_columns) + "WHERE community_code = ? ORDER BY id DESC");
    st.bind(1, community_code);
    std::vector<GridChange> out;
    while (st.step()) out.push_back(change_of(st));
    return out;
}

} // namespace wangge::store

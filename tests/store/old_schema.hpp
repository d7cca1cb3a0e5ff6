#pragma once
// Files as earlier builds of Wangge left them: a SpatiaLite file at schema version k, made by
// running migrations 1..k exactly as SqliteDatabase::migrate runs them (one transaction each, WAL,
// synchronous=FULL), and filled with rows of every table that version has. The upgrade tests open
// such files with the current code (tests/store/upgrade_test.cpp, upgrade_cli_test.cpp).
//
// This relies on released migrations never being edited, which upgrade_test.cpp checks by their
// digests: an earlier build ran these very strings.
#include "store/schema.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace wangge::test {

// A plain SQLite connection with SpatiaLite loaded as the store loads it (mod_spatialite), for
// making and inspecting files behind the store's back.
class RawFile {
public:
    explicit RawFile(const std::filesystem::path& path) {
        if (sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
            throw std::runtime_error("cannot open " + path.string());
        sqlite3_enable_load_extension(m_db, 1);
        char* err = nullptr;
        if (sqlite3_load_extension(m_db, "mod_spatialite", nullptr, &err) != SQLITE_OK) {
            const std::string msg = err ? err : "unknown error";
            sqlite3_free(err);
            throw std::runtime_error("cannot load mod_spatialite: " + msg);
        }
    }
    ~RawFile() { sqlite3_close(m_db); }
    RawFile(const RawFile&) = delete;
    RawFile& operator=(const RawFile&) = delete;
    RawFile(RawFile&&) = delete;
    RawFile& operator=(RawFile&&) = delete;

    void exec(const std::string& sql) {
        char* err = nullptr;
        if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            const std::string msg = err ? err : sqlite3_errmsg(m_db);
            sqlite3_free(err);
            throw std::runtime_error("SQL failed: " + msg + " in: " + sql.substr(0, 200));
        }
    }

    // Every row of a query, each column as text ("NULL" for a null).
    std::vector<std::vector<std::string>> rows(const std::string& sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
            throw std::runtime_error(std::string("cannot prepare: ") + sqlite3_errmsg(m_db) + " in: " + sql);
        std::vector<std::vector<std::string>> out;
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            std::vector<std::string> row;
            for (int i = 0; i < sqlite3_column_count(st); ++i) {
                const auto* text = sqlite3_column_text(st, i);
                row.emplace_back(text ? reinterpret_cast<const char*>(text) : "NULL");
            }
            out.push_back(std::move(row));
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) throw std::runtime_error(std::string("query failed: ") + sqlite3_errmsg(m_db));
        return out;
    }

    std::string value(const std::string& sql) {
        const auto all = rows(sql);
        if (all.empty() || all.front().empty()) throw std::runtime_error("no value from: " + sql);
        return all.front().front();
    }

    int user_version() { return std::stoi(value("PRAGMA user_version")); }

private:
    sqlite3* m_db = nullptr;
};

// The tables SpatiaLite makes for itself (InitSpatialMetadata), and the R*Tree tables of its
// spatial indexes (idx_*): what is left of a file's tables is Wangge's.
inline bool spatialite_table(const std::string& name) {
    static const std::set<std::string> own = [] {
        RawFile scratch(":memory:");
        scratch.exec("SELECT InitSpatialMetadata(1, 'WGS84')");
        std::set<std::string> names;
        for (const auto& r : scratch.rows("SELECT name FROM sqlite_master WHERE type = 'table'")) names.insert(r[0]);
        return names;
    }();
    return own.contains(name) || name.starts_with("idx_") || name.starts_with("sqlite_");
}

inline std::vector<std::string> wangge_tables(RawFile& f) {
    std::vector<std::string> out;
    for (const auto& r : f.rows("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))
        if (!spatialite_table(r[0])) out.push_back(r[0]);
    return out;
}

// Every row of every Wangge table, each column quoted by SQLite (blobs as hex, so geometries
// compare byte for byte), in rowid order: table -> (columns, rows).
struct TableDump {
    std::vector<std::string> columns;
    std::vector<std::string> rows;
    bool operator==(const TableDump&) const = default;
};

inline TableDump dump_table(RawFile& f, const std::string& table, const std::vector<std::string>& columns) {
    std::string select;
    for (const auto& c : columns) select += (select.empty() ? "quote(\"" : " || '|' || quote(\"") + c + "\")";
    TableDump d{columns, {}};
    for (const auto& r : f.rows("SELECT " + select + " FROM \"" + table + "\" ORDER BY rowid")) d.rows.push_back(r[0]);
    return d;
}

inline std::map<std::string, TableDump> dump_wangge_tables(RawFile& f) {
    std::map<std::string, TableDump> out;
    for (const auto& table : wangge_tables(f)) {
        std::vector<std::string> columns;
        for (const auto& r : f.rows("SELECT name FROM pragma_table_info('" + table + "') ORDER BY cid"))
            columns.push_back(r[0]);
        out.emplace(table, dump_table(f, table, columns));
    }
    return out;
}

// Brings a new or older file to schema version `k` the way SqliteDatabase::migrate did when `k`
// was the latest: WAL, synchronous=FULL, each migration and its user_version in one transaction.
inline void migrate_to(RawFile& f, int k) {
    f.exec("PRAGMA journal_mode=WAL");
    f.exec("PRAGMA synchronous=FULL");
    const auto& all = store::detail::migrations();
    for (int v = f.user_version(); v < k; ++v) {
        f.exec("BEGIN IMMEDIATE");
        f.exec(std::string(all.at(static_cast<std::size_t>(v))));
        f.exec("PRAGMA user_version = " + std::to_string(v + 1));
        f.exec("COMMIT");
    }
}

// The known district of the old files: street 320102002 = [118.80, 118.82] x [32.00, 32.01], its
// west community 001 in two grids (north and south halves), its east community 002 in one unit
// grid; three buildings, one road. The grids tile their communities, so `validate` accepts it.
inline std::string multipolygon(double x0, double y0, double x1, double y1) {
    const auto p = [](double x, double y) { return std::to_string(x) + " " + std::to_string(y); };
    return "GeomFromText('MULTIPOLYGON(((" + p(x0, y0) + ", " + p(x1, y0) + ", " + p(x1, y1) + ", " + p(x0, y1) +
           ", " + p(x0, y0) + ")))', 4326)";
}

constexpr int old_households = 300 + 120; // of the buildings the old files hold

// Rows valid for schema version `k` in every table it has (a row a user of that version could
// have written, with the columns of that version only).
inline void fill_version(RawFile& f, int k) {
    f.exec("BEGIN");
    // 1: the hierarchy, buildings, roads, the data version.
    f.exec("UPDATE meta SET value = '3' WHERE key = 'data_version'");
    f.exec("INSERT INTO streets (code, name, geom) VALUES ('320102002', '梅园新村街道', " +
           multipolygon(118.80, 32.00, 118.82, 32.01) + ")");
    f.exec("INSERT INTO communities (code, street_code, name, geom) VALUES "
           "('320102002001', '320102002', '西社区', " + multipolygon(118.80, 32.00, 118.81, 32.01) + "), "
           "('320102002002', '320102002', '东社区', " + multipolygon(118.81, 32.00, 118.82, 32.01) + ")");
    f.exec("INSERT INTO grids (code, community_code, name, kind, version, geom) VALUES "
           "('320102002001001', '320102002001', '西社区第1网格', 'residential', 1, " +
           multipolygon(118.80, 32.005, 118.81, 32.01) + "), "
           "('320102002001002', '320102002001', '西社区第2网格', 'residential', 2, " +
           multipolygon(118.80, 32.00, 118.81, 32.005) + "), "
           "('320102002002001', '320102002002', '东社区单位网格', 'unit', 1, " +
           multipolygon(118.81, 32.00, 118.82, 32.01) + ")");
    f.exec("INSERT INTO buildings (id, source_id, name, use, address, floors, height_m, households, "
           "households_estimated, grid_code, geom) VALUES "
           "(1, 'way/1', '北楼', 'residential', '汉口路1号', 18, 54.5, 300, 0, '320102002001001', " +
           multipolygon(118.802, 32.007, 118.803, 32.008) + "), "
           "(2, 'way/2', '南楼', 'residential', '', NULL, NULL, 120, 1, '320102002001002', " +
           multipolygon(118.805, 32.001, 118.806, 32.002) + "), "
           "(3, 'way/3', '中学', 'school', '', 4, NULL, 0, 0, '320102002002001', " +
           multipolygon(118.812, 32.002, 118.813, 32.003) + ")");
    f.exec("INSERT INTO roads (id, source_id, name, kind, geom) VALUES (1, 'way/9', '汉口路', 'primary', "
           "GeomFromText('MULTILINESTRING((118.81 32.00, 118.81 32.01))', 4326))");
    if (k >= 2) { // grid history: a rebalance of community 001 and its undo
        f.exec("INSERT INTO grid_changes (id, community_code, action, base_version, applied_version, created_at, "
               "undoes, undone_by, summary) VALUES "
               "(1, '320102002001', 'rebalance', 1, 2, '2024-05-01T08:00:00Z', NULL, NULL, '{\"moved\":1}'), "
               "(2, '320102002001', 'undo', 2, 3, '2024-05-02T08:00:00Z', 1, NULL, '{}')");
        f.exec("UPDATE grid_changes SET undone_by = 2 WHERE id = 1");
        f.exec("INSERT INTO grid_history (change_id, side, code, community_code, name, kind, version, geom) VALUES "
               "(1, 'before', '320102002001002', '320102002001', '西社区第2网格', 'residential', 1, AsBinary(" +
               multipolygon(118.80, 32.00, 118.81, 32.004) + ")), "
               "(1, 'after', '320102002001002', '320102002001', '西社区第2网格', 'residential', 2, AsBinary(" +
               multipolygon(118.80, 32.00, 118.81, 32.005) + "))");
        f.exec("INSERT INTO grid_change_buildings (change_id, building_id, before_code, after_code) VALUES "
               "(1, 2, '320102002001001', '320102002001002')");
    }
    if (k >= 3) { // accounts and the audit log
        f.exec("INSERT INTO users (id, name, display_name, role, password_hash, disabled, created_at) VALUES "
               "(1, 'root', '', 'admin', '$argon2id$v=19$m=65536,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g', 0, "
               "'2024-04-01T00:00:00Z'), "
               "(2, 'wang', '王芳', 'community', NULL, 1, '2024-04-02T00:00:00Z')");
        f.exec("INSERT INTO user_scopes (user_id, code) VALUES (2, '320102002001')");
        f.exec("INSERT INTO api_tokens (id, user_id, label, hash, created_at, expires_at, last_used_at, revoked_at) "
               "VALUES (1, 2, 'phone', '" + std::string(64, 'a') + "', '2024-04-02T00:00:00Z', "
               "'2034-04-02T00:00:00Z', '2024-04-03T00:00:00Z', NULL)");
        f.exec("INSERT INTO sessions (hash, user_id, created_at, expires_at, address) VALUES ('" +
               std::string(64, 'b') + "', 1, '2024-04-02T00:00:00Z', '2034-04-02T12:00:00Z', '10.0.0.7')");
        f.exec("INSERT INTO audit (id, at, user_name, action, outcome, status, method, target, codes, base_version, "
               "data_version, address, detail) VALUES (1, '2024-05-01T08:00:00Z', 'root', 'rebalance.apply', 'ok', "
               "200, 'POST', '/api/v1/communities/320102002001/rebalance', ' 320102002001 ', 1, 2, '10.0.0.7', '')");
    }
    if (k >= 4) { // workers and a case with its log
        f.exec("INSERT INTO workers (id, name, phone, role, user_name, on_duty, shift) VALUES "
               "(1, '李明', '13800000001', 'grid_leader', 'wang', 1, '08:30-17:30')");
        f.exec("INSERT INTO grid_workers (grid_code, worker_id, rank) VALUES ('320102002001001', 1, 0)");
        f.exec("INSERT INTO incidents (id, category, urgency, description, source, lon, lat, input_crs, building_id, "
               "street_code, community_code, grid_code, locate_status, reporter_name, reporter_phone, state, "
               "assignee_worker_id, assignee_level, assignee_code, reported_at, due_at, closed_at, extended, "
               "reworks, rating, duplicate_of, idempotency_key, request_digest) VALUES "
               "(1, '0101', 'urgent', '路灯不亮', 'resident', 118.8025, 32.0075, 'gcj02', 1, '320102002', "
               "'320102002001', '320102002001001', 'grid', '张三', '13900000000', 'dispatched', 1, 'grid', "
               "'320102002001001', '2024-05-02T01:00:00Z', '2024-05-02T05:00:00Z', NULL, 0, 0, NULL, NULL, "
               "'key-1', 'digest-1')");
        f.exec("INSERT INTO incident_events (id, incident_id, at, actor, action, from_state, to_state, note, assignee) "
               "VALUES (1, 1, '2024-05-02T01:00:00Z', 'root', 'report', '', 'reported', '', ''), "
               "(2, 1, '2024-05-02T01:00:00Z', 'system', 'dispatch', 'reported', 'dispatched', '', '李明')");
    }
    if (k >= 5) { // the reporter's address, a photo
        f.exec("UPDATE incidents SET address = '汉口路22号' WHERE id = 1");
        f.exec("INSERT INTO incident_photos (incident_id, event_id, hash, media_type, bytes) VALUES "
               "(1, 1, '" + std::string(64, 'c') + "', 'image/jpeg', 2048)");
    }
    if (k >= 7) // units
        f.exec("INSERT INTO units (id, source_id, name, kind, geom) VALUES (1, 'way/7', '东区医院', 'hospital', " +
               multipolygon(118.811, 32.001, 118.814, 32.004) + ")");
    f.exec("COMMIT");
}

// A file at schema version `k` with the rows of that version, closed (its WAL checkpointed).
inline void make_old_file(const std::filesystem::path& path, int k) {
    RawFile f(path);
    migrate_to(f, k);
    fill_version(f, k);
    REQUIRE(f.user_version() == k);
}

inline std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace wangge::test

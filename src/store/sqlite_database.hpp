#pragma once
// The SpatiaLite backend of the store (store::Database): one file, WAL journal, synchronous=FULL
// so an acknowledged commit survives a crash; BEGIN IMMEDIATE makes writers take turns. Its SQL
// lives in store/database.cpp, store/accounts.cpp and store/incidents.cpp, its migrations in
// store/schema.cpp.
#include "store/database.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

typedef struct sqlite3 sqlite3;

namespace wangge::store {

namespace detail {
class Statement;
}

class SqliteDatabase final : public Database {
public:
    // `create` makes the file and schema if missing; `read_write` requires an existing file.
    // Pending migrations are applied on open (not in read_only mode, which refuses an old schema).
    static std::unique_ptr<SqliteDatabase> open(const std::filesystem::path& path, OpenMode mode);
    ~SqliteDatabase() override;

    static int latest_schema_version() noexcept;
    // Writes a consistent copy of the whole database to `out` (a new file) with SQLite's online
    // backup, while others may go on writing; `progress(done, total)` in pages. Throws Error(io).
    void backup_to(const std::filesystem::path& out,
                   const std::function<void(int done, int total)>& progress = {});
    // "ok", or the problems PRAGMA integrity_check finds.
    std::string integrity_check();
    const std::filesystem::path& path() const noexcept { return m_path; }
    sqlite3* handle() noexcept { return m_db; }

    // --- store::Database ---
    std::string name() const override;
    int schema_version() override;
    std::int64_t data_version() override;
    bool wait_for_change(std::chrono::milliseconds timeout) override;
    std::optional<std::string> meta(std::string_view key) override;
    std::string meta_or_set(std::string_view key, std::string_view value) override;
    void exec(const std::string& sql) override;
    std::vector<StreetRow> load_streets() override;
    std::vector<CommunityRow> load_communities() override;
    void delete_grid(const std::string& code) override;
    void delete_community(const std::string& code) override;
    std::int64_t insert_grid_change(const GridChange& change) override;
    void set_grid_change_undone(std::int64_t id, std::int64_t undone_by) override;
    std::optional<GridChange> load_grid_change(std::int64_t id) override;
    std::vector<std::string> history_grid_codes(const std::string& community_code) override;
    std::vector<GridChange> list_grid_changes(const std::string& community_code) override;
    std::vector<BuildingRow> load_buildings() override;
    std::vector<RoadRow> load_roads() override;
    std::size_t road_count() override;
    std::vector<UnitRow> load_units() override;
    std::size_t count(Level level) override;
    std::size_t building_count() override;
    std::int64_t insert_user(const UserRow& row) override;
    std::optional<UserRow> find_user(std::string_view name) override;
    std::optional<UserRow> find_user(std::int64_t id) override;
    std::vector<UserRow> list_users() override;
    void set_user_password(std::int64_t id, const std::string& hash) override;
    void set_user_disabled(std::int64_t id, bool disabled) override;
    std::int64_t insert_token(const TokenRow& row) override;
    std::optional<TokenRow> find_token(std::string_view hash) override;
    std::vector<TokenRow> list_tokens(std::optional<std::int64_t> user_id) override;
    bool revoke_token(std::int64_t id, const std::string& at) override;
    void touch_token(std::int64_t id, const std::string& at) override;
    void insert_session(const SessionRow& row) override;
    std::optional<SessionRow> find_session(std::string_view hash) override;
    void delete_session(std::string_view hash) override;
    void delete_user_sessions(std::int64_t user_id) override;
    void delete_sessions_expired_before(const std::string& now) override;
    std::int64_t insert_audit(const AuditRow& row) override;
    std::vector<AuditRow> list_audit(const AuditFilter& filter) override;
    std::int64_t insert_worker(const WorkerRow& row) override;
    void update_worker(const WorkerRow& row) override;
    std::optional<WorkerRow> find_worker(std::int64_t id) override;
    std::optional<WorkerRow> find_worker_by_phone(std::string_view phone) override;
    std::vector<WorkerRow> list_workers() override;
    void set_grid_workers(const std::string& grid_code, const std::vector<std::int64_t>& worker_ids) override;
    std::vector<GridWorkerRow> list_grid_workers() override;
    std::vector<GridWorkerRow> grid_workers_of(const std::string& grid_code) override;
    std::int64_t insert_incident(const IncidentRow& row) override;
    void update_incident(const IncidentRow& row) override;
    std::optional<IncidentRow> find_incident(std::int64_t id) override;
    std::optional<IncidentRow> find_incident_by_key(std::string_view idempotency_key) override;
    std::vector<IncidentRow> incidents_near(const std::string& category, const BBox& box) override;
    std::vector<IncidentRow> incidents_in(const BBox& box, bool include_closed) override;
    std::vector<IncidentRow> list_incidents(const IncidentFilter& filter) override;
    std::int64_t insert_incident_event(const IncidentEventRow& row) override;
    std::vector<IncidentEventRow> incident_events(std::int64_t incident_id) override;
    std::vector<IncidentEventRow> incident_events_between(const std::string& from, std::int64_t after_id,
                                                          const std::string& to, int limit) override;
    bool insert_photo(const PhotoRow& row) override;
    std::vector<PhotoRow> photos_of(std::int64_t incident_id) override;
    std::optional<PhotoRow> find_photo(std::int64_t incident_id, const std::string& hash) override;
    // --- store::MapStore ---
    bool has_code(Level level, const std::string& code) override;
    void put_street(const StreetRow& row, bool replace) override;
    void put_community(const CommunityRow& row, bool replace) override;
    void put_grid(const GridRow& row, bool replace) override;
    std::int64_t insert_building(const BuildingRow& row) override;
    std::int64_t insert_road(const RoadRow& row) override;
    std::int64_t insert_unit(const UnitRow& row) override;
    std::optional<BuildingRow> find_building(std::int64_t id) override;
    std::vector<BuildingRow> find_buildings(const std::string& source_id) override;
    void update_building(const BuildingRow& row) override;
    void set_building_grid(std::int64_t id, const std::optional<std::string>& grid_code) override;
    void delete_all_buildings() override;
    void delete_all_roads() override;
    void delete_all_units() override;
    std::vector<GridRow> load_grids() override;
    void for_each_building(const std::function<void(BuildingRow&&)>& visit) override;
    std::optional<BBox> extent() override;

private:
    SqliteDatabase(sqlite3* db, std::filesystem::path path);
    void begin(Bump bump) override;
    void commit(Bump bump) override;
    void rollback() noexcept override;
    void begin_read() override;
    void end_read() noexcept override;
    void migrate();
    detail::Statement& cached_statement(std::string_view sql);

    sqlite3* m_db;
    std::filesystem::path m_path;
    struct Statements;
    std::unique_ptr<Statements> m_stmts;
};

} // namespace wangge::store

#pragma once
// The PostgreSQL + PostGIS backend of the store (store::Database; docs/POSTGRESQL.md). Opening
// creates the extension when it is missing and the role may create it, and applies pending
// migrations in one transaction, under an advisory lock so that several servers starting at once
// migrate it once. A write transaction locks the data version's row (SELECT ... FOR UPDATE), so
// writers of every process and server take turns as SQLite's BEGIN IMMEDIATE makes them; a
// commit that moves the data version on also sends NOTIFY wangge_data_version with the new
// version, which every server LISTENs for. Its SQL lives in store/pg/*.cpp, one file per part.
#include "store/database.hpp"
#include "store/pg/connection.hpp"

#include <memory>
#include <string>

namespace wangge::store {

// `read_write` creates PostGIS and migrates; `read_only` changes nothing and refuses a database
// whose schema is not this binary's (as OpenMode::read_only of the SQLite store).
enum class PgOpenMode { read_write, read_only };

// The channel a commit that moves the data version on notifies, with the new version as payload.
inline constexpr std::string_view pg_data_version_channel = "wangge_data_version";

class PgDatabase final : public Database {
public:
    // Throws as PgConnection::connect, and Error(unprocessable, "no_postgis") when the database
    // has no PostGIS and the role may not create it, Error(io, "newer_schema") when the database's
    // schema is newer than this binary's (it is then left alone), and in read_only mode
    // Error(io, "old_schema") when it is older.
    static std::unique_ptr<PgDatabase> open(const std::string& url, PgOpenMode mode = PgOpenMode::read_write);

    static int latest_schema_version() noexcept;
    PgConnection& connection() noexcept { return m_conn; }

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
    explicit PgDatabase(PgConnection conn) : m_conn(std::move(conn)) {}
    void begin(Bump bump) override;
    void commit(Bump bump) override;
    void rollback() noexcept override;
    void begin_read() override;
    void end_read() noexcept override;
    void ensure_postgis();
    void migrate();
    Error newer_schema(int version) const;

    PgConnection m_conn;
    bool m_in_transaction = false;
    bool m_listening = false; // LISTEN sent on this connection (wait_for_change)
};

} // namespace wangge::store

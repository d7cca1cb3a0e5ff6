#pragma once
// The SpatiaLite store: one file, WAL journal, synchronous=FULL so an acknowledged commit
// survives a crash. Every write happens inside a Transaction; a Transaction that is destroyed
// without commit() rolls back, so a failed import leaves the file as it was.
#include "core/codes.hpp"
#include "store/map_store.hpp"
#include "store/records.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct sqlite3 sqlite3;

namespace wangge::store {

namespace detail {
class Statement;
}

enum class OpenMode { read_write, create, read_only };

class Database;

// Whether a transaction's commit changes the data version. Writes to the hierarchy do (snapshots,
// tiles and proposals follow it); accounts, sessions and the audit log do not, so signing in
// never invalidates a tile.
enum class Bump { data_version, none };

class Transaction {
public:
    explicit Transaction(Database& db, Bump bump = Bump::data_version);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction(Transaction&&) = delete;
    Transaction& operator=(Transaction&&) = delete;

    // Increments the data version and commits.
    void commit();

private:
    Database* m_db;
    Bump m_bump;
    bool m_done = false;
};

// A consistent read of several tables: under WAL, every statement between construction and
// destruction sees the same committed state (the snapshot loader reads six tables).
class ReadTransaction {
public:
    explicit ReadTransaction(Database& db);
    ~ReadTransaction();
    ReadTransaction(const ReadTransaction&) = delete;
    ReadTransaction& operator=(const ReadTransaction&) = delete;
    ReadTransaction(ReadTransaction&&) = delete;
    ReadTransaction& operator=(ReadTransaction&&) = delete;

private:
    Database* m_db;
};

class Database final : public MapStore {
public:
    // `create` makes the file and schema if missing; `read_write` requires an existing file.
    // Pending migrations are applied on open (not in read_only mode, which refuses an old schema).
    static std::unique_ptr<Database> open(const std::filesystem::path& path, OpenMode mode);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void begin_write() override { begin(); }
    void commit_write() override { commit_and_bump(); }
    void rollback_write() noexcept override { rollback(); }

    static int latest_schema_version() noexcept;
    // Writes a consistent copy of the whole database to `out` (a new file) with SQLite's online
    // backup, while others may go on writing; `progress(done, total)` in pages. Throws Error(io).
    void backup_to(const std::filesystem::path& out,
                   const std::function<void(int done, int total)>& progress = {});
    // "ok", or the problems PRAGMA integrity_check finds.
    std::string integrity_check();
    int schema_version();
    // Incremented by every committed write transaction; tile and snapshot keys carry it.
    std::int64_t data_version();
    // A value of the meta table (settings the database carries, such as the receipt key).
    std::optional<std::string> meta(std::string_view key);
    // Sets `key` unless it has a value already; returns the value it has afterwards.
    std::string meta_or_set(std::string_view key, std::string_view value);
    const std::filesystem::path& path() const noexcept { return m_path; }

    // --- streets, communities, grids (a duplicate code throws Error(conflict) unless replace) ---
    void put_street(const StreetRow& row, bool replace) override;
    void put_community(const CommunityRow& row, bool replace) override;
    void put_grid(const GridRow& row, bool replace) override;
    std::vector<StreetRow> load_streets();
    std::vector<CommunityRow> load_communities();
    std::vector<GridRow> load_grids() override;
    bool has_code(Level level, const std::string& code) override;

    // Deletes a grid (no-op when absent); its buildings keep their grid code until reassigned.
    void delete_grid(const std::string& code);
    // Deletes a community and its grids (no-op when absent).
    void delete_community(const std::string& code);

    // --- grid history ---
    // Records a change with its grids and buildings; returns its id. Call inside the Transaction
    // that makes the change, so history and grids commit together.
    std::int64_t insert_grid_change(const GridChange& change);
    void set_grid_change_undone(std::int64_t id, std::int64_t undone_by);
    // The change with its grids and buildings, or nullopt.
    std::optional<GridChange> load_grid_change(std::int64_t id);
    // Every grid code the community's history names (before or after a change), sorted.
    std::vector<std::string> history_grid_codes(const std::string& community_code);
    // The changes of a community, newest first, without grids and buildings.
    std::vector<GridChange> list_grid_changes(const std::string& community_code);

    // --- buildings ---
    std::int64_t insert_building(const BuildingRow& row) override; // returns the new id
    void set_building_grid(std::int64_t id, const std::optional<std::string>& grid_code) override;
    std::vector<BuildingRow> load_buildings();
    // The building of `id`, or nullopt; the buildings whose source id is `source_id`.
    std::optional<BuildingRow> find_building(std::int64_t id) override;
    std::vector<BuildingRow> find_buildings(const std::string& source_id) override;
    // Writes every field of the stored building `row.id` (an update of `wangge import --update`).
    void update_building(const BuildingRow& row) override;
    // Streams buildings in id order without holding them all.
    void for_each_building(const std::function<void(BuildingRow&&)>& visit) override;
    // --- roads ---
    std::int64_t insert_road(const RoadRow& row) override;
    std::vector<RoadRow> load_roads();
    std::size_t road_count();

    // Deletes every stored building / road (an import with --replace swaps the whole layer).
    void delete_all_buildings() override;
    void delete_all_roads() override;
    // The box of everything stored with a geometry (areas, buildings, roads, units), or nullopt
    // for an empty database.
    std::optional<BBox> extent() override;
    // Units (单位) areas; the geometry must be polygonal.
    std::int64_t insert_unit(const UnitRow& row) override;
    std::vector<UnitRow> load_units();
    void delete_all_units() override;

    std::size_t count(Level level);
    std::size_t building_count();

    // --- accounts (src/store/accounts.cpp); none of these changes the data version ---
    // Inserts a user with its scopes (call inside a Transaction); a taken name throws
    // Error(conflict, "duplicate_user").
    std::int64_t insert_user(const UserRow& row);
    std::optional<UserRow> find_user(std::string_view name);
    std::optional<UserRow> find_user(std::int64_t id);
    std::vector<UserRow> list_users();
    void set_user_password(std::int64_t id, const std::string& hash);
    void set_user_disabled(std::int64_t id, bool disabled);
    std::int64_t insert_token(const TokenRow& row);
    std::optional<TokenRow> find_token(std::string_view hash);
    std::vector<TokenRow> list_tokens(std::optional<std::int64_t> user_id);
    // False when no unrevoked token has this id.
    bool revoke_token(std::int64_t id, const std::string& at);
    void touch_token(std::int64_t id, const std::string& at);
    void insert_session(const SessionRow& row);
    std::optional<SessionRow> find_session(std::string_view hash);
    void delete_session(std::string_view hash);
    // Ends every session of a user (disabled, or a new password).
    void delete_user_sessions(std::int64_t user_id);
    void delete_sessions_expired_before(const std::string& now);
    std::int64_t insert_audit(const AuditRow& row);
    // Newest first.
    std::vector<AuditRow> list_audit(const AuditFilter& filter);

    // --- workers and incidents (src/store/incidents.cpp); each changes the data version only
    // through the Transaction its caller commits ---
    std::int64_t insert_worker(const WorkerRow& row);
    void update_worker(const WorkerRow& row);
    std::optional<WorkerRow> find_worker(std::int64_t id);
    std::optional<WorkerRow> find_worker_by_phone(std::string_view phone);
    std::vector<WorkerRow> list_workers();
    // Replaces the grid's workers: rank 0 first responsible, then backups.
    void set_grid_workers(const std::string& grid_code, const std::vector<std::int64_t>& worker_ids);
    std::vector<GridWorkerRow> list_grid_workers();
    std::vector<GridWorkerRow> grid_workers_of(const std::string& grid_code);

    std::int64_t insert_incident(const IncidentRow& row);
    void update_incident(const IncidentRow& row);
    std::optional<IncidentRow> find_incident(std::int64_t id);
    std::optional<IncidentRow> find_incident_by_key(std::string_view idempotency_key);
    // Incidents of `category` within the box, newest first (duplicates are looked for here).
    std::vector<IncidentRow> incidents_near(const std::string& category, const BBox& box);
    // Incidents whose point lies in the box (edges included), by id; without `include_closed`
    // only the open ones (not closed, invalid or suspended: incident::is_open).
    std::vector<IncidentRow> incidents_in(const BBox& box, bool include_closed);
    struct IncidentFilter {
        std::optional<std::string> code; // street, community or grid: incidents there
        std::optional<std::string> state;
        bool open_only = false; // only open cases (as incidents_in)
        std::optional<std::int64_t> worker;
        std::optional<std::string> reported_from, reported_to; // UTC text, both ends included
        int limit = 100;
        int offset = 0;
    };
    std::vector<IncidentRow> list_incidents(const IncidentFilter& filter);
    std::int64_t insert_incident_event(const IncidentEventRow& row);
    std::vector<IncidentEventRow> incident_events(std::int64_t incident_id);
    // The events of every case after (`from`, `after_id`) in the order of time and id, up to `to`
    // (UTC text, included), at most `limit` of them: after_id 0 starts at `from` itself, and the
    // last event of a page continues with the next.
    std::vector<IncidentEventRow> incident_events_between(const std::string& from, std::int64_t after_id,
                                                          const std::string& to, int limit);
    // A photo of a case; the same photo again for the same case is kept once (false then).
    bool insert_photo(const PhotoRow& row);
    std::vector<PhotoRow> photos_of(std::int64_t incident_id);
    std::optional<PhotoRow> find_photo(std::int64_t incident_id, const std::string& hash);

    // Executes SQL that returns no rows (used by migrations and tests).
    void exec(const std::string& sql);
    sqlite3* handle() noexcept { return m_db; }

private:
    friend class Transaction;
    friend class ReadTransaction;
    Database(sqlite3* db, std::filesystem::path path);
    void migrate();
    void begin();
    void commit_and_bump();
    void rollback() noexcept;
    detail::Statement& cached_statement(std::string_view sql);

    sqlite3* m_db;
    std::filesystem::path m_path;
    struct Statements;
    std::unique_ptr<Statements> m_stmts;
};

} // namespace wangge::store

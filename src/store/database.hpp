#pragma once
// The store (docs/ARCHITECTURE.md): one interface, two backends. A SpatiaLite file
// (store::SqliteDatabase, store/sqlite_database.hpp: WAL journal, synchronous=FULL so an
// acknowledged commit survives a crash) or a PostgreSQL + PostGIS database (store::PgDatabase,
// store/pg/database.hpp; docs/POSTGRESQL.md). Nothing above the store knows which one runs:
// Database::open takes a file or a postgresql:// URL.
//
// Every write happens inside a Transaction; a Transaction that is destroyed without commit()
// rolls back, so a failed import leaves the store as it was. Write transactions take turns (one
// writer at a time, across processes and servers), as SQLite's BEGIN IMMEDIATE makes them.
#include "core/codes.hpp"
#include "store/map_store.hpp"
#include "store/records.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::store {

// `create` makes a SpatiaLite file if it is missing (a PostgreSQL database must exist: it is
// opened as read_write); `read_write` requires an existing store and applies pending migrations;
// `read_only` changes nothing and refuses a schema other than this binary's.
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

    // Increments the data version (Bump::data_version) and commits.
    void commit();

private:
    Database* m_db;
    Bump m_bump;
    bool m_done = false;
};

// A consistent read of several tables: every statement between construction and destruction sees
// the same committed state (the snapshot loader reads six tables).
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

class Database : public MapStore {
public:
    // Opens a SpatiaLite file, or the PostgreSQL database of a postgresql:// (postgres://) URL.
    // Throws Error(io, "no_database") for a missing file (unless `create`), Error(io,
    // "newer_schema") for a store newer than this binary, Error(io, "old_schema") in read_only
    // mode for an older one, and what PgDatabase::open throws for a server.
    static std::unique_ptr<Database> open(const std::string& where, OpenMode mode);
    ~Database() override = default;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void begin_write() final { begin(Bump::data_version); }
    void commit_write() final { commit(Bump::data_version); }
    void rollback_write() noexcept final { rollback(); }

    // The file, or the URL without its password (for messages and logs).
    virtual std::string name() const = 0;
    virtual int schema_version() = 0;
    // Incremented by every committed write transaction; tile and snapshot keys carry it.
    virtual std::int64_t data_version() = 0;
    // Waits up to `timeout` for another connection to commit a change of the data version and
    // returns true when one was announced (PostgreSQL: LISTEN on the data version's channel, so a
    // server hears of another's commit at once). SQLite announces nothing: it waits out the
    // timeout and returns false, and its readers compare data_version() instead. Throws
    // Error(unavailable) when the connection is lost.
    virtual bool wait_for_change(std::chrono::milliseconds timeout) = 0;
    // A value of the meta table (settings the store carries, such as the receipt key).
    virtual std::optional<std::string> meta(std::string_view key) = 0;
    // Sets `key` unless it has a value already; returns the value it has afterwards.
    virtual std::string meta_or_set(std::string_view key, std::string_view value) = 0;
    // Executes SQL that returns no rows, in this backend's dialect (savepoints, migrations, tests).
    virtual void exec(const std::string& sql) = 0;

    // --- streets, communities, grids (a duplicate code throws Error(conflict) unless replace) ---
    virtual std::vector<StreetRow> load_streets() = 0;
    virtual std::vector<CommunityRow> load_communities() = 0;
    // Deletes a grid (no-op when absent); its buildings keep their grid code until reassigned.
    virtual void delete_grid(const std::string& code) = 0;
    // Deletes a community and its grids (no-op when absent).
    virtual void delete_community(const std::string& code) = 0;

    // --- grid history ---
    // Records a change with its grids and buildings; returns its id. Call inside the Transaction
    // that makes the change, so history and grids commit together.
    virtual std::int64_t insert_grid_change(const GridChange& change) = 0;
    virtual void set_grid_change_undone(std::int64_t id, std::int64_t undone_by) = 0;
    // The change with its grids and buildings (in the order they were stored), or nullopt.
    virtual std::optional<GridChange> load_grid_change(std::int64_t id) = 0;
    // Every grid code the community's history names (before or after a change), sorted.
    virtual std::vector<std::string> history_grid_codes(const std::string& community_code) = 0;
    // The changes of a community, newest first, without grids and buildings.
    virtual std::vector<GridChange> list_grid_changes(const std::string& community_code) = 0;

    // --- buildings, roads, units (the writes are MapStore's) ---
    virtual std::vector<BuildingRow> load_buildings() = 0;
    virtual std::vector<RoadRow> load_roads() = 0;
    virtual std::size_t road_count() = 0;
    virtual std::vector<UnitRow> load_units() = 0;
    virtual std::size_t count(Level level) = 0;
    virtual std::size_t building_count() = 0;

    // --- accounts; none of these changes the data version ---
    // Inserts a user with its scopes (call inside a Transaction); a taken name throws
    // Error(conflict, "duplicate_user").
    virtual std::int64_t insert_user(const UserRow& row) = 0;
    virtual std::optional<UserRow> find_user(std::string_view name) = 0;
    virtual std::optional<UserRow> find_user(std::int64_t id) = 0;
    virtual std::vector<UserRow> list_users() = 0;
    virtual void set_user_password(std::int64_t id, const std::string& hash) = 0;
    virtual void set_user_disabled(std::int64_t id, bool disabled) = 0;
    virtual std::int64_t insert_token(const TokenRow& row) = 0;
    virtual std::optional<TokenRow> find_token(std::string_view hash) = 0;
    virtual std::vector<TokenRow> list_tokens(std::optional<std::int64_t> user_id) = 0;
    // False when no unrevoked token has this id.
    virtual bool revoke_token(std::int64_t id, const std::string& at) = 0;
    virtual void touch_token(std::int64_t id, const std::string& at) = 0;
    virtual void insert_session(const SessionRow& row) = 0;
    virtual std::optional<SessionRow> find_session(std::string_view hash) = 0;
    virtual void delete_session(std::string_view hash) = 0;
    // Ends every session of a user (disabled, or a new password).
    virtual void delete_user_sessions(std::int64_t user_id) = 0;
    virtual void delete_sessions_expired_before(const std::string& now) = 0;
    virtual std::int64_t insert_audit(const AuditRow& row) = 0;
    // Newest first.
    virtual std::vector<AuditRow> list_audit(const AuditFilter& filter) = 0;

    // --- workers and incidents; each changes the data version only through the Transaction its
    // caller commits ---
    virtual std::int64_t insert_worker(const WorkerRow& row) = 0;
    virtual void update_worker(const WorkerRow& row) = 0;
    virtual std::optional<WorkerRow> find_worker(std::int64_t id) = 0;
    virtual std::optional<WorkerRow> find_worker_by_phone(std::string_view phone) = 0;
    virtual std::vector<WorkerRow> list_workers() = 0;
    // Replaces the grid's workers: rank 0 first responsible, then backups.
    virtual void set_grid_workers(const std::string& grid_code, const std::vector<std::int64_t>& worker_ids) = 0;
    virtual std::vector<GridWorkerRow> list_grid_workers() = 0;
    virtual std::vector<GridWorkerRow> grid_workers_of(const std::string& grid_code) = 0;

    // Throws Error(conflict, "idempotency_key_taken") when a case with the same idempotency key
    // is stored (filed meanwhile by another connection or server): looking again finds it.
    virtual std::int64_t insert_incident(const IncidentRow& row) = 0;
    virtual void update_incident(const IncidentRow& row) = 0;
    virtual std::optional<IncidentRow> find_incident(std::int64_t id) = 0;
    virtual std::optional<IncidentRow> find_incident_by_key(std::string_view idempotency_key) = 0;
    // Incidents of `category` within the box, newest first (duplicates are looked for here).
    virtual std::vector<IncidentRow> incidents_near(const std::string& category, const BBox& box) = 0;
    // Incidents whose point lies in the box (edges included), by id; without `include_closed`
    // only the open ones (not closed, invalid or suspended: incident::is_open).
    virtual std::vector<IncidentRow> incidents_in(const BBox& box, bool include_closed) = 0;
    struct IncidentFilter {
        std::optional<std::string> code; // street, community or grid: incidents there
        std::optional<std::string> state;
        bool open_only = false; // only open cases (as incidents_in)
        std::optional<std::int64_t> worker;
        std::optional<std::string> reported_from, reported_to; // UTC text, both ends included
        int limit = 100;
        int offset = 0;
    };
    virtual std::vector<IncidentRow> list_incidents(const IncidentFilter& filter) = 0;
    virtual std::int64_t insert_incident_event(const IncidentEventRow& row) = 0;
    virtual std::vector<IncidentEventRow> incident_events(std::int64_t incident_id) = 0;
    // The events of every case after (`from`, `after_id`) in the order of time and id, up to `to`
    // (UTC text, included), at most `limit` of them: after_id 0 starts at `from` itself, and the
    // last event of a page continues with the next.
    virtual std::vector<IncidentEventRow> incident_events_between(const std::string& from, std::int64_t after_id,
                                                                  const std::string& to, int limit) = 0;
    // A photo of a case; the same photo again for the same case is kept once (false then).
    virtual bool insert_photo(const PhotoRow& row) = 0;
    virtual std::vector<PhotoRow> photos_of(std::int64_t incident_id) = 0;
    virtual std::optional<PhotoRow> find_photo(std::int64_t incident_id, const std::string& hash) = 0;

protected:
    Database() = default;

private:
    friend class Transaction;
    friend class ReadTransaction;
    // A write transaction: waits for the other writers (of every process on the store), and on
    // commit moves the data version on when `bump` says so.
    virtual void begin(Bump bump) = 0;
    virtual void commit(Bump bump) = 0;
    virtual void rollback() noexcept = 0;
    // A read transaction: one committed state for every statement until end_read().
    virtual void begin_read() = 0;
    virtual void end_read() noexcept = 0;
};

} // namespace wangge::store

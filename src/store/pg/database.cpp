#include "store/pg/database.hpp"

#include "store/pg/schema.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

namespace wangge::store {

namespace {

// Every Wangge process migrating a database takes this lock first (pg_advisory_xact_lock).
constexpr std::string_view migration_lock = "7764001301"; // "wg" and issue 13: any fixed number

int current_version(PgConnection& conn) {
    return static_cast<int>(conn.exec("SELECT coalesce(max(version), 0) FROM schema_version").int64(0, 0));
}

} // namespace

std::unique_ptr<PgDatabase> PgDatabase::open(const std::string& url, PgOpenMode mode) {
    std::unique_ptr<PgDatabase> db(new PgDatabase(PgConnection::connect(url)));
    if (mode == PgOpenMode::read_write) {
        db->ensure_postgis();
        db->migrate();
        return db;
    }
    const int version = db->schema_version();
    if (version > latest_schema_version()) throw db->newer_schema(version);
    if (version < latest_schema_version())
        throw Error(ErrorKind::io, "old_schema",
                    "the database of " + db->m_conn.url() + " has schema version " + std::to_string(version) +
                        "; open it read-write once to migrate it to " + std::to_string(latest_schema_version()));
    return db;
}

int PgDatabase::latest_schema_version() noexcept { return static_cast<int>(detail::pg_migrations().size()); }

int PgDatabase::schema_version() {
    if (m_conn.exec("SELECT to_regclass('schema_version') IS NULL").text(0, 0) == "t") return 0;
    return current_version(m_conn);
}

void PgDatabase::ensure_postgis() {
    if (m_conn.exec("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").rows() == 1) return;
    const std::string where = "the database of " + m_conn.url();
    if (m_conn.exec("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'").rows() == 0)
        throw Error(ErrorKind::unprocessable, "no_postgis",
                    where + " has no PostGIS, and the server has none to install (Debian: postgresql-15-postgis-3)");
    try {
        m_conn.exec("CREATE EXTENSION IF NOT EXISTS postgis");
    } catch (const Error& e) {
        if (e.code() != std::string(pg_error_prefix) + "42501") throw;
        throw Error(ErrorKind::unprocessable, "no_postgis",
                    where + " has no PostGIS: CREATE EXTENSION postgis (as a superuser)");
    }
}

void PgDatabase::migrate() {
    // Up to date (every open after the first): no lock, no write, so a role without the right
    // to create tables can open it.
    const int seen = schema_version();
    if (seen > latest_schema_version()) throw newer_schema(seen);
    if (seen == latest_schema_version()) return;
    const auto& all = detail::pg_migrations();
    PgTransaction tx(m_conn);
    m_conn.exec("SELECT pg_advisory_xact_lock(" + std::string(migration_lock) + ")");
    m_conn.exec("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at text NOT NULL "
                "DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))");
    // Another process may have migrated it while this one waited for the lock.
    const int current = current_version(m_conn);
    if (current > latest_schema_version()) throw newer_schema(current);
    for (int v = current; v < latest_schema_version(); ++v) {
        m_conn.exec(std::string(all[static_cast<std::size_t>(v)]));
        m_conn.exec("INSERT INTO schema_version (version) VALUES ($1)", {std::to_string(v + 1)});
    }
    tx.commit();
}

Error PgDatabase::newer_schema(int version) const {
    return Error(ErrorKind::io, "newer_schema",
                 "the database of " + m_conn.url() + " has schema version " + std::to_string(version) +
                     ", newer than this Wangge (" + std::to_string(latest_schema_version()) +
                     "): use a newer wangge");
}

std::string PgDatabase::name() const { return m_conn.url(); }

void PgDatabase::exec(const std::string& sql) { m_conn.exec(sql); }

std::int64_t PgDatabase::data_version() {
    const PgResult r = m_conn.exec("SELECT CAST(value AS bigint) FROM meta WHERE key = 'data_version'");
    return r.rows() == 0 ? 0 : r.int64(0, 0);
}

bool PgDatabase::wait_for_change(std::chrono::milliseconds timeout) {
    PGconn* conn = m_conn.handle();
    if (!m_listening) {
        m_conn.exec("LISTEN " + std::string(pg_data_version_channel));
        m_listening = true;
    }
    auto drain = [&] {
        bool heard = false;
        while (PGnotify* n = PQnotifies(conn)) {
            heard = true;
            PQfreemem(n);
        }
        return heard;
    };
    if (drain()) return true; // arrived with the answer to an earlier statement
    pollfd fd{PQsocket(conn), POLLIN, 0};
    if (fd.fd < 0)
        throw Error(ErrorKind::unavailable, "db_connection_lost", "the connection to " + m_conn.url() + " is closed");
    const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR)
        throw Error(ErrorKind::unavailable, "db_connection_lost", "waiting on " + m_conn.url() + " failed");
    if (ready > 0 && (PQconsumeInput(conn) == 0 || PQstatus(conn) == CONNECTION_BAD))
        throw Error(ErrorKind::unavailable, "db_connection_lost",
                    "the connection to " + m_conn.url() + " was lost: " + PQerrorMessage(conn));
    return drain();
}

std::optional<std::string> PgDatabase::meta(std::string_view key) {
    const PgResult r = m_conn.exec("SELECT value FROM meta WHERE key = $1", {std::string(key)});
    if (r.rows() == 0) return std::nullopt;
    return std::string(r.text(0, 0));
}

std::string PgDatabase::meta_or_set(std::string_view key, std::string_view value) {
    m_conn.exec("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                {std::string(key), std::string(value)});
    return meta(key).value_or(std::string(value));
}

void PgDatabase::begin(Bump) {
    m_conn.exec("BEGIN");
    m_in_transaction = true;
    // Writers take turns on the data version's row, as SQLite's BEGIN IMMEDIATE makes them: two
    // servers filing the same report, or applying proposals made on the same data, run one after
    // the other, each seeing what the other committed.
    m_conn.exec("SELECT value FROM meta WHERE key = 'data_version' FOR UPDATE");
}

void PgDatabase::commit(Bump bump) {
    // PostgreSQL answers COMMIT of a transaction a failed statement has aborted with a silent
    // ROLLBACK; what the caller believes written must not be lost without a word.
    if (PQtransactionStatus(m_conn.handle()) == PQTRANS_INERROR) {
        rollback();
        throw Error(ErrorKind::io, "transaction_aborted",
                    "a statement of this transaction failed, so nothing of it was written");
    }
    if (bump == Bump::data_version) {
        const PgResult r = m_conn.exec("UPDATE meta SET value = (CAST(value AS bigint) + 1)::text "
                                       "WHERE key = 'data_version' RETURNING value");
        // Delivered to every listening server when (and only if) the transaction commits.
        m_conn.exec("SELECT pg_notify($1, $2)", {std::string(pg_data_version_channel), std::string(r.text(0, 0))});
    }
    m_in_transaction = false;
    m_conn.exec("COMMIT");
}

void PgDatabase::rollback() noexcept {
    if (!m_in_transaction) return;
    m_in_transaction = false;
    try {
        m_conn.exec("ROLLBACK");
    } catch (...) {
        // A connection that is gone has rolled back by itself.
    }
}

void PgDatabase::begin_read() {
    m_conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    m_in_transaction = true;
}

void PgDatabase::end_read() noexcept { rollback(); }

} // namespace wangge::store

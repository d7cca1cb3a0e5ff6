#pragma once
// A PostgreSQL connection through libpq (docs/POSTGRESQL.md): connect from a URL, run SQL with
// parameters, transactions, rows streamed one at a time (single-row mode) and COPY FROM STDIN.
// Every failure is a wangge::Error that names what failed; libpq's types stay in the .cpp.
#include "core/error.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace wangge::store {

// True for a postgresql:// or postgres:// URL (a database server rather than a SpatiaLite file).
bool is_postgresql_url(std::string_view text) noexcept;
// The URL with its password (if any) replaced by "***", for messages and logs.
std::string redact_url(std::string_view url);

// The connection parameters a URL sets (host, port, dbname, user, password, sslmode, ...), as
// libpq parses it, for a client that takes them one by one (Mapnik's postgis plugin). Throws
// Error(bad_request, "invalid_db_url") for a malformed URL.
std::vector<std::pair<std::string, std::string>> pg_url_parameters(const std::string& url);

// Parameters of a query, in text form; nullopt is SQL NULL.
using PgParams = std::vector<std::optional<std::string>>;

namespace detail {
struct PgResultDeleter {
    void operator()(PGresult* r) const noexcept;
};
struct PgConnDeleter {
    void operator()(PGconn* c) const noexcept;
};
} // namespace detail

// A result's rows, values in text form (bytea as "\x" + hex, as PostgreSQL writes it).
class PgResult {
public:
    explicit PgResult(PGresult* r) : m_ptr(r) {}
    int rows() const noexcept;
    int columns() const noexcept;
    bool is_null(int row, int col) const noexcept;
    std::string_view text(int row, int col) const noexcept;
    std::int64_t int64(int row, int col) const;
    // A bytea column, decoded from PostgreSQL's hex output.
    std::vector<unsigned char> bytes(int row, int col) const;

private:
    std::unique_ptr<PGresult, detail::PgResultDeleter> m_ptr;
};

class PgConnection;

// A query whose rows arrive one at a time (libpq single-row mode), so a large table is never held
// in memory. Read it to the end before the connection runs anything else; the destructor drains
// what is left.
class PgRowStream {
public:
    PgRowStream(PgConnection& conn, const std::string& sql, const PgParams& params);
    ~PgRowStream();
    PgRowStream(const PgRowStream&) = delete;
    PgRowStream& operator=(const PgRowStream&) = delete;
    PgRowStream(PgRowStream&&) = delete;
    PgRowStream& operator=(PgRowStream&&) = delete;

    // Advances to the next row; false at the end.
    bool next();
    // The current row (row 0 of its one-row result).
    const PgResult& row() const { return *m_row; }

private:
    PgConnection* m_conn;
    std::optional<PgResult> m_row;
    bool m_done = false;
};

class PgConnection {
public:
    // Throws Error(bad_request, "invalid_db_url") for a malformed URL, Error(unavailable,
    // "db_unreachable") when no server answers at its host and port, and Error(io, "db_connect")
    // when the server refuses the connection (an unknown role or database, a wrong password).
    static PgConnection connect(const std::string& url);

    // Runs SQL without parameters (several statements allowed); returns the last result.
    PgResult exec(const std::string& sql);
    // Runs one statement with text parameters $1, $2, ...
    PgResult exec(const std::string& sql, const PgParams& params);

    // COPY ... FROM STDIN: start it, send data (rows in COPY text format), end it.
    void copy_begin(const std::string& copy_sql);
    void copy_put(std::string_view data);
    void copy_end();

    const std::string& url() const noexcept { return m_url; } // redacted
    PGconn* handle() noexcept { return m_conn.get(); }

private:
    friend class PgRowStream;
    PgConnection(PGconn* conn, std::string url) : m_conn(conn), m_url(std::move(url)) {}
    [[noreturn]] void fail(const std::string& what, PGresult* result);
    PgResult check(PGresult* result, const std::string& sql, int expected);

    std::unique_ptr<PGconn, detail::PgConnDeleter> m_conn;
    std::string m_url;
};

// BEGIN on construction, ROLLBACK on destruction unless commit() ran.
class PgTransaction {
public:
    // `begin_sql` may name an isolation level, e.g. "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".
    explicit PgTransaction(PgConnection& conn, const std::string& begin_sql = "BEGIN");
    ~PgTransaction();
    PgTransaction(const PgTransaction&) = delete;
    PgTransaction& operator=(const PgTransaction&) = delete;
    PgTransaction(PgTransaction&&) = delete;
    PgTransaction& operator=(PgTransaction&&) = delete;

    void commit();

private:
    PgConnection* m_conn;
    bool m_done = false;
};

// The SQLSTATE of a failed statement is kept in the Error's code as "pg_" + SQLSTATE when no
// better code applies (e.g. "pg_23505" for a unique violation), so callers can tell them apart.
inline constexpr std::string_view pg_error_prefix = "pg_";

} // namespace wangge::store

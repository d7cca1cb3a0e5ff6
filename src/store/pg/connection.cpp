#include "store/pg/connection.hpp"

#include <libpq-fe.h>

#include <charconv>

namespace wangge::store {

namespace detail {
void PgResultDeleter::operator()(PGresult* r) const noexcept { PQclear(r); }
void PgConnDeleter::operator()(PGconn* c) const noexcept { PQfinish(c); }
} // namespace detail

namespace {

// libpq's message on one line, without its final newline.
std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    for (std::size_t p = text.find("\n"); p != std::string::npos; p = text.find("\n", p)) {
        std::size_t end = p + 1;
        while (end < text.size() && (text[end] == '\t' || text[end] == ' ')) ++end;
        text.replace(p, end - p, " ");
    }
    return text;
}

std::string short_sql(std::string_view sql) {
    std::string s(sql.substr(0, 70));
    for (char& c : s)
        if (c == '\n') c = ' ';
    return sql.size() > 70 ? s + "..." : s;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// What libpq says when no server could be reached, or it went away while we connected (as opposed
// to a server that refused us).
bool unreachable(std::string_view message) {
    for (std::string_view mark : {"Connection refused", "could not connect", "timeout expired",
                                  "server closed the connection unexpectedly", "Connection reset by peer",
                                  "could not translate host name", "No route to host", "Network is unreachable"})
        if (message.find(mark) != std::string_view::npos) return true;
    return false;
}

// The server answers but cannot take a session for now: starting, recovering after a crash,
// shutting down, or full. Worth a retry, as an unreachable one is.
bool not_ready(std::string_view message) {
    for (std::string_view mark : {"the database system is starting up", "not yet accepting connections",
                                  "the database system is in recovery mode", "the database system is shutting down",
                                  "too many clients already", "remaining connection slots are reserved"})
        if (message.find(mark) != std::string_view::npos) return true;
    return false;
}

} // namespace

bool is_postgresql_url(std::string_view text) noexcept {
    return text.starts_with("postgresql://") || text.starts_with("postgres://");
}

std::vector<std::pair<std::string, std::string>> pg_url_parameters(const std::string& url) {
    char* why = nullptr;
    PQconninfoOption* options = PQconninfoParse(url.c_str(), &why);
    if (!options) {
        const std::string reason = why ? trimmed(why) : std::string("out of memory");
        if (why) PQfreemem(why);
        throw Error(ErrorKind::bad_request, "invalid_db_url", "malformed database URL '" + redact_url(url) + "': " + reason);
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const PQconninfoOption* o = options; o->keyword; ++o)
        if (o->val && *o->val) out.emplace_back(o->keyword, o->val);
    PQconninfoFree(options);
    return out;
}

std::string redact_url(std::string_view url) {
    std::string out(url);
    const auto scheme = out.find("://");
    const auto at = out.find('@');
    const auto query = out.find('?');
    if (scheme != std::string::npos && at != std::string::npos && (query == std::string::npos || at < query)) {
        const auto colon = out.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
    // A password may also be a query parameter.
    const auto params = out.find('?');
    for (auto p = out.find("password=", params); params != std::string::npos && p != std::string::npos;
         p = out.find("password=", p + 1)) {
        const auto start = p + 9;
        const auto end = out.find('&', start);
        out.replace(start, (end == std::string::npos ? out.size() : end) - start, "***");
    }
    return out;
}

// --- PgResult ---

int PgResult::rows() const noexcept { return PQntuples(m_ptr.get()); }
int PgResult::columns() const noexcept { return PQnfields(m_ptr.get()); }
bool PgResult::is_null(int row, int col) const noexcept { return PQgetisnull(m_ptr.get(), row, col) != 0; }

std::string_view PgResult::text(int row, int col) const noexcept {
    return {PQgetvalue(m_ptr.get(), row, col), static_cast<std::size_t>(PQgetlength(m_ptr.get(), row, col))};
}

std::int64_t PgResult::int64(int row, int col) const {
    const std::string_view t = text(row, col);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size())
        throw Error(ErrorKind::internal, "database", "expected an integer from PostgreSQL, got '" + std::string(t) + "'");
    return v;
}

std::vector<unsigned char> PgResult::bytes(int row, int col) const {
    const std::string_view t = text(row, col);
    if (!t.starts_with("\\x") || t.size() % 2 != 0)
        throw Error(ErrorKind::internal, "database", "expected bytea in hex output from PostgreSQL");
    std::vector<unsigned char> out;
    out.reserve(t.size() / 2 - 1);
    for (std::size_t i = 2; i < t.size(); i += 2) {
        const int hi = hex_digit(t[i]), lo = hex_digit(t[i + 1]);
        if (hi < 0 || lo < 0) throw Error(ErrorKind::internal, "database", "malformed bytea from PostgreSQL");
        out.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
    return out;
}

// --- PgConnection ---

PgConnection PgConnection::connect(const std::string& url) {
    const std::string shown = redact_url(url);
    if (!is_postgresql_url(url))
        throw Error(ErrorKind::bad_request, "invalid_db_url",
                    "'" + shown + "' is not a PostgreSQL URL (postgresql://[user[:password]@]host[:port]/database)");
    char* parse_error = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &parse_error);
    if (!parsed) {
        std::string why = parse_error ? trimmed(parse_error) : "out of memory";
        PQfreemem(parse_error);
        throw Error(ErrorKind::bad_request, "invalid_db_url", "malformed database URL '" + shown + "': " + why);
    }
    PQconninfoFree(parsed);

    // A default timeout, so a host that drops packets fails in seconds; the URL's own wins,
    // since keywords after an expanded dbname override it only when they come later.
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {"10", "wangge", url.c_str(), nullptr};
    PGconn* raw = PQconnectdbParams(keywords, values, 1);
    if (!raw) throw Error(ErrorKind::io, "db_connect", "cannot connect to " + shown + ": out of memory");
    std::unique_ptr<PGconn, detail::PgConnDeleter> conn(raw);
    if (PQstatus(raw) != CONNECTION_OK) {
        const std::string message = trimmed(PQerrorMessage(raw));
        const char* host = PQhost(raw);
        const char* port = PQport(raw);
        const std::string where = std::string(host && *host ? host : "localhost") + ":" +
                                  (port && *port ? port : "5432");
        if (unreachable(message))
            throw Error(ErrorKind::unavailable, "db_unreachable",
                        "cannot reach PostgreSQL at " + where + " (" + shown +
                            "): the server may be down or not listening there: " + message);
        if (not_ready(message))
            throw Error(ErrorKind::unavailable, "db_not_ready",
                        "PostgreSQL at " + where + " cannot take a connection yet: " + message);
        throw Error(ErrorKind::io, "db_connect", "PostgreSQL at " + where + " refused the connection: " + message);
    }
    // Notices ("already exists, skipping") are not errors and must not reach standard error.
    PQsetNoticeProcessor(raw, [](void*, const char*) {}, nullptr);
    // Text results the same everywhere: UTC timestamps, shortest exact floats, hex bytea.
    PgConnection out(conn.release(), shown);
    out.exec("SET client_encoding = 'UTF8'; SET TimeZone = 'UTC'; SET extra_float_digits = 1; "
             "SET bytea_output = 'hex'");
    return out;
}

void PgConnection::fail(const std::string& what, PGresult* result) {
    std::string sqlstate;
    std::string message;
    if (result) {
        const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        sqlstate = state ? state : "";
        message = trimmed(PQresultErrorMessage(result));
        PQclear(result);
    }
    if (message.empty()) message = trimmed(PQerrorMessage(m_conn.get()));
    ErrorKind kind = ErrorKind::io;
    if (sqlstate == "23505") kind = ErrorKind::conflict;
    // 08: the connection failed; 57P: the server is shutting down, restarting, or not yet up.
    else if (sqlstate.starts_with("08") || sqlstate.starts_with("57P") || PQstatus(m_conn.get()) == CONNECTION_BAD)
        kind = ErrorKind::unavailable;
    throw Error(kind, sqlstate.empty() ? "database" : std::string(pg_error_prefix) + sqlstate,
                what + " on " + m_url + ": " + message);
}

PgResult PgConnection::check(PGresult* result, const std::string& sql, int expected) {
    if (!result || PQresultStatus(result) != expected) fail("'" + short_sql(sql) + "' failed", result);
    return PgResult(result);
}

PgResult PgConnection::exec(const std::string& sql) {
    PGresult* r = PQexec(m_conn.get(), sql.c_str());
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return check(r, sql, status == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK);
}

PgResult PgConnection::exec(const std::string& sql, const PgParams& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGresult* r = PQexecParams(m_conn.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    return check(r, sql, status == PGRES_TUPLES_OK ? PGRES_TUPLES_OK : PGRES_COMMAND_OK);
}

void PgConnection::copy_begin(const std::string& copy_sql) {
    check(PQexec(m_conn.get(), copy_sql.c_str()), copy_sql, PGRES_COPY_IN);
}

void PgConnection::copy_put(std::string_view data) {
    if (PQputCopyData(m_conn.get(), data.data(), static_cast<int>(data.size())) != 1)
        fail("sending COPY data", nullptr);
}

void PgConnection::copy_end() {
    if (PQputCopyEnd(m_conn.get(), nullptr) != 1) fail("ending COPY", nullptr);
    PGresult* r = PQgetResult(m_conn.get());
    const bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok) {
        // Collect the rest of the results so the connection is ready for the ROLLBACK.
        while (PGresult* more = PQgetResult(m_conn.get())) PQclear(more);
        fail("COPY failed", r);
    }
    PQclear(r);
    while (PGresult* more = PQgetResult(m_conn.get())) PQclear(more);
}

// --- PgRowStream ---

PgRowStream::PgRowStream(PgConnection& conn, const std::string& sql, const PgParams& params) : m_conn(&conn) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    PGconn* c = conn.handle();
    if (!PQsendQueryParams(c, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0))
        conn.fail("sending '" + short_sql(sql) + "'", nullptr);
    if (!PQsetSingleRowMode(c)) {
        while (PGresult* r = PQgetResult(c)) PQclear(r);
        conn.fail("single-row mode for '" + short_sql(sql) + "'", nullptr);
    }
}

PgRowStream::~PgRowStream() {
    if (!m_done)
        while (PGresult* r = PQgetResult(m_conn->handle())) PQclear(r);
}

bool PgRowStream::next() {
    m_row.reset();
    if (m_done) return false;
    PGresult* r = PQgetResult(m_conn->handle());
    if (r && PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
        m_row.emplace(r);
        return true;
    }
    m_done = true;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK) {
        PQclear(r);
        while (PGresult* more = PQgetResult(m_conn->handle())) PQclear(more);
        return false;
    }
    while (PGresult* more = PQgetResult(m_conn->handle())) PQclear(more);
    m_conn->fail("reading rows", r);
}

// --- PgTransaction ---

PgTransaction::PgTransaction(PgConnection& conn, const std::string& begin_sql) : m_conn(&conn) {
    m_conn->exec(begin_sql);
}

PgTransaction::~PgTransaction() {
    if (m_done) return;
    PGresult* r = PQexec(m_conn->handle(), "ROLLBACK");
    PQclear(r);
}

void PgTransaction::commit() {
    m_conn->exec("COMMIT");
    m_done = true;
}

} // namespace wangge::store

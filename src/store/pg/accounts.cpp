// Accounts, API tokens, sessions and the audit log of the PostgreSQL store, as the SQLite store
// keeps them (store/accounts.cpp): times are UTC ISO 8601 text compared byte by byte (COLLATE
// "C", as SQLite's BINARY), flags are 0/1 integers, audit codes are stored between spaces.
#include "store/pg/database.hpp"

#include "store/pg/values.hpp"
#include "store/scope_codes.hpp"

#include <string>

namespace wangge::store {

namespace {

using detail::join_codes;
using detail::split_codes;
using pg::optional_text;
using pg::text_of;

// A user with its scopes, sorted, joined by spaces (a scope is digits only).
constexpr std::string_view user_select =
    "SELECT id, name, display_name, role, password_hash, disabled, created_at, "
    "coalesce((SELECT string_agg(s.code, ' ' ORDER BY s.code COLLATE \"C\") FROM user_scopes s "
    "WHERE s.user_id = users.id), '') FROM users ";

UserRow user_of(const PgResult& r, int i) {
    UserRow u;
    u.id = r.int64(i, 0);
    u.name = r.text(i, 1);
    u.display_name = r.text(i, 2);
    u.role = r.text(i, 3);
    u.password_hash = optional_text(r, i, 4);
    u.disabled = r.int64(i, 5) != 0;
    u.created_at = r.text(i, 6);
    u.scopes = split_codes(r.text(i, 7));
    return u;
}

constexpr std::string_view token_select =
    "SELECT t.id, t.user_id, u.name, t.label, t.hash, t.created_at, t.expires_at, t.last_used_at, t.revoked_at "
    "FROM api_tokens t JOIN users u ON u.id = t.user_id ";

TokenRow token_of(const PgResult& r, int i) {
    TokenRow t;
    t.id = r.int64(i, 0);
    t.user_id = r.int64(i, 1);
    t.user_name = r.text(i, 2);
    t.label = r.text(i, 3);
    t.hash = r.text(i, 4);
    t.created_at = r.text(i, 5);
    t.expires_at = r.text(i, 6);
    t.last_used_at = optional_text(r, i, 7);
    t.revoked_at = optional_text(r, i, 8);
    return t;
}

} // namespace

std::int64_t PgDatabase::insert_user(const UserRow& row) {
    // Names are unique whatever their case (the index on lower(name)). Looked for first, as the
    // SQLite store does (so a taken name is reported before any other fault of the row); should
    // one appear meanwhile, the insert does nothing rather than fail the statement, which would
    // abort the caller's transaction.
    if (find_user(row.name))
        throw Error(ErrorKind::conflict, "duplicate_user", "a user named '" + row.name + "' exists already");
    const PgResult r = m_conn.exec(
        "INSERT INTO users (name, display_name, role, password_hash, disabled) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT ((lower(name))) DO NOTHING RETURNING id",
        {row.name, row.display_name, row.role, row.password_hash, std::string(row.disabled ? "1" : "0")});
    if (r.rows() == 0)
        throw Error(ErrorKind::conflict, "duplicate_user", "a user named '" + row.name + "' exists already");
    const std::int64_t id = r.int64(0, 0);
    for (const auto& code : row.scopes)
        m_conn.exec("INSERT INTO user_scopes (user_id, code) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    {text_of(id), code});
    return id;
}

std::optional<UserRow> PgDatabase::find_user(std::string_view name) {
    const PgResult r = m_conn.exec(std::string(user_select) + "WHERE lower(name) = lower($1::text)", {std::string(name)});
    if (r.rows() == 0) return std::nullopt;
    return user_of(r, 0);
}

std::optional<UserRow> PgDatabase::find_user(std::int64_t id) {
    const PgResult r = m_conn.exec(std::string(user_select) + "WHERE id = $1", {text_of(id)});
    if (r.rows() == 0) return std::nullopt;
    return user_of(r, 0);
}

std::vector<UserRow> PgDatabase::list_users() {
    // SQLite orders by the column's NOCASE collation: ASCII letters folded, bytes compared.
    const PgResult r = m_conn.exec(std::string(user_select) + "ORDER BY lower(name COLLATE \"C\")");
    std::vector<UserRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(user_of(r, i));
    return out;
}

void PgDatabase::set_user_password(std::int64_t id, const std::string& hash) {
    m_conn.exec("UPDATE users SET password_hash = $1 WHERE id = $2", {hash, text_of(id)});
}

void PgDatabase::set_user_disabled(std::int64_t id, bool disabled) {
    m_conn.exec("UPDATE users SET disabled = $1 WHERE id = $2", {std::string(disabled ? "1" : "0"), text_of(id)});
}

std::int64_t PgDatabase::insert_token(const TokenRow& row) {
    return m_conn
        .exec("INSERT INTO api_tokens (user_id, label, hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) "
              "RETURNING id",
              {text_of(row.user_id), row.label, row.hash, row.created_at, row.expires_at})
        .int64(0, 0);
}

std::optional<TokenRow> PgDatabase::find_token(std::string_view hash) {
    const PgResult r = m_conn.exec(std::string(token_select) + "WHERE t.hash = $1", {std::string(hash)});
    if (r.rows() == 0) return std::nullopt;
    return token_of(r, 0);
}

std::vector<TokenRow> PgDatabase::list_tokens(std::optional<std::int64_t> user_id) {
    const PgResult r = m_conn.exec(std::string(token_select) + "WHERE $1::bigint IS NULL OR t.user_id = $1 ORDER BY t.id",
                                   {text_of(user_id)});
    std::vector<TokenRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(token_of(r, i));
    return out;
}

bool PgDatabase::revoke_token(std::int64_t id, const std::string& at) {
    return m_conn
               .exec("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id",
                     {at, text_of(id)})
               .rows() > 0;
}

void PgDatabase::touch_token(std::int64_t id, const std::string& at) {
    m_conn.exec("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", {at, text_of(id)});
}

void PgDatabase::insert_session(const SessionRow& row) {
    m_conn.exec("INSERT INTO sessions (hash, user_id, created_at, expires_at, address) VALUES ($1, $2, $3, $4, $5)",
                {row.hash, text_of(row.user_id), row.created_at, row.expires_at, row.address});
}

std::optional<SessionRow> PgDatabase::find_session(std::string_view hash) {
    const PgResult r = m_conn.exec("SELECT hash, user_id, created_at, expires_at, address FROM sessions WHERE hash = $1",
                                   {std::string(hash)});
    if (r.rows() == 0) return std::nullopt;
    return SessionRow{std::string(r.text(0, 0)), r.int64(0, 1), std::string(r.text(0, 2)), std::string(r.text(0, 3)),
                      std::string(r.text(0, 4))};
}

void PgDatabase::delete_session(std::string_view hash) {
    m_conn.exec("DELETE FROM sessions WHERE hash = $1", {std::string(hash)});
}

void PgDatabase::delete_user_sessions(std::int64_t user_id) {
    m_conn.exec("DELETE FROM sessions WHERE user_id = $1", {text_of(user_id)});
}

void PgDatabase::delete_sessions_expired_before(const std::string& now) {
    // Inclusive, as the SQLite store: a session expiring at `now` has ended.
    m_conn.exec("DELETE FROM sessions WHERE expires_at COLLATE \"C\" <= $1::text", {now});
}

std::int64_t PgDatabase::insert_audit(const AuditRow& row) {
    return m_conn
        .exec("INSERT INTO audit (at, user_name, action, outcome, status, method, target, codes, base_version, "
              "data_version, address, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
              {row.at, row.user, row.action, row.outcome, std::to_string(row.status), row.method, row.target,
               join_codes(row.codes), text_of(row.base_version), text_of(row.data_version), row.address, row.detail})
        .int64(0, 0);
}

std::vector<AuditRow> PgDatabase::list_audit(const AuditFilter& f) {
    // As the SQLite store: the user matched with ASCII case folded (NOCASE), a code matching
    // entries naming that area or any area below it (' 320199001' finds ' 320199001001 '), times
    // compared as bytes, no limit when it is negative and a negative offset taken as none.
    const PgResult r = m_conn.exec(
        "SELECT id, at, user_name, action, outcome, status, method, target, codes, base_version, data_version, "
        "address, detail FROM audit WHERE ($1::text IS NULL OR lower(user_name COLLATE \"C\") = lower($1::text COLLATE "
        "\"C\")) AND ($2::text IS NULL OR strpos(codes, ' ' || $2::text) > 0) "
        "AND ($3::text IS NULL OR at COLLATE \"C\" >= $3::text) AND ($4::text IS NULL OR at COLLATE \"C\" < $4::text) "
        "AND ($5::text IS NULL OR action = $5::text) ORDER BY id DESC LIMIT $6::bigint OFFSET $7::bigint",
        {f.user, f.code, f.since, f.until, f.action,
         f.limit < 0 ? std::nullopt : std::optional<std::string>(std::to_string(f.limit)),
         std::to_string(f.offset < 0 ? 0 : f.offset)});
    std::vector<AuditRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        AuditRow a;
        a.id = r.int64(i, 0);
        a.at = r.text(i, 1);
        a.user = r.text(i, 2);
        a.action = r.text(i, 3);
        a.outcome = r.text(i, 4);
        a.status = static_cast<int>(r.int64(i, 5));
        a.method = r.text(i, 6);
        a.target = r.text(i, 7);
        a.codes = split_codes(r.text(i, 8));
        if (!r.is_null(i, 9)) a.base_version = r.int64(i, 9);
        if (!r.is_null(i, 10)) a.data_version = r.int64(i, 10);
        a.address = r.text(i, 11);
        a.detail = r.text(i, 12);
        out.push_back(std::move(a));
    }
    return out;
}

} // namespace wangge::store

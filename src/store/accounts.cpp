// Accounts, API tokens, sessions and the audit log (schema migration 3, docs/SECURITY.md).
#include "store/sqlite_database.hpp"

#include "core/error.hpp"
#include "store/scope_codes.hpp"
#include "store/statement.hpp"

#include <sqlite3.h>

namespace wangge::store {

using detail::join_codes;
using detail::split_codes;
using detail::Statement;

namespace {


std::optional<std::string> optional_text(const Statement& st, int col) {
    if (st.is_null(col)) return std::nullopt;
    return st.text(col);
}

constexpr std::string_view user_columns = "id, name, display_name, role, password_hash, disabled, created_at";

UserRow read_user(const Statement& st) {
    UserRow u;
    u.id = st.int64(0);
    u.name = st.text(1);
    u.display_name = st.text(2);
    u.role = st.text(3);
    u.password_hash = optional_text(st, 4);
    u.disabled = st.int64(5) != 0;
    u.created_at = st.text(6);
    return u;
}

constexpr std::string_view token_columns =
    "t.id, t.user_id, u.name, t.label, t.hash, t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

TokenRow read_token(const Statement& st) {
    TokenRow t;
    t.id = st.int64(0);
    t.user_id = st.int64(1);
    t.user_name = st.text(2);
    t.label = st.text(3);
    t.hash = st.text(4);
    t.created_at = st.text(5);
    t.expires_at = st.text(6);
    t.last_used_at = optional_text(st, 7);
    t.revoked_at = optional_text(st, 8);
    return t;
}

} // namespace

std::int64_t SqliteDatabase::insert_user(const UserRow& row) {
    if (find_user(row.name))
        throw Error(ErrorKind::conflict, "duplicate_user", "a user named '" + row.name + "' exists already");
    auto& st = cached_statement("INSERT INTO users (name, display_name, role, password_hash, disabled) "
                                "VALUES (?, ?, ?, ?, ?)");
    st.bind(1, row.name).bind(2, row.display_name).bind(3, row.role).bind(4, row.password_hash);
    st.bind(5, std::int64_t{row.disabled ? 1 : 0}).run();
    const std::int64_t id = sqlite3_last_insert_rowid(handle());
    auto& scope = cached_statement("INSERT OR IGNORE INTO user_scopes (user_id, code) VALUES (?, ?)");
    for (const auto& code : row.scopes) scope.reset().bind(1, id).bind(2, code).run();
    return id;
}

namespace {
std::vector<std::string> scopes_of(Statement& st, std::int64_t id) {
    std::vector<std::string> out;
    st.bind(1, id);
    while (st.step()) out.push_back(st.text(0));
    return out;
}
} // namespace

std::optional<UserRow> SqliteDatabase::find_user(std::string_view name) {
    auto& st = cached_statement("SELECT " + std::string(user_columns) + " FROM users WHERE name = ?");
    st.bind(1, name);
    if (!st.step()) return std::nullopt;
    UserRow u = read_user(st);
    st.reset();
    u.scopes = scopes_of(cached_statement("SELECT code FROM user_scopes WHERE user_id = ? ORDER BY code"), u.id);
    return u;
}

std::optional<UserRow> SqliteDatabase::find_user(std::int64_t id) {
    auto& st = cached_statement("SELECT " + std::string(user_columns) + " FROM users WHERE id = ?");
    st.bind(1, id);
    if (!st.step()) return std::nullopt;
    UserRow u = read_user(st);
    st.reset();
    u.scopes = scopes_of(cached_statement("SELECT code FROM user_scopes WHERE user_id = ? ORDER BY code"), u.id);
    return u;
}

std::vector<UserRow> SqliteDatabase::list_users() {
    std::vector<UserRow> out;
    {
        auto& st = cached_statement("SELECT " + std::string(user_columns) + " FROM users ORDER BY name");
        while (st.step()) out.push_back(read_user(st));
    }
    for (auto& u : out)
        u.scopes = scopes_of(cached_statement("SELECT code FROM user_scopes WHERE user_id = ? ORDER BY code"), u.id);
    return out;
}

void SqliteDatabase::set_user_password(std::int64_t id, const std::string& hash) {
    cached_statement("UPDATE users SET password_hash = ? WHERE id = ?").bind(1, hash).bind(2, id).run();
}

void SqliteDatabase::set_user_disabled(std::int64_t id, bool disabled) {
    cached_statement("UPDATE users SET disabled = ? WHERE id = ?")
        .bind(1, std::int64_t{disabled ? 1 : 0})
        .bind(2, id)
        .run();
}

std::int64_t SqliteDatabase::insert_token(const TokenRow& row) {
    auto& st = cached_statement(
        "INSERT INTO api_tokens (user_id, label, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)");
    st.bind(1, row.user_id).bind(2, row.label).bind(3, row.hash).bind(4, row.created_at).bind(5, row.expires_at).run();
    return sqlite3_last_insert_rowid(handle());
}

std::optional<TokenRow> SqliteDatabase::find_token(std::string_view hash) {
    auto& st = cached_statement("SELECT " + std::string(token_columns) +
                                " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = ?");
    st.bind(1, hash);
    if (!st.step()) return std::nullopt;
    TokenRow t = read_token(st);
    st.reset();
    return t;
}

std::vector<TokenRow> SqliteDatabase::list_tokens(std::optional<std::int64_t> user_id) {
    auto& st = cached_statement("SELECT " + std::string(token_columns) +
                                " FROM api_tokens t JOIN users u ON u.id = t.user_id "
                                "WHERE ?1 IS NULL OR t.user_id = ?1 ORDER BY t.id");
    st.bind(1, user_id);
    std::vector<TokenRow> out;
    while (st.step()) out.push_back(read_token(st));
    return out;
}

bool SqliteDatabase::revoke_token(std::int64_t id, const std::string& at) {
    cached_statement("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(1, at)
        .bind(2, id)
        .run();
    return sqlite3_changes(handle()) > 0;
}

void SqliteDatabase::touch_token(std::int64_t id, const std::string& at) {
    cached_statement("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").bind(1, at).bind(2, id).run();
}

void SqliteDatabase::insert_session(const SessionRow& row) {
    cached_statement("INSERT INTO sessions (hash, user_id, created_at, expires_at, address) VALUES (?, ?, ?, ?, ?)")
        .bind(1, row.hash)
        .bind(2, row.user_id)
        .bind(3, row.created_at)
        .bind(4, row.expires_at)
        .bind(5, row.address)
        .run();
}

std::optional<SessionRow> SqliteDatabase::find_session(std::string_view hash) {
    auto& st = cached_statement("SELECT hash, user_id, created_at, expires_at, address FROM sessions WHERE hash = ?");
    st.bind(1, hash);
    if (!st.step()) return std::nullopt;
    SessionRow s{st.text(0), st.int64(1), st.text(2), st.text(3), st.text(4)};
    st.reset();
    return s;
}

void SqliteDatabase::delete_session(std::string_view hash) {
    cached_statement("DELETE FROM sessions WHERE hash = ?").bind(1, hash).run();
}

void SqliteDatabase::delete_user_sessions(std::int64_t user_id) {
    cached_statement("DELETE FROM sessions WHERE user_id = ?").bind(1, user_id).run();
}

void SqliteDatabase::delete_sessions_expired_before(const std::string& now) {
    cached_statement("DELETE FROM sessions WHERE expires_at <= ?").bind(1, now).run();
}

std::int64_t SqliteDatabase::insert_audit(const AuditRow& row) {
    auto& st = cached_statement(
        "INSERT INTO audit (at, user_name, action, outcome, status, method, target, codes, base_version, "
        "data_version, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, row.at).bind(2, row.user).bind(3, row.action).bind(4, row.outcome);
    st.bind(5, std::int64_t{row.status}).bind(6, row.method).bind(7, row.target).bind(8, join_codes(row.codes));
    st.bind(9, row.base_version).bind(10, row.data_version).bind(11, row.address).bind(12, row.detail).run();
    return sqlite3_last_insert_rowid(handle());
}

std::vector<AuditRow> SqliteDatabase::list_audit(const AuditFilter& f) {
    // A code filter matches entries naming that area or any area below it (codes are stored
    // between spaces, so ' 320199001' finds ' 320199001001 ').
    auto& st = cached_statement(
        "SELECT id, at, user_name, action, outcome, status, method, target, codes, base_version, data_version, "
        "address, detail FROM audit WHERE (?1 IS NULL OR user_name = ?1 COLLATE NOCASE) "
        "AND (?2 IS NULL OR instr(codes, ' ' || ?2) > 0) AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) "
        "AND (?5 IS NULL OR action = ?5) ORDER BY id DESC LIMIT ?6 OFFSET ?7");
    st.bind(1, f.user).bind(2, f.code).bind(3, f.since).bind(4, f.until).bind(5, f.action);
    st.bind(6, std::int64_t{f.limit}).bind(7, std::int64_t{f.offset});
    std::vector<AuditRow> out;
    while (st.step()) {
        AuditRow a;
        a.id = st.int64(0);
        a.at = st.text(1);
        a.user = st.text(2);
        a.action = st.text(3);
        a.outcome = st.text(4);
        a.status = static_cast<int>(st.int64(5));
        a.method = st.text(6);
        a.target = st.text(7);
        a.codes = split_codes(st.text(8));
        if (!st.is_null(9)) a.base_version = st.int64(9);
        if (!st.is_null(10)) a.data_version = st.int64(10);
        a.address = st.text(11);
        a.detail = st.text(12);
        out.push_back(std::move(a));
    }
    return out;
}

} // namespace wangge::store

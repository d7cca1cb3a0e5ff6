#include "auth/accounts.hpp"

#include "auth/secrets.hpp"
#include "core/codes.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace wangge::auth {

namespace {

constexpr auto touch_interval = std::chrono::seconds(60);

void check_name(const std::string& name) {
    const bool ok = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' || c == '@';
    });
    if (!ok)
        throw Error(ErrorKind::unprocessable, "invalid_user_name",
                    "a user name has 1 to 64 letters, digits and . _ - @ (got '" + name + "')");
}

Error invalid_credentials() {
    return Error(ErrorKind::unauthorized, "invalid_credentials", "wrong user name or password");
}

} // namespace

void check_password(std::string_view password) {
    if (password.size() < 8 || password.size() > 1024)
        throw Error(ErrorKind::unprocessable, "weak_password", "a password has at least 8 and at most 1024 bytes");
}

Accounts::Accounts(std::string db, AccountsOptions options)
    : m_path(std::move(db)), m_options(std::move(options)), m_limiter(m_options.login_limits, m_options.steady_clock),
      m_audit(m_options.audit_commits ? m_options.audit_commits : std::make_shared<store::GroupCommit>(m_path)) {}

template <typename F>
auto Accounts::with_db(F&& f) {
    std::lock_guard lock(m_mutex);
    const bool reused = m_db != nullptr;
    if (!m_db) m_db = store::Database::open(m_path, store::OpenMode::read_write);
    try {
        return f(*m_db);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::unavailable) throw;
        // The connection was lost (PostgreSQL restarted). One kept from before is opened again
        // and the call run once more: what it did on the lost connection was not committed.
        m_db.reset();
        if (!reused) throw;
    }
    m_db = store::Database::open(m_path, store::OpenMode::read_write);
    try {
        return f(*m_db);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::unavailable) m_db.reset();
        throw;
    }
}

store::UserRow Accounts::require_user(store::Database& db, const std::string& name) {
    auto user = db.find_user(name);
    if (!user) throw Error(ErrorKind::not_found, "unknown_user", "no user named '" + name + "' (see 'wangge user list')");
    return *user;
}

store::UserRow Accounts::add_user(const NewUser& user) {
    check_name(user.name);
    check_scopes(user.role, user.scopes);
    if (user.password) check_password(*user.password);
    store::UserRow row;
    row.name = user.name;
    row.display_name = user.display_name;
    row.role = std::string(to_string(user.role));
    row.scopes = user.scopes;
    if (user.password) row.password_hash = hash_password(*user.password);
    return with_db([&](store::Database& db) {
        for (const auto& code : user.scopes)
            if (!db.has_code(*level_of_code(code), code))
                throw Error(ErrorKind::unprocessable, "unknown_scope",
                            "scope " + code + " names no stored " + std::string(to_string(*level_of_code(code))));
        store::Transaction tx(db, store::Bump::none);
        row.id = db.insert_user(row);
        tx.commit();
        return *db.find_user(row.id);
    });
}

std::vector<store::UserRow> Accounts::list_users() {
    return with_db([](store::Database& db) { return db.list_users(); });
}

void Accounts::set_password(const std::string& name, const std::string& password) {
    check_password(password);
    const std::string hash = hash_password(password);
    with_db([&](store::Database& db) {
        const auto user = require_user(db, name);
        store::Transaction tx(db, store::Bump::none);
        db.set_user_password(user.id, hash);
        db.delete_user_sessions(user.id);
        tx.commit();
    });
}

void Accounts::set_disabled(const std::string& name, bool disabled) {
    with_db([&](store::Database& db) {
        const auto user = require_user(db, name);
        store::Transaction tx(db, store::Bump::none);
        db.set_user_disabled(user.id, disabled);
        if (disabled) db.delete_user_sessions(user.id);
        tx.commit();
    });
}

CreatedToken Accounts::create_token(const std::string& user_name, const std::string& label, int days) {
    if (days < 1 || days > 3650)
        throw Error(ErrorKind::unprocessable, "invalid_expiry", "a token lives 1 to 3650 days (got " + std::to_string(days) + ")");
    return with_db([&](store::Database& db) {
        const auto user = require_user(db, user_name);
        if (user.disabled) throw Error(ErrorKind::conflict, "user_disabled", "user '" + user_name + "' is disabled");
        const SystemTime now = m_options.clock();
        CreatedToken created;
        created.secret = new_secret("wgt_");
        created.expires_at = format_utc(now + std::chrono::days(days));
        store::TokenRow row;
        row.user_id = user.id;
        row.label = label;
        row.hash = digest(created.secret);
        row.created_at = format_utc(now);
        row.expires_at = created.expires_at;
        created.id = db.insert_token(row);
        return created;
    });
}

std::vector<store::TokenRow> Accounts::list_tokens(const std::optional<std::string>& user) {
    return with_db([&](store::Database& db) {
        std::optional<std::int64_t> id;
        if (user) id = require_user(db, *user).id;
        return db.list_tokens(id);
    });
}

void Accounts::revoke_token(std::int64_t id) {
    with_db([&](store::Database& db) {
        if (!db.revoke_token(id, format_utc(m_options.clock())))
            throw Error(ErrorKind::not_found, "unknown_token", "no unrevoked token with id " + std::to_string(id));
    });
}

std::optional<Principal> Accounts::principal_of(store::Database& db, std::int64_t user_id, Via via,
                                                std::string expires_at) {
    const auto user = db.find_user(user_id);
    if (!user || user->disabled) return std::nullopt;
    const auto role = parse_role(user->role);
    if (!role) return std::nullopt;
    Principal p;
    p.user_id = user->id;
    p.name = user->name;
    p.display_name = user->display_name;
    p.role = *role;
    p.scopes = user->scopes;
    p.via = via;
    p.expires_at = std::move(expires_at);
    return p;
}

std::optional<Principal> Accounts::authenticate_token(std::string_view secret) {
    if (secret.size() > 256) return std::nullopt;
    const std::string hash = digest(secret);
    return with_db([&](store::Database& db) -> std::optional<Principal> {
        const auto token = db.find_token(hash);
        if (!token || !constant_time_equal(token->hash, hash) || token->revoked_at) return std::nullopt;
        const SystemTime now = m_options.clock();
        const std::string now_text = format_utc(now);
        if (token->expires_at <= now_text) return std::nullopt;
        auto principal = principal_of(db, token->user_id, Via::token, token->expires_at);
        if (!principal) return std::nullopt;
        auto& touched = m_touched[token->id];
        if (now - touched >= touch_interval) {
            touched = now;
            try {
                db.touch_token(token->id, now_text);
            } catch (const Error& e) {
                // Only bookkeeping: a busy database must not refuse the request.
                spdlog::warn("token {}: last use not recorded: {}", token->id, e.what());
            }
        }
        return principal;
    });
}

std::optional<Principal> Accounts::authenticate_session(std::string_view secret) {
    if (secret.size() > 256) return std::nullopt;
    const std::string hash = digest(secret);
    return with_db([&](store::Database& db) -> std::optional<Principal> {
        const auto session = db.find_session(hash);
        if (!session || !constant_time_equal(session->hash, hash)) return std::nullopt;
        if (session->expires_at <= format_utc(m_options.clock())) return std::nullopt;
        return principal_of(db, session->user_id, Via::cookie, session->expires_at);
    });
}

void Accounts::refuse_if_blocked(const std::string& name, const std::string& address) {
    if (auto wait = m_limiter.blocked(name, address))
        throw Error(ErrorKind::too_many_requests, "too_many_attempts",
                    "too many failed sign-ins; try again in " + std::to_string(wait->count()) + " s")
            .with_retry_after(static_cast<int>(wait->count()));
}

SignedIn Accounts::sign_in(const std::string& name, const std::string& password, const std::string& address) {
    refuse_if_blocked(name, address);
    const auto user = with_db([&](store::Database& db) { return db.find_user(name); });
    // The password is checked outside the lock (it takes a tenth of a second on purpose), and an
    // unknown name costs as long as a wrong password.
    const bool ok = user && user->password_hash ? verify_password(password, *user->password_hash)
                                                : (verify_dummy_password(password), false);
    if (!ok || user->disabled) {
        m_limiter.failed(name, address);
        throw invalid_credentials();
    }
    m_limiter.succeeded(name);
    return with_db([&](store::Database& db) {
        const SystemTime now = m_options.clock();
        SignedIn done;
        done.secret = new_secret("");
        store::SessionRow row{digest(done.secret), user->id, format_utc(now),
                              format_utc(now + m_options.session_lifetime), address};
        store::Transaction tx(db, store::Bump::none);
        db.delete_sessions_expired_before(row.created_at);
        db.insert_session(row);
        tx.commit();
        auto principal = principal_of(db, user->id, Via::cookie, row.expires_at);
        if (!principal) throw invalid_credentials();
        done.principal = std::move(*principal);
        return done;
    });
}

void Accounts::sign_out(std::string_view secret) {
    const std::string hash = digest(secret);
    with_db([&](store::Database& db) { db.delete_session(hash); });
}

void Accounts::audit(store::AuditRow row) {
    row.at = format_utc(m_options.clock());
    m_audit->run([&](store::Database& db) { return db.insert_audit(row); });
}

void Accounts::audit(store::AuditRow row, std::function<void()> recorded) {
    row.at = format_utc(m_options.clock());
    auto line = std::make_shared<const store::AuditRow>(std::move(row));
    try {
        // The completion runs on the committing thread, among the completions of other requests'
        // writes: its lines name this request, not whichever one that thread answered last.
        m_audit->submit([line](store::Database& db) { db.insert_audit(*line); },
                    [line, recorded = std::move(recorded), id = log::current_request_id()](std::exception_ptr failure) {
                        const log::RequestScope scope(id);
                        if (failure) {
                            try {
                                std::rethrow_exception(failure);
                            } catch (const std::exception& e) {
                                spdlog::error("audit log: {} {} by '{}' not recorded: {}", line->method, line->target,
                                              line->user, e.what());
                            } catch (...) {
                                spdlog::error("audit log: {} {} by '{}' not recorded", line->method, line->target,
                                              line->user);
                            }
                        }
                        recorded();
                    });
    } catch (const std::exception& e) { // stopping: the line cannot be written any more
        spdlog::error("audit log: {} {} by '{}' not recorded: {}", line->method, line->target, line->user, e.what());
        recorded();
    }
}

std::vector<store::AuditRow> Accounts::list_audit(const store::AuditFilter& filter) {
    return with_db([&](store::Database& db) { return db.list_audit(filter); });
}

} // namespace wangge::auth

#pragma once
// Users, API tokens, browser sessions and the audit log over the store (docs/SECURITY.md). One
// Accounts serves a running server (authenticating requests, signing in and out, auditing) and
// the command line (`wangge user`, `wangge token`, `wangge audit`) alike.
#include "auth/login_limiter.hpp"
#include "auth/principal.hpp"
#include "core/time.hpp"
#include "store/database.hpp"
#include "store/group_commit.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace wangge::auth {

struct AccountsOptions {
    std::chrono::seconds session_lifetime{12 * 3600}; // a browser signs in again after this
    LoginLimiter::Options login_limits;
    // The wall clock (expiry, audit times) and the monotonic one (rate limits); injectable for
    // tests.
    std::function<SystemTime()> clock = std::chrono::system_clock::now;
    LoginLimiter::Clock steady_clock = std::chrono::steady_clock::now;
    // Where audit lines are committed: a server passes the GroupCommit of its other writes to the
    // same file (incident intake), so that one connection writes and one fsync serves both;
    // without it Accounts opens a GroupCommit of its own.
    std::shared_ptr<store::GroupCommit> audit_commits;
};

struct NewUser {
    std::string name;
    std::string display_name;
    Role role = Role::viewer;
    std::vector<std::string> scopes;
    std::optional<std::string> password; // none: the user signs in with API tokens only
};

struct CreatedToken {
    std::int64_t id = 0;
    std::string secret; // shown once; only its digest is stored
    std::string expires_at;
};

struct SignedIn {
    std::string secret; // the session cookie's value
    Principal principal;
};

class Accounts {
public:
    // `db`: a SpatiaLite file or a postgresql:// URL (store::Database::open).
    explicit Accounts(std::string db, AccountsOptions options = {});

    // --- administration (the command line) ---
    // Throws Error(unprocessable) for a malformed name, a short password, scopes that do not fit
    // the role or name no stored area; Error(conflict) for a taken name.
    store::UserRow add_user(const NewUser& user);
    std::vector<store::UserRow> list_users();
    // A new password ends the user's sessions.
    void set_password(const std::string& name, const std::string& password);
    // A disabled user's tokens and sessions stop working at once.
    void set_disabled(const std::string& name, bool disabled);
    CreatedToken create_token(const std::string& user, const std::string& label, int days);
    std::vector<store::TokenRow> list_tokens(const std::optional<std::string>& user);
    void revoke_token(std::int64_t id);

    // --- requests ---
    // The user behind a bearer token or a session cookie; nullopt when it is unknown, expired,
    // revoked, or its user is disabled.
    std::optional<Principal> authenticate_token(std::string_view secret);
    std::optional<Principal> authenticate_session(std::string_view secret);
    // Checks the password and opens a session. Throws Error(unauthorized, "invalid_credentials")
    // alike for an unknown user, a wrong password and a disabled user, and Error(too_many,
    // "too_many_attempts") past the limits of LoginLimiter.
    SignedIn sign_in(const std::string& name, const std::string& password, const std::string& address);
    // The first check of sign_in, cheap: throws Error(too_many, "too_many_attempts") when the name
    // or the address is past its limits, so that a refused attempt need not wait for a password
    // check (sign_in checks again).
    void refuse_if_blocked(const std::string& name, const std::string& address);
    void sign_out(std::string_view secret);

    // --- the audit log ---
    // Appends `row`, stamped with the current time; returns once it is durable. Concurrent lines
    // share a transaction (group commit), so auditing every write costs one fsync per batch, not
    // one per request.
    void audit(store::AuditRow row);
    // The same without waiting (for an answer made off the HTTP threads): `recorded` runs once
    // the line is durable, or once it has failed (logged as an error), on the audit log's
    // committing thread; it must be quick and must not throw.
    void audit(store::AuditRow row, std::function<void()> recorded);
    std::vector<store::AuditRow> list_audit(const store::AuditFilter& filter);

    std::chrono::seconds session_lifetime() const noexcept { return m_options.session_lifetime; }
    std::string now_utc() const { return format_utc(m_options.clock()); }

private:
    // Runs `f` on the one connection of this Accounts, opened on first use, under its lock.
    template <typename F>
    auto with_db(F&& f);
    std::optional<Principal> principal_of(store::Database& db, std::int64_t user_id, Via via, std::string expires_at);
    store::UserRow require_user(store::Database& db, const std::string& name);

    std::string m_path;
    AccountsOptions m_options;
    LoginLimiter m_limiter;
    std::mutex m_mutex;
    std::unique_ptr<store::Database> m_db;
    std::shared_ptr<store::GroupCommit> m_audit; // AccountsOptions::audit_commits, or one of its own
    // When each token's last use was last written: at most once a minute, so that a busy client
    // does not make every request a disk write.
    std::unordered_map<std::int64_t, SystemTime> m_touched;
};

// Throws Error(unprocessable, "weak_password") for a password under 8 or over 1024 bytes.
void check_password(std::string_view password);

} // namespace wangge::auth

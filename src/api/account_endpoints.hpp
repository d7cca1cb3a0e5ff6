#pragma once
// Signing in and out, and the audit log, over HTTP (docs/API.md, docs/SECURITY.md):
//   GET    /api/v1/session   who is signed in (and what anonymous clients may read)
//   POST   /api/v1/session   {"user": ..., "password": ...}: a session cookie (HttpOnly,
//                            SameSite=Strict, Secure behind https)
//   DELETE /api/v1/session   signs out
//   GET    /api/v1/audit?user=&code=&action=&since=&until=&limit=&offset=   admins only
// The access check has run before; this family only does the work.
#include "api/access.hpp"
#include "api/endpoints.hpp"
#include "auth/accounts.hpp"
#include "auth/password_pool.hpp"

#include <memory>

namespace wangge::api {

inline constexpr std::string_view session_cookie = "wangge_session";

class AccountEndpoints final : public Endpoints {
public:
    // With `passwords`, a sign-in is answered later, once a thread of that pool has checked the
    // password (its HTTP thread is free meanwhile); without it, on the thread that asks.
    AccountEndpoints(std::shared_ptr<auth::Accounts> accounts, AccessOptions access,
                     std::shared_ptr<auth::PasswordPool> passwords = nullptr);

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    Response session(const Request& req) const;
    Response sign_in(const Request& req) const;
    Response sign_out(const Request& req) const;
    Response audit(const Request& req) const;

    std::shared_ptr<auth::Accounts> m_accounts;
    AccessOptions m_access;
    std::shared_ptr<auth::PasswordPool> m_passwords;
};

// The JSON of a signed-in user: name, display_name, role, scopes.
std::string principal_json(const auth::Principal& p);

} // namespace wangge::api

#pragma once
// Wangge's HTTP API as a pure function Request -> Response over the current snapshot. The
// Service is where every request passes the same steps, in order (docs/SECURITY.md):
//   1. who is asking: a bearer token or a session cookie (auth::Accounts); on Open311 routes a
//      bearer token or the parameter api_key, never a cookie
//   2. the one access check (api::AccessPolicy), on the route parsed with the request
//   3. the endpoint families, asked in turn, over the snapshot taken once (readers never lock)
//   4. for a write (any method but GET/HEAD/OPTIONS), a line in the audit log, whatever the outcome
// and the boundary where any failure becomes the JSON envelope (error_response).
#include "api/access.hpp"
#include "api/endpoints.hpp"
#include "auth/accounts.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace wangge::api {

struct ServiceOptions {
    // Accounts to authenticate against and audit into; without them nobody can sign in, so every
    // write is refused (401) and only anonymous reads are answered.
    std::shared_ptr<auth::Accounts> accounts;
    AccessOptions access;
    // The areas of a case, looked up before the check of a route that names one (nullopt: no
    // such case, 404).
    std::function<std::optional<std::vector<std::string>>(std::int64_t)> incident_areas;
};

class Service {
public:
    Service(std::shared_ptr<grid::SnapshotHolder> snapshots, std::vector<std::shared_ptr<const Endpoints>> families,
            ServiceOptions options = {});

    // Never throws: every failure becomes a JSON error envelope.
    Response handle(Request req) const;

private:
    void authenticate(Request& req) const;
    // The user of an API token (Authorization: Bearer, or Open311's api_key); throws
    // Error(unauthorized, "invalid_token") when it names no live token of an enabled user.
    std::shared_ptr<const auth::Principal> token_principal(std::string_view token) const;
    void audit(const Request& req, const Response& response, const std::string& failure) const;

    std::shared_ptr<grid::SnapshotHolder> m_snapshots;
    std::vector<std::shared_ptr<const Endpoints>> m_families;
    std::shared_ptr<auth::Accounts> m_accounts;
    AccessPolicy m_policy;
    std::function<std::optional<std::vector<std::string>>(std::int64_t)> m_incident_areas;
};

} // namespace wangge::api

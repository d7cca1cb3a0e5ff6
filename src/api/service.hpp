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
#include "api/metrics.hpp"
#include "auth/accounts.hpp"

#include <chrono>
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
    // `metrics`: where every answered request is counted and timed (GET /metrics); none: not counted.
    Service(std::shared_ptr<grid::SnapshotHolder> snapshots, std::vector<std::shared_ptr<const Endpoints>> families,
            ServiceOptions options = {}, std::shared_ptr<Metrics> metrics = nullptr);

    // Never throws: every failure becomes a JSON error envelope.
    //
    // The response may be deferred (Response::deferred: a report waiting for its group commit, a
    // tile being rendered). Its completion then receives the final response after the same
    // steps as an immediate one: failures in Open311's shape on Open311 routes, and for a write
    // the audit line durable before the answer is handed on. The snapshot the family was given
    // is kept until then (the request is not: a family's deferred work copies what it needs of
    // it, and completes a failure as error_response()). The completion runs on whichever thread finished the work, so it must
    // be quick (the HTTP session only posts it to the connection). Accounts (ServiceOptions)
    // must outlive every deferred response.
    Response handle(Request req) const;

private:
    void authenticate(Request& req) const;
    // The user of an API token (Authorization: Bearer, or Open311's api_key); throws
    // Error(unauthorized, "invalid_token") when it names no live token of an enabled user.
    std::shared_ptr<const auth::Principal> token_principal(std::string_view token) const;
    // Audits on the calling thread (it waits for the line to be durable).
    void audit(const Request& req, const Response& response, const std::string& failure) const;
    // The deferred `pending`, wrapped so that its final response is finished as handle() finishes
    // an immediate one.
    Response answer_later(Request req, std::shared_ptr<const grid::Snapshot> snapshot, Response pending,
                          std::chrono::steady_clock::time_point arrived) const;

    std::shared_ptr<grid::SnapshotHolder> m_snapshots;
    std::vector<std::shared_ptr<const Endpoints>> m_families;
    std::shared_ptr<auth::Accounts> m_accounts;
    AccessPolicy m_policy;
    std::function<std::optional<std::vector<std::string>>(std::int64_t)> m_incident_areas;
    std::shared_ptr<Metrics> m_metrics;
};

} // namespace wangge::api

#pragma once
// The one access check (docs/SECURITY.md). The Service runs it on every request, after the
// request's route and principal are known and before any endpoint family runs; families never
// decide who may do what.
//
// In order, each failure a 4xx with a message that says what was needed:
//   Host    must be one this server answers to: an IP address, localhost, the host of
//           --public-url, or one of --allowed-host (a DNS-rebinding page names its own)   400
//   method  must be one the route answers                                                   405
//   writes  (POST, PUT, PATCH, DELETE): a body declared application/json (POST, PUT, PATCH),
//           or a form where the route accepts one (Route::accepts_form: Open311 only)      415
//           an Origin (or Referer) of this server; with a bearer token Origin may be absent 403
//   access  the route's class: open to all; readable anonymously when configured; else
//           signed in (401, said to anonymous clients before the Origin is looked at),
//           in scope and of a role that may (403)
#include "api/message.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace wangge::api {

// The one rule of who may see cases (docs/SECURITY.md): an admin, or a user whose scope covers
// one of `areas` — a case's place or the area answering for it (api::incident_areas), or the
// area whose cases, supervision list or workers are asked for. The access check decides by it
// before the families run; the incidents layer of the map filters each case by it.
bool may_see_cases(const auth::Principal& p, const std::vector<std::string>& areas) noexcept;

struct AccessOptions {
    // What anonymous clients may read. Default: the map layers, tiles, OGC API and locate.
    std::vector<Access> anonymous_read{Access::map, Access::tiles, Access::ogc, Access::locate};
    // Host names clients may use besides IP addresses, localhost and the --public-url's host.
    std::vector<std::string> allowed_hosts;
};

// "map,tiles,ogc,locate,validate,history" in any order and subset, or "none". Throws
// Error(bad_request, "invalid_option") for anything else.
std::vector<Access> parse_anonymous_read(std::string_view text);

class AccessPolicy {
public:
    explicit AccessPolicy(AccessOptions options);

    // Returns when `req` (with its route and principal) may go ahead; throws the 4xx otherwise.
    void check(const Request& req) const;
    bool anonymous_may_read(Access access) const noexcept;
    const AccessOptions& options() const noexcept { return m_options; }

private:
    void check_host(const Request& req) const;
    void check_body_type(const Request& req) const;
    void check_origin(const Request& req) const;
    void check_access(const Request& req) const;

    AccessOptions m_options;
};

} // namespace wangge::api

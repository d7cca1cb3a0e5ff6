#include "api/access.hpp"

#include "api/header_values.hpp"
#include "core/codes.hpp"

#include <algorithm>
#include <array>

namespace wangge::api {

namespace {

constexpr std::array<Access, 6> readable{Access::map,    Access::tiles,    Access::ogc,
                                         Access::locate, Access::validate, Access::history};

std::string_view role_words(auth::Role role) {
    switch (role) {
    case auth::Role::admin: return "admin";
    case auth::Role::street: return "street staff";
    case auth::Role::community: return "community staff";
    case auth::Role::worker: return "grid worker";
    case auth::Role::viewer: return "viewer";
    }
    return "viewer";
}

std::string who(const auth::Principal& p) {
    std::string out = "user '" + p.name + "' (" + std::string(role_words(p.role));
    for (std::size_t i = 0; i < p.scopes.size(); ++i) out += (i == 0 ? " of " : ", ") + p.scopes[i];
    return out + ")";
}

Error sign_in_needed(const Route& route, std::string_view what) {
    // Open311 clients present a key, not a session.
    const std::string how = route.takes_api_key
                                ? "the parameter api_key=<token> or the header Authorization: Bearer <token>"
                                : "POST /api/v1/session in a browser, or the header Authorization: Bearer <token>";
    return Error(ErrorKind::unauthorized, "unauthorized", "sign in to " + std::string(what) + " (" + how + ")");
}

// host[:port] of a URL.
std::string_view authority_of(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return {};
    url.remove_prefix(scheme_end + 3);
    return url.substr(0, url.find('/'));
}

// The origin part (scheme://host[:port]) of a URL, lower-case; "" when it has none.
std::string origin_of(std::string_view url) {
    const auto scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return {};
    const auto path = url.find('/', scheme_end + 3);
    return to_lower(url.substr(0, path));
}

bool is_ipv4(std::string_view host) {
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

// The host name of a Host header value without its port; "" when it is malformed.
std::string host_name(std::string_view value) {
    if (value.starts_with('[')) {
        const auto close = value.find(']');
        return close == std::string_view::npos ? std::string() : std::string(value.substr(0, close + 1));
    }
    return to_lower(value.substr(0, value.rfind(':')));
}

} // namespace

bool may_see_cases(const auth::Principal& p, const std::vector<std::string>& areas) noexcept {
    if (p.role == auth::Role::admin) return true;
    return std::any_of(areas.begin(), areas.end(), [&](const std::string& c) { return p.covers(c); });
}

std::vector<Access> parse_anonymous_read(std::string_view text) {
    std::vector<Access> out;
    if (trim(text) == "none") return out;
    while (true) {
        const auto comma = text.find(',');
        const std::string_view name = trim(text.substr(0, comma));
        const auto it = std::find_if(readable.begin(), readable.end(), [&](Access a) { return to_string(a) == name; });
        if (it == readable.end())
            throw Error(ErrorKind::bad_request, "invalid_option",
                        "--anonymous-read takes none or a list of map, tiles, ogc, locate, validate, history; not '" +
                            std::string(name) + "'");
        if (std::find(out.begin(), out.end(), *it) == out.end()) out.push_back(*it);
        if (comma == std::string_view::npos) return out;
        text.remove_prefix(comma + 1);
    }
}

AccessPolicy::AccessPolicy(AccessOptions options) : m_options(std::move(options)) {
    for (auto& host : m_options.allowed_hosts) host = to_lower(host);
}

bool AccessPolicy::anonymous_may_read(Access access) const noexcept {
    return std::find(m_options.anonymous_read.begin(), m_options.anonymous_read.end(), access) !=
           m_options.anonymous_read.end();
}

void AccessPolicy::check(const Request& req) const {
    check_host(req);
    if (!req.route.allows(req.method))
        throw Error(ErrorKind::method_not_allowed, "method_not_allowed",
                    req.method + " is not allowed on " + req.path + "; use " + req.route.allow);
    if (req.route.unsafe) check_body_type(req);
    // Anonymous requests are told to sign in before anything else is said about them.
    if (!req.principal) check_access(req);
    if (req.route.unsafe) check_origin(req);
    if (req.principal) check_access(req);
}

void AccessPolicy::check_host(const Request& req) const {
    if (std::count_if(req.headers.begin(), req.headers.end(), [](const auto& h) { return h.first == "host"; }) > 1)
        throw Error(ErrorKind::bad_request, "unknown_host", "a request names one Host, not several");
    const auto value = req.header("host");
    if (!value) return; // HTTP/1.0 without Host: nothing a browser page could have chosen
    const std::string host = host_name(trim(*value));
    auto refuse = [&] {
        throw Error(ErrorKind::bad_request, "unknown_host",
                    "this server does not answer to the host '" + std::string(*value) +
                        "'; use its address, localhost, or a name given with serve --allowed-host");
    };
    if (host.empty()) refuse();
    if (host.starts_with('[') || is_ipv4(host) || host == "localhost") return;
    if (std::find(m_options.allowed_hosts.begin(), m_options.allowed_hosts.end(), host) != m_options.allowed_hosts.end())
        return;
    if (!req.public_origin.empty()) {
        if (host == host_name(authority_of(req.public_origin))) return;
    }
    refuse();
}

void AccessPolicy::check_body_type(const Request& req) const {
    if (req.method == "DELETE") return;
    const auto type = req.header("content-type");
    if (type && is_json_media_type(*type)) return;
    if (req.route.accepts_photos && type && is_multipart_media_type(*type)) return;
    if (req.route.accepts_form) {
        if (type && is_form_media_type(*type)) return;
        throw Error(ErrorKind::unsupported_media_type, "unsupported_media_type",
                    req.method + " " + req.path +
                        " takes a form or JSON body: send Content-Type: application/x-www-form-urlencoded");
    }
    throw Error(ErrorKind::unsupported_media_type, "unsupported_media_type",
                req.method + " " + req.path + " takes a JSON body: send Content-Type: application/json" +
                    (req.route.accepts_photos ? std::string(", or multipart/form-data with photos") : std::string()));
}

void AccessPolicy::check_origin(const Request& req) const {
    // A page on another site can make a browser send a request with its cookies, but not make it
    // lie about the page's origin. A bearer token cannot be sent that way, so API clients with a
    // token need not send Origin; if they do, it must still be ours.
    std::string origin;
    if (const auto o = req.header("origin")) origin = to_lower(trim(*o));
    else if (const auto referer = req.header("referer")) origin = origin_of(trim(*referer));
    if (origin.empty()) {
        if (req.principal && req.principal->via == auth::Via::token) return;
        throw Error(ErrorKind::forbidden, "origin_required",
                    "a browser write must come from this server's own pages: the request has no Origin or Referer");
    }
    std::string own = to_lower(origin_of(request_origin(req)));
    if (own.empty()) own = to_lower(request_origin(req));
    if (origin != own)
        throw Error(ErrorKind::forbidden, "cross_origin",
                    "writes are accepted only from this server's own pages (" + (own.empty() ? "unknown" : own) +
                        "), not from " + origin);
}

void AccessPolicy::check_access(const Request& req) const {
    const Route& route = req.route;
    const auth::Principal* p = req.principal.get();
    switch (route.access) {
    case Access::open: return;
    case Access::map:
    case Access::tiles:
    case Access::ogc:
    case Access::locate:
    case Access::validate:
        // The shared map: anyone signed in reads all of it; anonymous clients what is configured.
        if (p || anonymous_may_read(route.access)) return;
        throw sign_in_needed(route, "read " + std::string(to_string(route.access)) + " (this server's anonymous reads are " +
                             (m_options.anonymous_read.empty() ? std::string("none") : [&] {
                                 std::string names;
                                 for (Access a : m_options.anonymous_read)
                                     names += (names.empty() ? "" : ", ") + std::string(to_string(a));
                                 return names;
                             }()) +
                             ")");
    case Access::history:
        if (!p && anonymous_may_read(Access::history)) return;
        if (!p) throw sign_in_needed(route, "read the grid history of " + route.code);
        if (p->touches(route.code)) return;
        throw Error(ErrorKind::forbidden, "forbidden",
                    who(*p) + " may not read the history of " + route.code + ": it is outside that user's scope");
    case Access::change_grids: {
        if (!p) throw sign_in_needed(route, "change the grids of " + route.code);
        const bool role_may = p->role == auth::Role::admin || p->role == auth::Role::street ||
                              p->role == auth::Role::community;
        if (role_may && p->covers(route.code)) return;
        std::string needed = "admin";
        if (level_of_code(route.code) == Level::community)
            needed += ", street staff of " + route.code.substr(0, 9) + " or community staff of " + route.code;
        throw Error(ErrorKind::forbidden, "forbidden",
                    who(*p) + " may not change the grids of " + route.code + (role_may ? " (outside its scope)" : " (the role reads only)") +
                        ": that needs " + needed);
    }
    case Access::report_incident:
        if (!p) throw sign_in_needed(route, "file a report");
        return;
    case Access::incidents:
    case Access::handle_incident: {
        const bool one = route.incident_id > 0;
        const std::string what = route.access == Access::handle_incident
                                     ? "handle case " + std::to_string(route.incident_id)
                                     : one ? "read case " + std::to_string(route.incident_id) : "list cases";
        if (!p) throw sign_in_needed(route, what);
        // A scope at or above the case's place or the area answering for it (or the area listed).
        if (may_see_cases(*p, route.codes)) return;
        if (!one)
            throw Error(ErrorKind::forbidden, "forbidden",
                        who(*p) + " lists cases of its own areas: name one with " +
                            (route.takes_api_key ? "jurisdiction_id=" : "code=") +
                            " (a street, community or grid code of its scope)");
        throw Error(ErrorKind::forbidden, "forbidden", who(*p) + " may not " + what + ": it lies outside that user's scope");
    }
    case Access::incident_tiles:
        // Everyone signed in gets the layer; it holds only the cases that user may see.
        if (!p) throw sign_in_needed(route, "see the incidents layer");
        return;
    case Access::grid_workers:
        if (!p) throw sign_in_needed(route, "see the workers of grid " + route.code);
        if (may_see_cases(*p, route.codes)) return;
        throw Error(ErrorKind::forbidden, "forbidden",
                    who(*p) + " may not see the workers of grid " + route.code +
                        ": it lies outside that user's scope (as the grid's cases do)");
    case Access::audit:
        if (!p) throw sign_in_needed(route, "read the audit log");
        if (p->role == auth::Role::admin) return;
        throw Error(ErrorKind::forbidden, "forbidden", who(*p) + " may not read the audit log: that needs admin");    case Access::metrics:
        if (!p) throw sign_in_needed(route, "read the server's metrics");
        if (p->role == auth::Role::admin) return;
        throw Error(ErrorKind::forbidden, "forbidden", who(*p) + " may not read the server's metrics: that needs admin");
    }
}

} // namespace wangge::api

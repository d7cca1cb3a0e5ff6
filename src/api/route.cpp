#include "api/route.hpp"

#include "core/codes.hpp"

#include <charconv>

namespace wangge::api {

std::string_view to_string(Access access) noexcept {
    switch (access) {
    case Access::open: return "open";
    case Access::map: return "map";
    case Access::tiles: return "tiles";
    case Access::ogc: return "ogc";
    case Access::locate: return "locate";
    case Access::validate: return "validate";
    case Access::history: return "history";
    case Access::change_grids: return "change_grids";
    case Access::audit: return "audit";
    case Access::report_incident: return "report_incident";
    case Access::incidents: return "incidents";
    case Access::handle_incident: return "handle_incident";
    case Access::incident_tiles: return "incident_tiles";
    case Access::grid_workers: return "grid_workers";
    case Access::metrics: return "metrics";
    }
    return "open";
}

bool Route::allows(std::string_view method) const {
    if (method == "HEAD") method = "GET";
    std::string_view rest = allow;
    while (!rest.empty()) {
        const auto comma = rest.find(',');
        std::string_view one = rest.substr(0, comma);
        while (one.starts_with(' ')) one.remove_prefix(1);
        if (one == method) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return false;
}

namespace {

constexpr std::string_view api_prefix = "/api/v1/";
constexpr std::string_view open311_prefix = "/open311/v2/";

bool is_area_collection(std::string_view name) {
    return name == "streets" || name == "communities" || name == "grids";
}

// /api/v1/incidents, /api/v1/incidents/{id}, /api/v1/incidents/{id}/transitions
Route route_of_incidents(std::string_view method, std::string_view rest) {
    Route r;
    r.access = Access::incidents;
    if (rest.empty()) {
        r.allow = "GET, HEAD, POST";
        if (method == "POST") {
            r.access = Access::report_incident;
            r.action = "incident.report";
            r.accepts_photos = true;
        }
        return r;
    }
    const auto slash = rest.find('/');
    const std::string_view id = rest.substr(0, slash);
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    if (ec != std::errc() || end != id.data() + id.size() || value <= 0) {
        r.access = Access::open; // not a case: the families answer 404
        return r;
    }
    r.incident_id = value;
    if (slash == std::string_view::npos) return r;
    const std::string_view tail = rest.substr(slash + 1);
    if (tail == "transitions") {
        r.access = Access::handle_incident;
        r.allow = "POST";
        r.action = "incident.transition";
        r.accepts_photos = true;
    } else if (tail == "status") {
        // A resident's read by the receipt of their report: open, the receipt is checked there.
        r.access = Access::open;
        r.incident_id = 0;
    } else if (tail.starts_with("photos/") && tail.find('/', 7) == std::string_view::npos) {
        // A photo of the case: seen by whoever may see the case.
    } else {
        r.access = Access::open;
        r.incident_id = 0;
    }
    return r;
}

// /open311/v2/{services,requests,tokens,servicerequestupdates}[/{x}].{json,xml} (docs/OPEN311.md)
Route route_of_open311(std::string_view method, std::string_view rest) {
    Route r;
    r.takes_api_key = true;
    r.errors = rest.ends_with(".xml") ? ErrorShape::open311_xml : ErrorShape::open311_json;
    const auto dot = rest.rfind('.');
    if (dot != std::string_view::npos) rest = rest.substr(0, dot);
    const auto slash = rest.find('/');
    const std::string_view first = rest.substr(0, slash);
    const std::string_view id = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (first == "services") return r; // the catalogue: open to all
    if (first == "servicerequestupdates" && slash == std::string_view::npos) {
        r.access = Access::incidents;
        return r;
    }
    if (first != "requests" && first != "tokens") return r; // unknown: answered 404 by the family
    if (slash == std::string_view::npos) {
        if (first == "tokens") return r;
        r.access = Access::incidents;
        r.allow = "GET, HEAD, POST";
        if (method == "POST") {
            r.access = Access::report_incident;
            r.action = "incident.report";
            r.accepts_form = true;
            r.accepts_photos = true;
        }
        return r;
    }
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
    if (ec != std::errc() || end != id.data() + id.size() || value <= 0) return r;
    r.access = Access::incidents;
    r.incident_id = value;
    return r;
}

Route route_of_api(std::string_view method, std::string_view rest) {
    if (rest == "incidents") return route_of_incidents(method, {});
    if (rest == "stats" || rest == "supervision") {
        Route r;
        r.access = Access::incidents; // of an area, like its cases
        return r;
    }
    if (rest.starts_with("incidents/")) return route_of_incidents(method, rest.substr(10));
    Route r;
    const auto slash = rest.find('/');
    const std::string_view first = rest.substr(0, slash);
    const std::string_view tail = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (slash == std::string_view::npos) {
        if (rest == "session") {
            r.allow = "GET, HEAD, POST, DELETE";
            r.action = method == "POST" ? "session.sign_in" : "session.sign_out";
        } else if (rest == "audit") {
            r.access = Access::audit;
        } else if (rest == "locate") {
            r.access = Access::locate;
        } else if (rest == "validate") {
            r.access = Access::validate;
        } else if (rest == "buildings" || is_area_collection(rest)) {
            r.access = Access::map;
        }
        return r;
    }
    if (!is_area_collection(first)) return r; // unknown: answered 404 by the families
    const auto code_end = tail.find('/');
    r.code = std::string(tail.substr(0, code_end));
    if (code_end == std::string_view::npos) {
        r.access = Access::map;
        return r;
    }
    const std::string_view action = tail.substr(code_end + 1);
    if (first == "grids" && action == "workers") {
        r.access = Access::grid_workers;
        return r;
    }
    if (first != "communities") return r;
    if (action == "rebalance") {
        r.access = Access::change_grids;
        r.allow = "POST";
        r.action = "rebalance";
    } else if (action == "rebalance/undo") {
        r.access = Access::change_grids;
        r.allow = "POST";
        r.action = "rebalance.undo";
    } else if (action == "history") {
        r.access = Access::history;
    }
    return r;
}

} // namespace

Route parse_route(std::string_view method, std::string_view path, std::string_view parent_param,
                  std::string_view code_param) {
    Route r;
    if (path.starts_with(api_prefix)) r = route_of_api(method, path.substr(api_prefix.size()));
    else if (path.starts_with(open311_prefix)) r = route_of_open311(method, path.substr(open311_prefix.size()));
    else if (path == "/ogc" || path.starts_with("/ogc/")) r.access = Access::ogc;
    else if (path.starts_with("/tiles/incidents/")) r.access = Access::incident_tiles; // cases, not the shared map
    else if (path.starts_with("/tiles/")) r.access = Access::tiles;
    else if (path == "/metrics") r.access = Access::metrics;
    r.unsafe = method != "GET" && method != "HEAD" && method != "OPTIONS";
    if (!r.code.empty()) r.codes.push_back(r.code);
    if (!parent_param.empty() && level_of_code(parent_param)) r.codes.emplace_back(parent_param);
    if (r.access == Access::incidents && !code_param.empty() && level_of_code(code_param)) r.codes.emplace_back(code_param);
    if (r.unsafe && r.action.empty()) r.action = std::string(method) + " " + std::string(path.substr(0, 200));
    return r;
}

} // namespace wangge::api

#include "api/route.hpp"

#include "core/codes.hpp"

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

bool is_area_collection(std::string_view name) {
    return name == "streets" || name == "communities" || name == "grids";
}

Route route_of_api(std::string_view method, std::string_view rest) {
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

Route parse_route(std::string_view method, std::string_view path, std::string_view parent_param) {
    Route r;
    if (path.starts_with(api_prefix)) r = route_of_api(method, path.substr(api_prefix.size()));
    else if (path == "/ogc" || path.starts_with("/ogc/")) r.access = Access::ogc;
    else if (path.starts_with("/tiles/")) r.access = Access::tiles;
    r.unsafe = method != "GET" && method != "HEAD" && method != "OPTIONS";
    if (!r.code.empty()) r.codes.push_back(r.code);
    if (!parent_param.empty() && level_of_code(parent_param)) r.codes.emplace_back(parent_param);
    if (r.unsafe && r.action.empty()) r.action = std::string(method) + " " + std::string(path.substr(0, 200));
    return r;
}

} // namespace wangge::api

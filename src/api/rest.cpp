#include "api/rest.hpp"

#include "api/collection.hpp"
#include "api/features.hpp"
#include "api/params.hpp"
#include "geo/chinese_crs.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace wangge::api {

namespace {

nlohmann::json area_ref(const grid::Area* a) {
    if (!a) return nullptr;
    return {{"code", a->code}, {"name", a->name}};
}

std::string_view collection_name(Level level) {
    switch (level) {
    case Level::street: return "streets";
    case Level::community: return "communities";
    case Level::grid: return "grids";
    }
    return "grids";
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// A parent filter is a code of a higher level; codes are prefixes of their descendants' codes.
std::optional<std::string> parent_filter(const Request& req, const grid::Snapshot& snap) {
    auto v = req.param("parent");
    if (!v) return std::nullopt;
    std::string code(*v);
    auto level = level_of_code(code);
    if (!level)
        throw Error(ErrorKind::bad_request, "invalid_code",
                    "parent '" + code + "' is not a 9-digit street, 12-digit community or 15-digit grid code");
    if (!snap.find(*level, code))
        throw Error(ErrorKind::not_found, "unknown_code", std::string(to_string(*level)) + " " + code + " not found");
    return code;
}

} // namespace

std::optional<Response> RestEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    const grid::Snapshot* snap = &snapshot;
    const std::string& path = req.path;
    if (path == "/healthz") {
        require_read(req);
        return healthz(*snap);
    }
    if (path == "/readyz") {
        require_read(req);
        return readyz(*snap);
    }
    constexpr std::string_view prefix = "/api/v1/";
    if (!starts_with(path, prefix)) return std::nullopt;
    std::string_view rest = std::string_view(path).substr(prefix.size());
    auto slash = rest.find('/');
    std::string_view family = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
        if (rest == "locate") return require_read(req), locate(req, *snap);
        if (rest == "validate") return require_read(req), validate(*snap);
        if (rest == "buildings") return require_read(req), list_buildings(req, *snap);
    }
    for (Level level : {Level::street, Level::community, Level::grid}) {
        // Plural collection names only: /api/v1/grids, /api/v1/grids/{code}.
        if (family != collection_name(level)) continue;
        require_read(req);
        if (slash == std::string_view::npos) return list_areas(req, *snap, level);
        return one_area(*snap, level, std::string(rest.substr(slash + 1)));
    }
    return std::nullopt;
}

Response RestEndpoints::healthz(const grid::Snapshot& snap) const {
    nlohmann::json j{{"status", "ok"},
                     {"version", snap.version()},
                     {"streets", snap.streets().size()},
                     {"communities", snap.communities().size()},
                     {"grids", snap.grids().size()},
                     {"buildings", snap.buildings().size()}};
    return json_response(j.dump());
}

Response RestEndpoints::readyz(const grid::Snapshot& snap) const {
    if (m_readiness)
        if (const auto why = m_readiness()) {
            Response r = error_response(503, "not_ready", *why);
            r.set_header("Retry-After", "1");
            return r;
        }
    return json_response(nlohmann::json{{"status", "ready"}, {"version", snap.version()}}.dump());
}

Response RestEndpoints::locate(const Request& req, const grid::Snapshot& snap) const {
    LonLat input{required_double(req, "lon"), required_double(req, "lat")};
    geo::InputCrs crs = geo::InputCrs::wgs84;
    if (auto c = req.param("crs")) {
        auto parsed = geo::parse_input_crs(*c);
        if (!parsed)
            throw Error(ErrorKind::bad_request, "invalid_parameter",
                        "crs must be wgs84, gcj02 or bd09, got '" + std::string(*c) + "'");
        crs = *parsed;
    }
    require_wgs84_range(input);
    LonLat p = geo::to_wgs84(input, crs);
    grid::LocateResult r = snap.locate(p);
    nlohmann::json j{{"status", grid::to_string(r.status)},
                     {"version", snap.version()},
                     {"input", {{"lon", input.lon}, {"lat", input.lat}, {"crs", geo::to_string(crs)}}},
                     {"point", {{"lon", p.lon}, {"lat", p.lat}}},
                     {"street", area_ref(r.street)},
                     {"community", area_ref(r.community)},
                     {"grid", area_ref(r.grid)}};
    if (r.grid) j["grid"]["kind"] = store::to_string(r.grid->kind);
    if (r.nearest_grid)
        j["nearest_grid"] = {{"code", r.nearest_grid->code},
                             {"name", r.nearest_grid->name},
                             {"distance_m", std::round(r.nearest_distance_m * 10) / 10}};
    return json_response(j.dump());
}

Response RestEndpoints::list_areas(const Request& req, const grid::Snapshot& snap, Level level) const {
    Page page = page_of(req);
    auto bbox = optional_bbox(req);
    auto parent = parent_filter(req, snap);
    // q= searches: a code prefix or a part of the name (the web map's search box).
    std::optional<std::string_view> q = req.param("q");
    if (q && q->empty()) q.reset();
    auto matched = matching_areas(snap, level, bbox, [&](const grid::Area& a) {
        if (parent && !starts_with(a.code, *parent)) return false;
        return !q || starts_with(a.code, *q) || a.name.find(*q) != std::string::npos;
    });
    std::string features;
    std::size_t returned = append_area_page(features, snap, level, matched, page);
    return geojson_response(feature_collection(req, features, matched.size(), returned, page));
}

Response RestEndpoints::list_buildings(const Request& req, const grid::Snapshot& snap) const {
    Page page = page_of(req);
    auto bbox = optional_bbox(req);
    auto parent = parent_filter(req, snap);
    std::vector<std::uint32_t> matched;
    if (!bbox && parent && parent->size() == code_length(Level::grid)) {
        matched = snap.buildings_of_grid(*parent); // the grid's own list: no scan of every building
    } else {
        matched = matching_buildings(snap, bbox, [&](const grid::Building& b) {
            return !parent || (b.row.grid_code && starts_with(*b.row.grid_code, *parent));
        });
    }
    std::string features;
    std::size_t returned = append_building_page(features, snap, matched, page);
    return geojson_response(feature_collection(req, features, matched.size(), returned, page));
}

Response RestEndpoints::one_area(const grid::Snapshot& snap, Level level, const std::string& code) const {
    require_code(level, code);
    const grid::Area* area = snap.find(level, code);
    if (!area)
        throw Error(ErrorKind::not_found, "unknown_code", std::string(to_string(level)) + " " + code + " not found");
    nlohmann::json p = area_properties(snap, level, *area);
    nlohmann::json parents = nlohmann::json::array();
    if (level == Level::grid) {
        const auto* c = snap.find_community(area->parent_code);
        parents.push_back({{"level", "community"}, {"code", area->parent_code}, {"name", c ? c->name : ""}});
        if (c) {
            const auto* s = snap.find_street(c->parent_code);
            parents.push_back({{"level", "street"}, {"code", c->parent_code}, {"name", s ? s->name : ""}});
        }
    } else if (level == Level::community) {
        const auto* s = snap.find_street(area->parent_code);
        parents.push_back({{"level", "street"}, {"code", area->parent_code}, {"name", s ? s->name : ""}});
    }
    p["parents"] = parents;
    nlohmann::json children = nlohmann::json::array();
    if (level != Level::grid) {
        Level child = level == Level::street ? Level::community : Level::grid;
        for (const grid::Area* a : snap.areas(child))
            if (a->parent_code == code)
                children.push_back({{"level", to_string(child)}, {"code", a->code}, {"name", a->name},
                                    {"households", a->stats.households}});
    }
    p["children"] = children;
    std::string out;
    append_feature(out, area->code, p, area->geom);
    return geojson_response(std::move(out));
}

nlohmann::json to_json(const grid::ValidationReport& report) {
    nlohmann::json findings = nlohmann::json::array();
    for (const auto& f : report.findings) {
        nlohmann::json j{{"kind", grid::to_string(f.kind)},
                         {"level", to_string(f.level)},
                         {"codes", f.codes},
                         {"parent", f.parent},
                         {"area_m2", std::round(f.area_m2 * 10) / 10},
                         {"message", f.message}};
        if (f.location) j["location"] = {{"lon", f.location->lon}, {"lat", f.location->lat}};
        findings.push_back(std::move(j));
    }
    nlohmann::json counts;
    for (auto k : {grid::FindingKind::gap, grid::FindingKind::overlap, grid::FindingKind::outside_parent,
                   grid::FindingKind::no_children, grid::FindingKind::missing_parent})
        counts[std::string(grid::to_string(k))] = report.count(k);
    return {{"ok", report.ok()},
            {"version", report.version},
            {"checked", {{"streets", report.streets}, {"communities", report.communities}, {"grids", report.grids}}},
            {"counts", counts},
            {"findings", findings}};
}

Response RestEndpoints::validate(const grid::Snapshot& snap) const {
    std::promise<std::shared_ptr<const std::string>> promise;
    std::shared_future<std::shared_ptr<const std::string>> report;
    bool compute = false;
    {
        std::lock_guard lock(m_validation_mutex);
        if (!m_validation_json.valid() || m_validation_version != snap.version()) {
            m_validation_json = promise.get_future().share();
            m_validation_version = snap.version();
            compute = true;
        }
        report = m_validation_json;
    }
    if (compute) {
        try {
            promise.set_value(std::make_shared<const std::string>(to_json(grid::validate(snap)).dump()));
        } catch (...) {
            promise.set_exception(std::current_exception());
            std::lock_guard lock(m_validation_mutex);
            if (m_validation_version == snap.version()) m_validation_json = {}; // the next request tries again
        }
    }
    return json_response(*report.get());
}

} // namespace wangge::api

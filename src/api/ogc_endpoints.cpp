#include "api/ogc_endpoints.hpp"

#include "api/header_values.hpp"

#include "api/collection.hpp"
#include "api/features.hpp"
#include "api/params.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace wangge::api {

namespace {

constexpr const char* crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

struct CollectionInfo {
    std::string_view id;
    std::optional<Level> level; // nullopt: buildings
    std::string_view title;
    std::string_view description;
};

constexpr std::array<CollectionInfo, 4> collections{{
    {"streets", Level::street, "街道 Street offices",
     "街道办事处辖区 (9 位代码), 含户数、楼栋数和社区数. Areas of the street offices (9-digit codes) "
     "with their households, buildings and communities."},
    {"communities", Level::community, "社区 Communities",
     "社区 (12 位代码), 含户数、楼栋数和网格数. Communities (12-digit codes) with their street office, "
     "households, buildings and grids."},
    {"grids", Level::grid, "责任网格 Grids",
     "责任网格 (15 位代码), 居民区网格 250–500 户或单位网格. Responsibility grids (15-digit codes), "
     "residential (250-500 households) or unit grids, with households and load."},
    {"buildings", std::nullopt, "楼栋 Buildings",
     "楼栋及其户数和所属网格. Buildings with their households, floors, use, address and the grid "
     "they belong to."},
}};

const CollectionInfo* find_collection(std::string_view id) {
    for (const auto& c : collections)
        if (c.id == id) return &c;
    return nullptr;
}

// ---- content negotiation ------------------------------------------------------------------

// What a resource can be answered as: media types in order of preference and the `f` values
// that select them.
struct Format {
    std::string_view f;
    std::string_view type;
};
constexpr std::array<Format, 1> metadata_formats{{{"json", json_type}}};
// GeoJSON is JSON: f=json (or an Accept of application/json alone) gets the same body labelled
// application/json, which browsers display instead of downloading.
constexpr std::array<Format, 2> feature_formats{{{"geojson", geojson_type}, {"json", json_type}}};
// The OpenAPI document is JSON too, for clients that ask for nothing more specific.
constexpr std::array<Format, 2> openapi_formats{{{"json", detail::openapi_type}, {"json", json_type}}};

// The quality an Accept header gives `type`: that of its most specific matching range
// (RFC 9110, 12.5.1), or -1 when no range matches.
double accept_quality(std::string_view accept, std::string_view type) {
    const std::string wanted = media_type_of(type);
    const std::string wanted_major = wanted.substr(0, wanted.find('/'));
    int best_specificity = 0;
    double quality = -1;
    for (const QualityItem& range : parse_quality_list(accept)) {
        const std::string name = to_lower(range.value);
        const int specificity = name == wanted ? 3 : name == wanted_major + "/*" ? 2 : name == "*/*" ? 1 : 0;
        if (specificity <= best_specificity) continue;
        best_specificity = specificity;
        quality = range.q;
    }
    return quality;
}

std::string allowed_f(std::span<const Format> formats) {
    std::string out;
    for (const auto& fmt : formats) out += (out.empty() ? "f=" : " or f=") + std::string(fmt.f);
    return out;
}

// Content negotiation failed. 406 has no ErrorKind (nothing below api negotiates content), so
// OgcEndpoints::handle answers this one itself, with the same JSON envelope.
class NotAcceptable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The media type to answer with: `f` decides when given (an unknown one is a 400), otherwise the
// Accept header (nothing acceptable: NotAcceptable), otherwise the first format.
std::string negotiate(const Request& req, std::span<const Format> formats) {
    if (auto f = req.param("f")) {
        for (const auto& fmt : formats)
            if (fmt.f == *f) return std::string(fmt.type);
        throw Error(ErrorKind::bad_request, "invalid_parameter",
                    "f=" + std::string(*f) + " is not offered for " + req.path + ": Wangge's OGC API answers in " +
                        "JSON only (no HTML); use " + allowed_f(formats));
    }
    auto accept = req.header("accept");
    if (!accept || trim(*accept).empty()) return std::string(formats.front().type);
    const Format* best = nullptr;
    double best_q = 0;
    for (const auto& fmt : formats) {
        double q = accept_quality(*accept, fmt.type);
        if (q > best_q) {
            best = &fmt;
            best_q = q;
        }
    }
    if (best) return std::string(best->type);
    std::string offered;
    for (const auto& fmt : formats) offered += (offered.empty() ? "" : ", ") + std::string(fmt.type);
    throw NotAcceptable("none of the media types in Accept: " + std::string(*accept) + " is offered for " + req.path +
                        "; offered: " + offered);
}

Response respond(std::string body, std::string type) {
    Response r = json_response(std::move(body));
    r.content_type = std::move(type);
    r.set_header("Vary", "Accept");
    return r;
}

// The standard recommends a 400 for query parameters the API does not define
// (/rec/core/query-param-unknown): a misspelt filter must not silently return everything.
void require_known_params(const Request& req, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : req.query) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string list;
        for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        throw Error(ErrorKind::bad_request, "unknown_parameter",
                    "query parameter '" + key + "' is not supported on " + req.path + "; supported: " + list);
    }
}

// ---- parameters of items -------------------------------------------------------------------

// bbox has 4 numbers, or 6 with heights (/req/core/fc-bbox-definition); the hierarchy is flat,
// so heights are dropped and the rest is checked by the one bbox parser.
std::optional<BBox> items_bbox(const Request& req) {
    auto v = req.param("bbox");
    if (!v) return std::nullopt;
    std::vector<std::string_view> parts;
    std::string_view rest = *v;
    for (auto comma = rest.find(','); comma != std::string_view::npos; comma = rest.find(',')) {
        parts.push_back(rest.substr(0, comma));
        rest = rest.substr(comma + 1);
    }
    parts.push_back(rest);
    std::string text(*v);
    if (parts.size() == 6) {
        text.clear();
        for (std::size_t i : {0U, 1U, 3U, 4U}) text += (text.empty() ? "" : ",") + std::string(parts[i]);
    }
    return parse_bbox(text.c_str());
}

bool is_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// An RFC 3339 date or date-time: YYYY-MM-DD, optionally followed by T and a time with zone.
bool is_instant(std::string_view s) {
    if (s.size() < 10 || !is_digits(s.substr(0, 4)) || s[4] != '-' || !is_digits(s.substr(5, 2)) || s[7] != '-' ||
        !is_digits(s.substr(8, 2)))
        return false;
    if (s.size() == 10) return true;
    if (s[10] != 'T' && s[10] != 't') return false;
    return s.size() > 11 && std::all_of(s.begin() + 11, s.end(), [](char c) {
               return (c >= '0' && c <= '9') || c == ':' || c == '.' || c == '+' || c == '-' || c == 'Z' || c == 'z';
           });
}

// datetime is an instant or an interval with ".." (or nothing) for an open end. Wangge's
// collections hold the current state and have no temporal property, so once checked it selects
// every feature (docs/OGC.md).
void check_datetime(const Request& req) {
    auto v = req.param("datetime");
    if (!v) return;
    bool ok = false;
    auto slash = v->find('/');
    if (slash == std::string_view::npos) {
        ok = is_instant(*v);
    } else {
        std::string_view from = v->substr(0, slash), to = v->substr(slash + 1);
        auto open = [](std::string_view s) { return s.empty() || s == ".."; };
        ok = (open(from) || is_instant(from)) && (open(to) || is_instant(to)) && !(open(from) && open(to));
    }
    if (!ok)
        throw Error(ErrorKind::bad_request, "invalid_parameter",
                    "datetime must be an RFC 3339 date-time or an interval such as "
                    "2024-01-01T00:00:00Z/.., got '" + std::string(*v) + "'");
}

// ---- documents -----------------------------------------------------------------------------

// The data's extent, rounded to 7 decimals as the GeoJSON coordinates are, so that it is the
// extent of the coordinates clients receive.
std::optional<BBox> extent_of(const grid::Snapshot& snap, const CollectionInfo& c) {
    BBox box;
    if (c.level) {
        for (const auto* a : snap.areas(*c.level)) box.extend(a->bbox);
    } else {
        for (const auto& b : snap.buildings()) box.extend(b.bbox);
    }
    if (box.empty()) return std::nullopt;
    auto round7 = [](double v) { return std::round(v * 1e7) / 1e7; };
    return BBox{round7(box.min_lon), round7(box.min_lat), round7(box.max_lon), round7(box.max_lat)};
}

nlohmann::json collection_json(const std::string& base, const grid::Snapshot& snap, const CollectionInfo& c) {
    const std::string href = base + "/collections/" + std::string(c.id);
    nlohmann::json j{{"id", c.id},
                     {"title", c.title},
                     {"description", c.description},
                     {"itemType", "feature"},
                     {"crs", {crs84}},
                     {"links",
                      {link_json({"self", json_type, href, "This collection"}),
                       link_json({"items", geojson_type, href + "/items", "Features as GeoJSON"}),
                       link_json({"items", json_type, href + "/items?f=json", "Features as GeoJSON labelled JSON"})}}};
    if (auto box = extent_of(snap, c))
        j["extent"] = {
            {"spatial", {{"bbox", {{box->min_lon, box->min_lat, box->max_lon, box->max_lat}}}, {"crs", crs84}}}};
    return j;
}

// The other representation of a feature response, as the standard asks (/req/core/fc-links).
Link alternate_of(const Request& req, const std::string& type) {
    if (type == geojson_type) return {"alternate", json_type, href_with(req, "f", "json"), "This document as JSON"};
    return {"alternate", geojson_type, href_with(req, "f", "geojson"), "This document as GeoJSON"};
}

const grid::Building* find_building(const grid::Snapshot& snap, std::string_view id_text) {
    std::int64_t id = 0;
    auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || ptr != id_text.data() + id_text.size()) return nullptr;
    // One lookup per request; a scan of even 100,000 buildings is well under a millisecond.
    const auto& all = snap.buildings();
    auto it = std::find_if(all.begin(), all.end(), [&](const grid::Building& b) { return b.row.id == id; });
    return it == all.end() ? nullptr : &*it;
}

std::vector<std::string_view> segments_of(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        auto slash = path.find('/');
        if (slash != 0) out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path = path.substr(slash + 1);
    }
    return out;
}

class Resources {
public:
    Resources(const Request& req, const grid::Snapshot& snap)
        : m_req(req), m_snap(snap), m_base(request_origin(req) + "/ogc") {}

    Response landing() const {
        require_known_params(m_req, {"f"});
        const std::string type = negotiate(m_req, metadata_formats);
        nlohmann::json j{
            {"title", "Wangge 网格"},
            {"description",
             "网格化管理: 街道、社区、责任网格和楼栋. Wangge serves China's community grid management "
             "hierarchy - street offices, communities, responsibility grids and buildings with their "
             "households - as OGC API - Features."},
            {"links",
             {link_json({"self", json_type, m_base + "/", "This document"}),
              link_json({"service-desc", detail::openapi_type, m_base + "/api", "The API definition (OpenAPI 3.0)"}),
              link_json({"conformance", json_type, m_base + "/conformance", "Conformance classes implemented"}),
              link_json({"data", json_type, m_base + "/collections", "The feature collections"})}}};
        return respond(j.dump(), type);
    }

    Response api() const {
        require_known_params(m_req, {"f"});
        const std::string type = negotiate(m_req, openapi_formats);
        return respond(detail::ogc_openapi(m_base).dump(), type);
    }

    Response conformance() const {
        require_known_params(m_req, {"f"});
        const std::string type = negotiate(m_req, metadata_formats);
        nlohmann::json j{{"conformsTo",
                          {"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                           "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                           "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"}}};
        return respond(j.dump(), type);
    }

    Response all_collections() const {
        require_known_params(m_req, {"f"});
        const std::string type = negotiate(m_req, metadata_formats);
        nlohmann::json list = nlohmann::json::array();
        for (const auto& c : collections) list.push_back(collection_json(m_base, m_snap, c));
        nlohmann::json self = link_json({"self", json_type, m_base + "/collections", "The feature collections"});
        nlohmann::json j{{"links", {std::move(self)}}, {"collections", std::move(list)}};
        return respond(j.dump(), type);
    }

    Response one_collection(const CollectionInfo& c) const {
        require_known_params(m_req, {"f"});
        const std::string type = negotiate(m_req, metadata_formats);
        return respond(collection_json(m_base, m_snap, c).dump(), type);
    }

    Response items(const CollectionInfo& c) const {
        require_known_params(m_req, {"bbox", "datetime", "limit", "offset", "f"});
        const std::string type = negotiate(m_req, feature_formats);
        Page page = page_of(m_req, OgcEndpoints::default_limit, OgcEndpoints::max_limit, OverMaxLimit::clamp);
        auto bbox = items_bbox(m_req);
        check_datetime(m_req);
        std::string features;
        std::size_t matched = 0, returned = 0;
        if (c.level) {
            auto areas = matching_areas(m_snap, *c.level, bbox);
            matched = areas.size();
            returned = append_area_page(features, m_snap, *c.level, areas, page);
        } else {
            auto buildings = matching_buildings(m_snap, bbox);
            matched = buildings.size();
            returned = append_building_page(features, m_snap, buildings, page);
        }
        CollectionFraming framing;
        framing.type = type;
        framing.time_stamp = true;
        framing.links = {alternate_of(m_req, type),
                         {"collection", json_type, m_base + "/collections/" + std::string(c.id), "The collection"}};
        return respond(feature_collection(m_req, features, matched, returned, page, framing), type);
    }

    Response item(const CollectionInfo& c, std::string_view feature_id) const {
        const grid::Area* area = c.level ? m_snap.find(*c.level, feature_id) : nullptr;
        const grid::Building* building = c.level ? nullptr : find_building(m_snap, feature_id);
        if (!area && !building)
            throw Error(ErrorKind::not_found, "unknown_feature",
                        "collection '" + std::string(c.id) + "' has no feature '" + std::string(feature_id) + "'");
        require_known_params(m_req, {"f"});
        const std::string type = negotiate(m_req, feature_formats);
        std::string out;
        if (area)
            append_area_feature(out, m_snap, *c.level, *area);
        else
            append_building_feature(out, *building);
        nlohmann::json links{
            link_json({"self", type, request_origin(m_req) + m_req.target, "This feature"}),
            link_json(alternate_of(m_req, type)),
            link_json({"collection", json_type, m_base + "/collections/" + std::string(c.id), "The collection"})};
        // append_feature closes the object; reopen it to add the links the standard asks for.
        out.pop_back();
        out += ",\"links\":" + links.dump() + '}';
        return respond(std::move(out), type);
    }

private:
    const Request& m_req;
    const grid::Snapshot& m_snap;
    std::string m_base;
};

Response route(const Resources& resources, const std::vector<std::string_view>& segments, const std::string& path) {
    const std::size_t n = segments.size();
    if (n == 0) return resources.landing();
    if (n == 1 && segments[0] == "api") return resources.api();
    if (n == 1 && segments[0] == "conformance") return resources.conformance();
    if (segments[0] == "collections") {
        if (n == 1) return resources.all_collections();
        const CollectionInfo* c = find_collection(segments[1]);
        if (!c)
            throw Error(ErrorKind::not_found, "unknown_collection",
                        "no collection '" + std::string(segments[1]) +
                            "'; the collections are streets, communities, grids and buildings");
        if (n == 2) return resources.one_collection(*c);
        if (segments[2] == "items") {
            if (n == 3) return resources.items(*c);
            if (n == 4) return resources.item(*c, segments[3]);
        }
    }
    throw Error(ErrorKind::not_found, "not_found",
                "no OGC API resource at " + path + "; the landing page /ogc links to all of them");
}

} // namespace

std::optional<Response> OgcEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    constexpr std::string_view prefix = "/ogc";
    std::string_view path = req.path;
    if (path != prefix && !path.starts_with("/ogc/")) return std::nullopt;
    require_read(req);
    try {
        return route(Resources(req, snapshot), segments_of(path.substr(prefix.size())), req.path);
    } catch (const NotAcceptable& e) {
        Response r = error_response(406, "not_acceptable", e.what());
        r.set_header("Vary", "Accept");
        return r;
    }
}

} // namespace wangge::api

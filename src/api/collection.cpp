#include "api/collection.hpp"

#include "api/features.hpp"
#include "api/params.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <limits>

namespace wangge::api {

namespace {

// Characters left as they are in a query key or value: RFC 3986 unreserved characters and the
// separators that commonly appear in values (bbox commas, time colons, interval slashes).
bool keep_in_query(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("-._~,:/@!$'()*;").find(c) != std::string_view::npos;
}

// The query values are stored decoded, so writing them into a link must encode them again or a
// '+', '&' or '#' in a value would change the link's meaning.
void append_encoded(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char c : text) {
        if (keep_in_query(c)) {
            out += c;
        } else {
            auto u = static_cast<unsigned char>(c);
            out += '%';
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
}

} // namespace

nlohmann::json link_json(const Link& link) {
    nlohmann::json j{{"rel", link.rel}, {"type", link.type}, {"href", link.href}};
    if (!link.title.empty()) j["title"] = link.title;
    return j;
}

Page page_of(const Request& req, long default_limit, long max_limit, OverMaxLimit over_max) {
    Page p;
    long accepted_max = over_max == OverMaxLimit::clamp ? std::numeric_limits<long>::max() : max_limit;
    p.limit = std::min(optional_long(req, "limit", 1, accepted_max).value_or(default_limit), max_limit);
    p.offset = optional_long(req, "offset", 0, 1L << 40).value_or(0);
    return p;
}

std::size_t append_area_page(std::string& out, const grid::Snapshot& snap, Level level,
                             const std::vector<const grid::Area*>& matched, const Page& page) {
    return append_page(out, matched, page,
                       [&](std::string& o, const grid::Area* a) { append_area_feature(o, snap, level, *a); });
}

std::size_t append_building_page(std::string& out, const grid::Snapshot& snap,
                                 const std::vector<std::uint32_t>& matched, const Page& page) {
    return append_page(out, matched, page,
                       [&](std::string& o, std::uint32_t i) { append_building_feature(o, snap.buildings()[i]); });
}

std::string href_with(const Request& req, std::string_view key, std::string_view value) {
    std::string q;
    auto append = [&](std::string_view k, std::string_view v) {
        q += q.empty() ? '?' : '&';
        append_encoded(q, k);
        q += '=';
        append_encoded(q, v);
    };
    for (const auto& [k, v] : req.query)
        if (k != key) append(k, v);
    append(key, value);
    return request_origin(req) + req.path + q;
}

std::string page_href(const Request& req, long offset) { return href_with(req, "offset", std::to_string(offset)); }

std::vector<const grid::Area*> matching_areas(const grid::Snapshot& snap, Level level, const std::optional<BBox>& bbox,
                                              const std::function<bool(const grid::Area&)>& keep) {
    std::vector<const grid::Area*> all = snap.areas(level);
    std::vector<const grid::Area*> matched;
    std::optional<geo::Geometry> rect;
    if (bbox) rect = geo::make_rectangle(*bbox);
    auto consider = [&](const grid::Area* a) {
        if (keep && !keep(*a)) return;
        if (rect && !geo::intersects(a->geom, *rect)) return;
        matched.push_back(a);
    };
    if (bbox) {
        for (std::uint32_t i : snap.query(level, *bbox)) consider(all[i]);
    } else {
        for (const auto* a : all) consider(a);
    }
    return matched;
}

std::vector<std::uint32_t> matching_buildings(const grid::Snapshot& snap, const std::optional<BBox>& bbox,
                                              const std::function<bool(const grid::Building&)>& keep) {
    const auto& all = snap.buildings();
    std::vector<std::uint32_t> matched;
    std::optional<geo::Geometry> rect;
    if (bbox) rect = geo::make_rectangle(*bbox);
    auto consider = [&](std::uint32_t i) {
        const auto& b = all[i];
        if (keep && !keep(b)) return;
        if (rect && !geo::intersects(b.row.geom, *rect)) return;
        matched.push_back(i);
    };
    if (bbox) {
        for (std::uint32_t i : snap.query_buildings(*bbox)) consider(i);
    } else {
        for (std::uint32_t i = 0; i < all.size(); ++i) consider(i);
    }
    return matched;
}

std::string feature_collection(const Request& req, const std::string& features, std::size_t matched,
                               std::size_t returned, const Page& page) {
    return feature_collection(req, features, matched, returned, page, CollectionFraming{});
}

std::string feature_collection(const Request& req, const std::string& features, std::size_t matched,
                               std::size_t returned, const Page& page, const CollectionFraming& framing) {
    nlohmann::json links = nlohmann::json::array();
    links.push_back(link_json({"self", framing.type, request_origin(req) + req.target, {}}));
    for (const Link& link : framing.links) links.push_back(link_json(link));
    if (static_cast<std::size_t>(page.offset + page.limit) < matched)
        links.push_back(link_json({"next", framing.type, page_href(req, page.offset + page.limit), {}}));
    if (page.offset > 0)
        links.push_back(link_json({"prev", framing.type, page_href(req, std::max(0L, page.offset - page.limit)), {}}));
    std::string out = "{\"type\":\"FeatureCollection\",\"numberMatched\":" + std::to_string(matched) +
                      ",\"numberReturned\":" + std::to_string(returned);
    if (framing.time_stamp) out += ",\"timeStamp\":\"" + rfc3339_now() + '"';
    out += ",\"links\":" + links.dump() + ",\"features\":[";
    out += features;
    out += "]}";
    return out;
}

std::string rfc3339_now() {
    std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

Response geojson_response(std::string body) {
    Response r = json_response(std::move(body));
    r.content_type = geojson_type;
    return r;
}

} // namespace wangge::api

#include "api/collection.hpp"

#include "api/params.hpp"

#include <nlohmann/json.hpp>

namespace wangge::api {

Page page_of(const Request& req, long default_limit, long max_limit) {
    Page p;
    p.limit = optional_long(req, "limit", 1, max_limit).value_or(default_limit);
    p.offset = optional_long(req, "offset", 0, 1L << 40).value_or(0);
    return p;
}

std::string self_base(const Request& req) {
    auto host = req.header("host");
    return host ? "http://" + std::string(*host) : std::string();
}

std::string page_href(const Request& req, long offset) {
    std::string q;
    for (const auto& [k, v] : req.query) {
        if (k == "offset") continue;
        q += (q.empty() ? "?" : "&") + k + "=" + v;
    }
    q += (q.empty() ? "?" : "&") + std::string("offset=") + std::to_string(offset);
    return self_base(req) + req.path + q;
}

std::string feature_collection(const Request& req, const std::string& features, std::size_t matched,
                               std::size_t returned, const Page& page) {
    nlohmann::json links = nlohmann::json::array();
    links.push_back({{"rel", "self"}, {"type", geojson_type}, {"href", self_base(req) + req.target}});
    if (static_cast<std::size_t>(page.offset + page.limit) < matched)
        links.push_back({{"rel", "next"}, {"type", geojson_type}, {"href", page_href(req, page.offset + page.limit)}});
    if (page.offset > 0)
        links.push_back({{"rel", "prev"},
                         {"type", geojson_type},
                         {"href", page_href(req, std::max(0L, page.offset - page.limit))}});
    std::string out = "{\"type\":\"FeatureCollection\",\"numberMatched\":" + std::to_string(matched) +
                      ",\"numberReturned\":" + std::to_string(returned) + ",\"links\":" + links.dump() +
                      ",\"features\":[";
    out += features;
    out += "]}";
    return out;
}

Response geojson_response(std::string body) {
    Response r = json_response(std::move(body));
    r.content_type = geojson_type;
    return r;
}

} // namespace wangge::api

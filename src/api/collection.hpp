#pragma once
// Paging and FeatureCollection framing shared by the endpoint families that list features
// (REST collections, OGC API - Features items).
#include "api/message.hpp"

#include <cstddef>
#include <string>

namespace wangge::api {

inline constexpr const char* geojson_type = "application/geo+json";

struct Page {
    long limit = 100;
    long offset = 0;
};
// `limit` (1..max_limit, default default_limit) and `offset` (>= 0) from the query.
Page page_of(const Request& req, long default_limit = 100, long max_limit = 10000);

// "http://host" from the Host header, or "" when the request has none.
std::string self_base(const Request& req);
// The absolute href of this request with `offset` replaced.
std::string page_href(const Request& req, long offset);

// {"type":"FeatureCollection","numberMatched":..,"numberReturned":..,"links":[self,next,prev],
//  "features":[<features>]} with `features` already serialised.
std::string feature_collection(const Request& req, const std::string& features, std::size_t matched,
                               std::size_t returned, const Page& page);

Response geojson_response(std::string body);

} // namespace wangge::api

#pragma once
// Matching, paging and FeatureCollection framing shared by the endpoint families that list
// features (REST collections, OGC API - Features items).
#include "api/message.hpp"
#include "grid/snapshot.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::api {

inline constexpr const char* geojson_type = "application/geo+json";
inline constexpr const char* json_type = "application/json";

struct Page {
    long limit = 100;
    long offset = 0;
};
// What a `limit` above the maximum means: REST refuses it; OGC API - Features requires the
// maximum to be used instead (17-069r4, /req/core/fc-limit-response-1 C).
enum class OverMaxLimit { reject, clamp };
// `limit` (1..max_limit, default default_limit) and `offset` (>= 0) from the query.
Page page_of(const Request& req, long default_limit = 100, long max_limit = 10000,
             OverMaxLimit over_max = OverMaxLimit::reject);

// The absolute href of this request with query parameter `key` set to `value` (replacing any
// earlier values, appended last); keys and values are percent-encoded again.
std::string href_with(const Request& req, std::string_view key, std::string_view value);
// The absolute href of this request with `offset` replaced.
std::string page_href(const Request& req, long offset);

// The areas of `level` (in code order) whose geometry intersects `bbox` (all without one) and
// that `keep` accepts (all without one). The spatial index only preselects by envelope.
std::vector<const grid::Area*> matching_areas(const grid::Snapshot& snap, Level level, const std::optional<BBox>& bbox,
                                              const std::function<bool(const grid::Area&)>& keep = {});
// The same for buildings, as indices into snap.buildings() in ascending order.
std::vector<std::uint32_t> matching_buildings(const grid::Snapshot& snap, const std::optional<BBox>& bbox,
                                              const std::function<bool(const grid::Building&)>& keep = {});

// Appends matched[page.offset, page.offset + page.limit) as comma-separated features written
// by `write(out, item)`; returns how many were written.
template <class T, class Write>
std::size_t append_page(std::string& out, const std::vector<T>& matched, const Page& page, Write write) {
    std::size_t returned = 0;
    for (std::size_t i = static_cast<std::size_t>(page.offset);
         i < matched.size() && returned < static_cast<std::size_t>(page.limit); ++i, ++returned) {
        if (returned) out += ',';
        write(out, matched[i]);
    }
    return returned;
}

// One page of areas of `level` (buildings, by index into snap.buildings()) as features; returns
// how many were written.
std::size_t append_area_page(std::string& out, const grid::Snapshot& snap, Level level,
                             const std::vector<const grid::Area*>& matched, const Page& page);
std::size_t append_building_page(std::string& out, const grid::Snapshot& snap,
                                 const std::vector<std::uint32_t>& matched, const Page& page);

struct Link {
    std::string rel;
    std::string type;
    std::string href;
    std::string title; // left out when empty
};
// {"rel":..,"type":..,"href":..[,"title":..]}
nlohmann::json link_json(const Link& link);

// How a FeatureCollection is framed beyond the common members.
struct CollectionFraming {
    std::string type = geojson_type; // media type of the response: of its self, next and prev links
    std::vector<Link> links;         // more links after self (e.g. alternate, collection)
    bool time_stamp = false;         // "timeStamp": when the response was made (OGC API - Features)
};

// {"type":"FeatureCollection","numberMatched":..,"numberReturned":..,"links":[self,next,prev],
//  "features":[<features>]} with `features` already serialised.
std::string feature_collection(const Request& req, const std::string& features, std::size_t matched,
                               std::size_t returned, const Page& page);
// The same with extra links, their media type and optionally "timeStamp" (after
// numberReturned).
std::string feature_collection(const Request& req, const std::string& features, std::size_t matched,
                               std::size_t returned, const Page& page, const CollectionFraming& framing);

// The current UTC time as RFC 3339 with seconds, e.g. "2024-06-01T08:30:00Z".
std::string rfc3339_now();

Response geojson_response(std::string body);

} // namespace wangge::api

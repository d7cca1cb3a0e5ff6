#include "core/types.hpp"

#include "core/error.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace wangge {

bool in_wgs84_range(LonLat p) noexcept {
    return std::isfinite(p.lon) && std::isfinite(p.lat) && p.lon >= -180.0 && p.lon <= 180.0 &&
           p.lat >= -90.0 && p.lat <= 90.0;
}

void require_wgs84_range(LonLat p) {
    if (!std::isfinite(p.lon) || p.lon < -180.0 || p.lon > 180.0)
        throw Error(ErrorKind::bad_request, "out_of_range",
                    "longitude " + std::to_string(p.lon) + " is outside [-180, 180]");
    if (!std::isfinite(p.lat) || p.lat < -90.0 || p.lat > 90.0)
        throw Error(ErrorKind::bad_request, "out_of_range",
                    "latitude " + std::to_string(p.lat) + " is outside [-90, 90]");
}

BBox parse_bbox(const char* text) {
    std::vector<double> v;
    const char* p = text;
    const char* end = text + std::strlen(text);
    while (p <= end) {
        const char* comma = std::find(p, end, ',');
        double d = 0;
        auto [ptr, ec] = std::from_chars(p, comma, d);
        if (ec != std::errc() || ptr != comma)
            throw Error(ErrorKind::bad_request, "invalid_bbox",
                        std::string("bbox must be four numbers minLon,minLat,maxLon,maxLat; got '") +
                            text + "'");
        v.push_back(d);
        p = comma + 1;
    }
    if (v.size() != 4)
        throw Error(ErrorKind::bad_request, "invalid_bbox",
                    "bbox needs exactly four numbers minLon,minLat,maxLon,maxLat; got " +
                        std::to_string(v.size()));
    BBox b{v[0], v[1], v[2], v[3]};
    require_wgs84_range({b.min_lon, b.min_lat});
    require_wgs84_range({b.max_lon, b.max_lat});
    if (b.min_lon > b.max_lon || b.min_lat > b.max_lat)
        throw Error(ErrorKind::bad_request, "invalid_bbox",
                    "bbox minimum is greater than its maximum");
    return b;
}

} // namespace wangge

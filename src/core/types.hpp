#pragma once
// Plain value types shared by every module. Coordinates are WGS84 (EPSG:4326) longitude and
// latitude in degrees unless a type says otherwise.
#include <algorithm>
#include <limits>

namespace wangge {

struct LonLat {
    double lon = 0.0;
    double lat = 0.0;
};

// True when lon is in [-180, 180] and lat in [-90, 90], both finite.
bool in_wgs84_range(LonLat p) noexcept;
// Throws Error(bad_request, "out_of_range") naming the offending value.
void require_wgs84_range(LonLat p);

struct BBox {
    double min_lon = std::numeric_limits<double>::infinity();
    double min_lat = std::numeric_limits<double>::infinity();
    double max_lon = -std::numeric_limits<double>::infinity();
    double max_lat = -std::numeric_limits<double>::infinity();

    bool empty() const noexcept { return min_lon > max_lon || min_lat > max_lat; }
    void extend(LonLat p) noexcept {
        min_lon = std::min(min_lon, p.lon);
        min_lat = std::min(min_lat, p.lat);
        max_lon = std::max(max_lon, p.lon);
        max_lat = std::max(max_lat, p.lat);
    }
    void extend(const BBox& o) noexcept {
        if (o.empty()) return;
        extend(LonLat{o.min_lon, o.min_lat});
        extend(LonLat{o.max_lon, o.max_lat});
    }
    bool intersects(const BBox& o) const noexcept {
        return !empty() && !o.empty() && min_lon <= o.max_lon && o.min_lon <= max_lon &&
               min_lat <= o.max_lat && o.min_lat <= max_lat;
    }
    bool contains(LonLat p) const noexcept {
        return p.lon >= min_lon && p.lon <= max_lon && p.lat >= min_lat && p.lat <= max_lat;
    }
};

// Parses "minLon,minLat,maxLon,maxLat"; throws Error(bad_request) saying what is wrong.
BBox parse_bbox(const char* text);

} // namespace wangge

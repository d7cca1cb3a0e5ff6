#pragma once
// Web-Mercator (EPSG:3857) tile arithmetic, XYZ scheme (y = 0 at the north), as used by
// MapLibre, Mapnik, MBTiles (which flips y: TMS) and the OGC tile matrix "WebMercatorQuad".
#include "core/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wangge::tiles {

inline constexpr int max_zoom = 22;
inline constexpr double earth_half_circumference = 20037508.342789244; // metres, EPSG:3857

struct TileId {
    int z = 0;
    std::uint32_t x = 0;
    std::uint32_t y = 0;
    friend bool operator==(const TileId&, const TileId&) = default;
};

// Throws Error(bad_request, "invalid_tile") unless 0 <= z <= max_zoom and x, y < 2^z.
void require_valid(const TileId& t);
// Parses "{z}/{x}/{y}" path segments as written in a URL (digits only, no signs or spaces);
// throws Error(bad_request, "invalid_tile") naming what is wrong.
TileId parse_tile(std::string_view z, std::string_view x, std::string_view y);

// A box in EPSG:3857 metres.
struct MercatorBox {
    double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
};
MercatorBox mercator_bounds(const TileId& t);
// WGS84 bounds of the tile (latitudes clipped to +-85.0511).
BBox lonlat_bounds(const TileId& t);

double lon_to_mercator_x(double lon) noexcept;
double lat_to_mercator_y(double lat) noexcept;
double mercator_x_to_lon(double x) noexcept;
double mercator_y_to_lat(double y) noexcept;

// The tile containing a point at a zoom.
TileId tile_at(LonLat p, int z);
// MBTiles stores rows in TMS order: y flipped.
std::uint32_t tms_y(const TileId& t) noexcept;

std::string to_string(const TileId& t); // "z/x/y"

// The tile's bounds grown by `fraction` of its size on every side (a vector tile's buffer is
// 64/4096 of it), in metres and in WGS84.
MercatorBox buffered_mercator_bounds(const TileId& t, double fraction);
BBox buffered_lonlat_bounds(const TileId& t, double fraction);

// The tiles of zoom z that intersect a WGS84 box, as an inclusive range of columns and rows.
struct TileRange {
    int z = 0;
    std::uint32_t min_x = 0, min_y = 0, max_x = 0, max_y = 0;
    std::uint64_t count() const noexcept {
        return std::uint64_t{max_x - min_x + 1} * std::uint64_t{max_y - min_y + 1};
    }
    bool contains(const TileId& t) const noexcept {
        return t.z == z && t.x >= min_x && t.x <= max_x && t.y >= min_y && t.y <= max_y;
    }
};
// Requires a non-empty box; latitudes beyond +-85.0511 fall in the first or last row.
TileRange tile_range(const BBox& box, int z);

} // namespace wangge::tiles

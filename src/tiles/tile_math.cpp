#include "tiles/tile_math.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numbers>

namespace wangge::tiles {

namespace {
constexpr double max_lat = 85.0511287798066;

[[noreturn]] void invalid(const std::string& message) {
    throw Error(ErrorKind::bad_request, "invalid_tile", message);
}

long parse_part(std::string_view text, const char* what) {
    long v = 0;
    bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (!digits || ec != std::errc() || ptr != text.data() + text.size())
        invalid(std::string("tile ") + what + " must be a non-negative integer, got '" + std::string(text) + "'");
    return v;
}
} // namespace

void require_valid(const TileId& t) {
    if (t.z < 0 || t.z > max_zoom)
        invalid("zoom " + std::to_string(t.z) + " is outside 0.." + std::to_string(max_zoom));
    const std::uint64_t n = std::uint64_t{1} << t.z;
    if (t.x >= n || t.y >= n)
        invalid("tile " + to_string(t) + " does not exist: x and y must be below " + std::to_string(n) + " at zoom " +
                std::to_string(t.z));
}

TileId parse_tile(std::string_view z, std::string_view x, std::string_view y) {
    long zz = parse_part(z, "zoom");
    if (zz > max_zoom) invalid("zoom " + std::string(z) + " is outside 0.." + std::to_string(max_zoom));
    long xx = parse_part(x, "x"), yy = parse_part(y, "y");
    if (xx > 0xffffffffL || yy > 0xffffffffL) invalid("tile x or y is too large");
    TileId t{static_cast<int>(zz), static_cast<std::uint32_t>(xx), static_cast<std::uint32_t>(yy)};
    require_valid(t);
    return t;
}

MercatorBox mercator_bounds(const TileId& t) {
    const double size = 2 * earth_half_circumference / static_cast<double>(std::uint64_t{1} << t.z);
    MercatorBox b;
    b.min_x = -earth_half_circumference + t.x * size;
    b.max_x = b.min_x + size;
    b.max_y = earth_half_circumference - t.y * size;
    b.min_y = b.max_y - size;
    return b;
}

BBox lonlat_bounds(const TileId& t) {
    MercatorBox m = mercator_bounds(t);
    return BBox{mercator_x_to_lon(m.min_x), mercator_y_to_lat(m.min_y), mercator_x_to_lon(m.max_x),
                mercator_y_to_lat(m.max_y)};
}

double lon_to_mercator_x(double lon) noexcept { return lon * earth_half_circumference / 180.0; }

double lat_to_mercator_y(double lat) noexcept {
    lat = std::clamp(lat, -max_lat, max_lat);
    return std::log(std::tan((90.0 + lat) * std::numbers::pi / 360.0)) * earth_half_circumference / std::numbers::pi;
}

double mercator_x_to_lon(double x) noexcept { return x * 180.0 / earth_half_circumference; }

double mercator_y_to_lat(double y) noexcept {
    return std::atan(std::exp(y * std::numbers::pi / earth_half_circumference)) * 360.0 / std::numbers::pi - 90.0;
}

TileId tile_at(LonLat p, int z) {
    const double n = static_cast<double>(std::uint64_t{1} << z);
    double fx = (lon_to_mercator_x(p.lon) + earth_half_circumference) / (2 * earth_half_circumference);
    double fy = (earth_half_circumference - lat_to_mercator_y(p.lat)) / (2 * earth_half_circumference);
    auto clamp_index = [&](double f) {
        return static_cast<std::uint32_t>(std::clamp(std::floor(f * n), 0.0, n - 1));
    };
    return TileId{z, clamp_index(fx), clamp_index(fy)};
}

std::uint32_t tms_y(const TileId& t) noexcept { return ((std::uint32_t{1} << t.z) - 1) - t.y; }

std::string to_string(const TileId& t) {
    return std::to_string(t.z) + "/" + std::to_string(t.x) + "/" + std::to_string(t.y);
}

MercatorBox buffered_mercator_bounds(const TileId& t, double fraction) {
    MercatorBox m = mercator_bounds(t);
    const double grow = (m.max_x - m.min_x) * fraction;
    return MercatorBox{m.min_x - grow, m.min_y - grow, m.max_x + grow, m.max_y + grow};
}

BBox buffered_lonlat_bounds(const TileId& t, double fraction) {
    MercatorBox m = buffered_mercator_bounds(t, fraction);
    m.min_y = std::max(m.min_y, -earth_half_circumference);
    m.max_y = std::min(m.max_y, earth_half_circumference);
    return BBox{mercator_x_to_lon(m.min_x), mercator_y_to_lat(m.min_y), mercator_x_to_lon(m.max_x),
                mercator_y_to_lat(m.max_y)};
}

TileRange tile_range(const BBox& box, int z) {
    // North-west and south-east corners: rows count down from the north.
    TileId nw = tile_at({box.min_lon, box.max_lat}, z);
    TileId se = tile_at({box.max_lon, box.min_lat}, z);
    return TileRange{z, nw.x, nw.y, se.x, se.y};
}

} // namespace wangge::tiles

#include "geo/chinese_crs.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>
#include <string>

namespace wangge::geo {

namespace {
constexpr double pi = std::numbers::pi;
constexpr double krasovsky_a = 6378245.0;           // semi-major axis used by GCJ-02
constexpr double krasovsky_ee = 0.00669342162296594323; // its eccentricity squared
constexpr double bd_pi = pi * 3000.0 / 180.0;

double shift_lat(double x, double y) {
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::abs(x));
    r += (20.0 * std::sin(6.0 * x * pi) + 20.0 * std::sin(2.0 * x * pi)) * 2.0 / 3.0;
    r += (20.0 * std::sin(y * pi) + 40.0 * std::sin(y / 3.0 * pi)) * 2.0 / 3.0;
    r += (160.0 * std::sin(y / 12.0 * pi) + 320.0 * std::sin(y * pi / 30.0)) * 2.0 / 3.0;
    return r;
}

double shift_lon(double x, double y) {
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::abs(x));
    r += (20.0 * std::sin(6.0 * x * pi) + 20.0 * std::sin(2.0 * x * pi)) * 2.0 / 3.0;
    r += (20.0 * std::sin(x * pi) + 40.0 * std::sin(x / 3.0 * pi)) * 2.0 / 3.0;
    r += (150.0 * std::sin(x / 12.0 * pi) + 300.0 * std::sin(x / 30.0 * pi)) * 2.0 / 3.0;
    return r;
}

// GCJ-02 offset (degrees) at a WGS84 position.
LonLat gcj_offset(LonLat p) {
    double dlat = shift_lat(p.lon - 105.0, p.lat - 35.0);
    double dlon = shift_lon(p.lon - 105.0, p.lat - 35.0);
    double radlat = p.lat / 180.0 * pi;
    double magic = std::sin(radlat);
    magic = 1 - krasovsky_ee * magic * magic;
    double sqrtmagic = std::sqrt(magic);
    dlat = (dlat * 180.0) / ((krasovsky_a * (1 - krasovsky_ee)) / (magic * sqrtmagic) * pi);
    dlon = (dlon * 180.0) / (krasovsky_a / sqrtmagic * std::cos(radlat) * pi);
    return {dlon, dlat};
}
// Finds w with forward(w) == target by fixed-point iteration from `start`: the offsets vary
// slowly, so correcting by the residual converges to 1e-10 degrees in a few steps.
template <typename Forward>
LonLat invert(Forward forward, LonLat target, LonLat start) noexcept {
    LonLat w = start;
    for (int i = 0; i < 30; ++i) {
        LonLat f = forward(w);
        double ex = f.lon - target.lon, ey = f.lat - target.lat;
        w.lon -= ex;
        w.lat -= ey;
        if (std::abs(ex) < 1e-10 && std::abs(ey) < 1e-10) break;
    }
    return w;
}

} // namespace

std::optional<InputCrs> parse_input_crs(std::string_view text) {
    const std::string t = to_lower(text);
    if (t == "wgs84" || t == "epsg:4326") return InputCrs::wgs84;
    if (t == "gcj02" || t == "gcj-02") return InputCrs::gcj02;
    if (t == "bd09" || t == "bd-09") return InputCrs::bd09;
    return std::nullopt;
}

std::string_view to_string(InputCrs crs) noexcept {
    switch (crs) {
    case InputCrs::wgs84: return "wgs84";
    case InputCrs::gcj02: return "gcj02";
    case InputCrs::bd09: return "bd09";
    }
    return "wgs84";
}

bool outside_china(LonLat p) noexcept {
    return p.lon < 72.004 || p.lon > 137.8347 || p.lat < 0.8293 || p.lat > 55.8271;
}

LonLat wgs84_to_gcj02(LonLat p) noexcept {
    if (outside_china(p)) return p;
    LonLat d = gcj_offset(p);
    return {p.lon + d.lon, p.lat + d.lat};
}

LonLat gcj02_to_wgs84(LonLat p) noexcept {
    if (outside_china(p)) return p;
    return invert(wgs84_to_gcj02, p, p);
}

LonLat gcj02_to_bd09(LonLat p) noexcept {
    double z = std::sqrt(p.lon * p.lon + p.lat * p.lat) + 0.00002 * std::sin(p.lat * bd_pi);
    double theta = std::atan2(p.lat, p.lon) + 0.000003 * std::cos(p.lon * bd_pi);
    return {z * std::cos(theta) + 0.0065, z * std::sin(theta) + 0.006};
}

LonLat bd09_to_gcj02(LonLat p) noexcept {
    // The published closed-form inverse is off by up to 10 cm; refine it by fixed-point iteration.
    double x = p.lon - 0.0065, y = p.lat - 0.006;
    double z = std::sqrt(x * x + y * y) - 0.00002 * std::sin(y * bd_pi);
    double theta = std::atan2(y, x) - 0.000003 * std::cos(x * bd_pi);
    return invert(gcj02_to_bd09, p, {z * std::cos(theta), z * std::sin(theta)});
}

LonLat to_wgs84(LonLat p, InputCrs crs) noexcept {
    switch (crs) {
    case InputCrs::wgs84: return p;
    case InputCrs::gcj02: return gcj02_to_wgs84(p);
    case InputCrs::bd09: return gcj02_to_wgs84(bd09_to_gcj02(p));
    }
    return p;
}

} // namespace wangge::geo

#pragma once
// The coordinate systems of Chinese phones and map apps. GCJ-02 (国测局坐标, used by Amap and
// Tencent) is WGS84 shifted by an obfuscation function; BD-09 (Baidu) is GCJ-02 shifted again.
// Both are offset by 100-700 m from WGS84. Conversion to WGS84 inverts the forward function by
// fixed-point iteration (accurate to about 1e-7 degrees, about 1 cm). Outside China the offsets
// are zero, as the apps themselves do.
#include "core/types.hpp"

#include <optional>
#include <string_view>

namespace wangge::geo {

enum class InputCrs { wgs84, gcj02, bd09 };

// "wgs84" | "gcj02" | "bd09" (also "EPSG:4326" for wgs84), case-insensitive; nullopt otherwise.
std::optional<InputCrs> parse_input_crs(std::string_view text);
std::string_view to_string(InputCrs crs) noexcept;

bool outside_china(LonLat p) noexcept;
LonLat wgs84_to_gcj02(LonLat p) noexcept;
LonLat gcj02_to_wgs84(LonLat p) noexcept;
LonLat gcj02_to_bd09(LonLat p) noexcept;
LonLat bd09_to_gcj02(LonLat p) noexcept;
LonLat to_wgs84(LonLat p, InputCrs crs) noexcept;

} // namespace wangge::geo

#pragma once
// UTC timestamps as Wangge stores and sends them: ISO 8601 with seconds, "2026-12-04T16:00:00Z".
// Text of this one form sorts as the times do, so the store compares it directly.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace wangge {

using SystemTime = std::chrono::system_clock::time_point;

std::string format_utc(SystemTime t);
// Accepts "YYYY-MM-DD" (midnight UTC) and "YYYY-MM-DDTHH:MM:SSZ"; nullopt for anything else.
std::optional<SystemTime> parse_utc(std::string_view text);

} // namespace wangge

#include "core/time.hpp"

#include <cstdio>

namespace wangge {

std::string format_utc(SystemTime t) {
    using namespace std::chrono;
    const auto secs = floor<seconds>(t);
    const auto day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss hms{secs - day};
    char out[32];
    std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
    return out;
}

std::optional<SystemTime> parse_utc(std::string_view text) {
    using namespace std::chrono;
    auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    if (text.size() != 10 && text.size() != 20) return std::nullopt;
    const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
    if (!y || !mo || !d || text[4] != '-' || text[7] != '-') return std::nullopt;
    // SystemTime counts nanoseconds in 64 bits: years from 1678 to 2261 only. Wangge's times are
    // this era's; anything far outside is refused rather than overflowing.
    if (*y < 1900 || *y > 2200) return std::nullopt;
    const year_month_day ymd{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
    if (!ymd.ok()) return std::nullopt;
    SystemTime t = sys_days{ymd};
    if (text.size() == 10) return t;
    const auto h = digits(11, 2), mi = digits(14, 2), s = digits(17, 2);
    if (!h || !mi || !s || text[10] != 'T' || text[13] != ':' || text[16] != ':' || text[19] != 'Z' || *h > 23 ||
        *mi > 59 || *s > 59)
        return std::nullopt;
    return t + hours{*h} + minutes{*mi} + seconds{*s};
}

} // namespace wangge

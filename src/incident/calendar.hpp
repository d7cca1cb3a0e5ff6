#pragma once
// The working calendar (工作日历) that time limits run on (docs/INCIDENTS.md, "The working
// calendar"): daily work-hour windows, weekly rest days, and per year the public holidays
// (法定节假日) and the weekend days that are working days instead (调休上班), as the State
// Council announces them each year. All local times are China Standard Time, UTC+8 all year (China has
// no daylight saving time). Data, not code: data/calendar.json.
#include "core/time.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::incident {

// The unit of a time limit (处置时限): 工作时 or 工作日.
enum class LimitUnit { working_hours, working_days };
std::string_view to_string(LimitUnit u) noexcept;
// "working_hours"/"working_days" and 工作时/工作日; nullopt for anything else.
std::optional<LimitUnit> parse_limit_unit(std::string_view text) noexcept;

// An amount of working time, e.g. 2 working hours or 3 working days. Amounts are positive.
struct Limit {
    int amount = 0;
    LimitUnit unit = LimitUnit::working_hours;
    friend bool operator==(const Limit&, const Limit&) = default;
};
// "2 working_hours"
std::string to_string(const Limit& limit);

// 亮灯: how much of a case's time limit has been used.
enum class Light { green, yellow, red };
std::string_view to_string(Light l) noexcept;

// A daily work-hour window in local time, as minutes after local midnight, half-open [start, end).
struct WorkWindow {
    std::chrono::minutes start{0};
    std::chrono::minutes end{0};
    friend bool operator==(const WorkWindow&, const WorkWindow&) = default;
};

class Calendar {
public:
    // China Standard Time.
    static constexpr std::chrono::hours utc_offset{8};

    // 08:30-12:00 and 13:30-17:30, Saturday and Sunday off, no holidays known.
    static Calendar defaults();
    // Reads data/calendar.json. Throws Error(io, "unreadable_file") when the file cannot be read
    // and Error(unprocessable, "invalid_calendar") naming the wrong entry when it is invalid.
    static Calendar load(const std::filesystem::path& path);
    static Calendar parse(std::string_view json_text);

    const std::string& version() const noexcept { return m_version; }
    const std::vector<WorkWindow>& windows() const noexcept { return m_windows; }

    // The local (UTC+8) calendar date of an instant.
    static std::chrono::year_month_day local_date(SystemTime t);
    // Whether the holidays and swapped working days of this year are in the calendar. A year
    // that is not covered has only weekly rest days: load next year's arrangement when the
    // State Council publishes it (usually in November).
    bool covers(std::chrono::year y) const noexcept;
    // A 调休 working day, or a day that is neither a weekly rest day nor a public holiday.
    bool is_working_day(std::chrono::year_month_day date) const;
    // Inside a work-hour window of a working day.
    bool is_working_time(SystemTime t) const;

    // The due time of a limit started at `start`:
    // - working hours: `start` plus that many minutes, counting only minutes inside the windows
    //   of working days; a due time that falls on the end of a window is that end;
    // - working days: `start` is first moved to the next working instant (itself when it is
    //   inside a window); the day of that instant is day 0, and the due time is the end of the
    //   last window of the amount-th working day after it.
    // Throws Error(unprocessable, "invalid_limit") for an amount that is not positive.
    SystemTime add_working(SystemTime start, Limit limit) const;
    // Working time inside [a, b), rounded down to whole minutes; zero when b <= a.
    std::chrono::minutes working_time_between(SystemTime a, SystemTime b) const;
    // Green while under 80% of the working time from report to due has passed, yellow from
    // 80% up to and including the due time, red once `now` is after the due time.
    Light light(SystemTime reported_at, SystemTime due_at, SystemTime now) const;

private:
    SystemTime::duration working_duration_between(SystemTime a, SystemTime b) const;

    std::string m_version;
    std::vector<WorkWindow> m_windows;
    std::set<unsigned> m_rest_weekdays;                 // c_encoding(): 0 = Sunday .. 6 = Saturday
    std::set<int> m_years;                              // years whose arrangement is known
    std::set<std::chrono::sys_days> m_holidays;         // 放假 (local dates)
    std::set<std::chrono::sys_days> m_extra_working;    // 调休上班 (local dates)
};

} // namespace wangge::incident

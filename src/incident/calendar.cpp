#include "incident/calendar.hpp"

#include "incident/data_file.hpp"

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>

namespace wangge::incident {

namespace {

using namespace std::chrono;
using Duration = SystemTime::duration;

// A search for working time gives up after this many days: a calendar whose every day is off.
constexpr int max_search_days = 3660;

constexpr std::array<std::string_view, 7> weekday_names{"sunday",   "monday", "tuesday", "wednesday",
                                                         "thursday", "friday", "saturday"};

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
    throw Error(ErrorKind::unprocessable, "invalid_calendar", "calendar: " + where + ": " + what);
}

sys_days local_day(SystemTime t) { return floor<days>(t + Calendar::utc_offset); }

// The instant of a local time of day on a local date.
SystemTime at(sys_days day, minutes time_of_day) {
    return SystemTime{day} + time_of_day - Calendar::utc_offset;
}

std::string format_date(sys_days d) { return format_utc(SystemTime{d}).substr(0, 10); }

// "HH:MM", 00:00 to 24:00.
std::optional<minutes> parse_time_of_day(std::string_view text) {
    auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
    if (text.size() != 5 || text[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4)) return std::nullopt;
    const int h = (text[0] - '0') * 10 + (text[1] - '0');
    const int m = (text[3] - '0') * 10 + (text[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
    return hours{h} + minutes{m};
}

// "YYYY-MM-DD" only.
std::optional<sys_days> parse_date(std::string_view text) {
    if (text.size() != 10) return std::nullopt;
    const auto t = parse_utc(text);
    if (!t) return std::nullopt;
    return floor<days>(*t);
}

const nlohmann::json& require(const nlohmann::json& object, const char* key, const std::string& where) {
    const auto it = object.find(key);
    if (it == object.end()) invalid(where, std::string("'") + key + "' is missing");
    return *it;
}

std::string string_at(const nlohmann::json& object, const char* key, const std::string& where) {
    const auto& v = require(object, key, where);
    if (!v.is_string()) invalid(where, std::string("'") + key + "' must be a string");
    return v.get<std::string>();
}

void no_unknown_keys(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                     const std::string& where) {
    if (const auto key = detail::unknown_key(object, known)) invalid(where, "unknown key '" + *key + "'");
}

std::vector<WorkWindow> parse_windows(const nlohmann::json& j) {
    if (!j.is_array() || j.empty()) invalid("windows", "must be a non-empty array of {\"from\", \"to\"}");
    std::vector<WorkWindow> windows;
    for (std::size_t i = 0; i < j.size(); ++i) {
        const std::string where = "windows[" + std::to_string(i) + "]";
        if (!j[i].is_object()) invalid(where, "must be an object {\"from\": \"HH:MM\", \"to\": \"HH:MM\"}");
        no_unknown_keys(j[i], {"from", "to"}, where);
        const auto from_text = string_at(j[i], "from", where);
        const auto to_text = string_at(j[i], "to", where);
        const auto from = parse_time_of_day(from_text);
        const auto to = parse_time_of_day(to_text);
        if (!from) invalid(where, "'from' " + from_text + " is not a time of day HH:MM");
        if (!to) invalid(where, "'to' " + to_text + " is not a time of day HH:MM");
        if (*from >= *to) invalid(where, from_text + "-" + to_text + " does not end after it starts");
        if (!windows.empty() && *from < windows.back().end)
            invalid(where, from_text + "-" + to_text + " starts before the previous window ends");
        windows.push_back({*from, *to});
    }
    return windows;
}

std::set<unsigned> parse_rest_weekdays(const nlohmann::json& j) {
    if (!j.is_array()) invalid("rest_weekdays", "must be an array of weekday names");
    std::set<unsigned> rest;
    for (const auto& name : j) {
        const auto text = name.is_string() ? name.get<std::string>() : name.dump();
        const auto it = std::find(weekday_names.begin(), weekday_names.end(), text);
        if (it == weekday_names.end()) invalid("rest_weekdays", "'" + text + "' is not a weekday (monday..sunday)");
        if (!rest.insert(static_cast<unsigned>(it - weekday_names.begin())).second)
            invalid("rest_weekdays", "'" + text + "' is listed twice");
    }
    if (rest.size() == weekday_names.size()) invalid("rest_weekdays", "every day of the week is a rest day");
    return rest;
}

sys_days date_at(const nlohmann::json& object, const char* key, int listed_year, const std::string& where) {
    const auto text = string_at(object, key, where);
    const auto d = parse_date(text);
    if (!d) invalid(where, std::string("'") + key + "' " + text + " is not a date YYYY-MM-DD");
    // A holiday of one year may begin in the last days of the year before (元旦).
    const int y = static_cast<int>(year_month_day{*d}.year());
    if (y < listed_year - 1 || y > listed_year + 1)
        invalid(where, text + " is far from the year " + std::to_string(listed_year));
    return *d;
}

} // namespace

std::string_view to_string(LimitUnit u) noexcept {
    return u == LimitUnit::working_hours ? "working_hours" : "working_days";
}

std::optional<LimitUnit> parse_limit_unit(std::string_view text) noexcept {
    if (text == "working_hours" || text == "工作时") return LimitUnit::working_hours;
    if (text == "working_days" || text == "工作日") return LimitUnit::working_days;
    return std::nullopt;
}

std::string to_string(const Limit& limit) {
    return std::to_string(limit.amount) + " " + std::string(to_string(limit.unit));
}

std::string_view to_string(Light l) noexcept {
    switch (l) {
    case Light::green: return "green";
    case Light::yellow: return "yellow";
    case Light::red: return "red";
    }
    return {};
}

Calendar Calendar::defaults() {
    Calendar c;
    c.m_version = "default";
    c.m_windows = {{hours{8} + minutes{30}, hours{12}}, {hours{13} + minutes{30}, hours{17} + minutes{30}}};
    c.m_rest_weekdays = {Saturday.c_encoding(), Sunday.c_encoding()};
    return c;
}

Calendar Calendar::load(const std::filesystem::path& path) {
    return detail::load_data_file<Calendar>(path, "working calendar", [](std::string_view text) { return parse(text); });
}

Calendar Calendar::parse(std::string_view json_text) {
    const nlohmann::json j = detail::parse_data_object(json_text, "invalid_calendar", "calendar");
    no_unknown_keys(j, {"version", "source", "windows", "rest_weekdays", "years"}, "top level");

    Calendar c = defaults();
    c.m_version = string_at(j, "version", "top level");
    if (c.m_version.empty()) invalid("version", "must not be empty");
    if (const auto it = j.find("windows"); it != j.end()) c.m_windows = parse_windows(*it);
    if (const auto it = j.find("rest_weekdays"); it != j.end()) c.m_rest_weekdays = parse_rest_weekdays(*it);

    const auto years_it = j.find("years");
    if (years_it == j.end()) return c;
    if (!years_it->is_object()) invalid("years", "must be an object keyed by year");
    for (const auto& [key, entry] : years_it->items()) {
        const std::string where_year = "years." + key;
        const bool four_digits =
            key.size() == 4 && std::all_of(key.begin(), key.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        if (!four_digits) invalid(where_year, "the key must be a year YYYY");
        const int listed_year = std::stoi(key);
        if (!entry.is_object()) invalid(where_year, "must be an object {\"holidays\", \"working_days\"}");
        no_unknown_keys(entry, {"source", "holidays", "working_days"}, where_year);
        c.m_years.insert(listed_year);

        const auto& holidays = require(entry, "holidays", where_year);
        if (!holidays.is_array()) invalid(where_year + ".holidays", "must be an array");
        for (std::size_t i = 0; i < holidays.size(); ++i) {
            const auto& h = holidays[i];
            std::string where = where_year + ".holidays[" + std::to_string(i) + "]";
            if (!h.is_object()) invalid(where, "must be an object {\"name\", \"from\", \"to\"}");
            no_unknown_keys(h, {"name", "from", "to"}, where);
            where += " (" + string_at(h, "name", where) + ")";
            const auto from = date_at(h, "from", listed_year, where);
            const auto to = date_at(h, "to", listed_year, where);
            if (to < from) invalid(where, "'to' is before 'from'");
            if (to - from > days{31}) invalid(where, "lasts more than a month");
            for (auto d = from; d <= to; d += days{1})
                if (!c.m_holidays.insert(d).second) invalid(where, format_date(d) + " is already a holiday");
        }

        const auto working = entry.find("working_days");
        if (working == entry.end()) continue;
        if (!working->is_array()) invalid(where_year + ".working_days", "must be an array");
        for (std::size_t i = 0; i < working->size(); ++i) {
            const auto& w = (*working)[i];
            std::string where = where_year + ".working_days[" + std::to_string(i) + "]";
            if (!w.is_object()) invalid(where, "must be an object {\"name\", \"date\"}");
            no_unknown_keys(w, {"name", "date"}, where);
            where += " (" + string_at(w, "name", where) + ")";
            const auto d = date_at(w, "date", listed_year, where);
            if (!c.m_rest_weekdays.contains(weekday{d}.c_encoding()))
                invalid(where, format_date(d) + " is not a weekly rest day; only a rest day can be swapped");
            if (!c.m_extra_working.insert(d).second) invalid(where, format_date(d) + " is listed twice");
        }
    }
    // Checked once every year is read: a holiday listed under one year and a working day under
    // the next may meet at the turn of the year.
    for (const auto d : c.m_extra_working)
        if (c.m_holidays.contains(d)) invalid("years", format_date(d) + " is both a holiday and a working day");
    return c;
}

year_month_day Calendar::local_date(SystemTime t) { return year_month_day{local_day(t)}; }

bool Calendar::covers(year y) const noexcept { return m_years.contains(static_cast<int>(y)); }

bool Calendar::is_working_day(year_month_day date) const {
    const sys_days d{date};
    if (m_extra_working.contains(d)) return true;
    if (m_holidays.contains(d)) return false;
    return !m_rest_weekdays.contains(weekday{d}.c_encoding());
}

bool Calendar::is_working_time(SystemTime t) const {
    const auto d = local_day(t);
    if (!is_working_day(year_month_day{d})) return false;
    return std::any_of(m_windows.begin(), m_windows.end(),
                       [&](const WorkWindow& w) { return at(d, w.start) <= t && t < at(d, w.end); });
}

SystemTime Calendar::add_working(SystemTime start, Limit limit) const {
    if (limit.amount <= 0)
        throw Error(ErrorKind::unprocessable, "invalid_limit", "a time limit must be positive, not " + to_string(limit));
    auto day = local_day(start);
    if (limit.unit == LimitUnit::working_hours) {
        Duration remaining = hours{limit.amount};
        for (int i = 0; i < max_search_days; ++i, day += days{1}) {
            if (!is_working_day(year_month_day{day})) continue;
            for (const auto& w : m_windows) {
                const auto from = std::max(start, at(day, w.start));
                const auto to = at(day, w.end);
                if (from >= to) continue;
                if (remaining <= to - from) return from + remaining;
                remaining -= to - from;
            }
        }
    } else {
        // Day 0 is the day of the next working instant at or after start.
        for (int i = 0; i < max_search_days; ++i, day += days{1})
            if (is_working_day(year_month_day{day}) && start < at(day, m_windows.back().end)) break;
        for (int counted = 0, i = 0; i < max_search_days; ++i) {
            day += days{1};
            if (is_working_day(year_month_day{day}) && ++counted == limit.amount)
                return at(day, m_windows.back().end);
        }
    }
    throw Error(ErrorKind::unprocessable, "invalid_calendar",
                "calendar " + m_version + ": no working time within ten years after " + format_utc(start));
}

Duration Calendar::working_duration_between(SystemTime a, SystemTime b) const {
    Duration total{0};
    if (b <= a) return total;
    for (auto day = local_day(a); day <= local_day(b); day += days{1}) {
        if (!is_working_day(year_month_day{day})) continue;
        for (const auto& w : m_windows) {
            const auto from = std::max(a, at(day, w.start));
            const auto to = std::min(b, at(day, w.end));
            if (from < to) total += to - from;
        }
    }
    return total;
}

minutes Calendar::working_time_between(SystemTime a, SystemTime b) const {
    return floor<minutes>(working_duration_between(a, b));
}

Light Calendar::light(SystemTime reported_at, SystemTime due_at, SystemTime now) const {
    if (now > due_at) return Light::red;
    const auto limit = working_duration_between(reported_at, due_at).count();
    const auto used = working_duration_between(reported_at, now).count();
    // Integer comparison of used/limit >= 4/5, so the 80% boundary is exact.
    return used * 5 >= limit * 4 ? Light::yellow : Light::green;
}

} // namespace wangge::incident

// The working calendar: due times in working hours and working days across a lunch break, an
// evening, a weekend, the 2026 public holidays and their 调休 working days; working time between
// two instants; the traffic light at its exact boundaries; files that are refused.
#include "incident/calendar.hpp"

#include "core/error.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>

using namespace wangge;
using namespace wangge::incident;
using namespace std::chrono;
using Catch::Matchers::Contains;

namespace {

// "2026-03-02 08:30" China time.
SystemTime cst(const std::string& local) {
    const auto t = parse_utc(local.substr(0, 10) + "T" + local.substr(11) + (local.size() == 16 ? ":00Z" : "Z"));
    REQUIRE(t);
    return *t - hours{8};
}

// The China time of an instant as "2026-03-02 08:30", seconds added when not zero.
std::string local(SystemTime t) {
    const auto text = format_utc(t + hours{8});
    const auto out = text.substr(0, 10) + " " + text.substr(11, 5);
    return text.substr(17, 2) == "00" ? out : out + ":" + text.substr(17, 2);
}

year_month_day date(int y, unsigned m, unsigned d) { return year{y} / month{m} / day{d}; }

const Calendar& shipped() {
    static const Calendar c = Calendar::load(test::data_dir / "calendar.json");
    return c;
}

constexpr Limit hours_limit(int n) { return {n, LimitUnit::working_hours}; }
constexpr Limit days_limit(int n) { return {n, LimitUnit::working_days}; }

std::string refusal(const std::string& json) {
    try {
        Calendar::parse(json);
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::unprocessable);
        CHECK(e.code() == "invalid_calendar");
        return e.what();
    }
    FAIL("accepted: " << json);
    return {};
}

} // namespace

TEST_CASE("calendar: the shipped file has the 2026 arrangement", "[incident][calendar]") {
    const auto& c = shipped();
    CHECK_FALSE(c.version().empty());
    CHECK(c.windows() == Calendar::defaults().windows());
    CHECK(c.covers(year{2026}));
    CHECK_FALSE(c.covers(year{2030}));
    // 元旦: Thursday 1 to Saturday 3 January off, Sunday 4 January worked.
    CHECK_FALSE(c.is_working_day(date(2026, 1, 1)));
    CHECK_FALSE(c.is_working_day(date(2026, 1, 2)));
    CHECK(c.is_working_day(date(2026, 1, 4)));
    // 春节: Sunday 15 to Monday 23 February off; Saturdays 14 and 28 February worked.
    CHECK(c.is_working_day(date(2026, 2, 13)));
    CHECK(c.is_working_day(date(2026, 2, 14)));
    for (unsigned d = 15; d <= 23; ++d) CHECK_FALSE(c.is_working_day(date(2026, 2, d)));
    CHECK(c.is_working_day(date(2026, 2, 24)));
    CHECK(c.is_working_day(date(2026, 2, 28)));
    // An ordinary weekend and an ordinary Monday.
    CHECK_FALSE(c.is_working_day(date(2026, 3, 7)));
    CHECK_FALSE(c.is_working_day(date(2026, 3, 8)));
    CHECK(c.is_working_day(date(2026, 3, 9)));
    // 清明, 劳动节 (and Saturday 9 May worked), 端午, 中秋, 国庆 (Sunday 20 September and Saturday 10
    // October worked).
    CHECK_FALSE(c.is_working_day(date(2026, 4, 6)));
    CHECK_FALSE(c.is_working_day(date(2026, 5, 5)));
    CHECK(c.is_working_day(date(2026, 5, 9)));
    CHECK_FALSE(c.is_working_day(date(2026, 6, 19)));
    CHECK_FALSE(c.is_working_day(date(2026, 9, 25)));
    CHECK(c.is_working_day(date(2026, 9, 20)));
    CHECK_FALSE(c.is_working_day(date(2026, 10, 7)));
    CHECK(c.is_working_day(date(2026, 10, 8)));
    CHECK(c.is_working_day(date(2026, 10, 10)));
}

TEST_CASE("calendar: local dates and working time are in China time", "[incident][calendar]") {
    const auto& c = shipped();
    // 2026-03-02 23:30 UTC is already Tuesday 3 March in China.
    CHECK(Calendar::local_date(*parse_utc("2026-03-02T23:30:00Z")) == date(2026, 3, 3));
    CHECK(c.is_working_time(cst("2026-03-02 08:30")));
    CHECK(c.is_working_time(cst("2026-03-02 11:59:59")));
    CHECK_FALSE(c.is_working_time(cst("2026-03-02 12:00")));
    CHECK_FALSE(c.is_working_time(cst("2026-03-02 08:29:59")));
    CHECK_FALSE(c.is_working_time(cst("2026-03-07 10:00"))); // Saturday
    CHECK(c.is_working_time(cst("2026-02-14 10:00")));       // 调休 Saturday
}

TEST_CASE("calendar: due times in working hours", "[incident][calendar]") {
    const auto& c = shipped();
    // Across the lunch break: one hour before noon, one after 13:30.
    CHECK(local(c.add_working(cst("2026-03-02 11:00"), hours_limit(2))) == "2026-03-02 14:30");
    // A due time on the end of a window is that end, not the start of the next one.
    CHECK(local(c.add_working(cst("2026-03-02 09:00"), hours_limit(3))) == "2026-03-02 12:00");
    // Started at noon or during lunch: counted from 13:30.
    CHECK(local(c.add_working(cst("2026-03-02 12:00"), hours_limit(1))) == "2026-03-02 14:30");
    CHECK(local(c.add_working(cst("2026-03-02 12:45"), hours_limit(1))) == "2026-03-02 14:30");
    // Across an evening.
    CHECK(local(c.add_working(cst("2026-03-02 16:30"), hours_limit(2))) == "2026-03-03 09:30");
    // Over a whole day: 7.5 hours on Monday, 2.5 on Tuesday.
    CHECK(local(c.add_working(cst("2026-03-02 08:30"), hours_limit(10))) == "2026-03-03 11:00");
    // Across a weekend: half an hour on Friday, then Monday.
    CHECK(local(c.add_working(cst("2026-03-06 17:00"), hours_limit(2))) == "2026-03-09 10:00");
    // Across 清明 (Saturday 4 to Monday 6 April): Tuesday.
    CHECK(local(c.add_working(cst("2026-04-03 16:30"), hours_limit(2))) == "2026-04-07 09:30");
    // The worked example of docs/INCIDENTS.md.
    CHECK(local(c.add_working(cst("2026-04-03 17:00"), hours_limit(2))) == "2026-04-07 10:00");
    CHECK(local(c.add_working(cst("2026-04-03 17:00"), days_limit(1))) == "2026-04-07 17:30");
    // Into a 调休 Saturday that is a working day (14 February, before 春节).
    CHECK(local(c.add_working(cst("2026-02-13 17:00"), hours_limit(2))) == "2026-02-14 10:00");
    // Seconds are kept.
    CHECK(local(c.add_working(cst("2026-03-02 10:00:30"), hours_limit(1))) == "2026-03-02 11:00:30");
}

TEST_CASE("calendar: a report made at night or on a holiday starts with the next window",
          "[incident][calendar]") {
    const auto& c = shipped();
    CHECK(local(c.add_working(cst("2026-03-03 22:00"), hours_limit(2))) == "2026-03-04 10:30");
    CHECK(local(c.add_working(cst("2026-03-04 03:00"), hours_limit(2))) == "2026-03-04 10:30");
    // During 国庆 (1 to 7 October): Thursday 8 October is the first working day.
    CHECK(local(c.add_working(cst("2026-10-03 10:00"), hours_limit(2))) == "2026-10-08 10:30");
    CHECK(local(c.add_working(cst("2026-10-03 10:00"), days_limit(1))) == "2026-10-09 17:30");
    // On an ordinary Saturday: Monday is day 0.
    CHECK(local(c.add_working(cst("2026-03-07 10:00"), days_limit(1))) == "2026-03-10 17:30");
}

TEST_CASE("calendar: due times in working days", "[incident][calendar]") {
    const auto& c = shipped();
    // Inside working time: the day of the report is day 0.
    CHECK(local(c.add_working(cst("2026-03-02 10:00"), days_limit(1))) == "2026-03-03 17:30");
    CHECK(local(c.add_working(cst("2026-03-02 10:00"), days_limit(5))) == "2026-03-09 17:30");
    // Before the first window and during lunch it is still the same day 0.
    CHECK(local(c.add_working(cst("2026-03-02 07:00"), days_limit(1))) == "2026-03-03 17:30");
    CHECK(local(c.add_working(cst("2026-03-02 12:30"), days_limit(1))) == "2026-03-03 17:30");
    // Friday one minute before closing: day 0 is Friday; at closing it is Monday.
    CHECK(local(c.add_working(cst("2026-03-06 17:29"), days_limit(1))) == "2026-03-09 17:30");
    CHECK(local(c.add_working(cst("2026-03-06 17:30"), days_limit(1))) == "2026-03-10 17:30");
    // Across 春节: Friday 13 February, then the 调休 Saturday 14, then Tuesday 24 and Wednesday 25.
    CHECK(local(c.add_working(cst("2026-02-13 10:00"), days_limit(3))) == "2026-02-25 17:30");
    // Across 劳动节 (1 to 5 May) with Saturday 9 May worked.
    CHECK(local(c.add_working(cst("2026-04-30 10:00"), days_limit(4))) == "2026-05-09 17:30");
}

TEST_CASE("calendar: a limit that is not positive is refused", "[incident][calendar]") {
    const auto& c = shipped();
    CHECK_THROWS_AS(c.add_working(cst("2026-03-02 10:00"), hours_limit(0)), Error);
    CHECK_THROWS_AS(c.add_working(cst("2026-03-02 10:00"), days_limit(-1)), Error);
}

TEST_CASE("calendar: working time between two instants", "[incident][calendar]") {
    const auto& c = shipped();
    CHECK(c.working_time_between(cst("2026-03-02 11:00"), cst("2026-03-02 14:30")) == minutes{120});
    CHECK(c.working_time_between(cst("2026-03-02 16:30"), cst("2026-03-03 09:30")) == minutes{120});
    CHECK(c.working_time_between(cst("2026-03-06 17:00"), cst("2026-03-09 10:00")) == minutes{120});
    CHECK(c.working_time_between(cst("2026-04-03 16:30"), cst("2026-04-07 09:30")) == minutes{120});
    CHECK(c.working_time_between(cst("2026-02-13 17:00"), cst("2026-02-14 10:00")) == minutes{120});
    // From a night to a holiday and back: nothing.
    CHECK(c.working_time_between(cst("2026-10-01 00:00"), cst("2026-10-08 08:30")) == minutes{0});
    // An ordinary week: five days of 7.5 hours.
    CHECK(c.working_time_between(cst("2026-03-02 00:00"), cst("2026-03-09 00:00")) == minutes{5 * 450});
    // The 春节 week from Saturday 14 to Saturday 21 February: only the 调休 Saturday.
    CHECK(c.working_time_between(cst("2026-02-14 00:00"), cst("2026-02-21 00:00")) == minutes{450});
    // Rounded down to whole minutes; reversed or empty intervals are zero.
    CHECK(c.working_time_between(cst("2026-03-02 08:30"), cst("2026-03-02 08:30:59")) == minutes{0});
    CHECK(c.working_time_between(cst("2026-03-02 14:30"), cst("2026-03-02 11:00")) == minutes{0});
}

TEST_CASE("calendar: the time of a due date is exactly the limit", "[incident][calendar]") {
    const auto& c = shipped();
    // Every 37 minutes through February and March 2026 (春节, 调休 Saturdays, nights, lunches).
    for (auto start = cst("2026-02-01 00:00"); start < cst("2026-04-01 00:00"); start += minutes{37}) {
        for (int h : {1, 2, 4, 8, 24}) {
            const auto due = c.add_working(start, hours_limit(h));
            INFO(local(start) << " + " << h << " working hours = " << local(due));
            REQUIRE(c.working_time_between(start, due) == hours{h});
            REQUIRE(c.is_working_time(due - seconds{1}));
        }
    }
}

TEST_CASE("calendar: the traffic light at its boundaries", "[incident][calendar]") {
    const auto& c = shipped();
    // Ten working hours from Monday 08:30: due Tuesday 11:00; 80% (480 minutes) is Tuesday 09:00.
    const auto reported = cst("2026-03-02 08:30");
    const auto due = c.add_working(reported, hours_limit(10));
    REQUIRE(local(due) == "2026-03-03 11:00");
    CHECK(c.light(reported, due, reported) == Light::green);
    CHECK(c.light(reported, due, cst("2026-03-02 20:00")) == Light::green); // 450 minutes, 75%
    CHECK(c.light(reported, due, cst("2026-03-03 08:59:59")) == Light::green);
    CHECK(c.light(reported, due, cst("2026-03-03 09:00")) == Light::yellow); // exactly 80%
    CHECK(c.light(reported, due, cst("2026-03-03 10:59:59")) == Light::yellow);
    CHECK(c.light(reported, due, due) == Light::yellow); // exactly 100%: due, not yet overdue
    CHECK(c.light(reported, due, due + seconds{1}) == Light::red);
    CHECK(c.light(reported, due, cst("2026-03-03 12:30")) == Light::red);

    // Reported at night: the limit runs from the next window, so the night uses none of it.
    const auto night = cst("2026-03-02 20:00");
    const auto night_due = c.add_working(night, hours_limit(2)); // Tuesday 10:30
    CHECK(c.light(night, night_due, cst("2026-03-03 08:00")) == Light::green);
    CHECK(c.light(night, night_due, cst("2026-03-03 10:05:59")) == Light::green);
    CHECK(c.light(night, night_due, cst("2026-03-03 10:06")) == Light::yellow); // 96 of 120 minutes
    CHECK(c.light(night, night_due, cst("2026-03-03 10:30:01")) == Light::red);

    // Overdue is measured against the due time itself, also when no working time has passed since.
    const auto friday = cst("2026-03-06 16:30");
    const auto friday_due = c.add_working(friday, hours_limit(1)); // 17:30
    CHECK(c.light(friday, friday_due, cst("2026-03-07 10:00")) == Light::red);
}

TEST_CASE("calendar: the defaults know no holidays", "[incident][calendar]") {
    const auto c = Calendar::defaults();
    CHECK_FALSE(c.covers(year{2026}));
    CHECK(c.is_working_day(date(2026, 10, 1)));  // a Thursday; no holidays loaded
    CHECK_FALSE(c.is_working_day(date(2026, 2, 14))); // a Saturday; no 调休 loaded
}

TEST_CASE("calendar: invalid files are refused with the entry named", "[incident][calendar]") {
    CHECK_THROWS_AS(Calendar::load(test::data_dir / "no-such-calendar.json"), Error);
    CHECK_THAT(refusal("[1]"), Contains("top level"));
    CHECK_THAT(refusal(R"({"windows": []})"), Contains("'version' is missing"));
    CHECK_THAT(refusal(R"({"version": "t", "windowz": []})"), Contains("unknown key 'windowz'"));
    CHECK_THAT(refusal(R"({"version": "t", "windows": [{"from": "08:30", "to": "8:00"}]})"),
               Contains("windows[0]: 'to' 8:00 is not a time of day"));
    CHECK_THAT(refusal(R"({"version": "t", "windows": [{"from": "13:30", "to": "17:30"}, {"from": "08:30", "to": "12:00"}]})"),
               Contains("windows[1]: 08:30-12:00 starts before the previous window ends"));
    CHECK_THAT(refusal(R"({"version": "t", "rest_weekdays": ["saturday", "sundae"]})"),
               Contains("'sundae' is not a weekday"));
    CHECK_THAT(refusal(R"({"version": "t", "years": {"2026": {"holidays": [
                   {"name": "清明节", "from": "2026-04-04", "to": "2026-04-31"}]}}})"),
               Contains("years.2026.holidays[0] (清明节): 'to' 2026-04-31 is not a date"));
    CHECK_THAT(refusal(R"({"version": "t", "years": {"2026": {"holidays": [
                   {"name": "国庆节", "from": "2026-10-07", "to": "2026-10-01"}]}}})"),
               Contains("years.2026.holidays[0] (国庆节): 'to' is before 'from'"));
    CHECK_THAT(refusal(R"({"version": "t", "years": {"2026": {"holidays": [], "working_days": [
                   {"name": "春节调休", "date": "2026-02-13"}]}}})"),
               Contains("years.2026.working_days[0] (春节调休): 2026-02-13 is not a weekly rest day"));
    CHECK_THAT(refusal(R"({"version": "t", "years": {"2026": {"holidays": [
                   {"name": "春节", "from": "2026-02-14", "to": "2026-02-23"}], "working_days": [
                   {"name": "春节调休", "date": "2026-02-14"}]}}})"),
               Contains("2026-02-14 is both a holiday and a working day"));
    CHECK_THAT(refusal(R"({"version": "t", "years": {"26": {"holidays": []}}})"),
               Contains("years.26: the key must be a year"));
}

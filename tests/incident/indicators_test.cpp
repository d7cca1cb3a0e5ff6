// Indicators on a small district whose numbers are worked out by hand below: which cases count in
// a period (an open overdue case does, lowering 按期结案率; cases closed before it, voided,
// suspended, not yet accepted or due after it do not), the rates, zero denominators reported as
// absent, the composite score and its weights, grouping by community, worker, grid and category.
#include "incident/indicators.hpp"

#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace wangge;
using namespace wangge::incident;

namespace {

SystemTime at(std::string_view text) { return *parse_utc(text); }

const std::string c1 = "320102003001";
const std::string c2 = "320102003002";
const std::string g1 = c1 + "001";
const std::string g2 = c1 + "002";
const std::string g3 = c2 + "001";

const Period november{at("2026-11-01"), at("2026-12-01")};

CaseFacts fact(std::string id, const std::string& grid, std::string worker, std::string category, State state,
               std::string_view due, std::optional<std::string_view> closed = std::nullopt) {
    CaseFacts c;
    c.id = std::move(id);
    c.street = grid.substr(0, 9);
    c.community = grid.substr(0, 12);
    c.grid = grid;
    c.worker = std::move(worker);
    c.category = std::move(category);
    c.state = state;
    c.reported_at = at(due) - std::chrono::hours(72);
    c.due_at = at(due);
    if (closed) c.closed_at = at(*closed);
    c.handled = state == State::handled || state == State::verified || state == State::closed;
    return c;
}

// November 2026. The cases that count (C: closed in November, T: on time, H: handled,
// R: reworked, E: extended, rating, handling minutes):
//   A c1/g1 li   0101 due 11-10, closed 11-08  C T H      5  600
//   B c1/g1 li   0101 due 11-12, closed 11-15  C   H R    3 1200  (late)
//   C c1/g2 zhao 0203 due 11-20, in progress          E           (open, overdue)
//   D c1/g2 zhao 0101 due 12-10, closed 11-25  C T H   E  4  900  (closed early: counts now)
//   E c2/g3 sun  0102 due 10-28, closed 11-03  C   H R    4 1800  (late, closed in November)
//   J c1/g1 li   0101 due 11-30 23:59:59, fed back, H             (not yet verified)
//   L c2/g3 sun  0301 due and closed 11-01 00:00  C T H           (on time at the very instant)
// and those that do not: F closed 10-30 (before the period), G invalid, H due 12-05 and open
// (after), I suspended, K due 12-01 00:00 (the end is excluded), M never accepted, N open and
// overdue since 10-20 (it counts in October).
std::vector<CaseFacts> district() {
    std::vector<CaseFacts> cases;
    auto& a = cases.emplace_back(fact("A", g1, "li", "0101", State::closed, "2026-11-10T09:00:00Z",
                                      "2026-11-08T10:00:00Z"));
    a.rating = 5;
    a.handling_minutes = 600;
    auto& b = cases.emplace_back(fact("B", g1, "li", "0101", State::closed, "2026-11-12T09:00:00Z",
                                      "2026-11-15T09:00:00Z"));
    b.reworks = 1;
    b.rating = 3;
    b.handling_minutes = 1200;
    auto& c = cases.emplace_back(fact("C", g2, "zhao", "0203", State::in_progress, "2026-11-20T09:00:00Z"));
    c.extended = true;
    auto& d = cases.emplace_back(fact("D", g2, "zhao", "0101", State::closed, "2026-12-10T09:00:00Z",
                                      "2026-11-25T12:00:00Z"));
    d.extended = true;
    d.rating = 4;
    d.handling_minutes = 900;
    auto& e = cases.emplace_back(fact("E", g3, "sun", "0102", State::closed, "2026-10-28T09:00:00Z",
                                      "2026-11-03T10:00:00Z"));
    e.reworks = 2;
    e.rating = 4;
    e.handling_minutes = 1800;
    cases.push_back(fact("J", g1, "li", "0101", State::handled, "2026-11-30T23:59:59Z"));
    cases.push_back(fact("L", g3, "sun", "0301", State::closed, "2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"));

    cases.push_back(fact("F", g3, "sun", "0102", State::closed, "2026-11-15T09:00:00Z", "2026-10-30T10:00:00Z"));
    cases.push_back(fact("G", g3, "sun", "0102", State::invalid, "2026-11-18T09:00:00Z"));
    cases.push_back(fact("H", g3, "sun", "0102", State::in_progress, "2026-12-05T09:00:00Z"));
    auto& i = cases.emplace_back(fact("I", g3, "sun", "0102", State::suspended, "2026-11-05T09:00:00Z"));
    i.extended = true;
    cases.push_back(fact("K", g3, "sun", "0102", State::dispatched, "2026-12-01T00:00:00Z"));
    cases.push_back(fact("M", g1, "li", "0101", State::reported, "2026-11-05T09:00:00Z"));
    cases.push_back(fact("N", g1, "li", "0101", State::in_progress, "2026-10-20T09:00:00Z"));
    return cases;
}

const CaseFacts& by_id(const std::vector<CaseFacts>& cases, std::string_view id) {
    for (const auto& c : cases)
        if (c.id == id) return c;
    FAIL("no case " << id);
    throw std::logic_error("unreachable");
}

} // namespace

TEST_CASE("indicators: which cases count in a period", "[incident][indicators]") {
    const auto cases = district();
    for (std::string_view id : {"A", "B", "C", "D", "E", "J", "L"}) {
        INFO(id);
        CHECK(counts_in(by_id(cases, id), november));
    }
    for (std::string_view id : {"F", "G", "H", "I", "K", "M", "N"}) {
        INFO(id);
        CHECK_FALSE(counts_in(by_id(cases, id), november));
    }
    const Period october{at("2026-10-01"), at("2026-11-01")};
    // N, open and overdue since October, counts there; so does E, due in October and still open
    // when October ended (it counts again in November, where it was closed late); F, closed in
    // October before its November due time, counts in October only.
    CHECK(counts_in(by_id(cases, "N"), october));
    CHECK(counts_in(by_id(cases, "E"), october));
    CHECK(counts_in(by_id(cases, "F"), october));
    CHECK_FALSE(counts_in(by_id(cases, "A"), october));
}

TEST_CASE("indicators: the whole district in November, by hand", "[incident][indicators]") {
    const auto cases = district();
    const Indicators ind = summarize(cases, november);
    CHECK(ind.due == 7);            // A B C D E J L
    CHECK(ind.closed == 5);         // A B D E L
    CHECK(ind.closed_on_time == 3); // A (11-08 <= 11-10), D (11-25 <= 12-10), L (at the due instant)
    CHECK(ind.handled == 6);        // all but C
    CHECK(ind.reworked == 2);       // B E
    CHECK(ind.extended == 2);       // C D
    CHECK(ind.rated == 4);          // A5 B3 D4 E4
    CHECK(ind.satisfied == 3);      // A D E
    CHECK(ind.timed == 4);
    CHECK(ind.closing_rate.value() == Approx(5.0 / 7));
    // C, open past its due time, keeps 按期结案率 at 3/7 rather than 3/6.
    CHECK(ind.on_time_rate.value() == Approx(3.0 / 7));
    CHECK(ind.rework_rate.value() == Approx(2.0 / 6));
    CHECK(ind.extension_rate.value() == Approx(2.0 / 7));
    CHECK(ind.satisfaction_rate.value() == Approx(0.75));
    // (600 + 1200 + 900 + 1800) / 4 = 1125 minutes = 18.75 hours
    CHECK(ind.mean_handling_hours.value() == Approx(18.75));
    // 100 × (0.2 × 5/7 + 0.4 × 3/7 + 0.15 × (1 - 1/3) + 0.1 × (1 - 2/7) + 0.15 × 0.75)
    // = 100 × (2.7/7 + 0.1 + 0.1125) = 100 × 4.1875/7 = 59.821428...
    CHECK(ind.score.value() == Approx(418.75 / 7));
}

TEST_CASE("indicators: grouped by community", "[incident][indicators]") {
    const auto groups = summarize_by(district(), november, GroupBy::community);
    REQUIRE(groups.size() == 2);
    CHECK(groups[0].key == c1);
    CHECK(groups[1].key == c2);

    // c1: A B C D J
    const Indicators& one = groups[0].indicators;
    CHECK(one.due == 5);
    CHECK(one.closed == 3);         // A B D
    CHECK(one.closed_on_time == 2); // A D
    CHECK(one.closing_rate.value() == Approx(0.6));
    CHECK(one.on_time_rate.value() == Approx(0.4));
    CHECK(one.rework_rate.value() == Approx(0.25));       // B of A B D J
    CHECK(one.extension_rate.value() == Approx(0.4));     // C D of 5
    CHECK(one.satisfaction_rate.value() == Approx(2.0 / 3)); // A5 D4 of A5 B3 D4
    CHECK(one.mean_handling_hours.value() == Approx(15)); // (600 + 1200 + 900) / 3 / 60
    // 100 × (0.2 × 0.6 + 0.4 × 0.4 + 0.15 × 0.75 + 0.1 × 0.6 + 0.15 × 2/3)
    // = 100 × (0.12 + 0.16 + 0.1125 + 0.06 + 0.1) = 55.25
    CHECK(one.score.value() == Approx(55.25));

    // c2: E L
    const Indicators& two = groups[1].indicators;
    CHECK(two.due == 2);
    CHECK(two.closed == 2);
    CHECK(two.closed_on_time == 1); // L
    CHECK(two.closing_rate.value() == Approx(1));
    CHECK(two.on_time_rate.value() == Approx(0.5));
    CHECK(two.rework_rate.value() == Approx(0.5));
    CHECK(two.extension_rate.value() == Approx(0));
    CHECK(two.satisfaction_rate.value() == Approx(1));
    CHECK(two.mean_handling_hours.value() == Approx(30));
    // 100 × (0.2 × 1 + 0.4 × 0.5 + 0.15 × 0.5 + 0.1 × 1 + 0.15 × 1) = 72.5
    CHECK(two.score.value() == Approx(72.5));
}

TEST_CASE("indicators: grouped by worker and by grid", "[incident][indicators]") {
    const auto workers = summarize_by(district(), november, GroupBy::worker);
    REQUIRE(workers.size() == 3);
    CHECK(workers[0].key == "li");
    CHECK(workers[1].key == "sun");
    CHECK(workers[2].key == "zhao");

    // li: A B J
    const Indicators& li = workers[0].indicators;
    CHECK(li.due == 3);
    CHECK(li.closing_rate.value() == Approx(2.0 / 3));
    CHECK(li.on_time_rate.value() == Approx(1.0 / 3));
    CHECK(li.rework_rate.value() == Approx(1.0 / 3));
    CHECK(li.extension_rate.value() == Approx(0));
    CHECK(li.satisfaction_rate.value() == Approx(0.5));
    CHECK(li.mean_handling_hours.value() == Approx(15));
    // 100 × (0.2 × 2/3 + 0.4 × 1/3 + 0.15 × 2/3 + 0.1 × 1 + 0.15 × 0.5) = 100 × (0.8/3 + 0.275)
    CHECK(li.score.value() == Approx(80.0 / 3 + 27.5));

    // zhao: C (open, overdue) and D (closed early)
    const Indicators& zhao = workers[2].indicators;
    CHECK(zhao.due == 2);
    CHECK(zhao.closing_rate.value() == Approx(0.5));
    CHECK(zhao.on_time_rate.value() == Approx(0.5));
    CHECK(zhao.rework_rate.value() == Approx(0)); // D, handled once and passed
    CHECK(zhao.extension_rate.value() == Approx(1));
    CHECK(zhao.satisfaction_rate.value() == Approx(1));
    // 100 × (0.2 × 0.5 + 0.4 × 0.5 + 0.15 × 1 + 0.1 × 0 + 0.15 × 1) = 60
    CHECK(zhao.score.value() == Approx(60));

    // sun: E L, as community c2
    CHECK(workers[1].indicators.due == 2);
    CHECK(workers[1].indicators.score.value() == Approx(72.5));

    const auto grids = summarize_by(district(), november, GroupBy::grid);
    REQUIRE(grids.size() == 3);
    CHECK(grids[0].key == g1);
    CHECK(grids[0].indicators.due == 3); // A B J
    CHECK(grids[1].key == g2);
    CHECK(grids[1].indicators.due == 2); // C D
    CHECK(grids[2].key == g3);
    CHECK(grids[2].indicators.due == 2); // E L
}

TEST_CASE("indicators: zero denominators are absent, not zero", "[incident][indicators]") {
    const auto categories = summarize_by(district(), november, GroupBy::category);
    REQUIRE(categories.size() == 4); // 0101: A B D J; 0102: E; 0203: C; 0301: L
    CHECK(categories[2].key == "0203");
    // C alone: nothing handled, rated or timed.
    const Indicators& c = categories[2].indicators;
    CHECK(c.due == 1);
    CHECK(c.closing_rate == std::optional<double>(0.0));
    CHECK(c.on_time_rate == std::optional<double>(0.0));
    CHECK(c.extension_rate == std::optional<double>(1.0));
    CHECK_FALSE(c.rework_rate);
    CHECK_FALSE(c.satisfaction_rate);
    CHECK_FALSE(c.mean_handling_hours);
    // The present components only: 100 × (0.2 × 0 + 0.4 × 0 + 0.1 × (1 - 1)) / 0.7 = 0
    CHECK(c.score == std::optional<double>(0.0));
    CHECK(categories[3].key == "0301");
    // L alone: closed on time, never reworked or extended, not rated, no handling time.
    const Indicators& l = categories[3].indicators;
    CHECK_FALSE(l.satisfaction_rate);
    CHECK_FALSE(l.mean_handling_hours);
    // 100 × (0.2 × 1 + 0.4 × 1 + 0.15 × 1 + 0.1 × 1) / 0.85 = 100
    CHECK(l.score.value() == Approx(100));

    // A month with nothing due: no groups, and a total of zeros with every ratio absent.
    const Period january{at("2027-01-01"), at("2027-02-01")};
    CHECK(summarize_by(district(), january, GroupBy::community).empty());
    const Indicators none = summarize(district(), january);
    CHECK(none.due == 0);
    CHECK(none.closed == 0);
    CHECK_FALSE(none.closing_rate);
    CHECK_FALSE(none.on_time_rate);
    CHECK_FALSE(none.rework_rate);
    CHECK_FALSE(none.extension_rate);
    CHECK_FALSE(none.satisfaction_rate);
    CHECK_FALSE(none.mean_handling_hours);
    CHECK_FALSE(none.score);
    CHECK_FALSE(summarize({}, november).score);
}

TEST_CASE("indicators: the composite score and its weights", "[incident][indicators]") {
    const auto cases = district();
    // Only timeliness: 100 × 3/7.
    Weights on_time_only{.closing = 0, .on_time = 1, .rework = 0, .extension = 0, .satisfaction = 0};
    CHECK(summarize(cases, november, on_time_only).score.value() == Approx(300.0 / 7));
    // Absent components drop out with their weights: 100 × (0.2 × 0.5 + 0.4 × 0.5 + 0.1 × 1) / 0.7
    Indicators partial;
    partial.closing_rate = 0.5;
    partial.on_time_rate = 0.5;
    partial.extension_rate = 0.0;
    CHECK(composite_score(partial, Weights{}).value() == Approx(40.0 / 0.7));
    // Weight only on what is absent: no score.
    Weights satisfaction_only{.closing = 0, .on_time = 0, .rework = 0, .extension = 0, .satisfaction = 1};
    CHECK_FALSE(composite_score(partial, satisfaction_only));
    Weights none{.closing = 0, .on_time = 0, .rework = 0, .extension = 0, .satisfaction = 0};
    CHECK_FALSE(summarize(cases, november, none).score);
}

TEST_CASE("indicators: bad periods, weights and ratings are refused", "[incident][indicators]") {
    const auto cases = district();
    auto code_of = [](auto&& f) -> std::string {
        try {
            f();
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::unprocessable);
            return e.code();
        }
        return "";
    };
    CHECK(code_of([&] { summarize(cases, Period{november.to, november.from}); }) == "invalid_period");
    CHECK(code_of([&] { summarize(cases, Period{november.from, november.from}); }) == "invalid_period");
    Weights negative;
    negative.rework = -0.1;
    CHECK(code_of([&] { summarize_by(cases, november, GroupBy::grid, negative); }) == "invalid_weights");
    auto rated = cases;
    rated[0].rating = 6;
    CHECK(code_of([&] { summarize(rated, november); }) == "invalid_rating");
    rated[0].rating = 0;
    CHECK(code_of([&] { summarize_by(rated, november, GroupBy::worker); }) == "invalid_rating");
}

#pragma once
// Indicators of case handling over a period (docs/INCIDENTS.md, "Indicators"): 应结案数, 结案数,
// 结案率, 按期结案数, 按期结案率, 返工率, 延期率, mean handling time, 满意率 and a weighted
// composite score (综合评价), for a whole district or grouped by street, community, grid, worker
// or category. Pure: computed from plain facts of each case, which the caller reads from the store
// (and, for handling times, works out with the working calendar).
#include "core/time.hpp"
#include "incident/types.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace wangge::incident {

// What the indicators need to know of one case.
struct CaseFacts {
    std::string id;
    std::string street;    // 9-digit code
    std::string community; // 12-digit code
    std::string grid;      // 15-digit code; empty when the place lies in no grid
    std::string worker;    // the handler's user name; empty when never dispatched
    std::string category;  // 大类 + 小类, 4 digits
    SystemTime reported_at{};
    SystemTime due_at{};                 // the latest due time, after any extensions
    std::optional<SystemTime> closed_at; // 结案; present exactly when the case is closed
    State state = State::reported;       // the final or current state
    bool extended = false;               // ever extended (延期)
    int reworks = 0;                     // times verification sent it back (返工)
    bool handled = false;                // ever fed back as handled (反馈)
    std::optional<int> rating;           // 1 to 5
    std::optional<std::int64_t> handling_minutes; // working minutes from 立案 to 结案
};

// [from, to). For a period still running, pass to = now: cases due later are not due yet.
struct Period {
    SystemTime from;
    SystemTime to;
};

enum class GroupBy { street, community, grid, worker, category };

// Weights of the composite score; the defaults put timeliness first. Each must be finite and not
// negative.
struct Weights {
    double closing = 0.2;       // 结案率
    double on_time = 0.4;       // 按期结案率
    double rework = 0.15;       // 1 - 返工率
    double extension = 0.1;     // 1 - 延期率
    double satisfaction = 0.15; // 满意率
};

// Rates are fractions (0 to 1); absent when their denominator is zero.
struct Indicators {
    std::int64_t due = 0;            // 应结案数: the cases that count in the period
    std::int64_t closed = 0;         // 结案数: of those, closed within the period
    std::int64_t closed_on_time = 0; // 按期结案数: of those, closed at or before their due time
    std::int64_t handled = 0;        // counted cases ever fed back as handled
    std::int64_t reworked = 0;       // counted cases sent back by verification at least once
    std::int64_t extended = 0;       // counted cases extended at least once
    std::int64_t rated = 0;          // counted cases with a rating
    std::int64_t satisfied = 0;      // counted cases rated 4 or 5
    std::int64_t timed = 0;          // counted cases with a handling time
    std::optional<double> closing_rate;        // 结案率 = closed / due
    std::optional<double> on_time_rate;        // 按期结案率 = closed_on_time / due
    std::optional<double> rework_rate;         // 返工率 = reworked / handled
    std::optional<double> extension_rate;      // 延期率 = extended / due
    std::optional<double> satisfaction_rate;   // 满意率 = satisfied / rated
    std::optional<double> mean_handling_hours; // mean handling_minutes / 60 over timed cases
    std::optional<double> score;               // composite_score(), 0 to 100
};

struct GroupIndicators {
    std::string key; // the code, worker or category shared by the group's cases (may be empty)
    Indicators indicators;
};

// Whether `c` counts in `period` (is one of its 应结案数): it was accepted (not reported, invalid
// or suspended), was not closed before the period, and falls due or is closed within it.
bool counts_in(const CaseFacts& c, const Period& period) noexcept;

// 100 × the weighted mean of the present components (closing_rate, on_time_rate,
// 1 - rework_rate, 1 - extension_rate, satisfaction_rate), the weights of absent ones left out;
// absent when no component with a weight above zero is present.
std::optional<double> composite_score(const Indicators& indicators, const Weights& weights);

// Over all `cases` that count in `period`. Throws Error(unprocessable) for a period whose `to`
// is not after `from`, for weights that are negative or not finite, and for a rating outside 1-5.
Indicators summarize(std::span<const CaseFacts> cases, const Period& period, const Weights& weights = {});

// The same per group, ordered by key; only groups with at least one counted case appear.
std::vector<GroupIndicators> summarize_by(std::span<const CaseFacts> cases, const Period& period, GroupBy by,
                                          const Weights& weights = {});

} // namespace wangge::incident

#include "incident/indicators.hpp"

#include "core/error.hpp"

#include <cmath>
#include <map>
#include <utility>

namespace wangge::incident {

namespace {

std::optional<double> ratio(std::int64_t part, std::int64_t whole) noexcept {
    if (whole == 0) return std::nullopt;
    return static_cast<double>(part) / static_cast<double>(whole);
}

std::optional<double> complement(std::optional<double> rate) noexcept {
    if (!rate) return std::nullopt;
    return 1.0 - *rate;
}

bool within(SystemTime t, const Period& p) noexcept { return p.from <= t && t < p.to; }

void check(const Period& period) {
    if (!(period.from < period.to))
        throw Error(ErrorKind::unprocessable, "invalid_period",
                    "an indicator period must end after it starts, not " + format_utc(period.from) + " to " +
                        format_utc(period.to));
}

void check(const Weights& w) {
    for (double v : {w.closing, w.on_time, w.rework, w.extension, w.satisfaction})
        if (!std::isfinite(v) || v < 0)
            throw Error(ErrorKind::unprocessable, "invalid_weights",
                        "the weights of the composite score must be finite and not negative");
}

void check(const CaseFacts& c) {
    if (c.rating && (*c.rating < 1 || *c.rating > 5))
        throw Error(ErrorKind::unprocessable, "invalid_rating",
                    "case " + c.id + " has rating " + std::to_string(*c.rating) + "; ratings are 1 to 5");
}

// The counts of one group, and the sum of handling minutes until the mean is taken.
struct Tally {
    Indicators indicators;
    std::int64_t handling_minutes = 0;

    // Counts `c`, a case that counts in `period`.
    void add(const CaseFacts& c, const Period& period) {
        Indicators& ind = indicators;
        ++ind.due;
        if (c.closed_at && within(*c.closed_at, period)) {
            ++ind.closed;
            if (*c.closed_at <= c.due_at) ++ind.closed_on_time;
        }
        if (c.handled) ++ind.handled;
        if (c.reworks > 0) ++ind.reworked;
        if (c.extended) ++ind.extended;
        if (c.rating) {
            ++ind.rated;
            if (*c.rating >= 4) ++ind.satisfied;
        }
        if (c.handling_minutes) {
            ++ind.timed;
            handling_minutes += *c.handling_minutes;
        }
    }

    Indicators finish(const Weights& weights) && {
        Indicators& ind = indicators;
        ind.closing_rate = ratio(ind.closed, ind.due);
        ind.on_time_rate = ratio(ind.closed_on_time, ind.due);
        ind.rework_rate = ratio(ind.reworked, ind.handled);
        ind.extension_rate = ratio(ind.extended, ind.due);
        ind.satisfaction_rate = ratio(ind.satisfied, ind.rated);
        if (const auto minutes = ratio(handling_minutes, ind.timed)) ind.mean_handling_hours = *minutes / 60.0;
        ind.score = composite_score(ind, weights);
        return std::move(ind);
    }
};

const std::string& key_of(const CaseFacts& c, GroupBy by) noexcept {
    switch (by) {
    case GroupBy::street: return c.street;
    case GroupBy::community: return c.community;
    case GroupBy::grid: return c.grid;
    case GroupBy::worker: return c.worker;
    case GroupBy::category: return c.category;
    }
    return c.street;
}

} // namespace

bool counts_in(const CaseFacts& c, const Period& period) noexcept {
    if (c.state == State::reported || c.state == State::invalid || c.state == State::suspended) return false;
    if (c.closed_at && *c.closed_at < period.from) return false;
    return within(c.due_at, period) || (c.closed_at && within(*c.closed_at, period));
}

std::optional<double> composite_score(const Indicators& ind, const Weights& weights) {
    check(weights);
    double sum = 0;
    double weight = 0;
    auto take = [&](std::optional<double> value, double w) {
        if (!value || w == 0) return;
        sum += w * *value;
        weight += w;
    };
    take(ind.closing_rate, weights.closing);
    take(ind.on_time_rate, weights.on_time);
    take(complement(ind.rework_rate), weights.rework);
    take(complement(ind.extension_rate), weights.extension);
    take(ind.satisfaction_rate, weights.satisfaction);
    if (weight == 0) return std::nullopt;
    return 100.0 * sum / weight;
}

Indicators summarize(std::span<const CaseFacts> cases, const Period& period, const Weights& weights) {
    check(period);
    check(weights);
    Tally tally;
    for (const CaseFacts& c : cases) {
        check(c);
        if (counts_in(c, period)) tally.add(c, period);
    }
    return std::move(tally).finish(weights);
}

std::vector<GroupIndicators> summarize_by(std::span<const CaseFacts> cases, const Period& period, GroupBy by,
                                          const Weights& weights) {
    check(period);
    check(weights);
    std::map<std::string, Tally> tallies;
    for (const CaseFacts& c : cases) {
        check(c);
        if (counts_in(c, period)) tallies[key_of(c, by)].add(c, period);
    }
    std::vector<GroupIndicators> out;
    out.reserve(tallies.size());
    for (auto& [key, tally] : tallies) out.push_back({key, std::move(tally).finish(weights)});
    return out;
}

} // namespace wangge::incident

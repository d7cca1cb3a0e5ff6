#include "demo/changes.hpp"

#include "demo/rng.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

namespace wangge::demo::detail {

namespace {

constexpr double churn_per_year = 0.035;
constexpr double growth_min = 1.5, growth_max = 2.5;

// Events per community and year as a fraction, kept in integers so that the counts do not
// hinge on rounding: growth 2% of communities per 5 years, clearance 1.5%.
struct EventRate {
    long numerator;
    long denominator;
};
constexpr EventRate growth_rate{2, 100 * 5};
constexpr EventRate clearance_rate{3, 200 * 5};

// Events that have happened by the end of `year`, rounded up: one from the first year on.
std::size_t events_by(EventRate rate, std::size_t communities, int year) {
    long n = rate.numerator * static_cast<long>(communities) * year;
    return static_cast<std::size_t>((n + rate.denominator - 1) / rate.denominator);
}

// Hands out compounds from a seeded order, the preferred kind first, each compound once over
// both kinds of event.
class CompoundPicker {
public:
    CompoundPicker(const std::vector<Compound>& compounds, const std::vector<std::size_t>& order,
                   bool prefer_towers, std::vector<char>& taken)
        : m_order(order), m_taken(taken) {
        std::stable_partition(m_order.begin(), m_order.end(),
                              [&](std::size_t k) { return compounds[k].towers == prefer_towers; });
    }

    std::optional<std::size_t> next() {
        while (m_at < m_order.size() && m_taken[m_order[m_at]]) ++m_at;
        if (m_at == m_order.size()) return std::nullopt;
        m_taken[m_order[m_at]] = 1;
        return m_order[m_at++];
    }

private:
    std::vector<std::size_t> m_order;
    std::vector<char>& m_taken;
    std::size_t m_at = 0;
};

} // namespace

void apply_years(std::vector<store::BuildingRow>& buildings, const std::vector<Compound>& compounds,
                 std::size_t communities, int years, std::uint64_t seed,
                 const std::function<void(std::size_t, std::size_t)>& on_year) {
    // A steady rate per home: estates that empty keep emptying, ones that fill keep filling.
    std::vector<double> rate(buildings.size(), 0.0), factor(buildings.size(), 1.0);
    Rng churn(derive_seed(seed, 1));
    for (const Compound& c : compounds)
        for (std::size_t b : c.homes) rate[b] = churn.uniform(-churn_per_year, churn_per_year);

    Rng events(derive_seed(seed, 2));
    std::vector<std::size_t> order(compounds.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    events.shuffle(order);
    std::vector<char> taken(compounds.size(), 0);
    CompoundPicker growth(compounds, order, true, taken), clearance(compounds, order, false, taken);
    std::size_t grown = 0, cleared = 0;

    for (int year = 1; year <= years; ++year) {
        for (const Compound& c : compounds)
            for (std::size_t b : c.homes) factor[b] *= 1.0 + rate[b];
        for (; grown < events_by(growth_rate, communities, year); ++grown)
            if (std::optional<std::size_t> k = growth.next()) {
                double g = events.uniform(growth_min, growth_max);
                for (std::size_t b : compounds[*k].homes) factor[b] *= g;
            }
        for (; cleared < events_by(clearance_rate, communities, year); ++cleared)
            if (std::optional<std::size_t> k = clearance.next())
                for (std::size_t b : compounds[*k].homes) factor[b] = 0.0;
        if (on_year) on_year(static_cast<std::size_t>(year), static_cast<std::size_t>(years));
    }
    for (const Compound& c : compounds)
        for (std::size_t b : c.homes)
            buildings[b].households = static_cast<int>(std::lround(buildings[b].households * factor[b]));
}

} // namespace wangge::demo::detail

#pragma once
// Years of change in a generated district's households, so that grid rebalancing has a realistic
// disturbed district to work on: buildings slowly fill or empty, a few compounds get new towers,
// a few old blocks are cleared. Only households change; every boundary stays as generated, so
// grids drift out of their band.
#include "store/records.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace wangge::demo::detail {

// A gated compound (小区): one quarter of a community between its local roads.
struct Compound {
    bool towers = false;            // high-rise compound; otherwise an estate of walk-ups
    std::vector<std::size_t> homes; // its residential buildings, as indices into the buildings
};

// Each year, in order: every home's households grow or shrink by its own steady rate
// (uniform in +-3.5% a year, compounding); tower compounds complete new towers, their households
// multiplied by 1.5-2.5 (~2% of communities per 5 years); old walk-up compounds are cleared,
// their households set to 0 for good (~1.5% of communities per 5 years). At least one of each
// happens from the first year on. Counts are rounded once at the end. Events come off one
// seeded list, so with the same seed N years is the first N years of N + 1. `on_year(done,
// total)` follows the years.
void apply_years(std::vector<store::BuildingRow>& buildings, const std::vector<Compound>& compounds,
                 std::size_t communities, int years, std::uint64_t seed,
                 const std::function<void(std::size_t, std::size_t)>& on_year);

} // namespace wangge::demo::detail

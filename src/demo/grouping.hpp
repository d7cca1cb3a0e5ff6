#pragma once
// Cuts a walk over cells into consecutive runs whose households fall in a band: the runs of a
// band snake are contiguous, so each run becomes one residential grid.
#include <span>
#include <vector>

namespace wangge::demo::detail {

struct Band {
    int min = 250;
    int max = 500;
    int aim = 375;
};

// Lengths of consecutive runs covering `households` in order, every run's sum within
// [band.min, band.max], minimising the sum of squared distances from band.aim (exact dynamic
// programme, O(n^2) for n cells). Empty when no such cut exists.
std::vector<std::size_t> cut_runs(std::span<const int> households, Band band);

} // namespace wangge::demo::detail

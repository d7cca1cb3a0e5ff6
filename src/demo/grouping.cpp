#include "demo/grouping.hpp"

#include <limits>

namespace wangge::demo::detail {

std::vector<std::size_t> cut_runs(std::span<const int> households, Band band) {
    const std::size_t n = households.size();
    if (n == 0) return {};
    constexpr double unreachable = std::numeric_limits<double>::infinity();
    // best[i]: least cost of cutting the first i cells; from[i]: where its last run starts.
    std::vector<double> best{0.0};
    best.resize(n + 1, unreachable);
    std::vector<std::size_t> from(n + 1, 0);
    for (std::size_t end = 1; end <= n; ++end) {
        long sum = 0;
        for (std::size_t begin = end; begin-- > 0;) {
            sum += households[begin];
            if (sum > band.max) break;
            if (sum < band.min || best[begin] == unreachable) continue;
            double miss = static_cast<double>(sum - band.aim);
            if (best[begin] + miss * miss < best[end]) {
                best[end] = best[begin] + miss * miss;
                from[end] = begin;
            }
        }
    }
    if (best[n] == unreachable) return {};
    std::vector<std::size_t> runs;
    for (std::size_t end = n; end > 0; end = from[end]) runs.push_back(end - from[end]);
    return {runs.rbegin(), runs.rend()};
}

} // namespace wangge::demo::detail

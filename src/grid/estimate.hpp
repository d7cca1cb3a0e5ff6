#pragma once
// Household estimates for buildings without a counted number of households:
//     households = round(footprint_m2 x levels x usable_ratio / dwelling_m2)
// Levels come from the building's levels tag, else its height / storey height, else a default
// per building use. Every parameter is in a configuration file (data/estimator.json,
// documented in docs/ESTIMATOR.md); a counted number always takes precedence.
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::grid {

struct EstimatorConfig {
    double usable_ratio = 0.75;     // share of gross floor area that is dwellings
    double dwelling_m2 = 90.0;      // gross floor area of one household's dwelling
    double storey_height_m = 3.0;   // to derive levels from a height
    double min_footprint_m2 = 40.0; // smaller footprints (sheds, kiosks) hold no household
    int default_levels = 3;         // levels when neither tag nor use default is known
    int max_levels = 80;            // levels above this are treated as data errors and capped
    std::map<std::string, int, std::less<>> default_levels_by_use; // e.g. apartments -> 6
    std::set<std::string, std::less<>> non_residential_uses;        // e.g. school -> 0 households
    // A name containing one of these marks a non-residential building whatever its use tag
    // says: OSM tags most office towers and hotels in Chinese city centres only building=yes.
    std::vector<std::string> non_residential_name_keywords; // e.g. 大厦, 酒店, 中心

    static EstimatorConfig defaults();
    // Reads a JSON file; unknown keys are errors (typos must not silently fall back).
    static EstimatorConfig load(const std::filesystem::path& path);
};

enum class LevelsSource { tag, height, use_default, fallback };
std::string_view to_string(LevelsSource s) noexcept;

struct HouseholdEstimate {
    int households = 0;
    int levels = 0;
    LevelsSource levels_source = LevelsSource::fallback;
    bool residential = true;
};

HouseholdEstimate estimate_households(const EstimatorConfig& config, double footprint_m2,
                                      std::string_view use, std::optional<int> levels,
                                      std::optional<double> height_m, std::string_view name = {});

} // namespace wangge::grid

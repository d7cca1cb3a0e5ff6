#pragma once
// A synthetic but realistic Chinese urban district, generated in memory for demos, tests and
// benchmarks: arterials 500-800 m apart enclosing one community each, gated compounds of
// high-rise towers and six-storey walk-ups, schools, hospitals, markets and office parks, and the
// full hierarchy street office → community (~2,500 households) → grid (250-500 households) that
// tiles exactly. The same options always give the same district, byte for byte.
#include "core/types.hpp"
#include "store/records.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::demo {

struct DemoOptions {
    std::uint64_t seed = 20240601;
    long households = 60000;              // registered households in the district, 5,000-20,000,000
    std::string district_code = "320199"; // 6-digit county-level code
    std::string district_name = "示范区";
    LonLat origin{118.80, 31.95}; // south-west corner (WGS84), south of central Nanjing
    // 0-20: the district this many years on, its households changed but every boundary as
    // generated, so that some grids have left their band (see demo/changes.hpp).
    int years_later = 0;
};

struct DemoDistrict {
    std::vector<store::StreetRow> streets;
    std::vector<store::CommunityRow> communities;
    std::vector<store::GridRow> grids;
    // Households counted, not estimated; grid_code is the grid the building stands in (no
    // building crosses a grid boundary).
    std::vector<store::BuildingRow> buildings;
    std::vector<store::RoadRow> roads;
};

// Called as work advances: stage is "communities", "grids", "buildings", "streets", "roads" or,
// with years_later, "changes" (one step a year).
using Progress = std::function<void(std::string_view stage, std::size_t done, std::size_t total)>;

// Throws Error(bad_request, "invalid_option") for households outside 5,000-20,000,000, a
// district code that is not 6 digits, an origin outside WGS84, or years_later outside 0-20.
DemoDistrict generate_demo(const DemoOptions& options, const Progress& progress = {});

} // namespace wangge::demo

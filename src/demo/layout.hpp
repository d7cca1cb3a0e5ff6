#pragma once
// Plans one community: its superblock of lattice cells, crossed by two local roads (支路) that
// split it into up to four gated compounds (小区), each cell holding 1-3 residential buildings,
// a market, a green or part of a large unit site. Unit sites take the last cells of a band
// snake over the superblock and residential grids are cut from the rest of the walk, so every
// grid is contiguous and the grids tile the community.
#include "demo/grouping.hpp"
#include "demo/lattice.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace wangge::demo::detail {

enum class SiteKind : std::uint8_t { school, hospital, office };
enum class CellUse : std::uint8_t { residential, green, market, site };
enum class BuildingKind : std::uint8_t {
    tower,   // high-rise residential, 18-33 floors
    walk_up, // six-storey slab, 5-7 floors
    market,  // 农贸市场
    school,  // teaching building
    gym,     // school's hall
    clinic,  // hospital's out-patient building
    ward,    // hospital's in-patient tower
    office,
};

// A rectangle in metres of the lattice frame.
struct Box {
    double west = 0, south = 0, east = 0, north = 0;
};

struct CommunityBlock {
    int row0 = 0, col0 = 0; // global cell of the north-west corner
    int rows = 0, cols = 0;
    CellIndex cell(int local) const noexcept { return {row0 + local / cols, col0 + local % cols}; }
};

struct PlannedBuilding {
    BuildingKind kind = BuildingKind::walk_up;
    int cell = 0; // local cell, row-major
    int site = -1;
    Box box;
    int floors = 0;
    int households = 0;
};

struct PlannedSite {
    SiteKind kind = SiteKind::school;
    int variant = 0; // picks the name: 小学 or 中学, 医院 or 中医院, ...
};

struct PlannedGrid {
    std::vector<int> cells; // local cells
    int households = 0;
    int site = -1; // the unit site it holds, or -1 for a residential grid
};

struct CommunityPlan {
    CommunityBlock block;
    int road_col = 0; // local column line carrying the north-south local road
    int road_row = 0; // local row line carrying the east-west local road
    std::array<bool, 4> tower_compound{};
    std::vector<CellUse> cell_use;
    std::vector<PlannedBuilding> buildings;
    std::vector<PlannedSite> sites;
    std::vector<PlannedGrid> grids;
    long households = 0;

    // Compound of a cell: 0 north-west, 1 north-east, 2 south-west, 3 south-east of the roads.
    int quadrant(int cell) const noexcept {
        return (cell / block.cols >= road_row ? 2 : 0) + (cell % block.cols >= road_col ? 1 : 0);
    }
};

struct CommunityRequest {
    CommunityBlock block;
    long target = 2500;
    std::vector<SiteKind> required_sites;
    std::uint64_t seed = 0;
    Band grid_band;
    long min_households = 2000; // the community's own band
    long max_households = 3000;
};

// Retries with fresh draws until the community lands within its band, within 2% of its target
// and cuts into grids within grid_band; throws Error(internal) if 100 attempts all fail.
CommunityPlan plan_community(const Lattice& lattice, const CommunityRequest& request);

} // namespace wangge::demo::detail

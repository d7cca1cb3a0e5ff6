#include "demo/layout.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

namespace wangge::demo::detail {

namespace {

// Distances (metres) kept between a building and its cell's edge: half an arterial plus its
// green strip, half a local road, or half the lane between two blocks of one compound. They also
// keep buildings in neighbouring cells apart, so footprints never touch.
constexpr double arterial_setback = 18.0;
constexpr double road_setback = 10.0;
constexpr double lane_setback = 6.0;

constexpr int max_cell_households = 240; // keeps every cell well under a grid's ceiling
constexpr int min_cell_households = 20;  // the smallest walk-up: 5 floors, 2 units

Box cell_box(const Lattice& l, const CommunityBlock& b, int cell) {
    CellIndex c = b.cell(cell);
    auto row = static_cast<std::size_t>(c.row), col = static_cast<std::size_t>(c.col);
    return {l.x_m[col], l.y_m[row + 1], l.x_m[col + 1], l.y_m[row]};
}

// The part of a cell where buildings may stand.
Box buildable(const Lattice& l, const CommunityPlan& p, int cell) {
    auto setback = [](bool arterial, bool road) {
        return arterial ? arterial_setback : road ? road_setback : lane_setback;
    };
    int r = cell / p.block.cols, c = cell % p.block.cols;
    Box b = cell_box(l, p.block, cell);
    b.north -= setback(r == 0, r == p.road_row);
    b.south += setback(r == p.block.rows - 1, r + 1 == p.road_row);
    b.west += setback(c == 0, c == p.road_col);
    b.east -= setback(c == p.block.cols - 1, c + 1 == p.road_col);
    return b;
}

// A footprint of random size at a random position inside `area`, shrunk to fit if need be. The
// draws are sequenced one per statement: argument evaluation order is unspecified, and the
// district must not depend on the compiler.
Box place(const Box& area, std::array<double, 2> width, std::array<double, 2> depth, Rng& rng) {
    double w = std::min(rng.uniform(width[0], width[1]), area.east - area.west);
    double d = std::min(rng.uniform(depth[0], depth[1]), area.north - area.south);
    double x = area.west + rng.uniform(0.0, area.east - area.west - w);
    double y = area.south + rng.uniform(0.0, area.north - area.south - d);
    return {x, y, x + w, y + d};
}

// `area` split into `parts` side by side (east-west) or stacked (north-south) with `gap` between.
std::vector<Box> split(const Box& area, int parts, bool side_by_side, double gap) {
    std::vector<Box> out;
    double span = side_by_side ? area.east - area.west : area.north - area.south;
    double each = (span - gap * (parts - 1)) / parts;
    for (int i = 0; i < parts; ++i) {
        double from = i * (each + gap);
        out.push_back(side_by_side ? Box{area.west + from, area.south, area.west + from + each, area.north}
                                   : Box{area.west, area.north - from - each, area.east, area.north - from});
    }
    return out;
}

struct Shape {
    int floors = 0;
    int per_floor = 0; // flats per floor
    int households() const noexcept { return floors * per_floor; }
};

// The storey count and flats per floor nearest `target`, drawn among near-ties so that
// neighbouring buildings differ.
Shape pick_shape(int target, int min_floors, int max_floors, std::span<const int> per_floor, int slack,
                 Rng& rng) {
    std::vector<Shape> shapes;
    int best = INT_MAX;
    for (int flats : per_floor)
        for (int floors = min_floors; floors <= max_floors; ++floors) {
            shapes.push_back({floors, flats});
            best = std::min(best, std::abs(floors * flats - target));
        }
    std::erase_if(shapes, [&](Shape s) { return std::abs(s.households() - target) > best + slack; });
    return shapes[static_cast<std::size_t>(rng.integer(0, static_cast<int>(shapes.size()) - 1))];
}

void add(CommunityPlan& p, BuildingKind kind, int cell, int site, Box box, int floors, int households = 0) {
    p.buildings.push_back({kind, cell, site, box, floors, households});
}

// Six-storey slabs in east-west rows, one per band of the cell; units of two flats per floor.
int fill_walk_ups(CommunityPlan& p, int cell, const Box& area, int target, int slabs, Rng& rng) {
    static constexpr int flats_per_floor[] = {4, 6, 8}; // 2-4 units of 2 flats
    int placed = 0;
    std::vector<Box> bands = split(area, slabs, false, 6.0);
    for (int i = 0; i < slabs; ++i) {
        Shape s = pick_shape((target - placed) / (slabs - i), 5, 7, flats_per_floor, 2, rng);
        double width = std::clamp(s.per_floor / 2 * rng.uniform(15.0, 18.0), 50.0, 65.0);
        Box box = place(bands[static_cast<std::size_t>(i)], {width, width + 5.0}, {10.0, 14.0}, rng);
        add(p, BuildingKind::walk_up, cell, -1, box, s.floors, s.households());
        placed += s.households();
    }
    return placed;
}

// One point tower, or two when one cannot hold the households (33 floors x 6 flats at most).
int fill_towers(CommunityPlan& p, int cell, const Box& area, int target, Rng& rng) {
    static constexpr int flats_per_floor[] = {2, 3, 4, 4, 5, 6}; // 4 twice: the common layout
    std::vector<Box> slots{area};
    if (target > 33 * 6) {
        if (area.east - area.west >= 52.0)
            slots = split(area, 2, true, 12.0);
        else if (area.north - area.south >= 42.0)
            slots = split(area, 2, false, 12.0);
    }
    int placed = 0;
    for (std::size_t i = 0; i < slots.size(); ++i) {
        auto share = (target - placed) / static_cast<int>(slots.size() - i);
        Shape s = pick_shape(share, 18, 33, flats_per_floor, 3, rng);
        add(p, BuildingKind::tower, cell, -1, place(slots[i], {20.0, 35.0}, {15.0, 20.0}, rng), s.floors,
            s.households());
        placed += s.households();
    }
    return placed;
}

int fill_home_cell(CommunityPlan& p, const Lattice& l, int cell, int target, Rng& rng) {
    Box area = buildable(l, p, cell);
    int slabs_fit = std::clamp(static_cast<int>((area.north - area.south + 6.0) / 20.0), 1, 3);
    bool towers =
        p.tower_compound[static_cast<std::size_t>(p.quadrant(cell))] ? target >= 36 : target > slabs_fit * 56;
    if (towers) return fill_towers(p, cell, area, target, rng);
    int slabs = static_cast<int>(std::lround(target / rng.uniform(34.0, 42.0)));
    slabs = std::clamp(slabs, std::max(1, (target + 55) / 56), std::min(slabs_fit, std::max(1, target / 20)));
    return fill_walk_ups(p, cell, area, target, slabs, rng);
}

// Footprint sizes (width range, depth range) and storeys of the buildings on a unit site: the
// first cell holds the main building, the second its companion.
struct SiteBuilding {
    BuildingKind kind;
    std::array<double, 2> width, depth;
    int min_floors, max_floors;
};

std::array<SiteBuilding, 2> site_buildings(SiteKind kind) {
    switch (kind) {
    case SiteKind::school:
        return {{{BuildingKind::school, {50, 65}, {14, 18}, 4, 5},
                 {BuildingKind::gym, {30, 40}, {20, 25}, 2, 3}}};
    case SiteKind::hospital:
        return {{{BuildingKind::clinic, {45, 60}, {22, 28}, 4, 6},
                 {BuildingKind::ward, {35, 50}, {16, 20}, 12, 20}}};
    case SiteKind::office:
        break;
    }
    return {{{BuildingKind::office, {30, 40}, {20, 25}, 10, 25},
             {BuildingKind::office, {30, 40}, {20, 25}, 10, 25}}};
}

void fill_site(CommunityPlan& p, const Lattice& l, int site, std::array<int, 2> cells, Rng& rng) {
    SiteKind kind = p.sites[static_cast<std::size_t>(site)].kind;
    std::array<SiteBuilding, 2> plan = site_buildings(kind);
    for (std::size_t k = 0; k < cells.size(); ++k) {
        Box area = buildable(l, p, cells[k]);
        // An office park stands two towers in a cell when they fit.
        int count = kind == SiteKind::office && area.east - area.west >= 72.0 ? 2 : 1;
        for (const Box& slot : split(area, count, true, 12.0)) {
            int floors = rng.integer(plan[k].min_floors, plan[k].max_floors);
            add(p, plan[k].kind, cells[k], site, place(slot, plan[k].width, plan[k].depth, rng), floors);
        }
    }
}

std::vector<PlannedSite> choose_sites(const CommunityRequest& r, Rng& rng) {
    std::vector<SiteKind> kinds = r.required_sites;
    auto maybe = [&](SiteKind kind, double p) {
        bool roll = rng.chance(p);
        if (roll && kinds.size() < 2 && std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
            kinds.push_back(kind);
    };
    maybe(SiteKind::school, 0.35);
    maybe(SiteKind::hospital, 0.08);
    maybe(SiteKind::office, 0.12);
    std::vector<PlannedSite> out;
    for (SiteKind k : kinds) out.push_back({k, rng.integer(0, 2)});
    return out;
}

// Local cells in band-snake order, mirrored at random so that unit sites end up in any corner.
std::vector<int> walk_order(const CommunityBlock& b, Rng& rng) {
    bool flip_x = rng.chance(0.5), flip_y = rng.chance(0.5);
    std::vector<int> out;
    for (CellIndex c : band_snake(b.rows, b.cols, 2)) {
        int row = flip_y ? b.rows - 1 - c.row : c.row;
        int col = flip_x ? b.cols - 1 - c.col : c.col;
        out.push_back(row * b.cols + col);
    }
    return out;
}

// Marks a market and a few greens among the cells before the sites; the rest hold homes.
// High-rise compounds get more greens (their central gardens), so that their towers carry the
// 100-200 households of real ones rather than a thin spread of small towers.
void assign_uses(CommunityPlan& p, std::span<const int> homes, Rng& rng) {
    std::vector<int> spare(homes.begin(), homes.end());
    rng.shuffle(spare);
    auto greens =
        static_cast<std::size_t>(std::lround(static_cast<double>(homes.size()) * rng.uniform(0.02, 0.12)));
    std::size_t next = 0;
    if (homes.size() >= 16 && rng.chance(0.75))
        p.cell_use[static_cast<std::size_t>(spare[next++])] = CellUse::market;
    for (std::size_t i = 0; i < greens; ++i)
        p.cell_use[static_cast<std::size_t>(spare[next++])] = CellUse::green;
    for (; next < spare.size(); ++next) {
        auto cell = static_cast<std::size_t>(spare[next]);
        if (p.tower_compound[static_cast<std::size_t>(p.quadrant(spare[next]))] && rng.chance(0.3))
            p.cell_use[cell] = CellUse::green;
    }
}

// Spreads `target` households over the home cells, towers weighing more than slabs, with a
// jitter that fades towards the last cells so that they can make up the remainder.
std::vector<int> fill_homes(CommunityPlan& p, const Lattice& l, std::span<const int> homes, long target,
                            Rng& rng) {
    std::vector<int> households(p.cell_use.size(), 0);
    auto weight = [&](int cell) {
        return p.tower_compound[static_cast<std::size_t>(p.quadrant(cell))] ? 1.6 : 1.0;
    };
    std::vector<int> cells;
    double weight_left = 0;
    for (int c : homes)
        if (p.cell_use[static_cast<std::size_t>(c)] == CellUse::residential) {
            cells.push_back(c);
            weight_left += weight(c);
        }
    long remaining = target;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        double share = static_cast<double>(remaining) * weight(cells[i]) / weight_left;
        if (cells.size() - i > 3) share *= rng.uniform(0.8, 1.2);
        int want = std::clamp(static_cast<int>(std::lround(share)), min_cell_households, max_cell_households);
        if (i + 1 == cells.size())
            want = static_cast<int>(std::clamp<long>(remaining, min_cell_households, max_cell_households));
        households[static_cast<std::size_t>(cells[i])] = fill_home_cell(p, l, cells[i], want, rng);
        remaining -= households[static_cast<std::size_t>(cells[i])];
        weight_left -= weight(cells[i]);
    }
    return households;
}

void fill_markets(CommunityPlan& p, const Lattice& l, Rng& rng) {
    for (std::size_t c = 0; c < p.cell_use.size(); ++c)
        if (p.cell_use[c] == CellUse::market) {
            int cell = static_cast<int>(c);
            int floors = rng.integer(1, 2);
            add(p, BuildingKind::market, cell, -1, place(buildable(l, p, cell), {30, 45}, {20, 30}, rng),
                floors);
        }
}

// Residential grids from runs of the walk before the sites, then one unit grid per site.
bool cut_grids(CommunityPlan& p, std::span<const int> walk, std::size_t homes_end,
               const std::vector<int>& households, Band band) {
    std::vector<int> sequence;
    for (std::size_t i = 0; i < homes_end; ++i)
        sequence.push_back(households[static_cast<std::size_t>(walk[i])]);
    std::vector<std::size_t> runs = cut_runs(sequence, band);
    if (runs.empty()) return false;
    std::size_t at = 0;
    for (std::size_t run : runs) {
        PlannedGrid g;
        for (std::size_t i = at; i < at + run; ++i) {
            g.cells.push_back(walk[i]);
            g.households += sequence[i];
        }
        p.grids.push_back(std::move(g));
        at += run;
    }
    for (std::size_t s = 0; s < p.sites.size(); ++s)
        p.grids.push_back({{walk[homes_end + 2 * s], walk[homes_end + 2 * s + 1]}, 0, static_cast<int>(s)});
    return true;
}

std::optional<CommunityPlan> try_plan(const Lattice& l, const CommunityRequest& r, Rng& rng) {
    CommunityPlan p;
    p.block = r.block;
    p.road_col = rng.integer(2, r.block.cols - 2);
    p.road_row = rng.integer(2, r.block.rows - 2);
    double tower_share = rng.uniform(0.0, 0.8); // old walk-up estates to new high-rise ones
    for (bool& t : p.tower_compound) t = rng.chance(tower_share);
    p.sites = choose_sites(r, rng);
    p.cell_use.assign(static_cast<std::size_t>(r.block.rows * r.block.cols), CellUse::residential);

    std::vector<int> walk = walk_order(r.block, rng);
    std::size_t homes_end = walk.size() - 2 * p.sites.size();
    for (std::size_t i = homes_end; i < walk.size(); ++i)
        p.cell_use[static_cast<std::size_t>(walk[i])] = CellUse::site;
    std::span<const int> homes(walk.data(), homes_end);
    assign_uses(p, homes, rng);
    std::vector<int> households = fill_homes(p, l, homes, r.target, rng);
    fill_markets(p, l, rng);
    for (std::size_t s = 0; s < p.sites.size(); ++s)
        fill_site(p, l, static_cast<int>(s), {walk[homes_end + 2 * s], walk[homes_end + 2 * s + 1]}, rng);

    for (int h : households) p.households += h;
    bool on_target = std::abs(p.households - r.target) <= std::max(20L, r.target / 50);
    if (!on_target || p.households < r.min_households || p.households > r.max_households) return std::nullopt;
    if (!cut_grids(p, walk, homes_end, households, r.grid_band)) return std::nullopt;
    return p;
}

} // namespace

CommunityPlan plan_community(const Lattice& lattice, const CommunityRequest& request) {
    constexpr int attempts = 100;
    for (int attempt = 0; attempt < attempts; ++attempt) {
        Rng rng(derive_seed(request.seed, static_cast<std::uint64_t>(attempt)));
        if (auto plan = try_plan(lattice, request, rng)) return std::move(*plan);
    }
    throw Error(ErrorKind::internal, "demo_layout",
                "no layout of " + std::to_string(request.target) + " households fits a community of " +
                    std::to_string(request.block.rows * request.block.cols) + " cells");
}

} // namespace wangge::demo::detail

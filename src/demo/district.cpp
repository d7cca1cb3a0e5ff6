#include "demo/district.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace wangge::demo::detail {

namespace {

constexpr long community_aim = 2500;
constexpr long community_min = 2000;
constexpr long community_max = 3000;
constexpr double communities_per_street = 11.0;
constexpr int band_height = 3; // superblocks across a band of the district's snake
constexpr Band grid_band{250, 500, 375};

// Seed streams: one per concern, so that a change in one leaves the others' draws alone.
enum class Stream : std::uint64_t {
    layout = 1,
    naming,
    street_names,
    community_names,
    road_names,
    targets,
    communities,
    changes
};

std::uint64_t stream_seed(std::uint64_t seed, Stream stream, std::uint64_t index = 0) {
    return derive_seed(seed, static_cast<std::uint64_t>(stream), index);
}

// The count nearest N/2500 that keeps the mean community within 2,000-3,000 households
// (always possible from 4,000 households on).
std::size_t community_count(long households) {
    long lo = (households + community_max - 1) / community_max;
    long hi = households / community_min;
    long aim = std::lround(static_cast<double>(households) / community_aim);
    return static_cast<std::size_t>(std::clamp(aim, lo, hi));
}

// Targets that vary by up to +-250 around the mean, in antithetic pairs so that they still add
// up to `households` exactly, and stay clear of the 2,000/3,000 limits.
std::vector<long> community_targets(long households, std::size_t count, Rng& rng) {
    double mean = static_cast<double>(households) / static_cast<double>(count);
    double amplitude = std::clamp(std::min(mean - community_min, community_max - mean) - 80.0, 0.0, 250.0);
    std::vector<double> exact(count, mean);
    for (std::size_t i = 0; i + 1 < count; i += 2) {
        double u = rng.uniform(-amplitude, amplitude);
        exact[i] += u;
        exact[i + 1] -= u;
    }
    std::vector<long> out;
    double cumulative = 0;
    long assigned = 0;
    for (double e : exact) {
        cumulative += e;
        long upto = std::lround(cumulative);
        out.push_back(upto - assigned);
        assigned = upto;
    }
    return out;
}

// The 3-digit sequence part of a code: 001-999.
std::string sequence(std::size_t n) {
    if (n == 0 || n > 999)
        throw Error(ErrorKind::internal, "demo_layout",
                    "sequence number " + std::to_string(n) + " out of 001-999");
    std::string s = std::to_string(n);
    return std::string(3 - s.size(), '0') + s;
}

CommunityBlock block_of(const Lattice& l, CellIndex superblock) {
    auto r = static_cast<std::size_t>(superblock.row), c = static_cast<std::size_t>(superblock.col);
    return {l.block_row[r], l.block_col[c], l.block_row[r + 1] - l.block_row[r],
            l.block_col[c + 1] - l.block_col[c]};
}

void append_cells(const CommunityBlock& b, std::vector<CellIndex>& out) {
    for (int i = 0; i < b.rows * b.cols; ++i) out.push_back(b.cell(i));
}

geo::Geometry polygon_of(const Lattice& l, std::span<const CellIndex> cells) {
    return geo::to_multi_polygon(geo::make_polygon({outline(l, cells)}));
}

geo::Geometry footprint(const Lattice& l, const Box& b) {
    const LocalFrame& f = l.frame;
    return geo::to_multi_polygon(
        geo::make_rectangle(BBox{f.lon(b.west), f.lat(b.south), f.lon(b.east), f.lat(b.north)}));
}

bool is_home(BuildingKind k) noexcept { return k == BuildingKind::tower || k == BuildingKind::walk_up; }

std::string use_of(BuildingKind k) {
    switch (k) {
    case BuildingKind::tower:
    case BuildingKind::walk_up:
        return "residential";
    case BuildingKind::market:
        return "market";
    case BuildingKind::school:
    case BuildingKind::gym:
        return "school";
    case BuildingKind::clinic:
    case BuildingKind::ward:
        return "hospital";
    case BuildingKind::office:
        break;
    }
    return "office";
}

double storey_height_m(BuildingKind k) noexcept {
    switch (k) {
    case BuildingKind::tower:
        return 3.0;
    case BuildingKind::walk_up:
        return 2.9;
    case BuildingKind::market:
        return 5.0;
    case BuildingKind::school:
        return 3.9;
    case BuildingKind::gym:
        return 6.0;
    case BuildingKind::clinic:
        return 4.5;
    case BuildingKind::ward:
        return 3.6;
    case BuildingKind::office:
        break;
    }
    return 4.0;
}

std::string site_building_suffix(BuildingKind k) {
    switch (k) {
    case BuildingKind::school:
        return "教学楼";
    case BuildingKind::gym:
        return "体育馆";
    case BuildingKind::clinic:
        return "门诊楼";
    case BuildingKind::ward:
        return "住院楼";
    default:
        return "";
    }
}

std::string compound_suffix(bool towers, Rng& rng) {
    static constexpr std::string_view high_rise[] = {"花园", "家园", "小区", "公寓"};
    static constexpr std::string_view walk_ups[] = {"新村", "小区"};
    return towers ? std::string(high_rise[rng.integer(0, 3)]) : std::string(walk_ups[rng.integer(0, 1)]);
}

} // namespace

DistrictBuilder::DistrictBuilder(const DemoOptions& options, const Progress& progress)
    : m_options(options), m_progress(progress), m_layout_rng(stream_seed(options.seed, Stream::layout)),
      m_name_rng(stream_seed(options.seed, Stream::naming)),
      m_compound_names(NameStock::compound, m_name_rng) {}

DemoDistrict DistrictBuilder::build() {
    lay_out();
    number_hierarchy();
    name_arterials();
    plan_communities();
    std::vector<std::size_t> order = communities_in_code_order();
    for (std::size_t i = 0; i < order.size(); ++i) {
        emit_grids(m_communities[order[i]]);
        report("grids", i + 1, order.size());
    }
    for (std::size_t i = 0; i < order.size(); ++i) {
        emit_buildings(m_communities[order[i]]);
        report("buildings", i + 1, order.size());
    }
    emit_streets();
    emit_roads();
    if (m_options.years_later > 0) apply_changes();
    return std::move(m_out);
}

void DistrictBuilder::report(std::string_view stage, std::size_t done, std::size_t total) const {
    if (m_progress) m_progress(stage, done, total);
}

// Superblocks in a band snake with an odd number of columns, so that consecutive superblocks
// always share an edge; each street office takes a run of ~11 of them (about 3 x 4).
void DistrictBuilder::lay_out() {
    std::size_t count = community_count(m_options.households);
    int cols = std::max(1, static_cast<int>(std::lround(std::sqrt(static_cast<double>(count)))));
    cols += 1 - cols % 2;
    auto per_band = static_cast<std::size_t>(band_height * cols);
    int rows = band_height * static_cast<int>((count + per_band - 1) / per_band);
    std::vector<CellIndex> snake = band_snake(rows, cols, band_height);
    snake.resize(count);
    int used_rows = 0, used_cols = 0;
    for (CellIndex b : snake) {
        used_rows = std::max(used_rows, b.row + 1);
        used_cols = std::max(used_cols, b.col + 1);
    }
    // The snake starts in the south-west, so that a partly filled last band lies to the north
    // and the origin is always the district's south-west corner.
    for (CellIndex& b : snake) b.row = used_rows - 1 - b.row;
    m_lattice = make_lattice(used_cols, used_rows, m_options.origin, m_layout_rng);
    m_communities.resize(count);
    for (std::size_t k = 0; k < count; ++k) m_communities[k].block = snake[k];

    auto streets = static_cast<std::size_t>(
        std::clamp(std::lround(static_cast<double>(count) / communities_per_street), 2L, 999L));
    m_streets.resize(streets);
    for (std::size_t s = 0; s < streets; ++s)
        for (std::size_t k = s * count / streets; k < (s + 1) * count / streets; ++k)
            m_streets[s].communities.push_back(k);
}

// Codes within a parent run north-west first (by the north-west superblock), and names are
// handed out in code order.
void DistrictBuilder::number_hierarchy() {
    auto by_block = [&](std::size_t a, std::size_t b) {
        return north_west_first(m_communities[a].block, m_communities[b].block);
    };
    for (StreetInfo& s : m_streets) std::sort(s.communities.begin(), s.communities.end(), by_block);
    std::sort(m_streets.begin(), m_streets.end(), [&](const StreetInfo& a, const StreetInfo& b) {
        return by_block(a.communities.front(), b.communities.front());
    });
    Rng street_rng(stream_seed(m_options.seed, Stream::street_names));
    Rng community_rng(stream_seed(m_options.seed, Stream::community_names));
    NamePool street_names(NameStock::place, street_rng), community_names(NameStock::place, community_rng);
    for (std::size_t s = 0; s < m_streets.size(); ++s) {
        StreetInfo& street = m_streets[s];
        street.code = m_options.district_code + sequence(s + 1);
        street.name = street_names.next() + "街道";
        for (std::size_t j = 0; j < street.communities.size(); ++j) {
            CommunityInfo& c = m_communities[street.communities[j]];
            c.street = s;
            c.code = street.code + sequence(j + 1);
            c.base = community_names.next();
        }
    }
}

void DistrictBuilder::name_arterials() {
    Rng rng(stream_seed(m_options.seed, Stream::road_names));
    NamePool names(NameStock::road, rng);
    for (std::size_t j = 0; j <= static_cast<std::size_t>(m_lattice.block_cols()); ++j)
        m_arterials.north_south.push_back(names.next() + (is_primary_line(j) ? "大道" : "路"));
    for (std::size_t i = 0; i <= static_cast<std::size_t>(m_lattice.block_rows()); ++i)
        m_arterials.east_west.push_back(names.next() + (is_primary_line(i) ? "大街" : "路"));
}

// In snake order, each community aims at its own target plus what the ones before it missed,
// so the district total stays within a few households of the request.
void DistrictBuilder::plan_communities() {
    Rng target_rng(stream_seed(m_options.seed, Stream::targets));
    std::vector<long> targets = community_targets(m_options.households, m_communities.size(), target_rng);
    long wanted = 0, placed = 0;
    for (std::size_t k = 0; k < m_communities.size(); ++k) {
        CommunityRequest r;
        r.block = block_of(m_lattice, m_communities[k].block);
        r.target = std::clamp(targets[k] + wanted - placed, community_min, community_max);
        // Pin a school, a hospital and an office park so that every district shows each kind.
        if (k < 3) r.required_sites = {std::array{SiteKind::school, SiteKind::hospital, SiteKind::office}[k]};
        r.seed = stream_seed(m_options.seed, Stream::communities, k);
        r.grid_band = grid_band;
        r.min_households = community_min;
        r.max_households = community_max;
        m_communities[k].plan = plan_community(m_lattice, r);
        wanted += targets[k];
        placed += m_communities[k].plan.households;
        report("communities", k + 1, m_communities.size());
    }
}

std::vector<std::size_t> DistrictBuilder::communities_in_code_order() const {
    std::vector<std::size_t> out;
    for (const StreetInfo& s : m_streets) out.insert(out.end(), s.communities.begin(), s.communities.end());
    return out;
}

std::string DistrictBuilder::site_name(const CommunityInfo& c, int site) const {
    static constexpr std::string_view suffixes[3][3] = {
        {"小学", "中学", "实验小学"}, {"医院", "中医院", "人民医院"}, {"科技园", "软件园", "产业园"}};
    const PlannedSite& s = c.plan.sites[static_cast<std::size_t>(site)];
    return c.base + std::string(suffixes[static_cast<int>(s.kind)][s.variant]);
}

// Grids ordered by their north-west cell give codes west to east, north to south.
void DistrictBuilder::emit_grids(CommunityInfo& c) {
    const CommunityPlan& p = c.plan;
    std::vector<std::pair<CellIndex, std::size_t>> order;
    for (std::size_t g = 0; g < p.grids.size(); ++g) {
        CellIndex nw = p.block.cell(p.grids[g].cells.front());
        for (int cell : p.grids[g].cells) nw = std::min(nw, p.block.cell(cell), north_west_first);
        order.emplace_back(nw, g);
    }
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return north_west_first(a.first, b.first); });
    std::string community_name = c.base + "社区";
    c.cell_grid.assign(p.cell_use.size(), {});
    int residential = 0;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const PlannedGrid& g = p.grids[order[i].second];
        store::GridRow row;
        row.code = c.code + sequence(i + 1);
        row.community_code = c.code;
        row.kind = g.site < 0 ? store::GridKind::residential : store::GridKind::unit;
        row.name = g.site < 0 ? community_name + "第" + std::to_string(++residential) + "网格"
                              : site_name(c, g.site) + "单位网格";
        std::vector<CellIndex> cells;
        for (int cell : g.cells) {
            cells.push_back(p.block.cell(cell));
            c.cell_grid[static_cast<std::size_t>(cell)] = row.code;
        }
        row.geom = polygon_of(m_lattice, cells);
        m_out.grids.push_back(std::move(row));
    }
    std::vector<CellIndex> all;
    append_cells(p.block, all);
    m_out.communities.push_back(
        {c.code, m_streets[c.street].code, community_name, polygon_of(m_lattice, all)});
}

// Gates open on the arterial beside the compound; house numbers grow eastwards, odd on the
// south side of the road and even on the north side.
std::string DistrictBuilder::address(const CommunityInfo& c, int cell, const std::string& place) const {
    const CommunityPlan& p = c.plan;
    bool north = cell / p.block.cols < p.road_row;
    bool east = cell % p.block.cols >= p.road_col;
    auto line = static_cast<std::size_t>(c.block.row + (north ? 0 : 1));
    auto west_col = static_cast<std::size_t>(p.block.col0 + (east ? p.road_col : 0));
    auto east_col = static_cast<std::size_t>(p.block.col0 + (east ? p.block.cols : p.road_col));
    double x = (m_lattice.x_m[west_col] + m_lattice.x_m[east_col]) / 2.0;
    long number = 2 * (std::lround(x / 20.0) + 1) - (north ? 1 : 0);
    return m_options.district_name + m_arterials.east_west[line] + std::to_string(number) + "号" + place;
}

void DistrictBuilder::emit_buildings(const CommunityInfo& c) {
    const CommunityPlan& p = c.plan;
    std::array<std::string, 4> compounds;
    for (const PlannedBuilding& b : p.buildings) {
        auto q = static_cast<std::size_t>(p.quadrant(b.cell));
        if (is_home(b.kind) && compounds[q].empty())
            compounds[q] = m_compound_names.next() + compound_suffix(p.tower_compound[q], m_name_rng);
    }
    // Numbers run block by block (row-major), north to south within a block.
    std::vector<std::size_t> order(p.buildings.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const PlannedBuilding &x = p.buildings[a], &y = p.buildings[b];
        return x.cell != y.cell ? x.cell < y.cell : x.box.north > y.box.north;
    });
    std::array<int, 4> home_number{};
    std::vector<int> office_number(p.sites.size(), 0);
    std::array<Compound, 4> by_quadrant;
    for (std::size_t q = 0; q < 4; ++q) by_quadrant[q].towers = p.tower_compound[q];
    for (std::size_t i : order) {
        const PlannedBuilding& b = p.buildings[i];
        auto q = static_cast<std::size_t>(p.quadrant(b.cell));
        std::string place = b.site >= 0                      ? site_name(c, b.site)
                            : b.kind == BuildingKind::market ? c.base + "农贸市场"
                                                             : compounds[q];
        store::BuildingRow row;
        row.source_id = "demo-building-" + std::to_string(m_out.buildings.size() + 1);
        if (is_home(b.kind))
            row.name = place + std::to_string(++home_number[q]) + "栋";
        else if (b.kind == BuildingKind::office)
            row.name = place + std::to_string(++office_number[static_cast<std::size_t>(b.site)]) + "号楼";
        else
            row.name = place + site_building_suffix(b.kind);
        row.use = use_of(b.kind);
        row.address = address(c, b.cell, row.name);
        row.floors = b.floors;
        row.height_m = b.floors * storey_height_m(b.kind);
        row.households = b.households;
        row.grid_code = c.cell_grid[static_cast<std::size_t>(b.cell)];
        row.geom = footprint(m_lattice, b.box);
        if (is_home(b.kind)) by_quadrant[q].homes.push_back(m_out.buildings.size());
        m_out.buildings.push_back(std::move(row));
    }
    for (Compound& compound : by_quadrant)
        if (!compound.homes.empty()) m_compounds.push_back(std::move(compound));
}

void DistrictBuilder::emit_streets() {
    for (std::size_t s = 0; s < m_streets.size(); ++s) {
        std::vector<CellIndex> cells;
        for (std::size_t k : m_streets[s].communities) append_cells(m_communities[k].plan.block, cells);
        m_out.streets.push_back({m_streets[s].code, m_streets[s].name, polygon_of(m_lattice, cells)});
        report("streets", s + 1, m_streets.size());
    }
}

void DistrictBuilder::emit_roads() {
    std::vector<char> present(static_cast<std::size_t>(m_lattice.block_rows() * m_lattice.block_cols()), 0);
    for (const CommunityInfo& c : m_communities)
        present[static_cast<std::size_t>(c.block.row * m_lattice.block_cols() + c.block.col)] = 1;
    add_arterials(m_lattice, present, m_arterials, m_out.roads);
    for (std::size_t k : communities_in_code_order()) {
        const CommunityInfo& c = m_communities[k];
        const CommunityBlock& b = c.plan.block;
        add_local_road(m_lattice, {b.row0, b.col0 + c.plan.road_col},
                       {b.row0 + b.rows, b.col0 + c.plan.road_col}, c.base + "街", m_out.roads);
        add_local_road(m_lattice, {b.row0 + c.plan.road_row, b.col0},
                       {b.row0 + c.plan.road_row, b.col0 + b.cols}, c.base + "巷", m_out.roads);
    }
    report("roads", 1, 1);
}

void DistrictBuilder::apply_changes() {
    apply_years(m_out.buildings, m_compounds, m_communities.size(), m_options.years_later,
                stream_seed(m_options.seed, Stream::changes),
                [&](std::size_t done, std::size_t total) { report("changes", done, total); });
}

} // namespace wangge::demo::detail

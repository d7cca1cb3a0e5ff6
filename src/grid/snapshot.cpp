#include "grid/snapshot.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <queue>
#include <tuple>
#include <utility>

namespace wangge::grid {

std::string_view to_string(Load load) noexcept {
    switch (load) {
    case Load::below: return "below";
    case Load::in_band: return "in_band";
    case Load::above: return "above";
    case Load::unit: return "unit";
    }
    return "in_band";
}

std::string_view to_string(LocateResult::Status s) noexcept {
    switch (s) {
    case LocateResult::Status::grid: return "grid";
    case LocateResult::Status::no_grid: return "no_grid";
    case LocateResult::Status::no_community: return "no_community";
    case LocateResult::Status::not_covered: return "not_covered";
    }
    return "not_covered";
}

namespace {

// The pole of inaccessibility (Agafonkin's polylabel, as in Mapbox's library): cells of a grid
// over the polygon are refined best first by the largest distance any point of the cell could
// have from the outline, until no cell can beat the best point by more than the precision.
// Coordinates are local: x is longitude scaled by cos(latitude), so distances are on the ground.
namespace polylabel {

struct Point {
    double x = 0, y = 0;
};
using Ring = std::vector<Point>;
using Polygon = std::vector<Ring>; // shell first, then holes

double segment_distance_sq(Point p, Point a, Point b) {
    double x = a.x, y = a.y, dx = b.x - x, dy = b.y - y;
    if (dx != 0 || dy != 0) {
        const double t = ((p.x - x) * dx + (p.y - y) * dy) / (dx * dx + dy * dy);
        if (t > 1) {
            x = b.x;
            y = b.y;
        } else if (t > 0) {
            x += dx * t;
            y += dy * t;
        }
    }
    dx = p.x - x;
    dy = p.y - y;
    return dx * dx + dy * dy;
}

// Distance from p to the outline, positive inside the polygon (even-odd over all rings).
double signed_distance(Point p, const Polygon& polygon) {
    bool inside = false;
    double min_sq = INFINITY;
    for (const Ring& ring : polygon)
        for (std::size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
            const Point a = ring[i], b = ring[j];
            if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) inside = !inside;
            min_sq = std::min(min_sq, segment_distance_sq(p, a, b));
        }
    return (inside ? 1 : -1) * std::sqrt(min_sq);
}

struct Cell {
    Cell(Point c, double half, const Polygon& polygon)
        : centre(c), h(half), d(signed_distance(c, polygon)), max(d + h * std::sqrt(2.0)) {}
    Point centre;
    double h; // half the cell's size
    double d; // distance from the centre to the outline
    double max; // the most any point of the cell can have
};

// The label point and its distance to the outline; `polygon` has a shell of 3 points or more.
std::pair<Point, double> pole(const Polygon& polygon) {
    double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
    for (const Point& p : polygon.front()) {
        min_x = std::min(min_x, p.x);
        min_y = std::min(min_y, p.y);
        max_x = std::max(max_x, p.x);
        max_y = std::max(max_y, p.y);
    }
    const double width = max_x - min_x, height = max_y - min_y;
    const double size = std::min(width, height);
    // A two-hundredth of the area's extent: about a pixel where the area fills a screen, less
    // where its name is drawn among others' (a thousandth doubled the cost of a snapshot).
    const double precision = std::max(width, height) / 200;
    if (size <= 0 || precision <= 0) return {polygon.front().front(), 0.0};

    auto by_max = [](const Cell& a, const Cell& b) { return a.max < b.max; };
    std::priority_queue<Cell, std::vector<Cell>, decltype(by_max)> queue(by_max);
    const double h = size / 2;
    for (double x = min_x; x < max_x; x += size)
        for (double y = min_y; y < max_y; y += size) queue.emplace(Point{x + h, y + h}, h, polygon);

    // The centroid of the shell is a good first guess for round shapes, the box centre otherwise.
    Cell best(Point{min_x + width / 2, min_y + height / 2}, 0, polygon);
    {
        double area = 0, cx = 0, cy = 0;
        const Ring& shell = polygon.front();
        for (std::size_t i = 0, j = shell.size() - 1; i < shell.size(); j = i++) {
            const Point a = shell[i], b = shell[j];
            const double f = a.x * b.y - b.x * a.y;
            cx += (a.x + b.x) * f;
            cy += (a.y + b.y) * f;
            area += f * 3;
        }
        if (area != 0) {
            Cell centroid(Point{cx / area, cy / area}, 0, polygon);
            if (centroid.d > best.d) best = centroid;
        }
    }
    while (!queue.empty()) {
        const Cell cell = queue.top();
        queue.pop();
        if (cell.d > best.d) best = cell;
        if (cell.max - best.d <= precision) continue;
        const double q = cell.h / 2;
        for (const double dx : {-q, q})
            for (const double dy : {-q, q}) queue.emplace(Point{cell.centre.x + dx, cell.centre.y + dy}, q, polygon);
    }
    return {best.centre, std::max(best.d, 0.0)};
}

double ring_area(const Ring& ring) {
    double sum = 0;
    for (std::size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++)
        sum += (ring[j].x - ring[i].x) * (ring[j].y + ring[i].y);
    return std::abs(sum) / 2;
}

} // namespace polylabel

// The label point of an area: the pole of inaccessibility of its largest polygon (by area, holes
// subtracted), and its distance to the outline in metres.
std::pair<LonLat, double> label_point(const geo::Geometry& geom, const BBox& bbox) {
    constexpr double metres_per_degree = 6371008.8 * 3.14159265358979323846 / 180;
    const double lat0 = (bbox.min_lat + bbox.max_lat) / 2;
    const double k = std::cos(lat0 * 3.14159265358979323846 / 180);
    polylabel::Polygon largest;
    double largest_area = -1;
    for (const auto& rings : geo::polygon_rings(geom)) {
        if (rings.empty() || rings.front().size() < 3) continue;
        polylabel::Polygon polygon;
        double area = 0;
        for (const auto& ring : rings) {
            polylabel::Ring& r = polygon.emplace_back();
            r.reserve(ring.size());
            for (const LonLat& p : ring) r.push_back({p.lon * k, p.lat});
            area += (&ring == &rings.front() ? 1 : -1) * polylabel::ring_area(r);
        }
        if (area > largest_area) {
            largest_area = area;
            largest = std::move(polygon);
        }
    }
    if (largest.empty()) return {LonLat{(bbox.min_lon + bbox.max_lon) / 2, lat0}, 0.0};
    const auto [p, distance] = polylabel::pole(largest);
    return {LonLat{p.x / k, p.y}, distance * metres_per_degree};
}

template <typename T>
void fill_area(Area& a, T&& code, std::string parent, std::string name, geo::Geometry geom) {
    a.code = std::forward<T>(code);
    a.parent_code = std::move(parent);
    a.name = std::move(name);
    a.bbox = geom.bbox();
    a.area_m2 = geo::area_m2(geom);
    std::tie(a.label, a.label_room_m) = label_point(geom, a.bbox);
    a.geom = std::move(geom);
}

template <typename AreaT>
void index_level(const std::vector<AreaT>& areas, std::unordered_map<std::string, std::uint32_t>& by_code,
                 geo::SpatialIndex& index, std::vector<geo::PreparedGeometry>& prepared) {
    prepared.reserve(areas.size());
    for (std::uint32_t i = 0; i < areas.size(); ++i) {
        by_code.emplace(areas[i].code, i);
        index.insert(areas[i].geom, i);
        prepared.emplace_back(areas[i].geom);
    }
    index.finish();
}

void add_child(Stats& parent, const Stats& child) {
    parent.households += child.households;
    parent.buildings += child.buildings;
    parent.estimated_buildings += child.estimated_buildings;
    ++parent.children;
}

Load load_of(const GridArea& g, const Band& band) {
    if (g.kind == store::GridKind::unit) return Load::unit;
    if (g.stats.households < band.min) return Load::below;
    if (g.stats.households > band.max) return Load::above;
    return Load::in_band;
}

} // namespace

std::shared_ptr<const Snapshot> Snapshot::load(store::Database& db, Band band) {
    Input in;
    store::ReadTransaction consistent(db); // a commit between two reads must not mix versions
    in.version = db.data_version();
    in.streets = db.load_streets();
    in.communities = db.load_communities();
    in.grids = db.load_grids();
    in.buildings = db.load_buildings();
    in.roads = db.load_roads();
    in.band = band;
    return build(std::move(in));
}

std::shared_ptr<const Snapshot> Snapshot::load(store::MapSource& source, Band band) {
    store::MapRows rows = source.read_map();
    Input in;
    in.version = rows.version;
    in.streets = std::move(rows.streets);
    in.communities = std::move(rows.communities);
    in.grids = std::move(rows.grids);
    in.buildings = std::move(rows.buildings);
    in.roads = std::move(rows.roads);
    in.band = band;
    return build(std::move(in));
}

std::shared_ptr<const Snapshot> Snapshot::build(Input in) {
    std::shared_ptr<Snapshot> s(new Snapshot());
    s->m_version = in.version;
    s->m_band = in.band;
    auto by_code = [](const auto& a, const auto& b) { return a.code < b.code; };
    std::sort(in.streets.begin(), in.streets.end(), by_code);
    std::sort(in.communities.begin(), in.communities.end(), by_code);
    std::sort(in.grids.begin(), in.grids.end(), by_code);

    s->m_streets.resize(in.streets.size());
    for (std::size_t i = 0; i < in.streets.size(); ++i) {
        auto& r = in.streets[i];
        fill_area(s->m_streets[i], std::move(r.code), std::string(), std::move(r.name), std::move(r.geom));
    }
    s->m_communities.resize(in.communities.size());
    for (std::size_t i = 0; i < in.communities.size(); ++i) {
        auto& r = in.communities[i];
        fill_area(s->m_communities[i], std::move(r.code), std::move(r.street_code), std::move(r.name),
                  std::move(r.geom));
    }
    s->m_grids.resize(in.grids.size());
    for (std::size_t i = 0; i < in.grids.size(); ++i) {
        auto& r = in.grids[i];
        GridArea& g = s->m_grids[i];
        fill_area(g, std::move(r.code), std::move(r.community_code), std::move(r.name), std::move(r.geom));
        g.kind = r.kind;
        g.version = r.version;
    }
    index_level(s->m_streets, s->m_street_index.by_code, s->m_street_index.index, s->m_street_index.prepared);
    index_level(s->m_communities, s->m_community_index.by_code, s->m_community_index.index,
                s->m_community_index.prepared);
    index_level(s->m_grids, s->m_grid_index.by_code, s->m_grid_index.index, s->m_grid_index.prepared);
    {
        std::vector<const geo::Geometry*> polygons;
        for (const auto& g : s->m_grids) polygons.push_back(&g.geom);
        s->m_grid_cells = CellIndex(polygons, s->m_grid_index.prepared);
    }

    s->m_buildings.reserve(in.buildings.size());
    for (auto& b : in.buildings) {
        BBox box = b.geom.bbox();
        s->m_buildings.push_back({std::move(b), box});
    }
    for (std::uint32_t i = 0; i < s->m_buildings.size(); ++i) {
        const auto& b = s->m_buildings[i];
        s->m_building_index.insert(b.row.geom, i);
        s->m_total_households += b.row.households;
        if (b.row.grid_code) s->m_buildings_by_grid[*b.row.grid_code].push_back(i);
    }
    s->m_building_index.finish();

    std::sort(in.roads.begin(), in.roads.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    s->m_roads.reserve(in.roads.size());
    for (auto& r : in.roads) {
        BBox box = r.geom.bbox();
        s->m_roads.push_back({std::move(r), box});
    }
    for (std::uint32_t i = 0; i < s->m_roads.size(); ++i) s->m_road_index.insert(s->m_roads[i].row.geom, i);
    s->m_road_index.finish();

    // Statistics roll up from buildings (by their assigned grid) to grids, communities, streets.
    for (auto& g : s->m_grids) {
        auto it = s->m_buildings_by_grid.find(g.code);
        if (it != s->m_buildings_by_grid.end()) {
            for (std::uint32_t bi : it->second) {
                const auto& b = s->m_buildings[bi].row;
                g.stats.households += b.households;
                ++g.stats.buildings;
                if (b.households_estimated) ++g.stats.estimated_buildings;
            }
        }
        g.load = load_of(g, s->m_band);
        if (auto c = s->m_community_index.by_code.find(g.parent_code); c != s->m_community_index.by_code.end()) {
            g.parent_index = static_cast<std::int32_t>(c->second);
            add_child(s->m_communities[c->second].stats, g.stats);
        }
    }
    for (auto& c : s->m_communities)
        if (auto st = s->m_street_index.by_code.find(c.parent_code); st != s->m_street_index.by_code.end()) {
            c.parent_index = static_cast<std::int32_t>(st->second);
            add_child(s->m_streets[st->second].stats, c.stats);
        }
    return s;
}

std::vector<const Area*> Snapshot::areas(Level level) const {
    std::vector<const Area*> out;
    switch (level) {
    case Level::street:
        for (const auto& a : m_streets) out.push_back(&a);
        break;
    case Level::community:
        for (const auto& a : m_communities) out.push_back(&a);
        break;
    case Level::grid:
        for (const auto& a : m_grids) out.push_back(&a);
        break;
    }
    return out;
}

const Snapshot::LevelIndex& Snapshot::level_index(Level level) const {
    switch (level) {
    case Level::street: return m_street_index;
    case Level::community: return m_community_index;
    case Level::grid: return m_grid_index;
    }
    return m_grid_index;
}

const Area* Snapshot::find(Level level, std::string_view code) const {
    const auto& idx = level_index(level);
    auto it = idx.by_code.find(std::string(code));
    if (it == idx.by_code.end()) return nullptr;
    switch (level) {
    case Level::street: return &m_streets[it->second];
    case Level::community: return &m_communities[it->second];
    case Level::grid: return &m_grids[it->second];
    }
    return nullptr;
}

const GridArea* Snapshot::find_grid(std::string_view code) const {
    auto it = m_grid_index.by_code.find(std::string(code));
    return it == m_grid_index.by_code.end() ? nullptr : &m_grids[it->second];
}

std::vector<std::uint32_t> Snapshot::query(Level level, const BBox& box) const {
    std::vector<std::uint32_t> out;
    level_index(level).index.query(box, [&](std::uint32_t id) { out.push_back(id); });
    std::sort(out.begin(), out.end()); // code order, since areas are sorted by code
    return out;
}

std::vector<std::uint32_t> Snapshot::query_buildings(const BBox& box) const {
    std::vector<std::uint32_t> out;
    m_building_index.query(box, [&](std::uint32_t id) { out.push_back(id); });
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::uint32_t> Snapshot::query_roads(const BBox& box) const {
    std::vector<std::uint32_t> out;
    m_road_index.query(box, [&](std::uint32_t id) { out.push_back(id); });
    std::sort(out.begin(), out.end());
    return out;
}

const std::vector<std::uint32_t>& Snapshot::buildings_of_grid(std::string_view grid_code) const {
    static const std::vector<std::uint32_t> none;
    auto it = m_buildings_by_grid.find(std::string(grid_code));
    return it == m_buildings_by_grid.end() ? none : it->second;
}

std::optional<std::uint32_t> Snapshot::covering(Level level, const geo::Geometry& point) const {
    const auto& idx = level_index(level);
    std::optional<std::uint32_t> best;
    idx.index.query(point, [&](std::uint32_t id) {
        // Areas are sorted by code, so the smallest index is the smallest code: a point on a
        // shared boundary always resolves to the same area.
        if (best && *best < id) return;
        if (idx.prepared[id].intersects(point)) best = id;
    });
    return best;
}

LocateResult Snapshot::locate(LonLat p) const {
    require_wgs84_range(p);
    LocateResult r;
    if (auto g = m_grid_cells.covering(p, m_grid_index.prepared)) {
        r.status = LocateResult::Status::grid;
        r.grid = &m_grids[*g];
        if (r.grid->parent_index >= 0) r.community = &m_communities[static_cast<std::size_t>(r.grid->parent_index)];
    }
    // The slower fallbacks (a point in no grid, or a grid whose parents are not stored) query
    // the STRtrees of the upper levels.
    std::optional<geo::Geometry> point;
    auto point_geometry = [&]() -> const geo::Geometry& {
        if (!point) point = geo::make_point(p);
        return *point;
    };
    // A grid whose community is not stored keeps no community: its code names its parent, and a
    // spatial guess could name a neighbour.
    if (!r.grid) {
        if (auto c = covering(Level::community, point_geometry())) {
            r.community = &m_communities[*c];
            if (!r.grid) r.status = LocateResult::Status::no_grid;
        }
    }
    if (r.community && r.community->parent_index >= 0)
        r.street = &m_streets[static_cast<std::size_t>(r.community->parent_index)];
    if (!r.street) {
        if (auto st = covering(Level::street, point_geometry())) {
            r.street = &m_streets[*st];
            if (!r.grid && !r.community) r.status = LocateResult::Status::no_community;
        }
    }
    if (r.status == LocateResult::Status::not_covered && !m_grids.empty()) {
        auto nearest = m_grid_index.index.nearest(
            p, [&](std::uint32_t id) { return geo::planar_distance(p, m_grids[id].geom); });
        if (nearest) {
            r.nearest_grid = &m_grids[*nearest];
            r.nearest_distance_m = geo::nearest_m(p, r.nearest_grid->geom).metres;
        }
    }
    return r;
}

} // namespace wangge::grid

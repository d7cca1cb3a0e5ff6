#include "balance/graph.hpp"

#include <cmath>
#include <optional>

namespace wangge::balance {

namespace {
constexpr double metres_per_degree = 111320.0;
constexpr double pi = 3.14159265358979323846;
} // namespace

double LocalPlane::x(const LonLat& p) const { return (p.lon - lon0) * metres_per_degree * std::cos(lat0 * pi / 180); }
double LocalPlane::y(const LonLat& p) const { return (p.lat - lat0) * metres_per_degree; }

AtomGraph build_graph(const std::vector<AtomShape>& atoms, const geo::Geometry* roads, double min_shared_m) {
    AtomGraph g;
    if (atoms.empty()) return g;
    BBox all = atoms.front().cell.bbox();
    for (const AtomShape& a : atoms) {
        const BBox b = a.cell.bbox();
        all = BBox{std::min(all.min_lon, b.min_lon), std::min(all.min_lat, b.min_lat), std::max(all.max_lon, b.max_lon),
                   std::max(all.max_lat, b.max_lat)};
    }
    const LocalPlane plane{(all.min_lon + all.max_lon) / 2, (all.min_lat + all.max_lat) / 2};

    geo::SpatialIndex index;
    std::vector<double> perimeter(atoms.size(), 0);
    for (std::size_t i = 0; i < atoms.size(); ++i) {
        const AtomShape& a = atoms[i];
        const bool has_cell = a.cell && !a.cell.is_empty();
        perimeter[i] = has_cell ? geo::length_m(a.cell) : 0;
        g.add_atom(a.households, plane.x(a.site), plane.y(a.site), has_cell ? geo::area_m2(a.cell) : 0, 0);
        if (has_cell) index.insert(a.cell, static_cast<std::uint32_t>(i));
    }
    index.finish();

    std::optional<geo::PreparedGeometry> road_lines;
    if (roads && *roads && !roads->is_empty()) road_lines.emplace(*roads);

    std::vector<double> shared(atoms.size(), 0);
    for (std::size_t i = 0; i < atoms.size(); ++i) {
        if (!atoms[i].cell || atoms[i].cell.is_empty()) continue;
        index.query(atoms[i].cell, [&](std::uint32_t j) {
            if (j <= i) return;
            const double length = geo::shared_boundary_m(atoms[i].cell, atoms[j].cell);
            if (length < min_shared_m) return;
            bool road = false;
            if (road_lines) {
                const geo::Geometry between = geo::make_multi_line_string({{atoms[i].site, atoms[j].site}});
                road = road_lines->intersects(between);
            }
            g.connect(static_cast<int>(i), static_cast<int>(j), length, road);
            shared[i] += length;
            shared[j] += length;
        });
    }
    for (std::size_t i = 0; i < atoms.size(); ++i) g.outer_m[i] = std::max(0.0, perimeter[i] - shared[i]);
    return g;
}

} // namespace wangge::balance

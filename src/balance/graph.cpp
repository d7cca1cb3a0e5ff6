#include "balance/graph.hpp"

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <optional>

namespace wangge::balance {

namespace {
constexpr double metres_per_degree = 111320.0;
constexpr double pi = 3.14159265358979323846;
} // namespace

double LocalPlane::x(const LonLat& p) const { return (p.lon - lon0) * metres_per_degree * std::cos(lat0 * pi / 180); }
double LocalPlane::y(const LonLat& p) const { return (p.lat - lat0) * metres_per_degree; }

std::optional<LonLat> site_in(const geo::Geometry& footprint, const geo::Geometry& region,
                              const geo::PreparedGeometry& prepared_region) {
    const LonLat site = geo::point_on_surface(footprint);
    if (prepared_region.covers(site)) return site;
    if (!prepared_region.intersects(footprint)) return std::nullopt;
    const geo::Geometry inside = geo::polygonal_part(geo::intersection(footprint, region));
    if (inside.is_empty()) return std::nullopt;
    return geo::point_on_surface(inside);
}

Cells make_cells(const std::vector<CellInput>& buildings, const geo::Geometry& region) {
    Cells out;
    std::map<std::pair<double, double>, std::size_t> by_site;
    for (const CellInput& b : buildings) {
        if (auto it = by_site.find({b.site.lon, b.site.lat}); it != by_site.end()) {
            out.shapes[it->second].households += b.households;
            out.sources[it->second].push_back(b.source);
            continue;
        }
        by_site.emplace(std::make_pair(b.site.lon, b.site.lat), out.shapes.size());
        out.shapes.push_back({geo::Geometry(), b.site, b.households});
        out.current.push_back(b.current);
        out.sources.push_back({b.source});
    }
    std::vector<LonLat> sites;
    for (const AtomShape& s : out.shapes) sites.push_back(s.site);
    std::vector<geo::Geometry> cells = geo::voronoi_cells(sites, region);
    const std::size_t building_atoms = out.shapes.size();
    for (std::size_t i = 0; i < building_atoms; ++i) {
        std::vector<geo::Geometry> pieces = geo::polygons(cells[i]);
        if (pieces.size() <= 1) {
            out.shapes[i].cell = std::move(cells[i]);
            continue;
        }
        const geo::Geometry site = geo::make_point(out.shapes[i].site);
        for (geo::Geometry& piece : pieces) {
            if (!out.shapes[i].cell && geo::intersects(piece, site)) {
                out.shapes[i].cell = geo::to_multi_polygon(piece);
                continue;
            }
            out.shapes.push_back({geo::to_multi_polygon(piece), geo::point_on_surface(piece), 0});
            out.current.push_back(-1);
            out.sources.emplace_back();
        }
        if (!out.shapes[i].cell) out.shapes[i].cell = geo::to_multi_polygon(pieces.front());
    }
    if (out.shapes.empty()) {
        out.shapes.push_back({region.clone(), geo::point_on_surface(region), 0});
        out.current.push_back(-1);
        out.sources.emplace_back();
    }
    return out;
}

std::vector<AtomShape> read_atom_shapes(const std::filesystem::path& geojson, std::string_view households_property) {
    std::ifstream in(geojson);
    if (!in) throw Error(ErrorKind::io, "unreadable_file", "cannot read " + geojson.string());
    std::vector<AtomShape> atoms;
    try {
        const nlohmann::json fc = nlohmann::json::parse(in);
        for (const auto& f : fc.at("features")) {
            AtomShape a;
            a.cell = geo::from_geojson(f.at("geometry").dump());
            a.site = geo::point_on_surface(a.cell);
            a.households = f.at("properties").at(std::string(households_property)).get<int>();
            atoms.push_back(std::move(a));
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::bad_request, "invalid_geojson", geojson.string() + ": " + e.what());
    }
    return atoms;
}

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

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

namespace {

// The part of `footprint` inside the region (all of it when the region covers it).
geo::Geometry inside_region(const geo::Geometry& footprint, const geo::Geometry& region,
                            const geo::PreparedGeometry& prepared) {
    if (prepared.contains(footprint)) return footprint.clone();
    return geo::polygonal_part(geo::intersection(footprint, region));
}

// Points along the outline of `polygon`, a quarter step inside it (so that the points of two
// footprints that share an edge lie on either side of it): the inset outline's vertices, and
// more on long edges so that no two neighbours are further apart than the step, a
// twenty-fourth of the outline (at least 1 m). A footprint too thin for the inset is sampled
// along its own outline.
void sample_outline(const geo::Geometry& polygon, std::vector<LonLat>& out) {
    if (polygon.is_empty()) return;
    const double lat = polygon.bbox().min_lat;
    const double m_lat = 111320.0, m_lon = 111320.0 * std::cos(lat * pi / 180);
    const double step = std::max(1.0, geo::length_m(polygon) / 24);
    geo::Geometry inset = geo::polygonal_part(geo::buffer_m(polygon, -step / 4));
    const geo::Geometry& outline = inset.is_empty() ? polygon : inset;
    for (const auto& rings : geo::polygon_rings(outline))
        for (const geo::Coordinates& ring : rings)
            for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
                const LonLat a = ring[i], b = ring[i + 1];
                const double d = std::hypot((b.lon - a.lon) * m_lon, (b.lat - a.lat) * m_lat);
                const int n = std::max(1, static_cast<int>(std::ceil(d / step)));
                for (int k = 0; k < n; ++k) {
                    const double t = static_cast<double>(k) / n;
                    out.push_back({a.lon + (b.lon - a.lon) * t, a.lat + (b.lat - a.lat) * t});
                }
            }
}

} // namespace

std::vector<geo::Geometry> footprint_cells(const std::vector<CellSeed>& seeds, const geo::Geometry& region) {
    std::vector<geo::Geometry> cells(seeds.size());
    if (seeds.empty() || region.is_empty()) return cells;
    const geo::PreparedGeometry prepared(region);
    // The part of each footprint inside the region, once.
    std::vector<std::vector<geo::Geometry>> parts(seeds.size());
    for (std::size_t i = 0; i < seeds.size(); ++i)
        for (const geo::Geometry* f : seeds[i].footprints)
            if (f && !f->is_empty())
                if (geo::Geometry in = inside_region(*f, region, prepared); !in.is_empty()) parts[i].push_back(std::move(in));
    // Seeds whose footprints are sampled: none at first, then those a cell cut, until none is cut
    // (at most five rounds: the samples of one footprint may cut its neighbours).
    std::vector<char> sampled(seeds.size(), 0);
    for (int round = 0;; ++round) {
        std::vector<LonLat> points;
        std::vector<std::size_t> owner;
        for (std::size_t i = 0; i < seeds.size(); ++i) {
            points.push_back(seeds[i].site);
            owner.push_back(i);
            if (!sampled[i]) continue;
            for (const geo::Geometry& part : parts[i]) sample_outline(part, points);
            owner.resize(points.size(), i);
        }
        std::vector<geo::Geometry> point_cells = geo::voronoi_cells(points, region);
        std::vector<std::vector<const geo::Geometry*>> pieces(seeds.size());
        for (std::size_t k = 0; k < points.size(); ++k)
            if (point_cells[k] && !point_cells[k].is_empty()) pieces[owner[k]].push_back(&point_cells[k]);
        for (std::size_t i = 0; i < seeds.size(); ++i)
            cells[i] = pieces[i].empty() ? geo::Geometry() : pieces[i].size() == 1 ? pieces[i].front()->clone()
                                                                                  : geo::coverage_union(pieces[i]);
        // A footprint is cut when a quarter of it lies outside its cell: its building may then
        // be counted in another atom's zone (a smaller cut changes no building's place).
        bool cut_any = false;
        for (std::size_t i = 0; i < seeds.size(); ++i) {
            if (sampled[i] || parts[i].empty()) continue;
            bool cut = !cells[i];
            if (!cut) {
                const geo::PreparedGeometry cell(cells[i]);
                for (const geo::Geometry& part : parts[i]) {
                    if (cell.contains(part)) continue;
                    const double outside = geo::area_m2(geo::difference(part, cells[i]));
                    if (outside > 0.25 * geo::area_m2(part)) cut = true;
                }
            }
            if (cut) {
                sampled[i] = 1;
                cut_any = true;
            }
        }
        if (!cut_any || round == 4) break;
    }
    return cells;
}

namespace {

// Which buildings stand together as one atom: those at the same site, and those whose footprints
// overlap by more than a tenth of the smaller one (a podium and the towers drawn on it, a
// building drawn twice), whose footprints no cell could give each to its own atom. Returns a
// group number per building, groups numbered in order of their first building.
std::vector<std::size_t> group_buildings(const std::vector<CellInput>& buildings, std::vector<double>& area) {
    const std::size_t n = buildings.size();
    std::vector<std::size_t> parent(n);
    for (std::size_t i = 0; i < n; ++i) parent[i] = i;
    auto find = [&](std::size_t a) {
        while (parent[a] != a) a = parent[a] = parent[parent[a]];
        return a;
    };
    auto join = [&](std::size_t a, std::size_t b) {
        a = find(a);
        b = find(b);
        if (a != b) parent[std::max(a, b)] = std::min(a, b);
    };
    std::map<std::pair<double, double>, std::size_t> by_site;
    area.assign(n, 0);
    geo::SpatialIndex index;
    for (std::size_t i = 0; i < n; ++i) {
        const CellInput& b = buildings[i];
        if (auto [it, fresh] = by_site.emplace(std::make_pair(b.site.lon, b.site.lat), i); !fresh) join(it->second, i);
        if (b.footprint && !b.footprint->is_empty()) {
            area[i] = geo::area_m2(*b.footprint);
            index.insert(*b.footprint, static_cast<std::uint32_t>(i));
        }
    }
    index.finish();
    for (std::size_t i = 0; i < n; ++i) {
        if (area[i] <= 0) continue;
        index.query(*buildings[i].footprint, [&](std::uint32_t j) {
            if (j <= i || area[j] <= 0 || find(i) == find(j)) return;
            const geo::Geometry& a = *buildings[i].footprint;
            const geo::Geometry& b = *buildings[j].footprint;
            if (!geo::intersects(a, b)) return;
            if (geo::area_m2(geo::intersection(a, b)) > 0.1 * std::min(area[i], area[j])) join(i, j);
        });
    }
    std::vector<std::size_t> group(n);
    std::map<std::size_t, std::size_t> number;
    for (std::size_t i = 0; i < n; ++i) group[i] = number.emplace(find(i), number.size()).first->second;
    return group;
}

} // namespace

Cells make_cells(const std::vector<CellInput>& buildings, const geo::Geometry& region) {
    Cells out;
    std::vector<double> area;
    const std::vector<std::size_t> group = group_buildings(buildings, area);
    std::vector<CellSeed> seeds;
    std::vector<std::size_t> largest; // per atom: its building of largest footprint
    for (std::size_t i = 0; i < buildings.size(); ++i) {
        const CellInput& b = buildings[i];
        const std::size_t g = group[i];
        if (g == out.shapes.size()) {
            out.shapes.push_back({geo::Geometry(), b.site, 0});
            out.current.push_back(b.current);
            out.sources.emplace_back();
            seeds.push_back({b.site, {}});
            largest.push_back(i);
        }
        out.shapes[g].households += b.households;
        out.sources[g].push_back(b.source);
        if (b.footprint) seeds[g].footprints.push_back(b.footprint);
        // The atom stands at the site of its largest building, and is in that building's zone.
        if (area[i] > area[largest[g]]) {
            largest[g] = i;
            out.shapes[g].site = seeds[g].site = b.site;
            out.current[g] = b.current;
        }
    }
    std::vector<geo::Geometry> cells = footprint_cells(seeds, region);
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

geo::Geometry union_within(const std::vector<const geo::Geometry*>& cells, const geo::Geometry& within,
                           const geo::PreparedGeometry& prepared_within) {
    geo::Geometry u = geo::coverage_union(cells);
    if (u.is_empty() || prepared_within.contains(u)) return u;
    return geo::to_multi_polygon(geo::drop_slivers(geo::polygonal_part(geo::intersection(u, within)), 0.01));
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

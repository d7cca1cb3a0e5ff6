#pragma once
// From geometry to the partitioner's graph: atoms are polygons (building cells, census blocks)
// with households; two atoms are adjacent when their polygons share a boundary of some length;
// an edge is a road edge when a road runs between the two atoms' sites.
#include "balance/partition.hpp"
#include "geo/geometry.hpp"

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace wangge::balance {

struct AtomShape {
    geo::Geometry cell; // polygonal; the cells of an area should tile it
    LonLat site;        // the atom's own point (a building's point on surface); used for roads
    int households = 0;
};

// Cells of buildings in a region: each building stands for itself at a site inside the region,
// and its cell is the part of the region nearer to it than to any other building (Voronoi).
struct CellInput {
    LonLat site;          // inside the region
    int households = 0;
    int current = -1;     // today's zone, or -1
    std::size_t source = 0; // the caller's index of the building
};
struct Cells {
    std::vector<AtomShape> shapes;
    std::vector<int> current;                      // per atom
    std::vector<std::vector<std::size_t>> sources; // per atom: the buildings it stands for
};
// Buildings at the same site become one atom. A cell cut in pieces by the shape of the region
// keeps the piece holding its site; the other pieces become atoms without households or
// buildings. A region with no building is one atom.
Cells make_cells(const std::vector<CellInput>& buildings, const geo::Geometry& region);
// A point of the footprint inside the region (its point on surface when that lies inside, else
// one of the part inside), or nullopt when the footprint has no area inside the region.
std::optional<LonLat> site_in(const geo::Geometry& footprint, const geo::Geometry& region,
                              const geo::PreparedGeometry& prepared_region);

// Areas that are atoms as they are (census blocks, say) from a GeoJSON FeatureCollection of
// polygons whose property `households_property` counts their households. Throws Error(io) when
// the file cannot be read, Error(bad_request) when a feature lacks the geometry or the count.
std::vector<AtomShape> read_atom_shapes(const std::filesystem::path& geojson, std::string_view households_property);

// Builds the graph of `atoms`. Boundaries shorter than `min_shared_m` (corners, float noise)
// do not make atoms adjacent. `roads` (lines, may be null or empty) mark road edges.
AtomGraph build_graph(const std::vector<AtomShape>& atoms, const geo::Geometry* roads, double min_shared_m = 0.5);

// The local plane of build_graph: metres east and north of (lon0, lat0).
struct LocalPlane {
    double lon0 = 0, lat0 = 0;
    double x(const LonLat& p) const;
    double y(const LonLat& p) const;
};

} // namespace wangge::balance

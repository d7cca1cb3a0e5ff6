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
// and its cell is the part of the region nearer to it than to any other building (Voronoi), or,
// where that would cut its footprint, nearer to its footprint (below, footprint_cells).
struct CellInput {
    LonLat site;          // inside the region
    int households = 0;
    int current = -1;     // today's zone, or -1
    std::size_t source = 0; // the caller's index of the building
    const geo::Geometry* footprint = nullptr; // the building's polygon, if known (not owned)
};

// One cell per seed, tiling `region`: the part of the region nearer to the seed's site and
// footprints than to any other seed's. A seed's footprints are sampled along their outlines
// (points a quarter step inside the outline, at most a twenty-fourth of the outline apart) only
// where a plain Voronoi cell of the sites would leave a quarter or more of a footprint to other
// seeds, so that most of each footprint stands in its own seed's cell whatever its shape (a large
// census block between narrow ones, an L-shaped estate): buildings assigned by most of their
// footprint then land in the zone of their atom.
struct CellSeed {
    LonLat site;
    std::vector<const geo::Geometry*> footprints; // not owned; may be empty
};
std::vector<geo::Geometry> footprint_cells(const std::vector<CellSeed>& seeds, const geo::Geometry& region);
struct Cells {
    std::vector<AtomShape> shapes;
    std::vector<int> current;                      // per atom
    std::vector<std::vector<std::size_t>> sources; // per atom: the buildings it stands for
};
// Buildings at the same site, or whose footprints overlap by more than a tenth of the smaller,
// become one atom (at the site of its largest building). A cell cut in pieces by the shape of the region
// keeps the piece holding its site; the other pieces become atoms without households or
// buildings. A region with no building is one atom.
Cells make_cells(const std::vector<CellInput>& buildings, const geo::Geometry& region);
// A point of the footprint inside the region (its point on surface when that lies inside, else
// one of the part inside), or nullopt when the footprint has no area inside the region.
std::optional<LonLat> site_in(const geo::Geometry& footprint, const geo::Geometry& region,
                              const geo::PreparedGeometry& prepared_region);

// The union of cells that tile part of `within`, kept inside `within`: where the cells' shared
// edges do not match to the last bit, the union may stick out by slivers, which are cut off here
// so that a grid never extends outside its community nor a community outside its street (what
// `validate` checks). The result is a MultiPolygon.
geo::Geometry union_within(const std::vector<const geo::Geometry*>& cells, const geo::Geometry& within,
                           const geo::PreparedGeometry& prepared_within);

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

#pragma once
// From geometry to the partitioner's graph: atoms are polygons (building cells, census blocks)
// with households; two atoms are adjacent when their polygons share a boundary of some length;
// an edge is a road edge when a road runs between the two atoms' sites.
#include "balance/partition.hpp"
#include "geo/geometry.hpp"

#include <vector>

namespace wangge::balance {

struct AtomShape {
    geo::Geometry cell; // polygonal; the cells of an area should tile it
    LonLat site;        // the atom's own point (a building's point on surface); used for roads
    int households = 0;
};

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

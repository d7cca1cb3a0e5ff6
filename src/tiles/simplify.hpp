#pragma once
// Simplification of geometry already snapped to integer tile coordinates.
//
// Polygons that share edges (grids in a community, communities in a street) must not open gaps
// when simplified. GEOS 3.11 has no coverage simplification, and simplifying each polygon alone
// moves a shared edge differently on its two sides. So the polygons of a group are simplified
// together: after snapping, a shared edge has exactly the same integer vertices on both sides;
// the rings are cut into chains at their nodes (vertices with other than two distinct
// neighbours over the whole group), each chain is simplified (Douglas-Peucker) in one canonical
// direction, so both sides of a shared chain get the same result, and the rings are stitched
// together again.
#include "tiles/mvt.hpp"

#include <vector>

namespace wangge::tiles {

struct SimplifyOptions {
    // Douglas-Peucker tolerance in tile units; 0 still removes repeated and collinear points.
    double tolerance = 0.0;
    // Rings with less than this area (tile units squared) are dropped: a shell with its holes.
    double min_area = 0.0;
};

// Simplifies the polygons of many features together (one element per feature), in place.
// Polygons whose shell collapses are removed; a feature may end up with no polygon.
void simplify_coverage(std::vector<std::vector<mvt::Polygon>>& features, const SimplifyOptions& options);

// Simplifies lines one by one (their end points stay), in place; lines that collapse to a
// point are removed.
void simplify_lines(std::vector<mvt::Line>& lines, const SimplifyOptions& options);

} // namespace wangge::tiles

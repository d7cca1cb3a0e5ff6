#pragma once
// What a write changed, as the boxes the tile cache must invalidate (TileCache::invalidate).
// A tile shows geometry and properties (households, load, names...), so a feature counts as
// changed when any of what the tiles carry of it differs: a building's households change its
// grid's, community's and street's households too, and the tiles of all four are touched.
#include "grid/snapshot.hpp"

#include <vector>

namespace wangge::tiles {

// The WGS84 boxes of every street, community, grid, building and road that was added, removed
// or changed between two snapshots (old and new box both, when a geometry moved).
std::vector<BBox> changed_bounds(const grid::Snapshot& before, const grid::Snapshot& after);

} // namespace wangge::tiles

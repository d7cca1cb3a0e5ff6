#pragma once
// Building-to-grid assignment: a building belongs to the grid that holds the largest part of its
// footprint (not the grid that holds its centroid), so a tower straddling a boundary goes where
// most of it stands. Ties (equal areas, e.g. exactly on a boundary) go to the smaller code.
#include "geo/geometry.hpp"
#include "store/database.hpp"
#include "store/records.hpp"

#include <optional>
#include <string>
#include <vector>

namespace wangge::grid {

class GridAssigner {
public:
    // Keeps pointers into `grids`, which must outlive the assigner.
    explicit GridAssigner(const std::vector<store::GridRow>& grids);

    // Index into `grids` of the grid holding the largest part of `footprint`; nullopt when the
    // footprint touches no grid with positive area.
    std::optional<std::size_t> assign(const geo::Geometry& footprint) const;
    const store::GridRow& grid(std::size_t i) const { return *m_grids[i]; }

private:
    std::vector<const store::GridRow*> m_grids;
    std::vector<geo::PreparedGeometry> m_prepared;
    geo::SpatialIndex m_index;
};

// Assigns every stored building to its grid (within the caller's transaction) and returns the
// buildings that fall in no grid, as (id, source_id) pairs.
struct AssignmentReport {
    std::size_t assigned = 0;
    std::size_t changed = 0;
    std::vector<std::pair<std::int64_t, std::string>> unassigned;
};
AssignmentReport reassign_buildings(store::MapStore& db);

} // namespace wangge::grid

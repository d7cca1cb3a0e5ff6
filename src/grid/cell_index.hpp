#pragma once
// A uniform grid of cells over a set of polygons, for point lookups in a city's 10,000 grids.
// Each cell lists the polygons that touch it (ascending index, i.e. code order) and, when a
// single polygon touches the cell and holds all of it, names that polygon: a point in such a
// cell is answered with two array reads and no point-in-polygon test. About four in five
// lookups of a demo city take that path; the others test the few candidates with their
// prepared geometries. The GEOS STRtree this replaced for grids spent its time in cache misses
// across scattered envelope objects (measured in bench/, docs/BENCHMARKS.md).
#include "core/types.hpp"
#include "geo/geometry.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace wangge::grid {

class CellIndex {
public:
    CellIndex() = default;
    // `prepared[i]` is the prepared form of `polygons[i]`; about `cells_per_polygon` cells per
    // polygon are laid over the polygons' common extent.
    CellIndex(const std::vector<const geo::Geometry*>& polygons, const std::vector<geo::PreparedGeometry>& prepared,
              double cells_per_polygon = 16.0);

    // The smallest index whose polygon covers `p` (boundary included), if any.
    std::optional<std::uint32_t> covering(LonLat p, const std::vector<geo::PreparedGeometry>& prepared) const;

    std::size_t cell_count() const noexcept { return m_whole.size(); }
    // Cells answered without a point-in-polygon test.
    std::size_t whole_cells() const noexcept;

private:
    std::optional<std::size_t> cell_of(LonLat p) const noexcept;

    BBox m_extent;
    int m_cols = 0, m_rows = 0;
    double m_cell_w = 0, m_cell_h = 0;
    std::vector<std::uint32_t> m_first; // CSR offsets into m_ids, one per cell plus one
    std::vector<std::uint32_t> m_ids;   // candidates per cell, ascending
    std::vector<std::int32_t> m_whole;  // the only polygon touching the cell, holding all of it; -1 otherwise
};

} // namespace wangge::grid

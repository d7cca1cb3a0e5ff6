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

#include <cstddef>
#include <cstdint>
#include <vector>

namespace wangge::tiles {

struct SimplifyOptions {
    // Douglas-Peucker tolerance in tile units; 0 still removes repeated and collinear points.
    double tolerance = 0.0;
    // Rings with less than this area (tile units squared) are dropped: a shell with its holes.
    double min_area = 0.0;
};

// The nodes of a coverage: the points of its rings with other than two distinct neighbours
// over all rings (a ring's point has two; where edges meet or part there are more; a point
// where a ring merely touches another has four). Chains between nodes are what the
// simplification may move, so both sides of a shared edge see the same chains. A hash set of
// points with their first two neighbours: adding a ring and asking for a point cost O(1) each.
class NodeSet {
public:
    // Room for this many distinct points without growing.
    void reserve(std::size_t points);
    // Adds the edges of an open ring (its last point joins its first); repeated points are
    // skipped.
    void add_ring(const mvt::Ring& ring);
    // True when `p` is a point of the added rings with other than two distinct neighbours.
    bool contains(mvt::Point p) const noexcept;
    void clear() noexcept;

private:
    struct Slot {
        std::uint64_t key = 0;
        std::uint64_t first = 0, second = 0; // the first two distinct neighbours seen
        std::uint8_t neighbours = 0;         // distinct neighbours, 3 meaning three or more; 0: empty
    };
    void add_neighbour(std::uint64_t point, std::uint64_t neighbour);
    Slot* find(std::uint64_t key) noexcept;
    const Slot* find(std::uint64_t key) const noexcept;

    std::vector<Slot> m_slots; // open addressing, linear probing, at most half full
    std::size_t m_used = 0;
    int m_shift = 64;
};

// Simplifies the polygons of many features together (one element per feature), in place.
// Polygons whose shell collapses are removed; a feature may end up with no polygon.
void simplify_coverage(std::vector<std::vector<mvt::Polygon>>& features, const SimplifyOptions& options);

// Simplifies lines one by one (their end points stay), in place; lines that collapse to a
// point are removed.
void simplify_lines(std::vector<mvt::Line>& lines, const SimplifyOptions& options);

} // namespace wangge::tiles

#pragma once
// The district is laid out on one lattice of cells (a city block between local lanes, ~80-160 m
// a side). Arterials run along every 5th-7th lattice line and enclose the superblocks, one per
// community. Every polygon the generator emits (grid, community, street) is a union of cells
// traced along lattice lines with every lattice vertex on its boundary kept, so neighbours share
// their edges vertex for vertex and bit for bit: the layers tile exactly, as a coverage.
#include "core/types.hpp"
#include "demo/rng.hpp"

#include <span>
#include <vector>

namespace wangge::demo::detail {

// A cell or superblock position; row 0 is the northmost.
struct CellIndex {
    int row = 0;
    int col = 0;
    friend bool operator==(CellIndex, CellIndex) = default;
};

// North-west first: by row (north to south), then by column (west to east). This is the order
// of the codes within a parent.
inline bool north_west_first(CellIndex a, CellIndex b) noexcept {
    return a.row != b.row ? a.row < b.row : a.col < b.col;
}

// Metres east and north of the district's south-west corner, mapped to WGS84 degrees with the
// scale at the district's middle latitude: off by well under 0.1% across a city-sized district,
// and monotonic, so a box inside a cell in metres is inside it in degrees.
class LocalFrame {
public:
    LocalFrame(LonLat origin, double mid_lat);
    double lon(double x_m) const noexcept { return m_origin.lon + x_m / m_m_per_deg_lon; }
    double lat(double y_m) const noexcept { return m_origin.lat + y_m / m_m_per_deg_lat; }

private:
    LonLat m_origin;
    double m_m_per_deg_lon;
    double m_m_per_deg_lat;
};

struct Lattice {
    LocalFrame frame{LonLat{}, 0.0};
    std::vector<double> x_m;    // column lines, west to east
    std::vector<double> y_m;    // row lines, north to south (decreasing)
    std::vector<double> lon;    // x_m in degrees
    std::vector<double> lat;    // y_m in degrees
    std::vector<int> block_col; // first cell column of each superblock column, then the end
    std::vector<int> block_row; // first cell row of each superblock row, then the end

    int block_cols() const noexcept { return static_cast<int>(block_col.size()) - 1; }
    int block_rows() const noexcept { return static_cast<int>(block_row.size()) - 1; }
};

// Superblocks 520-780 m wide with 5 or 7 cell columns (odd, for the snake below) and
// 500-760 m tall with 5-7 cell rows; cells are 77-160 m a side, so that with setbacks at least
// 50 m remain for a walk-up slab.
Lattice make_lattice(int block_cols, int block_rows, LonLat origin, Rng& rng);

// Walks a rows x cols array band by band (`band` rows each, bands alternately west to east and
// east to west), each band column by column, alternately down and up. With an odd number of
// columns every step moves to an edge neighbour, so any run of consecutive positions is one
// piece without holes or corner-only contacts: cutting the walk into runs gives contiguous zones.
std::vector<CellIndex> band_snake(int rows, int cols, int band);

// The outline of a set of lattice cells as one counter-clockwise ring with every lattice vertex
// on it. Throws Error(internal) unless the cells form one piece without holes.
std::vector<LonLat> outline(const Lattice& lattice, std::span<const CellIndex> cells);

} // namespace wangge::demo::detail

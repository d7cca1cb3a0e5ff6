#include "demo/lattice.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace wangge::demo::detail {

LocalFrame::LocalFrame(LonLat origin, double mid_lat) : m_origin(origin) {
    // Lengths of a degree on the WGS84 ellipsoid (series expansion, error below 1 cm).
    double phi = mid_lat * std::numbers::pi / 180.0;
    m_m_per_deg_lat = 111132.954 - 559.822 * std::cos(2 * phi) + 1.175 * std::cos(4 * phi);
    m_m_per_deg_lon = 111412.84 * std::cos(phi) - 93.5 * std::cos(3 * phi) + 0.118 * std::cos(5 * phi);
}

namespace {

// Appends `count` lines after lines.back(), together `span` metres further, unevenly spaced.
void append_cells(std::vector<double>& lines, double span, int count, double sign, Rng& rng) {
    std::vector<double> widths(static_cast<std::size_t>(count));
    double sum = 0;
    for (double& w : widths) sum += (w = rng.uniform(0.9, 1.1));
    for (double w : widths) lines.push_back(lines.back() + sign * span * w / sum);
}

} // namespace

Lattice make_lattice(int block_cols, int block_rows, LonLat origin, Rng& rng) {
    Lattice l;
    l.x_m.push_back(0.0);
    l.block_col.push_back(0);
    for (int j = 0; j < block_cols; ++j) {
        double span = rng.uniform(520.0, 780.0);
        append_cells(l.x_m, span, span < 680.0 ? 5 : 7, 1.0, rng);
        l.block_col.push_back(static_cast<int>(l.x_m.size()) - 1);
    }
    // Rows are laid out from the north edge down (y relative to it), then shifted so that the
    // south edge lies at the origin.
    l.y_m.push_back(0.0);
    l.block_row.push_back(0);
    for (int i = 0; i < block_rows; ++i) {
        double span = rng.uniform(500.0, 760.0);
        append_cells(l.y_m, span, std::clamp(static_cast<int>(std::lround(span / 100.0)), 5, 7), -1.0, rng);
        l.block_row.push_back(static_cast<int>(l.y_m.size()) - 1);
    }
    double height = -l.y_m.back();
    for (double& y : l.y_m) y += height;

    l.frame = LocalFrame(origin, origin.lat + height / 2.0 / 111000.0);
    for (double x : l.x_m) l.lon.push_back(l.frame.lon(x));
    for (double y : l.y_m) l.lat.push_back(l.frame.lat(y));
    return l;
}

std::vector<CellIndex> band_snake(int rows, int cols, int band) {
    if (cols % 2 == 0 && rows > band)
        throw Error(ErrorKind::internal, "demo_layout", "a band snake needs an odd number of columns");
    std::vector<CellIndex> out;
    out.reserve(static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols));
    for (int top = 0, b = 0; top < rows; top += band, ++b) {
        int height = std::min(band, rows - top);
        for (int i = 0; i < cols; ++i) {
            int col = b % 2 == 0 ? i : cols - 1 - i;
            for (int k = 0; k < height; ++k)
                out.push_back({i % 2 == 0 ? top + k : top + height - 1 - k, col});
        }
    }
    return out;
}

namespace {

// Directed boundary edges between lattice vertices of a cell set, each vertex having at most one
// outgoing edge; vertices are numbered row-major within the set's bounding box.
class BoundaryEdges {
public:
    explicit BoundaryEdges(std::span<const CellIndex> cells);
    std::vector<LonLat> ring(const Lattice& lattice) const;

private:
    bool inside(int row, int col) const noexcept;
    int vertex(int row, int col) const noexcept { return (row - m_row0) * (m_cols + 1) + (col - m_col0); }
    void add(int from, int to);

    int m_row0 = 0, m_col0 = 0, m_rows = 0, m_cols = 0;
    std::vector<char> m_in;
    std::vector<int> m_next;
    std::size_t m_edges = 0;
};

BoundaryEdges::BoundaryEdges(std::span<const CellIndex> cells) {
    int row1 = m_row0 = cells.front().row;
    int col1 = m_col0 = cells.front().col;
    for (CellIndex c : cells) {
        m_row0 = std::min(m_row0, c.row), row1 = std::max(row1, c.row);
        m_col0 = std::min(m_col0, c.col), col1 = std::max(col1, c.col);
    }
    m_rows = row1 - m_row0 + 1;
    m_cols = col1 - m_col0 + 1;
    m_in.assign(static_cast<std::size_t>(m_rows * m_cols), 0);
    for (CellIndex c : cells) m_in[static_cast<std::size_t>((c.row - m_row0) * m_cols + c.col - m_col0)] = 1;
    m_next.assign(static_cast<std::size_t>((m_rows + 1) * (m_cols + 1)), -1);
    // Interior on the left of every edge (rows grow southwards): counter-clockwise shells.
    for (CellIndex c : cells) {
        int r = c.row, k = c.col;
        if (!inside(r + 1, k)) add(vertex(r + 1, k), vertex(r + 1, k + 1));
        if (!inside(r, k + 1)) add(vertex(r + 1, k + 1), vertex(r, k + 1));
        if (!inside(r - 1, k)) add(vertex(r, k + 1), vertex(r, k));
        if (!inside(r, k - 1)) add(vertex(r, k), vertex(r + 1, k));
    }
}

bool BoundaryEdges::inside(int row, int col) const noexcept {
    int r = row - m_row0, k = col - m_col0;
    return r >= 0 && r < m_rows && k >= 0 && k < m_cols && m_in[static_cast<std::size_t>(r * m_cols + k)];
}

void BoundaryEdges::add(int from, int to) {
    int& slot = m_next[static_cast<std::size_t>(from)];
    if (slot != -1)
        throw Error(ErrorKind::internal, "demo_layout", "cells touch only at a corner: not one polygon");
    slot = to;
    ++m_edges;
}

std::vector<LonLat> BoundaryEdges::ring(const Lattice& lattice) const {
    auto start = static_cast<int>(std::find_if(m_next.begin(), m_next.end(), [](int v) { return v != -1; }) -
                                  m_next.begin());
    std::vector<LonLat> out;
    out.reserve(m_edges + 1);
    int v = start;
    do {
        int row = m_row0 + v / (m_cols + 1), col = m_col0 + v % (m_cols + 1);
        out.push_back(
            {lattice.lon[static_cast<std::size_t>(col)], lattice.lat[static_cast<std::size_t>(row)]});
        v = m_next[static_cast<std::size_t>(v)];
    } while (v != start && v != -1 && out.size() <= m_edges);
    if (v != start || out.size() != m_edges)
        throw Error(ErrorKind::internal, "demo_layout", "cells are not one piece without holes");
    out.push_back(out.front());
    return out;
}

} // namespace

std::vector<LonLat> outline(const Lattice& lattice, std::span<const CellIndex> cells) {
    if (cells.empty()) throw Error(ErrorKind::internal, "demo_layout", "outline of no cells");
    return BoundaryEdges(cells).ring(lattice);
}

} // namespace wangge::demo::detail

#include "grid/cell_index.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace wangge::grid {

CellIndex::CellIndex(const std::vector<const geo::Geometry*>& polygons,
                     const std::vector<geo::PreparedGeometry>& prepared, double cells_per_polygon) {
    for (const auto* g : polygons) m_extent.extend(g->bbox());
    if (polygons.empty() || m_extent.empty()) return;
    const double w = std::max(m_extent.max_lon - m_extent.min_lon, 1e-9);
    const double h = std::max(m_extent.max_lat - m_extent.min_lat, 1e-9);
    // Square-ish cells, about cells_per_polygon of them per polygon, at most 4M cells.
    const double cells = std::clamp(cells_per_polygon * static_cast<double>(polygons.size()), 1.0, 4.0e6);
    const double side = std::sqrt(w * h / cells);
    m_cols = std::max(1, static_cast<int>(std::ceil(w / side)));
    m_rows = std::max(1, static_cast<int>(std::ceil(h / side)));
    m_cell_w = w / m_cols;
    m_cell_h = h / m_rows;

    const std::size_t n = static_cast<std::size_t>(m_cols) * static_cast<std::size_t>(m_rows);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> touches; // (cell, polygon)
    std::vector<char> holds(n, 0);
    m_whole.assign(n, -1);
    for (std::uint32_t i = 0; i < polygons.size(); ++i) {
        BBox b = polygons[i]->bbox();
        int c0 = std::clamp(static_cast<int>((b.min_lon - m_extent.min_lon) / m_cell_w), 0, m_cols - 1);
        int c1 = std::clamp(static_cast<int>((b.max_lon - m_extent.min_lon) / m_cell_w), 0, m_cols - 1);
        int r0 = std::clamp(static_cast<int>((b.min_lat - m_extent.min_lat) / m_cell_h), 0, m_rows - 1);
        int r1 = std::clamp(static_cast<int>((b.max_lat - m_extent.min_lat) / m_cell_h), 0, m_rows - 1);
        for (int r = r0; r <= r1; ++r)
            for (int c = c0; c <= c1; ++c) {
                BBox cell{m_extent.min_lon + c * m_cell_w, m_extent.min_lat + r * m_cell_h,
                          m_extent.min_lon + (c + 1) * m_cell_w, m_extent.min_lat + (r + 1) * m_cell_h};
                geo::Geometry rect = geo::make_rectangle(cell);
                if (!prepared[i].intersects(rect)) continue;
                auto k = static_cast<std::uint32_t>(r * m_cols + c);
                touches.emplace_back(k, i);
                if (prepared[i].contains(rect)) {
                    holds[k] = 1;
                    m_whole[k] = static_cast<std::int32_t>(i);
                }
            }
    }
    std::sort(touches.begin(), touches.end());
    m_first.assign(n + 1, 0);
    m_ids.reserve(touches.size());
    for (const auto& [cell, id] : touches) {
        ++m_first[cell + 1];
        m_ids.push_back(id);
    }
    for (std::size_t k = 0; k < n; ++k) {
        m_first[k + 1] += m_first[k];
        // A cell is answered outright only when its holder is the one polygon touching it;
        // with overlapping polygons the smallest code must win, which the candidate walk does.
        if (m_first[k + 1] - m_first[k] != 1) m_whole[k] = -1;
    }
}

std::optional<std::size_t> CellIndex::cell_of(LonLat p) const noexcept {
    if (m_cols == 0 || !m_extent.contains(p)) return std::nullopt;
    int c = std::min(static_cast<int>((p.lon - m_extent.min_lon) / m_cell_w), m_cols - 1);
    int r = std::min(static_cast<int>((p.lat - m_extent.min_lat) / m_cell_h), m_rows - 1);
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(m_cols) + static_cast<std::size_t>(c);
}

std::optional<std::uint32_t> CellIndex::covering(LonLat p, const std::vector<geo::PreparedGeometry>& prepared) const {
    auto cell = cell_of(p);
    if (!cell) return std::nullopt;
    if (m_whole[*cell] >= 0) return static_cast<std::uint32_t>(m_whole[*cell]);
    std::uint32_t begin = m_first[*cell], end = m_first[*cell + 1];
    if (begin == end) return std::nullopt;
    geo::Geometry point = geo::make_point(p);
    for (std::uint32_t k = begin; k < end; ++k)
        if (prepared[m_ids[k]].intersects(point)) return m_ids[k];
    return std::nullopt;
}

std::size_t CellIndex::whole_cells() const noexcept {
    return static_cast<std::size_t>(std::count_if(m_whole.begin(), m_whole.end(), [](std::int32_t w) { return w >= 0; }));
}

} // namespace wangge::grid

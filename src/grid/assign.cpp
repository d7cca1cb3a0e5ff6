#include "grid/assign.hpp"

namespace wangge::grid {

GridAssigner::GridAssigner(const std::vector<store::GridRow>& grids) {
    m_grids.reserve(grids.size());
    m_prepared.reserve(grids.size());
    for (std::size_t i = 0; i < grids.size(); ++i) {
        m_grids.push_back(&grids[i]);
        m_prepared.emplace_back(grids[i].geom);
        m_index.insert(grids[i].geom, static_cast<std::uint32_t>(i));
    }
    m_index.finish();
}

std::optional<std::size_t> GridAssigner::assign(const geo::Geometry& footprint) const {
    std::vector<std::uint32_t> candidates;
    m_index.query(footprint, [&](std::uint32_t id) { candidates.push_back(id); });
    std::optional<std::size_t> best;
    double best_area = 0.0;
    for (std::uint32_t id : candidates) {
        if (!m_prepared[id].intersects(footprint)) continue;
        // Comparing planar areas in degrees is exact enough: all candidates share one location.
        double a = geo::planar_area(geo::intersection(footprint, m_grids[id]->geom));
        if (a <= 0.0) continue;
        if (!best || a > best_area || (a == best_area && m_grids[id]->code < m_grids[*best]->code)) {
            best = id;
            best_area = a;
        }
    }
    return best;
}

AssignmentReport reassign_buildings(store::MapStore& db) {
    std::vector<store::GridRow> grids = db.load_grids();
    GridAssigner assigner(grids);
    AssignmentReport report;
    struct Change {
        std::int64_t id;
        std::optional<std::string> grid;
    };
    std::vector<Change> changes;
    db.for_each_building([&](store::BuildingRow&& b) {
        auto found = assigner.assign(b.geom);
        std::optional<std::string> code;
        if (found) {
            code = assigner.grid(*found).code;
            ++report.assigned;
        } else {
            report.unassigned.emplace_back(b.id, b.source_id);
        }
        if (code != b.grid_code) changes.push_back({b.id, std::move(code)});
    });
    for (const auto& c : changes) db.set_building_grid(c.id, c.grid);
    report.changed = changes.size();
    return report;
}

} // namespace wangge::grid

#pragma once
// Small hand-made districts for rebalancing tests: one street 320102003 with communities, grids,
// buildings (squares with households) and roads, drawn in metres east and north of
// (118.80, 32.00) and built into a Snapshot.
#include "geo/geometry.hpp"
#include "grid/snapshot.hpp"
#include "store/database.hpp"

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wangge::test {

inline constexpr double synthetic_lon0 = 118.80;
inline constexpr double synthetic_lat0 = 32.00;

// The point `x` metres east and `y` metres north of the origin.
inline LonLat at_m(double x, double y) {
    constexpr double deg = 3.14159265358979323846 / 180;
    const double m_per_deg_lat = 110852.0; // at 32 degrees north
    const double m_per_deg_lon = 111320.0 * std::cos(synthetic_lat0 * deg);
    return {synthetic_lon0 + x / m_per_deg_lon, synthetic_lat0 + y / m_per_deg_lat};
}

inline geo::Geometry rect_m(double x0, double y0, double x1, double y1) {
    return geo::make_polygon({{at_m(x0, y0), at_m(x1, y0), at_m(x1, y1), at_m(x0, y1)}});
}

class SyntheticDistrict {
public:
    static constexpr const char* street = "320102003";

    SyntheticDistrict() {
        m_in.version = 1;
        m_in.streets.push_back({street, "合成街道", rect_m(-2000, -2000, 3000, 3000)});
    }

    // Adds community `street` + `number` (3 digits) and returns its code.
    std::string add_community(const std::string& number, geo::Geometry geom) {
        const std::string code = std::string(street) + number;
        m_in.communities.push_back({code, street, "社区" + number, std::move(geom)});
        return code;
    }

    // Adds grid `community` + `number` and returns its code.
    std::string add_grid(const std::string& community, const std::string& number, geo::Geometry geom,
                         store::GridKind kind = store::GridKind::residential) {
        const std::string code = community + number;
        m_in.grids.push_back({code, community, "网格" + number, kind, 1, std::move(geom)});
        return code;
    }

    // Adds a building of `size` metres square centred on (x, y), in the grid that covers its
    // centre; returns its index in buildings() (and id, which is index + 1).
    std::size_t add_building(double x, double y, int households, double size = 20) {
        store::BuildingRow b = row(households, rect_m(x - size / 2, y - size / 2, x + size / 2, y + size / 2));
        const geo::Geometry centre = geo::make_point(at_m(x, y));
        for (const store::GridRow& g : m_in.grids)
            if (geo::intersects(g.geom, centre)) {
                b.grid_code = g.code;
                break;
            }
        return push(std::move(b));
    }

    // Adds a building of any footprint with the grid code given (none: in no grid).
    std::size_t add_building(geo::Geometry footprint, int households, std::optional<std::string> grid_code,
                             const std::string& use = "residential") {
        store::BuildingRow b = row(households, std::move(footprint));
        b.use = use;
        b.grid_code = std::move(grid_code);
        return push(std::move(b));
    }

    // Adds a road through the points (x, y) in metres.
    void add_road(const std::vector<std::pair<double, double>>& points) {
        std::vector<LonLat> line;
        for (auto [x, y] : points) line.push_back(at_m(x, y));
        store::RoadRow r;
        r.id = static_cast<std::int64_t>(m_in.roads.size()) + 1;
        r.name = "路" + std::to_string(r.id);
        r.kind = "residential";
        r.geom = geo::make_multi_line_string({line});
        m_in.roads.push_back(std::move(r));
    }

    const std::vector<store::BuildingRow>& buildings() const noexcept { return m_in.buildings; }
    void drop_roads() { m_in.roads.clear(); }

    // A snapshot of the district as it stands (the district can be changed and built again).
    std::shared_ptr<const grid::Snapshot> snapshot() const {
        grid::Snapshot::Input in;
        in.version = m_in.version;
        in.band = m_in.band;
        for (const auto& s : m_in.streets) in.streets.push_back({s.code, s.name, s.geom.clone()});
        for (const auto& c : m_in.communities) in.communities.push_back({c.code, c.street_code, c.name, c.geom.clone()});
        for (const auto& g : m_in.grids) in.grids.push_back({g.code, g.community_code, g.name, g.kind, g.version, g.geom.clone()});
        for (const auto& b : m_in.buildings) {
            store::BuildingRow copy = row(b.households, b.geom.clone());
            copy.id = b.id;
            copy.source_id = b.source_id;
            copy.name = b.name;
            copy.use = b.use;
            copy.grid_code = b.grid_code;
            in.buildings.push_back(std::move(copy));
        }
        for (const auto& r : m_in.roads) in.roads.push_back({r.id, r.source_id, r.name, r.kind, r.geom.clone()});
        return grid::Snapshot::build(std::move(in));
    }

    // Writes the district into an empty store in one transaction (building ids are the store's,
    // in the same order).
    void store(store::Database& db) const {
        store::Transaction tx(db);
        for (const auto& s : m_in.streets) db.put_street(s, false);
        for (const auto& c : m_in.communities) db.put_community(c, false);
        for (const auto& g : m_in.grids) db.put_grid(g, false);
        for (const auto& b : m_in.buildings) db.insert_building(b);
        for (const auto& r : m_in.roads) db.insert_road(r);
        tx.commit();
    }

private:
    static store::BuildingRow row(int households, geo::Geometry geom) {
        store::BuildingRow b;
        b.use = "residential";
        b.households = households;
        b.geom = std::move(geom);
        return b;
    }
    std::size_t push(store::BuildingRow b) {
        b.id = static_cast<std::int64_t>(m_in.buildings.size()) + 1;
        b.source_id = "b" + std::to_string(b.id);
        b.name = b.source_id;
        m_in.buildings.push_back(std::move(b));
        return m_in.buildings.size() - 1;
    }

    grid::Snapshot::Input m_in;
};

} // namespace wangge::test

#include "api/features.hpp"

#include <cmath>

namespace wangge::api {

namespace {
double round_to(double v, double unit) { return std::round(v / unit) * unit; }
} // namespace

nlohmann::json area_properties(const grid::Snapshot& snap, Level level, const grid::Area& area) {
    nlohmann::json p{{"code", area.code},
                     {"name", area.name},
                     {"level", to_string(level)},
                     {"households", area.stats.households},
                     {"buildings", area.stats.buildings},
                     {"estimated_buildings", area.stats.estimated_buildings},
                     {"area_m2", round_to(area.area_m2, 0.1)}};
    switch (level) {
    case Level::street: p["communities"] = area.stats.children; break;
    case Level::community:
        p["street_code"] = area.parent_code;
        if (const auto* s = snap.find_street(area.parent_code)) p["street_name"] = s->name;
        p["grids"] = area.stats.children;
        break;
    case Level::grid: {
        const auto& g = static_cast<const grid::GridArea&>(area);
        p["community_code"] = g.parent_code;
        if (const auto* c = snap.find_community(g.parent_code)) {
            p["community_name"] = c->name;
            p["street_code"] = c->parent_code;
        }
        p["kind"] = store::to_string(g.kind);
        p["load"] = grid::to_string(g.load);
        p["version"] = g.version;
        break;
    }
    }
    return p;
}

nlohmann::json building_properties(const grid::Building& b) {
    const auto& r = b.row;
    nlohmann::json p{{"id", r.id},
                     {"source_id", r.source_id},
                     {"name", r.name},
                     {"use", r.use},
                     {"address", r.address},
                     {"households", r.households},
                     {"households_estimated", r.households_estimated},
                     {"grid_code", r.grid_code ? nlohmann::json(*r.grid_code) : nlohmann::json()}};
    p["floors"] = r.floors ? nlohmann::json(*r.floors) : nlohmann::json();
    p["height_m"] = r.height_m ? nlohmann::json(*r.height_m) : nlohmann::json();
    return p;
}

void append_feature(std::string& out, const std::string& id, const nlohmann::json& properties,
                    const geo::Geometry& geom) {
    out += "{\"type\":\"Feature\",\"id\":";
    out += nlohmann::json(id).dump();
    out += ",\"properties\":";
    out += properties.dump();
    out += ",\"geometry\":";
    geo::append_geojson(out, geom);
    out += '}';
}

void append_area_feature(std::string& out, const grid::Snapshot& snap, Level level, const grid::Area& area) {
    append_feature(out, area.code, area_properties(snap, level, area), area.geom);
}

void append_building_feature(std::string& out, const grid::Building& b) {
    append_feature(out, std::to_string(b.row.id), building_properties(b), b.row.geom);
}

} // namespace wangge::api

#include "tiles/incident_tiles.hpp"

#include "tiles/mvt.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

namespace wangge::tiles {

std::string_view to_string(IncidentLight light) noexcept {
    switch (light) {
    case IncidentLight::none: return "none";
    case IncidentLight::green: return "green";
    case IncidentLight::yellow: return "yellow";
    case IncidentLight::red: return "red";
    }
    return "none";
}

namespace {

constexpr std::uint32_t extent = mvt::default_extent;

// A mark's position in the tile, in tile units (x right, y down).
struct Placed {
    const IncidentMark* mark = nullptr;
    double x = 0, y = 0;
};

struct Cluster {
    double sum_x = 0, sum_y = 0;
    std::vector<const Placed*> members;
    IncidentLight worst = IncidentLight::none;
};

mvt::Point point_of(double x, double y) {
    return {static_cast<std::int32_t>(std::lround(x)), static_cast<std::int32_t>(std::lround(y))};
}

void add_case(mvt::LayerBuilder& layer, const Placed& p) {
    const IncidentMark& m = *p.mark;
    std::vector<mvt::Property> props{{"id", m.id}, {"category", m.category}, {"state", m.state}};
    if (m.light != IncidentLight::none) props.push_back({"light", to_string(m.light)});
    props.push_back({"due", m.due_at});
    layer.add_points(static_cast<std::uint64_t>(m.id), {point_of(p.x, p.y)}, props);
}

void add_cluster(mvt::LayerBuilder& layer, const Cluster& c) {
    const auto n = static_cast<double>(c.members.size());
    std::vector<mvt::Property> props{{"count", static_cast<std::int64_t>(c.members.size())}};
    if (c.worst != IncidentLight::none) props.push_back({"light", to_string(c.worst)});
    layer.add_points(std::nullopt, {point_of(c.sum_x / n, c.sum_y / n)}, props);
}

// Worst last, so that red is drawn over the rest; then by id, for the same bytes every time.
bool drawn_before(IncidentLight a_light, std::int64_t a_id, IncidentLight b_light, std::int64_t b_id) {
    return a_light != b_light ? a_light < b_light : a_id < b_id;
}

} // namespace

BBox incident_tile_bounds(const TileId& tile, const IncidentTileOptions& options) {
    return buffered_lonlat_bounds(tile, double(options.buffer) / extent);
}

std::string make_incident_tile(const std::vector<IncidentMark>& marks, const TileId& tile, const MaySee& may_see,
                               const IncidentTileOptions& options) {
    require_valid(tile);
    // Positions in the units of the whole zoom level, from which the tile's own corner (an exact
    // integer) is subtracted: a case on the edge between two tiles is in exactly one of them.
    const double world = std::ldexp(double(extent), tile.z);
    const double scale = world / (2 * earth_half_circumference);
    const double left = double(tile.x) * extent, top = double(tile.y) * extent;
    const bool clustered = tile.z < options.cluster_below;
    // Clusters take each case in exactly one tile; single cases are drawn from the buffer too.
    const double margin = clustered ? 0 : options.buffer;

    std::vector<Placed> placed;
    for (const IncidentMark& m : marks) {
        const double x = (lon_to_mercator_x(m.at.lon) + earth_half_circumference) * scale - left;
        const double y = (earth_half_circumference - lat_to_mercator_y(m.at.lat)) * scale - top;
        if (x < -margin || y < -margin || x >= extent + margin || y >= extent + margin) continue;
        if (!may_see(m)) continue;
        placed.push_back({&m, x, y});
    }
    std::vector<mvt::LayerBuilder> layers;
    mvt::LayerBuilder& layer = layers.emplace_back("incidents");
    if (!clustered) {
        std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
            return drawn_before(a.mark->light, a.mark->id, b.mark->light, b.mark->id);
        });
        for (const Placed& p : placed) add_case(layer, p);
        return mvt::serialize_tile(layers);
    }
    const int cells = std::max(1, options.cells);
    const double cell = double(extent) / cells;
    std::map<int, Cluster> by_cell; // row * cells + column
    for (const Placed& p : placed) {
        const int column = std::min(cells - 1, static_cast<int>(p.x / cell));
        const int row = std::min(cells - 1, static_cast<int>(p.y / cell));
        Cluster& c = by_cell[row * cells + column];
        c.sum_x += p.x;
        c.sum_y += p.y;
        c.members.push_back(&p);
        c.worst = std::max(c.worst, p.mark->light);
    }
    std::vector<const Cluster*> order;
    for (const auto& [key, c] : by_cell) order.push_back(&c);
    // A cluster sorts by its worst light and its first case's id.
    std::sort(order.begin(), order.end(), [](const Cluster* a, const Cluster* b) {
        return drawn_before(a->worst, a->members.front()->mark->id, b->worst, b->members.front()->mark->id);
    });
    for (const Cluster* c : order) {
        if (c->members.size() == 1) add_case(layer, *c->members.front());
        else add_cluster(layer, *c);
    }
    return mvt::serialize_tile(layers);
}

} // namespace wangge::tiles

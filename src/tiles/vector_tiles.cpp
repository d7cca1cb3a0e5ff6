#include "tiles/vector_tiles.hpp"

#include "core/error.hpp"
#include "tiles/mvt.hpp"
#include "tiles/simplify.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace wangge::tiles {

namespace detail {

enum Source : std::size_t { src_streets, src_communities, src_grids, src_roads, src_buildings, src_labels, src_count };

const std::vector<SourceLayer>& layer_table() {
    using F = std::vector<std::pair<std::string_view, std::string_view>>;
    const F area{{"code", "String"}, {"name", "String"},       {"level", "String"},
                 {"households", "Number"}, {"buildings", "Number"}};
    F community = area;
    community.emplace_back("parent", "String");
    F grid = community;
    grid.insert(grid.end(), {{"kind", "String"}, {"load", "String"}, {"version", "Number"}});
    static const std::vector<SourceLayer> table{
        {"streets", 0, "Street offices (街道), 9-digit codes", area},
        {"communities", 0, "Communities (社区), 12-digit codes", community},
        {"grids", 11, "Responsibility grids (责任网格), 15-digit codes; load against the household band", grid},
        {"roads", 12, "Road centre lines", {{"name", "String"}, {"kind", "String"}}},
        {"buildings", 14, "Buildings (楼栋) with households and their grid",
         {{"id", "Number"},
          {"name", "String"},
          {"use", "String"},
          {"floors", "Number"},
          {"households", "Number"},
          {"estimated", "Boolean"},
          {"grid_code", "String"}}},
        {"labels", 0,
         "One point per street, community and grid (grids from z11) where its name goes, in the one tile "
         "that contains it",
         {{"code", "String"}, {"name", "String"}, {"level", "String"}, {"parent", "String"}, {"households", "Number"}}},
    };
    return table;
}

std::optional<Source> single_source(VectorLayer layer) noexcept {
    switch (layer) {
    case VectorLayer::streets: return src_streets;
    case VectorLayer::communities: return src_communities;
    case VectorLayer::grids: return src_grids;
    case VectorLayer::roads: return src_roads;
    case VectorLayer::buildings: return src_buildings;
    case VectorLayer::labels: return src_labels;
    case VectorLayer::hierarchy: return std::nullopt;
    }
    return std::nullopt;
}

// Web-Mercator position inside one tile, in integer tile units (y down).
class Projector {
public:
    Projector(const TileId& tile, std::uint32_t extent) {
        MercatorBox m = mercator_bounds(tile);
        m_min_x = m.min_x;
        m_max_y = m.max_y;
        m_scale = extent / (m.max_x - m.min_x);
    }
    double x(double lon) const noexcept { return (lon_to_mercator_x(lon) - m_min_x) * m_scale; }
    double y(double lat) const noexcept { return (m_max_y - lat_to_mercator_y(lat)) * m_scale; }
    mvt::Point operator()(LonLat p) const { return {round(x(p.lon)), rounded_y(p.lat)}; }
    // std::lround (halves away from zero) without the call: exact for tile coordinates, which
    // are far below 2^31.
    static std::int32_t round(double v) noexcept {
        auto r = static_cast<std::int32_t>(v); // towards zero
        const double rest = v - r;             // exact
        if (rest >= 0.5) ++r;
        else if (rest <= -0.5) --r;
        return r;
    }

private:
    // A latitude costs a log and a tan; the areas of a tile share their boundaries, so most of
    // their latitudes come again (two grids, their communities and streets along one edge). Each
    // distinct latitude of the tile is projected once and kept, by its bits, in a hash table.
    std::int32_t rounded_y(double lat) const {
        const auto bits = std::bit_cast<std::uint64_t>(lat);
        if (2 * (m_known + 1) > m_slots.size()) grow();
        const std::size_t mask = m_slots.size() - 1;
        for (std::size_t i = slot_of(bits);; i = (i + 1) & mask) {
            Slot& s = m_slots[i];
            if (s.used && s.bits == bits) return s.y;
            if (!s.used) {
                s = Slot{bits, round(y(lat)), true};
                ++m_known;
                return s.y;
            }
        }
    }
    struct Slot {
        std::uint64_t bits = 0;
        std::int32_t y = 0;
        bool used = false;
    };
    std::size_t slot_of(std::uint64_t bits) const noexcept {
        return static_cast<std::size_t>(((bits ^ (bits >> 29)) * 0x9E3779B97F4A7C15ull) >> m_shift);
    }
    void grow() const {
        std::vector<Slot> old = std::move(m_slots);
        const std::size_t capacity = std::max<std::size_t>(1024, 2 * old.size());
        m_slots.assign(capacity, Slot{});
        m_shift = 64 - std::countr_zero(capacity);
        for (const Slot& s : old) {
            if (!s.used) continue;
            std::size_t i = slot_of(s.bits);
            while (m_slots[i].used) i = (i + 1) & (capacity - 1);
            m_slots[i] = s;
        }
    }

    double m_min_x = 0, m_max_y = 0, m_scale = 1;
    mutable std::vector<Slot> m_slots; // one tile's own: a Projector is made for each tile
    mutable std::size_t m_known = 0;
    mutable int m_shift = 64;
};

struct TileContext {
    TileContext(const TileId& t, const VectorTileOptions& o)
        : tile(t), clip(buffered_lonlat_bounds(t, double(o.buffer) / mvt::default_extent)),
          project(t, mvt::default_extent) {
        const double pixel = double(mvt::default_extent) / 512;
        simplify.tolerance = o.tolerance_px * pixel;
        simplify.min_area = o.min_area_px * pixel * pixel;
    }
    TileId tile;
    BBox clip;
    Projector project;
    SimplifyOptions simplify;

    // Whole features below the minimum area are skipped before any clipping or projection.
    bool too_small(const BBox& b) const noexcept {
        const double w = project.x(b.max_lon) - project.x(b.min_lon);
        const double h = project.y(b.min_lat) - project.y(b.max_lat);
        return w * h < simplify.min_area;
    }
    bool inside_clip(const BBox& b) const noexcept {
        return b.min_lon >= clip.min_lon && b.max_lon <= clip.max_lon && b.min_lat >= clip.min_lat &&
               b.max_lat <= clip.max_lat;
    }
    geo::Geometry clipped(const geo::Geometry& g, const BBox& b) const {
        return inside_clip(b) ? geo::Geometry() : geo::clip_by_rect(g, clip);
    }
};

// Appends the polygons of `g` (clipped to the tile's buffer unless wholly inside it) in tile
// coordinates; nothing when the feature's box is smaller than the minimum area.
void tile_polygons(const geo::Geometry& g, const BBox& bbox, const TileContext& ctx, std::vector<mvt::Polygon>& out) {
    if (ctx.too_small(bbox)) return;
    geo::Geometry cut = ctx.clipped(g, bbox);
    for (const auto& rings : geo::polygon_rings(cut ? cut : g)) {
        mvt::Polygon& polygon = out.emplace_back();
        polygon.reserve(rings.size());
        for (const auto& ring : rings) {
            // Rings are open in tile coordinates: the closing point is not projected.
            const bool closed =
                ring.size() > 1 && ring.front().lon == ring.back().lon && ring.front().lat == ring.back().lat;
            const std::size_t n = closed ? ring.size() - 1 : ring.size();
            mvt::Ring& r = polygon.emplace_back();
            r.reserve(n);
            for (std::size_t k = 0; k < n; ++k) r.push_back(ctx.project(ring[k]));
        }
    }
}

void tile_lines(const geo::Geometry& g, const BBox& bbox, const TileContext& ctx, std::vector<mvt::Line>& out) {
    geo::Geometry cut = ctx.clipped(g, bbox);
    for (const auto& line : geo::line_strings(cut ? cut : g)) {
        mvt::Line& l = out.emplace_back();
        l.reserve(line.size());
        for (const LonLat& p : line) l.push_back(ctx.project(p));
    }
}

// A feature waiting for its layer's simplification before it is encoded: its index in its
// snapshot vector (its properties are read from there when it is encoded) and its geometry.
struct Pending {
    std::uint32_t index = 0;
    std::vector<mvt::Polygon> polygons;
    std::vector<mvt::Line> lines;
    std::optional<mvt::Point> point;
    Level level = Level::grid; // of a label
};

std::optional<std::uint64_t> numeric_id(std::string_view code) {
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), v);
    if (ec != std::errc() || ptr != code.data() + code.size()) return std::nullopt;
    return v;
}

const grid::Area& area_at(const grid::Snapshot& s, Level level, std::uint32_t i) {
    switch (level) {
    case Level::street: return s.streets()[i];
    case Level::community: return s.communities()[i];
    case Level::grid: return s.grids()[i];
    }
    return s.grids()[i];
}

// The id and properties of a feature of source layer `source`; the properties view the snapshot.
std::optional<std::uint64_t> feature_properties(const grid::Snapshot& s, Source source, std::uint32_t i,
                                                std::vector<mvt::Property>& p) {
    p.clear();
    switch (source) {
    case src_streets:
    case src_communities:
    case src_grids: {
        const Level level = source == src_streets ? Level::street
                            : source == src_communities ? Level::community
                                                        : Level::grid;
        const grid::Area& a = area_at(s, level, i);
        p.push_back({"code", a.code});
        p.push_back({"name", a.name});
        p.push_back({"level", to_string(level)});
        p.push_back({"households", std::int64_t{a.stats.households}});
        p.push_back({"buildings", static_cast<std::int64_t>(a.stats.buildings)});
        if (!a.parent_code.empty()) p.push_back({"parent", a.parent_code});
        if (level == Level::grid) {
            const grid::GridArea& g = s.grids()[i];
            p.push_back({"kind", store::to_string(g.kind)});
            p.push_back({"load", grid::to_string(g.load)});
            p.push_back({"version", g.version});
        }
        return numeric_id(a.code);
    }
    case src_roads: {
        const grid::Road& r = s.roads()[i];
        p.push_back({"name", r.row.name});
        p.push_back({"kind", r.row.kind});
        return static_cast<std::uint64_t>(r.row.id);
    }
    case src_labels:
    case src_buildings:
    case src_count: break;
    }
    const grid::Building& b = s.buildings()[i];
    p.push_back({"id", b.row.id});
    p.push_back({"name", b.row.name});
    p.push_back({"use", b.row.use});
    p.push_back({"households", std::int64_t{b.row.households}});
    p.push_back({"estimated", b.row.households_estimated});
    if (b.row.floors) p.push_back({"floors", std::int64_t{*b.row.floors}});
    if (b.row.grid_code) p.push_back({"grid_code", *b.row.grid_code});
    return static_cast<std::uint64_t>(b.row.id);
}

void collect_areas(const grid::Snapshot& s, Level level, const TileContext& ctx, std::vector<Pending>& out) {
    for (std::uint32_t i : s.query(level, ctx.clip)) {
        const grid::Area& a = area_at(s, level, i);
        Pending& f = out.emplace_back();
        f.index = i;
        tile_polygons(a.geom, a.bbox, ctx, f.polygons);
        if (f.polygons.empty()) out.pop_back();
    }
}

// The label points of `level` that lie in the tile itself (not its buffer): each label is in
// exactly one tile of a zoom, the one tile_at() names, so a client draws it once. MapLibre
// draws a point symbol only from the tile whose extent holds its anchor, and places the symbols
// of all tiles in view together (collisions across tile edges included), so a copy in the
// neighbours' buffers would only be carried and dropped. Areas smaller than the smallest polygon
// drawn get no label either.
void collect_labels(const grid::Snapshot& s, Level level, const TileContext& ctx, std::vector<Pending>& out) {
    const double n = static_cast<double>(std::uint64_t{1} << ctx.tile.z);
    const double last = mvt::default_extent - 1;
    for (std::uint32_t i : s.query(level, ctx.clip)) {
        const grid::Area& a = area_at(s, level, i);
        if (tile_at(a.label, ctx.tile.z) != ctx.tile || ctx.too_small(a.bbox)) continue;
        // Within the tile, from the same fractions of the world that tile_at() floors.
        const double fx = (lon_to_mercator_x(a.label.lon) + earth_half_circumference) / (2 * earth_half_circumference);
        const double fy = (earth_half_circumference - lat_to_mercator_y(a.label.lat)) / (2 * earth_half_circumference);
        auto unit = [&](double f, std::uint32_t index) {
            return static_cast<std::int32_t>(std::clamp(std::floor((f * n - index) * mvt::default_extent), 0.0, last));
        };
        Pending& f = out.emplace_back();
        f.index = i;
        f.level = level;
        f.point = mvt::Point{unit(fx, ctx.tile.x), unit(fy, ctx.tile.y)};
    }
}

void label_properties(const grid::Snapshot& s, Level level, std::uint32_t i, std::vector<mvt::Property>& p) {
    const grid::Area& a = area_at(s, level, i);
    p.clear();
    p.push_back({"code", a.code});
    p.push_back({"name", a.name});
    p.push_back({"level", to_string(level)});
    if (!a.parent_code.empty()) p.push_back({"parent", a.parent_code});
    p.push_back({"households", std::int64_t{a.stats.households}});
}

void collect_buildings(const grid::Snapshot& s, const TileContext& ctx, std::vector<Pending>& out) {
    for (std::uint32_t i : s.query_buildings(ctx.clip)) {
        const grid::Building& b = s.buildings()[i];
        Pending& f = out.emplace_back();
        f.index = i;
        tile_polygons(b.row.geom, b.bbox, ctx, f.polygons);
        if (f.polygons.empty()) out.pop_back();
    }
}

void collect_roads(const grid::Snapshot& s, const TileContext& ctx, std::vector<Pending>& out) {
    for (std::uint32_t i : s.query_roads(ctx.clip)) {
        const grid::Road& r = s.roads()[i];
        Pending& f = out.emplace_back();
        f.index = i;
        tile_lines(r.row.geom, r.bbox, ctx, f.lines);
        simplify_lines(f.lines, ctx.simplify);
        if (f.lines.empty()) out.pop_back();
    }
}

// Simplifies the polygons of several layers as one coverage (see simplify.hpp).
void simplify_together(const std::vector<std::vector<Pending>*>& layers, const SimplifyOptions& options) {
    std::vector<std::vector<mvt::Polygon>> all;
    for (auto* layer : layers)
        for (auto& f : *layer) all.push_back(std::move(f.polygons));
    simplify_coverage(all, options);
    std::size_t k = 0;
    for (auto* layer : layers)
        for (auto& f : *layer) f.polygons = std::move(all[k++]);
}

mvt::LayerBuilder encode(const grid::Snapshot& s, Source source, const std::vector<Pending>& features) {
    mvt::LayerBuilder layer{std::string(layer_table()[source].id)};
    std::vector<mvt::Property> properties;
    for (const Pending& f : features) {
        if (f.point) {
            label_properties(s, f.level, f.index, properties);
            layer.add_points(numeric_id(area_at(s, f.level, f.index).code), {*f.point}, properties);
            continue;
        }
        if (f.polygons.empty() && f.lines.empty()) continue;
        const std::optional<std::uint64_t> id = feature_properties(s, source, f.index, properties);
        if (!f.polygons.empty()) layer.add_polygons(id, f.polygons, properties);
        else layer.add_lines(id, f.lines, properties);
    }
    return layer;
}

} // namespace detail

std::string_view to_string(VectorLayer layer) noexcept {
    switch (layer) {
    case VectorLayer::streets: return "streets";
    case VectorLayer::communities: return "communities";
    case VectorLayer::grids: return "grids";
    case VectorLayer::roads: return "roads";
    case VectorLayer::buildings: return "buildings";
    case VectorLayer::labels: return "labels";
    case VectorLayer::hierarchy: return "hierarchy";
    }
    return "hierarchy";
}

const std::vector<VectorLayer>& all_vector_layers() {
    static const std::vector<VectorLayer> all{VectorLayer::streets,   VectorLayer::communities, VectorLayer::grids,
                                              VectorLayer::roads,     VectorLayer::buildings,   VectorLayer::labels,
                                              VectorLayer::hierarchy};
    return all;
}

std::optional<VectorLayer> parse_vector_layer(std::string_view name) noexcept {
    for (VectorLayer l : all_vector_layers())
        if (to_string(l) == name) return l;
    return std::nullopt;
}

VectorLayer require_vector_layer(std::string_view name) {
    if (auto l = parse_vector_layer(name)) return *l;
    throw Error(ErrorKind::not_found, "unknown_layer",
                "unknown vector tile layer '" + std::string(name) +
                    "'; layers are streets, communities, grids, roads, buildings, labels and hierarchy");
}

std::vector<const SourceLayer*> source_layers(VectorLayer layer) {
    const auto& table = detail::layer_table();
    if (auto s = detail::single_source(layer)) return {&table[*s]};
    std::vector<const SourceLayer*> out;
    for (const auto& l : table) out.push_back(&l);
    return out;
}

int layer_min_zoom(VectorLayer layer) noexcept {
    auto s = detail::single_source(layer);
    return s ? detail::layer_table()[*s].minzoom : 0;
}

void require_zoom(VectorLayer layer, const TileId& tile) {
    require_valid(tile);
    if (tile.z < layer_min_zoom(layer) || tile.z > vector_max_zoom)
        throw Error(ErrorKind::bad_request, "invalid_tile",
                    "zoom " + std::to_string(tile.z) + " is outside the zooms of layer " +
                        std::string(to_string(layer)) + ": " + std::to_string(layer_min_zoom(layer)) + ".." +
                        std::to_string(vector_max_zoom));
}

std::string vector_layers_json(VectorLayer layer, int minzoom, int maxzoom) {
    nlohmann::json layers = nlohmann::json::array();
    for (const SourceLayer* l : source_layers(layer)) {
        nlohmann::json fields = nlohmann::json::object();
        for (const auto& [name, type] : l->fields) fields[std::string(name)] = type;
        layers.push_back({{"id", l->id},
                          {"description", l->description},
                          {"minzoom", std::max(l->minzoom, minzoom)},
                          {"maxzoom", std::min(vector_max_zoom, maxzoom)},
                          {"fields", fields}});
    }
    return layers.dump();
}

BBox data_bounds(const grid::Snapshot& snapshot) {
    BBox b;
    for (const auto& a : snapshot.streets()) b.extend(a.bbox);
    for (const auto& a : snapshot.communities()) b.extend(a.bbox);
    for (const auto& a : snapshot.grids()) b.extend(a.bbox);
    for (const auto& x : snapshot.buildings()) b.extend(x.bbox);
    for (const auto& r : snapshot.roads()) b.extend(r.bbox);
    return b;
}

std::string make_vector_tile(const grid::Snapshot& snapshot, VectorLayer layer, const TileId& tile,
                             const VectorTileOptions& options) {
    require_zoom(layer, tile);
    const detail::TileContext ctx(tile, options);
    std::vector<detail::Pending> found[detail::src_count];
    auto wanted = [&](detail::Source s) {
        auto single = detail::single_source(layer);
        return single ? *single == s : tile.z >= detail::layer_table()[s].minzoom;
    };
    if (wanted(detail::src_streets)) detail::collect_areas(snapshot, Level::street, ctx, found[detail::src_streets]);
    if (wanted(detail::src_communities))
        detail::collect_areas(snapshot, Level::community, ctx, found[detail::src_communities]);
    if (wanted(detail::src_grids)) detail::collect_areas(snapshot, Level::grid, ctx, found[detail::src_grids]);
    if (wanted(detail::src_roads)) detail::collect_roads(snapshot, ctx, found[detail::src_roads]);
    if (wanted(detail::src_buildings)) detail::collect_buildings(snapshot, ctx, found[detail::src_buildings]);
    if (wanted(detail::src_labels)) {
        // Grids are labelled from the zoom their polygons appear at, in `labels` alone as well.
        auto& labels = found[detail::src_labels];
        detail::collect_labels(snapshot, Level::street, ctx, labels);
        detail::collect_labels(snapshot, Level::community, ctx, labels);
        if (tile.z >= detail::layer_table()[detail::src_grids].minzoom)
            detail::collect_labels(snapshot, Level::grid, ctx, labels);
    }

    // The three levels share their edges (a street's boundary is its communities' outer edges),
    // so they are one coverage; buildings are another.
    detail::simplify_together(
        {&found[detail::src_streets], &found[detail::src_communities], &found[detail::src_grids]}, ctx.simplify);
    detail::simplify_together({&found[detail::src_buildings]}, ctx.simplify);

    std::vector<mvt::LayerBuilder> layers;
    for (std::size_t s = 0; s < detail::src_count; ++s)
        layers.push_back(detail::encode(snapshot, static_cast<detail::Source>(s), found[s]));
    return mvt::serialize_tile(layers);
}

} // namespace wangge::tiles

#include "tiles/vector_tiles.hpp"

#include "core/error.hpp"
#include "tiles/mvt.hpp"
#include "tiles/simplify.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace wangge::tiles {

namespace detail {

enum Source : std::size_t { src_streets, src_communities, src_grids, src_roads, src_buildings, src_count };

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
    mvt::Point operator()(LonLat p) const noexcept {
        return {static_cast<std::int32_t>(std::lround(x(p.lon))), static_cast<std::int32_t>(std::lround(y(p.lat)))};
    }

private:
    double m_min_x = 0, m_max_y = 0, m_scale = 1;
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

std::vector<mvt::Polygon> tile_polygons(const geo::Geometry& g, const BBox& bbox, const TileContext& ctx) {
    if (ctx.too_small(bbox)) return {};
    geo::Geometry cut = ctx.clipped(g, bbox);
    std::vector<mvt::Polygon> out;
    for (const auto& rings : geo::polygon_rings(cut ? cut : g)) {
        mvt::Polygon polygon;
        polygon.reserve(rings.size());
        for (const auto& ring : rings) {
            mvt::Ring r;
            r.reserve(ring.size());
            for (const LonLat& p : ring) r.push_back(ctx.project(p));
            polygon.push_back(std::move(r));
        }
        out.push_back(std::move(polygon));
    }
    return out;
}

std::vector<mvt::Line> tile_lines(const geo::Geometry& g, const BBox& bbox, const TileContext& ctx) {
    geo::Geometry cut = ctx.clipped(g, bbox);
    std::vector<mvt::Line> out;
    for (const auto& line : geo::line_strings(cut ? cut : g)) {
        mvt::Line l;
        l.reserve(line.size());
        for (const LonLat& p : line) l.push_back(ctx.project(p));
        out.push_back(std::move(l));
    }
    return out;
}

// A feature waiting for its layer's simplification before it is encoded.
struct Pending {
    std::optional<std::uint64_t> id;
    std::vector<mvt::Property> properties;
    std::vector<mvt::Polygon> polygons;
    std::vector<mvt::Line> lines;
};

std::optional<std::uint64_t> numeric_id(std::string_view code) {
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(code.data(), code.data() + code.size(), v);
    if (ec != std::errc() || ptr != code.data() + code.size()) return std::nullopt;
    return v;
}

std::vector<mvt::Property> area_properties(const grid::Area& a, Level level) {
    std::vector<mvt::Property> p{{"code", a.code},
                                 {"name", a.name},
                                 {"level", to_string(level)},
                                 {"households", std::int64_t{a.stats.households}},
                                 {"buildings", static_cast<std::int64_t>(a.stats.buildings)}};
    if (!a.parent_code.empty()) p.push_back({"parent", a.parent_code});
    return p;
}

const grid::Area& area_at(const grid::Snapshot& s, Level level, std::uint32_t i) {
    switch (level) {
    case Level::street: return s.streets()[i];
    case Level::community: return s.communities()[i];
    case Level::grid: return s.grids()[i];
    }
    return s.grids()[i];
}

void collect_areas(const grid::Snapshot& s, Level level, const TileContext& ctx, std::vector<Pending>& out) {
    for (std::uint32_t i : s.query(level, ctx.clip)) {
        const grid::Area& a = area_at(s, level, i);
        Pending f{numeric_id(a.code), area_properties(a, level), tile_polygons(a.geom, a.bbox, ctx), {}};
        if (f.polygons.empty()) continue;
        if (level == Level::grid) {
            const grid::GridArea& g = s.grids()[i];
            f.properties.push_back({"kind", store::to_string(g.kind)});
            f.properties.push_back({"load", grid::to_string(g.load)});
            f.properties.push_back({"version", g.version});
        }
        out.push_back(std::move(f));
    }
}

void collect_buildings(const grid::Snapshot& s, const TileContext& ctx, std::vector<Pending>& out) {
    for (std::uint32_t i : s.query_buildings(ctx.clip)) {
        const grid::Building& b = s.buildings()[i];
        Pending f{static_cast<std::uint64_t>(b.row.id), {}, tile_polygons(b.row.geom, b.bbox, ctx), {}};
        if (f.polygons.empty()) continue;
        f.properties = {{"id", b.row.id},
                        {"name", b.row.name},
                        {"use", b.row.use},
                        {"households", std::int64_t{b.row.households}},
                        {"estimated", b.row.households_estimated}};
        if (b.row.floors) f.properties.push_back({"floors", std::int64_t{*b.row.floors}});
        if (b.row.grid_code) f.properties.push_back({"grid_code", *b.row.grid_code});
        out.push_back(std::move(f));
    }
}

void collect_roads(const grid::Snapshot& s, const TileContext& ctx, std::vector<Pending>& out) {
    for (std::uint32_t i : s.query_roads(ctx.clip)) {
        const grid::Road& r = s.roads()[i];
        Pending f{static_cast<std::uint64_t>(r.row.id), {{"name", r.row.name}, {"kind", r.row.kind}}, {},
                  tile_lines(r.row.geom, r.bbox, ctx)};
        simplify_lines(f.lines, ctx.simplify);
        if (!f.lines.empty()) out.push_back(std::move(f));
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

mvt::LayerBuilder encode(std::string_view name, const std::vector<Pending>& features) {
    mvt::LayerBuilder layer{std::string(name)};
    for (const Pending& f : features) {
        if (!f.polygons.empty()) layer.add_polygons(f.id, f.polygons, f.properties);
        else if (!f.lines.empty()) layer.add_lines(f.id, f.lines, f.properties);
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
    case VectorLayer::hierarchy: return "hierarchy";
    }
    return "hierarchy";
}

const std::vector<VectorLayer>& all_vector_layers() {
    static const std::vector<VectorLayer> all{VectorLayer::streets, VectorLayer::communities, VectorLayer::grids,
                                              VectorLayer::roads,   VectorLayer::buildings,   VectorLayer::hierarchy};
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
                    "'; layers are streets, communities, grids, roads, buildings and hierarchy");
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

    // The three levels share their edges (a street's boundary is its communities' outer edges),
    // so they are one coverage; buildings are another.
    detail::simplify_together(
        {&found[detail::src_streets], &found[detail::src_communities], &found[detail::src_grids]}, ctx.simplify);
    detail::simplify_together({&found[detail::src_buildings]}, ctx.simplify);

    std::vector<mvt::LayerBuilder> layers;
    const auto& table = detail::layer_table();
    for (std::size_t s = 0; s < detail::src_count; ++s)
        layers.push_back(detail::encode(table[s].id, found[s]));
    return mvt::serialize_tile(layers);
}

} // namespace wangge::tiles

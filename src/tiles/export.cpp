#include "tiles/export.hpp"

#include "core/error.hpp"
#include "tiles/compress.hpp"

#include <algorithm>
#include <cstdio>

namespace wangge::tiles {

namespace detail {

// More tiles than this is a mistake on the command line (z18 of a whole city), not an export.
constexpr std::uint64_t max_export_tiles = 20'000'000;

[[noreturn]] void invalid(const std::string& message) {
    throw Error(ErrorKind::bad_request, "invalid_option", message);
}

std::string number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.7g", v);
    return buf;
}

BBox export_bounds(const grid::Snapshot& snapshot, const ExportRange& range) {
    BBox data = data_bounds(snapshot);
    if (data.empty()) invalid("the database holds nothing to export");
    if (!range.bbox) return data;
    const BBox& b = *range.bbox;
    if (b.empty() || !in_wgs84_range({b.min_lon, b.min_lat}) || !in_wgs84_range({b.max_lon, b.max_lat}))
        invalid("the export bbox must be minLon,minLat,maxLon,maxLat in WGS84 with min below max");
    if (!b.intersects(data)) invalid("the export bbox meets none of the data");
    return b;
}

void require_zooms(const ExportRange& range, int lowest, int highest, const std::string& what,
                   const std::string& hint) {
    const std::string asked = std::to_string(range.minzoom) + ".." + std::to_string(range.maxzoom);
    if (range.minzoom > range.maxzoom) invalid("zooms " + asked + " are in the wrong order: --minzoom is above --maxzoom");
    if (range.minzoom < lowest || range.maxzoom > highest)
        invalid(what + " has zooms " + std::to_string(lowest) + ".." + std::to_string(highest) + ", and zooms " +
                asked + " reach outside them" + hint);
}

void write_metadata(store::MbtilesWriter& out, std::string_view name, std::string_view format,
                    std::string_view description, const BBox& b, const ExportRange& range) {
    const int center_zoom = std::clamp(13, range.minzoom, range.maxzoom);
    out.set_metadata("name", name);
    out.set_metadata("format", format);
    out.set_metadata("type", "overlay");
    out.set_metadata("version", "1");
    out.set_metadata("description", description);
    out.set_metadata("bounds",
                     number(b.min_lon) + "," + number(b.min_lat) + "," + number(b.max_lon) + "," + number(b.max_lat));
    out.set_metadata("center", number((b.min_lon + b.max_lon) / 2) + "," + number((b.min_lat + b.max_lat) / 2) + "," +
                                   std::to_string(center_zoom));
    out.set_metadata("minzoom", std::to_string(range.minzoom));
    out.set_metadata("maxzoom", std::to_string(range.maxzoom));
}

// Visits every tile of the range over `bounds`, zoom by zoom, storing what `make` returns.
ExportSummary write_tiles(const BBox& bounds, const ExportRange& range,
                          const std::function<std::string(const TileId&)>& make, store::MbtilesWriter& out,
                          const ExportProgress& progress) {
    std::uint64_t total = 0;
    for (int z = range.minzoom; z <= range.maxzoom; ++z) total += tile_range(bounds, z).count();
    if (total > max_export_tiles)
        invalid(std::to_string(total) + " tiles is more than an export may hold (" + std::to_string(max_export_tiles) +
                "); lower maxzoom or give a smaller bbox");
    ExportSummary summary;
    summary.bounds = bounds;
    for (int z = range.minzoom; z <= range.maxzoom; ++z) {
        const TileRange r = tile_range(bounds, z);
        for (std::uint32_t x = r.min_x; x <= r.max_x; ++x)
            for (std::uint32_t y = r.min_y; y <= r.max_y; ++y) {
                const TileId t{z, x, y};
                std::string bytes = make(t);
                if (!bytes.empty()) {
                    out.put_tile(z, x, tms_y(t), bytes);
                    ++summary.written;
                    summary.bytes += bytes.size();
                }
                ++summary.tiles;
                if (progress) progress(summary.tiles, static_cast<std::size_t>(total));
            }
    }
    return summary;
}

} // namespace detail

ExportSummary export_tiles(const grid::Snapshot& snapshot, VectorLayer layer, const ExportRange& range,
                           store::MbtilesWriter& out, const ExportProgress& progress) {
    const int lowest = layer_min_zoom(layer);
    detail::require_zooms(range, lowest, vector_max_zoom, "layer " + std::string(to_string(layer)),
                          range.minzoom < lowest && lowest > layer_min_zoom(VectorLayer::hierarchy)
                              ? "; for lower zooms export --layer hierarchy (zooms " +
                                    std::to_string(layer_min_zoom(VectorLayer::hierarchy)) + ".." +
                                    std::to_string(vector_max_zoom) + ")"
                              : std::string());
    const BBox bounds = detail::export_bounds(snapshot, range);
    const std::string name = "wangge " + std::string(to_string(layer));
    detail::write_metadata(out, name, "pbf", "Wangge community grid map, vector layer " + std::string(to_string(layer)),
                           bounds, range);
    out.set_metadata("json", "{\"vector_layers\":" + vector_layers_json(layer, range.minzoom, range.maxzoom) + "}");
    auto make = [&](const TileId& t) {
        VectorTileOptions options;
        if (t.z == range.maxzoom) options.tolerance_px = 0; // clients over-zoom the deepest level
        std::string tile = make_vector_tile(snapshot, layer, t, options);
        return tile.empty() ? tile : gzip(tile);
    };
    return detail::write_tiles(bounds, range, make, out, progress);
}

ExportSummary export_tiles(const grid::Snapshot& snapshot, std::string_view name, std::string_view format,
                           const ExportRange& range, const TileRenderer& render, store::MbtilesWriter& out,
                           const ExportProgress& progress) {
    detail::require_zooms(range, 0, max_zoom, "layer " + std::string(name), {});
    const BBox bounds = detail::export_bounds(snapshot, range);
    detail::write_metadata(out, name, format, "Wangge community grid map, " + std::string(name), bounds, range);
    return detail::write_tiles(bounds, range, render, out, progress);
}

} // namespace wangge::tiles

#pragma once
// Export of tiles to an MBTiles 1.3 file (docs/TILES.md): vector layers cut from a snapshot, or
// any other tiles (PNG) through a renderer callback. The caller owns the writer and commits it:
//
//   store::MbtilesWriter out(path, overwrite);
//   tiles::export_tiles(*snapshot, tiles::require_vector_layer(name), range, out, progress);
//   out.commit();
#include "store/mbtiles.hpp"
#include "tiles/vector_tiles.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace wangge::tiles {

struct ExportRange {
    int minzoom = 0;
    int maxzoom = 14;
    std::optional<BBox> bbox; // WGS84; the data's bounds when absent
};

// Called after each tile with the tiles done and the total.
using ExportProgress = std::function<void(std::size_t done, std::size_t total)>;

struct ExportSummary {
    std::size_t tiles = 0;       // tiles visited
    std::size_t written = 0;     // tiles stored (empty tiles are left out)
    std::size_t bytes = 0;       // bytes stored
    BBox bounds;                 // the box exported
};

// Writes `layer` at every zoom of `range` (gzip-compressed MVT, format "pbf"), with the metadata
// rows name, format, bounds, center, minzoom, maxzoom, type, version, description and json
// (vector_layers). The deepest zoom is not simplified beyond removing collinear points, since
// clients over-zoom it. Throws Error(bad_request, "invalid_option") for zooms outside the
// layer's range, minzoom > maxzoom, or a bbox that is empty or meets no data.
ExportSummary export_tiles(const grid::Snapshot& snapshot, VectorLayer layer, const ExportRange& range,
                           store::MbtilesWriter& out, const ExportProgress& progress = {});

// The hook for other tile formats: `render` makes the bytes of one tile (empty: no tile), for
// `format` "png", "jpg" or "webp". Metadata as above, without json; `name` names the tileset.
using TileRenderer = std::function<std::string(const TileId&)>;
ExportSummary export_tiles(const grid::Snapshot& snapshot, std::string_view name, std::string_view format,
                           const ExportRange& range, const TileRenderer& render, store::MbtilesWriter& out,
                           const ExportProgress& progress = {});

} // namespace wangge::tiles

#pragma once
// Vector tiles cut from a snapshot (docs/TILES.md). Six source layers — streets, communities,
// grids, roads, buildings and labels — each served alone, and `hierarchy`, one tile with all six
// for the web map, each from its own minimum zoom so that a district tile does not carry buildings:
//
//   streets, communities   z0 and up      grids   z11 and up
//   roads                  z12 and up     buildings   z14 and up
//   labels                 z0 and up (the label points of grids from z11), each in one tile only
//
// Geometry: the features whose box meets the tile's bounds grown by a 64/4096 buffer are clipped
// to that box (GEOS ClipByRect), projected through EPSG:3857 to integer tile coordinates,
// simplified to about half a pixel (areas of a tile together, so shared edges stay shared), and
// dropped when smaller than a pixel.
#include "grid/snapshot.hpp"
#include "tiles/tile_math.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wangge::tiles {

enum class VectorLayer { streets, communities, grids, roads, buildings, labels, hierarchy };

inline constexpr int vector_max_zoom = 20;

std::string_view to_string(VectorLayer layer) noexcept;
std::optional<VectorLayer> parse_vector_layer(std::string_view name) noexcept;
// Throws Error(not_found, "unknown_layer") naming the layers that exist.
VectorLayer require_vector_layer(std::string_view name);
const std::vector<VectorLayer>& all_vector_layers();

// A layer inside a tile (MVT "layer", TileJSON "vector_layers" entry).
struct SourceLayer {
    std::string_view id;
    int minzoom = 0;
    std::string_view description;
    // Attribute name and TileJSON type ("String", "Number", "Boolean").
    std::vector<std::pair<std::string_view, std::string_view>> fields;
};
// The source layers a tile of `layer` carries, in drawing order (one, or six for hierarchy).
std::vector<const SourceLayer*> source_layers(VectorLayer layer);
// The lowest zoom a tile of `layer` exists at (the highest is vector_max_zoom for all).
int layer_min_zoom(VectorLayer layer) noexcept;
// Throws Error(bad_request, "invalid_tile") when the tile is outside the layer's zooms.
void require_zoom(VectorLayer layer, const TileId& tile);

// The TileJSON "vector_layers" array of a layer, as JSON text (also in MBTiles metadata "json"),
// each source layer's zooms narrowed to [minzoom, maxzoom].
std::string vector_layers_json(VectorLayer layer, int minzoom = 0, int maxzoom = vector_max_zoom);
// WGS84 box of everything in the snapshot; empty when it holds nothing.
BBox data_bounds(const grid::Snapshot& snapshot);

struct VectorTileOptions {
    int buffer = 64; // tile units (of 4096) drawn beyond each edge
    // Simplification in pixels of a tile drawn 512 px wide (as MapLibre draws vector tiles);
    // 0 keeps every vertex except repeated and collinear ones (for the deepest zoom of an
    // export, which clients over-zoom).
    double tolerance_px = 0.5;
    double min_area_px = 1.0; // polygons and holes smaller than this are left out
};

// The uncompressed MVT of `layer` at `tile`; the empty string when nothing is in it. Throws
// Error(bad_request, "invalid_tile") for a tile outside the layer's zooms.
std::string make_vector_tile(const grid::Snapshot& snapshot, VectorLayer layer, const TileId& tile,
                             const VectorTileOptions& options = {});

} // namespace wangge::tiles

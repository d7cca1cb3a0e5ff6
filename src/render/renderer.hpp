#pragma once
// PNG map tiles rendered by Mapnik from the styles in styles/ over the SpatiaLite database
// (docs/RENDERING.md). No Mapnik header leaks out of this module: the rest of Wangge sees tile
// ids and PNG bytes only. The names of streets, communities and grids are drawn at the label
// points of a snapshot (grid::Area::label), the points of the vector tiles' `labels` layer.
#include "grid/snapshot.hpp"
#include "tiles/tile_math.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::render {

inline constexpr int tile_size = 256; // pixels at scale 1; @2x tiles are 512
// Names of areas are drawn or not by the distance to their rivals within this many pixels
// (docs/RENDERING.md, "Labels of areas"); the styles ask for at most this much room.
inline constexpr int label_reach_px = 128;
// How far beyond its edges a change can alter a rendered tile, as a fraction of the tile: the
// styles' 64-pixel buffer plus the label reach. A cache of rendered tiles must invalidate this
// margin around what changed (tiles::TileCache::Options::margin).
inline constexpr double change_margin = (64.0 + label_reach_px) / tile_size;

struct RendererOptions {
    std::filesystem::path database;   // the SpatiaLite file the styles read, or a postgresql:// URL
    std::filesystem::path styles_dir; // every <name>.xml in it is a style
    // Empty: $WANGGE_MAPNIK_INPUT_PLUGINS, else `mapnik-config --input-plugins` at configure time.
    std::filesystem::path input_plugins_dir;
    // Empty: $WANGGE_FONTS_DIR, else `mapnik-config --fonts` (/usr/share/fonts), searched recursively.
    std::filesystem::path fonts_dir;
    // The household band of residential grids that the styles colour by (@BAND_MIN@, @BAND_MAX@).
    int band_min = 250;
    int band_max = 500;
    // The snapshot whose label points the style's `labels` layer draws (the server's current
    // one). Empty: the renderer loads a snapshot of the database itself, and again whenever the
    // database's data version has moved on since.
    std::function<std::shared_ptr<const grid::Snapshot>()> snapshot = nullptr;
};

// Loads every style once at construction, so a broken style fails at startup rather than on the
// first request. render_png may be called from any number of threads at once: Mapnik maps are not
// safe to share, so each style keeps a pool of maps and a call borrows one for its duration.
class Renderer {
public:
    // Throws Error(io, "style_load_failed") naming the style and Mapnik's reason,
    // Error(io, "no_styles") when the directory is missing or holds no style,
    // Error(io, "database_missing"), and Error(io, "mapnik_plugins") when Mapnik's sqlite input
    // plugin is not in the plugin directory.
    explicit Renderer(RendererOptions options);
    Renderer(std::filesystem::path database, std::filesystem::path styles_dir);
    ~Renderer();
    Renderer(const Renderer&) = delete;
    Renderer& operator=(const Renderer&) = delete;
    Renderer(Renderer&&) = delete;
    Renderer& operator=(Renderer&&) = delete;

    // Style names (file names without .xml), sorted.
    const std::vector<std::string>& styles() const noexcept;
    bool has_style(std::string_view style) const noexcept;

    // Throws Error(not_found, "unknown_style"), Error(bad_request, "invalid_tile") or
    // Error(bad_request, "invalid_scale") for bad arguments (checked by require_valid below), and
    // Error(io, "render_failed") when Mapnik fails (e.g. the database is unreadable).
    // Returns the PNG of a tile_size * scale square tile in EPSG:3857, scale 1 or 2.
    std::string render_png(std::string_view style, const tiles::TileId& tile, int scale) const;
    // A metatile: the PNG of the n x n tiles whose top-left tile is `tile`, drawn as one image.
    // Labels are placed so that it equals those n x n tiles rendered one by one, side by side.
    std::string render_block_png(std::string_view style, const tiles::TileId& tile, int n, int scale) const;

    // The argument checks of render_png, for callers that queue work and must fail early.
    void require_valid(std::string_view style, const tiles::TileId& tile, int scale) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// A tile source for the MBTiles exporter: PNG bytes of each tile in one style and scale. Checks
// the style and scale now (throws as render_png does); the renderer must outlive the function.
std::function<std::string(const tiles::TileId&)> png_tile_source(const Renderer& renderer, std::string style, int scale);

} // namespace wangge::render

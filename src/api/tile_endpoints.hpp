#pragma once
// Vector tiles over HTTP (docs/TILES.md):
//   GET /tiles/{layer}/{z}/{x}/{y}.mvt   Mapbox Vector Tile, gzip when the client accepts it
//   GET /tiles/{layer}.json              TileJSON 3.0.0
// for the layers streets, communities, grids, roads, buildings and hierarchy (all five in one).
// Tiles come from the shared TileCache (source "mvt/{layer}") and carry a strong ETag, so
// If-None-Match answers 304. A tile with nothing in it is 204 No Content.
//
// Other paths under /tiles/ (*.png: raster tiles) are left to other families.
#include "api/endpoints.hpp"
#include "tiles/tile_cache.hpp"
#include "tiles/vector_tiles.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace wangge::api {

struct TileEndpointOptions {
    int max_age_s = 60; // Cache-Control: public, max-age=N
    tiles::VectorTileOptions tiles;
};

class TileEndpoints final : public Endpoints {
public:
    explicit TileEndpoints(std::shared_ptr<tiles::TileCache> cache, TileEndpointOptions options = {});
    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    Response tile(const Request& req, const grid::Snapshot& snapshot, tiles::VectorLayer layer,
                  const tiles::TileId& id) const;
    Response tilejson(const Request& req, const grid::Snapshot& snapshot, tiles::VectorLayer layer) const;

    std::shared_ptr<tiles::TileCache> m_cache;
    TileEndpointOptions m_options;
    std::string m_cache_control; // "public, max-age=N", made once

};

// Whether an Accept-Encoding header value allows gzip (RFC 9110 §12.5.3, q-values honoured).
bool accepts_gzip(std::string_view accept_encoding);

} // namespace wangge::api

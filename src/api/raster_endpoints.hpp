#pragma once
// Rendered map tiles (docs/RENDERING.md):
//   GET /tiles/{style}/{z}/{x}/{y}.png      256 x 256
//   GET /tiles/{style}/{z}/{x}/{y}@2x.png   512 x 512, the same ground at twice the pixel density
// Tiles come from the tile cache, keyed "png/{style}" or "png/{style}@2x" and by the snapshot's
// data version. A miss is answered by a deferred response: the tile renders on the render pool's
// threads and the HTTP session answers when it is ready, so no HTTP thread waits for Mapnik and a
// burst of cold tiles never delays locate. Concurrent requests for one tile render it once. At
// most `max_in_flight` distinct tiles wait to render (by default the pool's queue capacity);
// beyond that a miss is answered 503 with Retry-After. Other /tiles/ paths (.mvt,
// .json) belong to the vector tile endpoints.
#include "api/endpoints.hpp"
#include "render/render_pool.hpp"
#include "tiles/tile_cache.hpp"

#include <cstddef>
#include <memory>

namespace wangge::api {

class RasterEndpoints final : public Endpoints {
public:
    // cache may be null: every request is then rendered (tests, benchmarks of cold rendering).
    // max_in_flight 0 means the render pool's queue capacity.
    RasterEndpoints(std::shared_ptr<render::RenderPool> pool, std::shared_ptr<tiles::TileCache> cache,
                    std::size_t max_in_flight = 0);
    ~RasterEndpoints() override;

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    std::shared_ptr<render::RenderPool> m_pool;
    std::shared_ptr<tiles::TileCache> m_cache;
    std::size_t m_max_in_flight;
    struct Flights;
    std::shared_ptr<Flights> m_flights;
};

} // namespace wangge::api

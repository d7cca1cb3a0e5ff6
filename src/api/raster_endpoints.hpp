#pragma once
// Rendered map tiles (docs/RENDERING.md):
//   GET /tiles/{style}/{z}/{x}/{y}.png      256 x 256
//   GET /tiles/{style}/{z}/{x}/{y}@2x.png   512 x 512, the same ground at twice the pixel density
// Tiles come from the tile cache, keyed "png/{style}" or "png/{style}@2x" and by the snapshot's
// data version; a miss is rendered on the render pool's threads while the HTTP thread waits.
// At most `max_waiting` requests wait for renders at once (by default one per render thread, the
// HTTP threads `serve` adds for rendering); a miss beyond that is answered 503 with Retry-After
// at once, so a burst of cold tiles never holds the HTTP threads that answer locate. Other /tiles/ paths (.mvt,
// .json) belong to the vector tile endpoints.
#include "api/endpoints.hpp"
#include "render/render_pool.hpp"
#include "tiles/tile_cache.hpp"

#include <atomic>
#include <cstddef>
#include <memory>

namespace wangge::api {

class RasterEndpoints final : public Endpoints {
public:
    // cache may be null: every request is then rendered (tests, benchmarks of cold rendering).
    // max_waiting 0 means one per render thread.
    RasterEndpoints(std::shared_ptr<render::RenderPool> pool, std::shared_ptr<tiles::TileCache> cache,
                    std::size_t max_waiting = 0);

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    std::shared_ptr<render::RenderPool> m_pool;
    std::shared_ptr<tiles::TileCache> m_cache;
    std::size_t m_max_waiting;
    mutable std::atomic<std::size_t> m_waiting{0};
};

} // namespace wangge::api

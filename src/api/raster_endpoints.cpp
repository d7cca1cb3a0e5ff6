#include "api/raster_endpoints.hpp"

#include "core/log.hpp"

#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::api {

namespace {

constexpr std::string_view prefix = "/tiles/";
constexpr std::string_view png_suffix = ".png";
constexpr std::string_view retina_suffix = "@2x";

// The URL names no data version, so a browser must come back to learn of a change; a minute is
// how stale a map may look, and the ETag makes the revalidation after it a cheap 304.
constexpr std::string_view cache_control = "public, max-age=60";

// The response to one request for a tile, given the tile.
Response tile_response(const Request& req, const tiles::CachedTile& cached) {
    Response res;
    res.headers.reserve(2);
    res.set_header("ETag", cached.etag);
    res.set_header("Cache-Control", std::string(cache_control));
    if (req.not_modified(cached.etag)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }
    res.content_type = "image/png";
    res.shared_body = cached.bytes;
    return res;
}

} // namespace

// Renders in flight, by cache id and version, with the completions of the requests waiting for
// each (single flight: a tile asked for by several requests at once renders once). Shared with
// the pool's callbacks, which may outlive a request.
struct RasterEndpoints::Flights {
    struct Waiter {
        Request request; // its If-None-Match decides between 200 and 304
        Completion done;
    };
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<Waiter>> waiting;
};

RasterEndpoints::RasterEndpoints(std::shared_ptr<render::RenderPool> pool, std::shared_ptr<tiles::TileCache> cache,
                                 std::size_t max_in_flight)
    : m_pool(std::move(pool)), m_cache(std::move(cache)), m_max_in_flight(max_in_flight),
      m_flights(std::make_shared<Flights>()) {
    if (!m_pool) throw Error(ErrorKind::internal, "no_render_pool", "RasterEndpoints needs a render pool");
    if (m_max_in_flight == 0) m_max_in_flight = m_pool->queue_capacity();
}

RasterEndpoints::~RasterEndpoints() = default;

std::optional<Response> RasterEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    std::string_view path = req.path;
    if (!path.starts_with(prefix) || !path.ends_with(png_suffix)) return std::nullopt;
    require_read(req);
    path.remove_prefix(prefix.size());
    path.remove_suffix(png_suffix.size());
    const auto parts = split_exactly<4>(path);
    if (!parts)
        throw Error(ErrorKind::bad_request, "invalid_tile",
                    "expected /tiles/{style}/{z}/{x}/{y}.png or {y}@2x.png, not " + req.path);
    const std::string style((*parts)[0]);
    if (!m_pool->renderer().has_style(style))
        throw Error(ErrorKind::not_found, "unknown_style", "no style named '" + style + "'");
    std::string_view y = (*parts)[3];
    int scale = 1;
    if (y.ends_with(retina_suffix)) {
        y.remove_suffix(retina_suffix.size());
        scale = 2;
    }
    const tiles::TileId tile = tiles::parse_tile((*parts)[1], (*parts)[2], y);
    const tiles::TileKey key{"png/" + style + (scale == 2 ? std::string(retina_suffix) : std::string()), tile};
    const std::int64_t version = snapshot.version();
    if (m_cache)
        if (auto hit = m_cache->peek(key, version)) return tile_response(req, *hit);

    // A miss: the response is deferred, and the request's thread goes back to serving others.
    const std::string flight = key.source + "/" + tiles::to_string(tile) + "@" + std::to_string(version);
    Response res;
    res.deferred = [flights = m_flights, pool = m_pool, cache = m_cache, max = m_max_in_flight, req, key, flight,
                    style, scale, version](Completion done) {
        {
            std::lock_guard lock(flights->mutex);
            if (auto it = flights->waiting.find(flight); it != flights->waiting.end()) {
                it->second.push_back({req, std::move(done)});
                return;
            }
            if (flights->waiting.size() >= max) {
                // The render queue is full: refuse at once rather than queue without bound (503
                // with Retry-After).
                done(error_response(Error(ErrorKind::unavailable, "render_busy",
                                          "too many tiles are waiting to be rendered; retry in a moment")));
                return;
            }
            flights->waiting[flight].push_back({req, std::move(done)});
        }
        auto finish = [flights, cache, key, flight, version](std::string png, std::exception_ptr error) {
            std::optional<tiles::CachedTile> made;
            if (!error) {
                try {
                    if (cache) {
                        made = cache->put(key, version, std::move(png));
                    } else {
                        auto bytes = std::make_shared<const std::string>(std::move(png));
                        made = tiles::CachedTile{bytes, tiles::etag_of(*bytes)};
                    }
                } catch (...) {
                    error = std::current_exception();
                }
            }
            std::vector<Flights::Waiter> waiters;
            {
                std::lock_guard lock(flights->mutex);
                auto it = flights->waiting.find(flight);
                if (it == flights->waiting.end()) return;
                waiters = std::move(it->second);
                flights->waiting.erase(it);
            }
            for (auto& w : waiters) {
                const log::RequestScope scope(w.request.request_id); // answered on a render thread
                w.done(made ? tile_response(w.request, *made) : error_response(error, "rendering " + flight));
            }
        };
        try {
            pool->submit(style, key.tile, scale, finish);
        } catch (...) {
            finish({}, std::current_exception());
        }
    };
    return res;
}

} // namespace wangge::api

#include "api/raster_endpoints.hpp"

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

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string_view> split(std::string_view path, char separator) {
    std::vector<std::string_view> parts;
    for (;;) {
        const auto at = path.find(separator);
        parts.push_back(path.substr(0, at));
        if (at == std::string_view::npos) return parts;
        path.remove_prefix(at + 1);
    }
}

// A place among the requests waiting for a render, or none when all are taken.
class WaitSlot {
public:
    WaitSlot(std::atomic<std::size_t>& waiting, std::size_t max) : m_waiting(waiting) {
        std::size_t now = m_waiting.load();
        while (now < max)
            if (m_waiting.compare_exchange_weak(now, now + 1)) {
                m_held = true;
                return;
            }
    }
    ~WaitSlot() {
        if (m_held) --m_waiting;
    }
    WaitSlot(const WaitSlot&) = delete;
    WaitSlot& operator=(const WaitSlot&) = delete;
    explicit operator bool() const noexcept { return m_held; }

private:
    std::atomic<std::size_t>& m_waiting;
    bool m_held = false;
};

} // namespace

RasterEndpoints::RasterEndpoints(std::shared_ptr<render::RenderPool> pool, std::shared_ptr<tiles::TileCache> cache,
                                 std::size_t max_waiting)
    : m_pool(std::move(pool)), m_cache(std::move(cache)),
      m_max_waiting(max_waiting ? max_waiting : (m_pool ? m_pool->threads() : 1)) {
    if (!m_pool) throw Error(ErrorKind::internal, "no_render_pool", "RasterEndpoints needs a render pool");
}

std::optional<Response> RasterEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    std::string_view path = req.path;
    if (path.substr(0, prefix.size()) != prefix || !ends_with(path, png_suffix)) return std::nullopt;
    require_read(req);
    path.remove_prefix(prefix.size());
    path.remove_suffix(png_suffix.size());
    const std::vector<std::string_view> parts = split(path, '/');
    if (parts.size() != 4)
        throw Error(ErrorKind::bad_request, "invalid_tile",
                    "expected /tiles/{style}/{z}/{x}/{y}.png or {y}@2x.png, not " + req.path);
    const std::string style(parts[0]);
    if (!m_pool->renderer().has_style(style))
        throw Error(ErrorKind::not_found, "unknown_style", "no style named '" + style + "'");
    std::string_view y = parts[3];
    int scale = 1;
    if (ends_with(y, retina_suffix)) {
        y.remove_suffix(retina_suffix.size());
        scale = 2;
    }
    const tiles::TileId tile = tiles::parse_tile(parts[1], parts[2], y);

    auto render = [&] { return m_pool->submit(style, tile, scale).get(); };
    auto busy = [] {
        return Error(ErrorKind::unavailable, "render_busy",
                     "every render thread is busy with other tiles; retry in a moment");
    };
    tiles::CachedTile cached;
    if (m_cache) {
        const tiles::TileKey key{"png/" + style + (scale == 2 ? std::string(retina_suffix) : std::string()), tile};
        if (auto hit = m_cache->peek(key, snapshot.version())) {
            cached = std::move(*hit);
        } else {
            WaitSlot slot(m_waiting, m_max_waiting);
            if (!slot) throw busy();
            cached = m_cache->get(key, snapshot.version(), render);
        }
    } else {
        WaitSlot slot(m_waiting, m_max_waiting);
        if (!slot) throw busy();
        auto bytes = std::make_shared<const std::string>(render());
        cached = tiles::CachedTile{bytes, tiles::etag_of(*bytes)};
    }

    Response res;
    res.set_header("ETag", cached.etag);
    res.set_header("Cache-Control", std::string(cache_control));
    if (req.not_modified(cached.etag)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }
    res.content_type = "image/png";
    res.body = *cached.bytes;
    return res;
}

} // namespace wangge::api

// GET /tiles/{style}/{z}/{x}/{y}[@2x].png through api::Service, with a tile cache: PNG bytes,
// ETag revalidation, and the JSON error envelope for bad styles and coordinates.
#include "render_fixture.hpp"

#include "api/raster_endpoints.hpp"
#include "api/service.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <future>
#include <set>
#include <chrono>
#include <thread>

using namespace wangge;

namespace {

struct Fixture {
    std::shared_ptr<tiles::TileCache> cache = std::make_shared<tiles::TileCache>(tiles::TileCache::Options{});
    std::shared_ptr<render::RenderPool> pool;
    std::shared_ptr<api::RasterEndpoints> raster;
    std::unique_ptr<api::Service> service;
    std::shared_ptr<const grid::Snapshot> snapshot;

    explicit Fixture(std::size_t render_threads = 2, std::size_t max_in_flight = 0)
        : pool(std::make_shared<render::RenderPool>(test::RenderFixture::get().renderer(), render_threads)),
          raster(std::make_shared<api::RasterEndpoints>(pool, cache, max_in_flight)) {
        auto db = store::Database::open(test::RenderFixture::get().database(), store::OpenMode::read_only);
        snapshot = grid::Snapshot::load(*db);
        service = std::make_unique<api::Service>(std::make_shared<grid::SnapshotHolder>(snapshot),
                                                 std::vector<std::shared_ptr<const api::Endpoints>>{raster});
    }

    api::Response get(const std::string& target, const std::string& if_none_match = "") const {
        auto req = api::make_request("GET", target);
        if (!if_none_match.empty()) req.headers.emplace_back("if-none-match", if_none_match);
        return api::wait(service->handle(req));
    }

    std::optional<std::string_view> header(const api::Response& r, std::string_view name) const {
        for (const auto& [k, v] : r.headers)
            if (k == name) return v;
        return std::nullopt;
    }

    std::string centre(int z, std::string_view suffix = ".png") const {
        const tiles::TileId t = tiles::tile_at(test::demo_centre, z);
        return "/tiles/default/" + tiles::to_string(t) + std::string(suffix);
    }
};

} // namespace

TEST_CASE("raster endpoints: a tile is a PNG with an ETag and Cache-Control", "[render][api]") {
    Fixture f;
    const api::Response r = f.get(f.centre(14));
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "image/png");
    CHECK(render::decode_png(r.bytes()).width == 256);
    REQUIRE(f.header(r, "ETag"));
    CHECK(f.header(r, "ETag")->front() == '"');
    CHECK(f.header(r, "Cache-Control") == std::optional<std::string_view>("public, max-age=60"));
    // The same bytes the renderer gives.
    CHECK(r.bytes() == test::RenderFixture::get().renderer()->render_png("default", tiles::tile_at(test::demo_centre, 14), 1));

    const api::Response retina = f.get(f.centre(14, "@2x.png"));
    REQUIRE(retina.status == 200);
    CHECK(render::decode_png(retina.bytes()).width == 512);
    CHECK(f.header(retina, "ETag") != f.header(r, "ETag"));
}

TEST_CASE("raster endpoints: tiles come from the cache, keyed by style, scale and version", "[render][api]") {
    Fixture f;
    f.get(f.centre(15));
    f.get(f.centre(15));
    f.get(f.centre(15, "@2x.png"));
    const tiles::TileCache::Stats s = f.cache->stats();
    CHECK(s.misses == 2);
    CHECK(s.hits == 1);
    CHECK(s.entries == 2);
}

TEST_CASE("raster endpoints: If-None-Match answers 304", "[render][api]") {
    Fixture f;
    const api::Response first = f.get(f.centre(16));
    const std::string etag(*f.header(first, "ETag"));
    for (const std::string& header : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
        INFO("If-None-Match: " << header);
        const api::Response again = f.get(f.centre(16), header);
        CHECK(again.status == 304);
        CHECK(again.bytes().empty());
        CHECK(f.header(again, "ETag") == std::optional<std::string_view>(etag));
    }
    CHECK(f.get(f.centre(16), "\"other\"").status == 200);
}

TEST_CASE("raster endpoints: bad styles and coordinates get 404 and 400", "[render][api]") {
    Fixture f;
    auto code_of = [&](const std::string& target, int status) {
        const api::Response r = f.get(target);
        INFO(target << " -> " << r.status << " " << r.body);
        CHECK(r.status == status);
        return nlohmann::json::parse(r.body).value("code", "");
    };
    CHECK(code_of("/tiles/nope/14/1/1.png", 404) == "unknown_style");
    CHECK(code_of("/tiles/default/14/99999/1.png", 400) == "invalid_tile");
    CHECK(code_of("/tiles/default/23/0/0.png", 400) == "invalid_tile");
    CHECK(code_of("/tiles/default/a/0/0.png", 400) == "invalid_tile");
    CHECK(code_of("/tiles/default/1/-1/0.png", 400) == "invalid_tile");
    CHECK(code_of("/tiles/default/1/0/0@3x.png", 400) == "invalid_tile");
    CHECK(code_of("/tiles/default/1/0.png", 400) == "invalid_tile");
    CHECK(code_of("/tiles/default/1/0/0/0.png", 400) == "invalid_tile");
}

TEST_CASE("raster endpoints: other paths are not theirs", "[render][api]") {
    Fixture f;
    for (const char* path : {"/tiles/grids/14/1/1.mvt", "/tiles/grids.json", "/api/v1/grids", "/tiles/default/1/0/0.png.json"}) {
        INFO(path);
        CHECK_FALSE(f.raster->handle(api::make_request("GET", path), *f.snapshot));
    }
    const api::Response post = f.service->handle(api::make_request("POST", f.centre(14)));
    CHECK(post.status == 405);
}

namespace {

// Holds the pool's only thread until released, so that renders queue behind it.
struct PoolBlocker {
    std::atomic<bool> running{false}, release{false};
    explicit PoolBlocker(render::RenderPool& pool) {
        pool.submit("default", tiles::TileId{0, 0, 0}, 1, [this](std::string, std::exception_ptr) {
            running = true;
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
        while (!running) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
};

// Starts a request and returns the future of its final response.
std::future<api::Response> start(const Fixture& f, const std::string& target) {
    auto promise = std::make_shared<std::promise<api::Response>>();
    api::Response r = f.service->handle(api::make_request("GET", target));
    if (!r.deferred) {
        promise->set_value(std::move(r));
    } else {
        auto deferred = std::move(r.deferred);
        deferred([promise](api::Response ready) { promise->set_value(std::move(ready)); });
    }
    return promise->get_future();
}

} // namespace

TEST_CASE("raster endpoints: a cold tile is answered later, by the render pool, once for all who ask", "[render][api]") {
    Fixture f(1, 8);
    PoolBlocker blocker(*f.pool);
    const std::string target = f.centre(15);
    // While the only render thread is busy, the requests wait without holding the caller.
    std::vector<std::future<api::Response>> answers;
    for (int i = 0; i < 3; ++i) answers.push_back(start(f, target));
    for (auto& a : answers) CHECK(a.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
    blocker.release = true;
    std::set<std::string> bodies;
    for (auto& a : answers) {
        const api::Response r = a.get();
        REQUIRE(r.status == 200);
        bodies.insert(std::string(r.bytes()));
    }
    CHECK(bodies.size() == 1);
    CHECK(render::decode_png(*bodies.begin()).width == 256);
    CHECK(f.cache->stats().misses == 1); // rendered once
    // Now cached: answered at once.
    CHECK_FALSE(f.service->handle(api::make_request("GET", target)).deferred);
}

TEST_CASE("raster endpoints: tiles beyond the render queue get 503 with Retry-After", "[render][api]") {
    Fixture f(1, 1);
    PoolBlocker blocker(*f.pool);
    const tiles::TileId t = tiles::tile_at(test::demo_centre, 15);
    auto queued = start(f, "/tiles/default/" + tiles::to_string(t) + ".png");
    auto refused = start(f, "/tiles/default/" + tiles::to_string(tiles::TileId{t.z, t.x + 1, t.y}) + ".png");
    const api::Response busy = refused.get(); // at once: the queue is full
    CHECK(busy.status == 503);
    CHECK(nlohmann::json::parse(busy.body).value("code", "") == "render_busy");
    CHECK(f.header(busy, "Retry-After") == std::optional<std::string_view>("1"));
    blocker.release = true;
    CHECK(queued.get().status == 200);
    // With the queue free again the refused tile renders.
    CHECK(f.get("/tiles/default/" + tiles::to_string(tiles::TileId{t.z, t.x + 1, t.y}) + ".png").status == 200);
}

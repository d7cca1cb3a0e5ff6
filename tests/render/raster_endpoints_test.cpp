// GET /tiles/{style}/{z}/{x}/{y}[@2x].png through api::Service, with a tile cache: PNG bytes,
// ETag revalidation, and the JSON error envelope for bad styles and coordinates.
#include "render_fixture.hpp"

#include "api/raster_endpoints.hpp"
#include "api/service.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

using namespace wangge;

namespace {

struct Fixture {
    std::shared_ptr<tiles::TileCache> cache = std::make_shared<tiles::TileCache>(tiles::TileCache::Options{});
    std::shared_ptr<render::RenderPool> pool =
        std::make_shared<render::RenderPool>(test::RenderFixture::get().renderer(), 2);
    std::shared_ptr<api::RasterEndpoints> raster;
    std::unique_ptr<api::Service> service;
    std::shared_ptr<const grid::Snapshot> snapshot;

    explicit Fixture(std::size_t max_waiting = 0)
        : raster(std::make_shared<api::RasterEndpoints>(pool, cache, max_waiting)) {
        auto db = store::Database::open(test::RenderFixture::get().database(), store::OpenMode::read_only);
        snapshot = grid::Snapshot::load(*db);
        service = std::make_unique<api::Service>(std::make_shared<grid::SnapshotHolder>(snapshot),
                                                 std::vector<std::shared_ptr<const api::Endpoints>>{raster});
    }

    api::Response get(const std::string& target, const std::string& if_none_match = "") const {
        auto req = api::make_request("GET", target);
        if (!if_none_match.empty()) req.headers.emplace_back("if-none-match", if_none_match);
        return service->handle(req);
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
    CHECK(render::decode_png(r.body).width == 256);
    REQUIRE(f.header(r, "ETag"));
    CHECK(f.header(r, "ETag")->front() == '"');
    CHECK(f.header(r, "Cache-Control") == std::optional<std::string_view>("public, max-age=60"));
    // The same bytes the renderer gives.
    CHECK(r.body == test::RenderFixture::get().renderer()->render_png("default", tiles::tile_at(test::demo_centre, 14), 1));

    const api::Response retina = f.get(f.centre(14, "@2x.png"));
    REQUIRE(retina.status == 200);
    CHECK(render::decode_png(retina.body).width == 512);
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
        CHECK(again.body.empty());
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

TEST_CASE("raster endpoints: renders beyond the waiting cap get 503 with Retry-After", "[render][api]") {
    Fixture f(1);
    const tiles::TileId held = tiles::tile_at(test::demo_centre, 15);
    // A render of `held` that the test releases: the request below waits for it (single flight)
    // and so holds the only waiting place.
    std::atomic<bool> making{false}, release{false};
    std::thread leader([&] {
        f.cache->get(tiles::TileKey{"png/default", held}, f.snapshot->version(), [&] {
            making = true;
            while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            return std::string("bytes of the held render");
        });
    });
    while (!making) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    api::Response waited;
    // It retries while the loop below holds the place for a moment.
    std::thread waiter([&] {
        do waited = f.get("/tiles/default/" + tiles::to_string(held) + ".png");
        while (waited.status == 503);
    });

    // Cold tiles elsewhere render while the place is free and are refused once the waiter has it.
    api::Response busy;
    for (std::uint32_t i = 1; i <= 400 && busy.status != 503; ++i) {
        const tiles::TileId other{held.z, held.x + i, held.y};
        busy = f.get("/tiles/default/" + tiles::to_string(other) + ".png");
        REQUIRE((busy.status == 200 || busy.status == 503));
        if (busy.status == 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(busy.status == 503);
    CHECK(nlohmann::json::parse(busy.body).value("code", "") == "render_busy");
    CHECK(f.header(busy, "Retry-After") == std::optional<std::string_view>("1"));
    release = true;
    leader.join();
    waiter.join();
    REQUIRE(waited.status == 200);
    CHECK(waited.body == "bytes of the held render");
    CHECK(f.get("/tiles/default/" + tiles::to_string(held) + ".png").status == 200);
}

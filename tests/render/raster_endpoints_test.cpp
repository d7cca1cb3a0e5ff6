// GET /tiles/{style}/{z}/{x}/{y}[@2x].png through api::Service, with a tile cache: PNG bytes,
// ETag revalidation, and the JSON error envelope for bad styles and coordinates.
#include "render_fixture.hpp"

#include "api/raster_endpoints.hpp"
#include "api/service.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace wangge;

namespace {

struct Fixture {
    std::shared_ptr<tiles::TileCache> cache = std::make_shared<tiles::TileCache>(tiles::TileCache::Options{});
    std::shared_ptr<render::RenderPool> pool =
        std::make_shared<render::RenderPool>(test::RenderFixture::get().renderer(), 2);
    std::shared_ptr<api::RasterEndpoints> raster = std::make_shared<api::RasterEndpoints>(pool, cache);
    std::unique_ptr<api::Service> service;
    std::shared_ptr<const grid::Snapshot> snapshot;

    Fixture() {
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

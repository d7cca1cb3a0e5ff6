// The render pool: concurrent renders from several threads give the bytes of sequential ones
// (each thread borrows its own Mapnik map), and bad input fails in the caller's thread.
#include "render_fixture.hpp"

#include "core/error.hpp"
#include "render/render_pool.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using namespace wangge;

namespace {

// 16 tiles over the three levels and both scales.
std::vector<std::pair<tiles::TileId, int>> sixteen_tiles() {
    std::vector<std::pair<tiles::TileId, int>> out;
    for (int z : {12, 13, 14, 15, 16, 17, 18, 14}) {
        const tiles::TileId t = tiles::tile_at(test::demo_centre, z);
        out.emplace_back(t, 1);
        out.emplace_back(tiles::TileId{t.z, t.x + 1, t.y}, z % 2 == 0 ? 2 : 1);
    }
    return out;
}

} // namespace

TEST_CASE("render pool: 16 concurrent renders from 4 threads equal sequential ones", "[render]") {
    const auto renderer = test::RenderFixture::get().renderer();
    const auto tiles = sixteen_tiles();
    std::vector<std::string> sequential;
    for (const auto& [t, scale] : tiles) sequential.push_back(renderer->render_png("default", t, scale));

    render::RenderPool pool(renderer, 4, 8);
    CHECK(pool.threads() == 4);
    std::vector<std::string> concurrent(tiles.size());
    std::vector<std::thread> clients;
    for (std::size_t c = 0; c < 4; ++c)
        clients.emplace_back([&, c] {
            // Each client submits its four tiles at once, then waits for them.
            std::vector<std::future<std::string>> futures;
            for (std::size_t i = c; i < tiles.size(); i += 4) futures.push_back(pool.submit("default", tiles[i].first, tiles[i].second));
            for (std::size_t k = 0; k < futures.size(); ++k) concurrent[c + 4 * k] = futures[k].get();
        });
    for (auto& t : clients) t.join();
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        INFO("tile " << tiles::to_string(tiles[i].first) << " scale " << tiles[i].second);
        CHECK(concurrent[i] == sequential[i]);
    }
}

TEST_CASE("render pool: callbacks receive the bytes", "[render]") {
    render::RenderPool pool(test::RenderFixture::get().renderer(), 2);
    std::promise<std::string> done;
    pool.submit("default", tiles::tile_at(test::demo_centre, 14), 1, [&](std::string png, std::exception_ptr error) {
        if (error)
            done.set_exception(error);
        else
            done.set_value(std::move(png));
    });
    CHECK(render::decode_png(done.get_future().get()).width == 256);
}

TEST_CASE("render pool: bad input fails at submit", "[render]") {
    render::RenderPool pool(test::RenderFixture::get().renderer(), 1);
    try {
        pool.submit("nope", {1, 0, 0}, 1);
        FAIL("unknown style accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::not_found);
        CHECK(e.code() == "unknown_style");
    }
    try {
        pool.submit("default", {1, 2, 0}, 1);
        FAIL("invalid tile accepted");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::bad_request);
        CHECK(e.code() == "invalid_tile");
    }
}

TEST_CASE("render pool: stopping fails what is still queued", "[render]") {
    std::vector<std::future<std::string>> futures;
    {
        render::RenderPool pool(test::RenderFixture::get().renderer(), 1, 64);
        for (int i = 0; i < 32; ++i) futures.push_back(pool.submit("default", tiles::tile_at(test::demo_centre, 12 + i % 6), 1));
    }
    std::size_t rendered = 0, stopped = 0;
    for (auto& f : futures) {
        try {
            f.get();
            ++rendered;
        } catch (const Error& e) {
            CHECK(e.code() == "render_pool_stopped");
            ++stopped;
        }
    }
    CHECK(rendered + stopped == 32);
    CHECK(stopped > 0);
}

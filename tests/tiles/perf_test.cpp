// Timing of vector tile generation on a large demo district (hidden: run it explicitly with
//   tiles_integration_test "[.perf]"
// in a release build). WANGGE_TILES_PERF_DB names the SpatiaLite file; it is generated with
// WANGGE_TILES_PERF_HOUSEHOLDS households (3,500,000 by default) when it does not exist.
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
#include "grid/assign.hpp"
#include "tiles/compress.hpp"
#include "tiles/mvt_decoder.hpp"
#include "tiles/vector_tiles.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>

using namespace wangge;

namespace {

std::filesystem::path perf_db() {
    const char* env = std::getenv("WANGGE_TILES_PERF_DB");
    std::filesystem::path path = env ? env : (std::filesystem::temp_directory_path() / "wangge-tiles-perf.sqlite");
    if (std::filesystem::exists(path)) return path;
    const char* hh = std::getenv("WANGGE_TILES_PERF_HOUSEHOLDS");
    demo::DemoDistrict d = demo::generate_demo(demo::DemoOptions{.households = hh ? std::atol(hh) : 3500000});
    auto db = store::Database::open(path, store::OpenMode::create);
    demo::store_district(*db, d);
    return path;
}

template <typename F>
double median_ms(int runs, F&& f) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

} // namespace

TEST_CASE("vector tile generation time on a large district", "[.perf]") {
    auto t0 = std::chrono::steady_clock::now();
    auto db = store::Database::open(perf_db(), store::OpenMode::read_only);
    auto snap = grid::Snapshot::load(*db);
    std::printf("snapshot: %zu communities, %zu grids, %zu buildings, %zu roads (%.1f s to prepare)\n",
                snap->communities().size(), snap->grids().size(), snap->buildings().size(), snap->roads().size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const BBox b = tiles::data_bounds(*snap);
    const LonLat centre{(b.min_lon + b.max_lon) / 2, (b.min_lat + b.max_lat) / 2};
    for (int z : {10, 12, 14, 16}) {
        const tiles::TileId t = tiles::tile_at(centre, z);
        for (auto layer : {tiles::VectorLayer::hierarchy, tiles::VectorLayer::grids, tiles::VectorLayer::buildings}) {
            if (z < tiles::layer_min_zoom(layer)) continue;
            std::string tile;
            const double make = median_ms(15, [&] { tile = tiles::make_vector_tile(*snap, layer, t); });
            std::string packed;
            const double zip = median_ms(15, [&] { packed = tiles::gzip(tile); });
            std::size_t features = 0;
            for (const auto& l : test::mvt::decode(tile)) features += l.features.size();
            std::printf("%-9s %-10s %6zu features %8zu bytes (%7zu gzip): make %7.2f ms, gzip %5.2f ms\n",
                        tiles::to_string(t).c_str(), std::string(tiles::to_string(layer)).c_str(), features,
                        tile.size(), packed.size(), make, zip);
            CHECK(features > 0);
        }
    }
    // Every z14 tile of the district once (cold, as a cache fill would make them).
    const tiles::TileRange r = tiles::tile_range(b, 14);
    std::vector<double> ms;
    for (std::uint32_t x = r.min_x; x <= r.max_x; ++x)
        for (std::uint32_t y = r.min_y; y <= r.max_y; ++y) {
            auto s = std::chrono::steady_clock::now();
            tiles::gzip(tiles::make_vector_tile(*snap, tiles::VectorLayer::hierarchy, {14, x, y}));
            ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
        }
    std::sort(ms.begin(), ms.end());
    std::printf("all %zu z14 hierarchy tiles (make + gzip): median %.2f ms, p95 %.2f ms, max %.2f ms\n", ms.size(),
                ms[ms.size() / 2], ms[ms.size() * 95 / 100], ms.back());
}

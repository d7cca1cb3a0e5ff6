// MBTiles export of the demo district, opened by GDAL's MBTiles driver (ogrinfo for vector,
// gdalinfo for PNG), and the writer's all-or-nothing transaction.
#include "core/error.hpp"
#include "support/process.hpp"
#include "tiles/compress.hpp"
#include "tiles/demo_fixture.hpp"
#include "tiles/export.hpp"
#include "tiles/mvt_decoder.hpp"

#include <catch2/catch.hpp>
#include <zlib.h>

#include <map>
#include <regex>

using namespace wangge;
using tiles::VectorLayer;

namespace {

const grid::Snapshot& snap() { return *test::demo_district().snapshot; }

std::map<std::string, std::string> metadata_of(const std::string& ogrinfo_output) {
    std::map<std::string, std::string> out;
    std::regex item(R"(\n  (\w+)=([^\n]*))");
    for (std::sregex_iterator it(ogrinfo_output.begin(), ogrinfo_output.end(), item), end; it != end; ++it)
        out[(*it)[1]] = (*it)[2];
    return out;
}

std::map<std::string, std::size_t> layer_counts(const std::string& ogrinfo_output) {
    std::map<std::string, std::size_t> out;
    std::regex layer(R"(Layer name: (\w+)[\s\S]*?Feature Count: (\d+))");
    for (std::sregex_iterator it(ogrinfo_output.begin(), ogrinfo_output.end(), layer), end; it != end; ++it)
        out[(*it)[1]] = std::stoul((*it)[2]);
    return out;
}

// A valid single-colour 256x256 PNG, built with zlib, standing in for the raster renderer.
std::string solid_png(unsigned char grey) {
    auto be32 = [](std::string& s, std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) s += static_cast<char>((v >> shift) & 0xff);
    };
    auto chunk = [&](std::string& png, const char* type, const std::string& data) {
        be32(png, static_cast<std::uint32_t>(data.size()));
        std::string body = std::string(type) + data;
        png += body;
        be32(png, static_cast<std::uint32_t>(
                      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
    };
    std::string ihdr;
    be32(ihdr, 256);
    be32(ihdr, 256);
    ihdr += std::string("\x08\x00\x00\x00\x00", 5); // 8-bit greyscale, no interlace
    std::string raw;
    for (int row = 0; row < 256; ++row) raw += '\0' + std::string(256, static_cast<char>(grey));
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::string idat(size, '\0');
    compress(reinterpret_cast<Bytef*>(idat.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
             static_cast<uLong>(raw.size()));
    idat.resize(size);
    std::string png("\x89PNG\r\n\x1a\n", 8);
    chunk(png, "IHDR", ihdr);
    chunk(png, "IDAT", idat);
    chunk(png, "IEND", "");
    return png;
}

} // namespace

TEST_CASE("mbtiles: z10-14 of the demo opens in GDAL with its layers, counts and metadata", "[mbtiles][gdal]") {
    test::TempDir dir;
    const auto path = dir / "demo.mbtiles";
    std::size_t progress_calls = 0, last_total = 0;
    tiles::ExportSummary summary;
    {
        store::MbtilesWriter out(path);
        summary = tiles::export_tiles(snap(), VectorLayer::hierarchy, {10, 14, std::nullopt}, out,
                                      [&](std::size_t done, std::size_t total) {
                                          ++progress_calls;
                                          CHECK(done <= total);
                                          last_total = total;
                                      });
        out.commit();
    }
    CHECK(summary.written > 5);
    CHECK(progress_calls == summary.tiles);
    CHECK(last_total == summary.tiles);

    // What GDAL should count at z14 (it reads the deepest zoom, a feature once per tile): the
    // tiles made again here, unsimplified as the export makes its deepest zoom.
    std::map<std::string, std::size_t> expected;
    const tiles::TileRange r = tiles::tile_range(tiles::data_bounds(snap()), 14);
    tiles::VectorTileOptions exact;
    exact.tolerance_px = 0;
    for (std::uint32_t x = r.min_x; x <= r.max_x; ++x)
        for (std::uint32_t y = r.min_y; y <= r.max_y; ++y) {
            const std::string tile = tiles::make_vector_tile(snap(), VectorLayer::hierarchy, {14, x, y}, exact);
            for (const auto& l : test::mvt::decode(tile)) expected[l.name] += l.features.size();
        }
    REQUIRE(expected.size() == 6);

    auto info = test::run({WANGGE_OGRINFO, "-ro", "-so", "-al", path.string()});
    INFO(info.out << info.err);
    REQUIRE(info.exit_code == 0);
    CHECK(info.out.find("using driver `MBTiles'") != std::string::npos);
    CHECK(layer_counts(info.out) == expected);
    // Field types come from the "json" metadata's vector_layers.
    CHECK(info.out.find("households: Real") != std::string::npos);
    CHECK(info.out.find("estimated: Integer(Boolean)") != std::string::npos);

    auto md = metadata_of(info.out);
    CHECK(md["name"] == "wangge hierarchy");
    CHECK(md["format"] == "pbf");
    CHECK(md["type"] == "overlay");
    CHECK(md["minzoom"] == "10");
    CHECK(md["maxzoom"] == "14");
    CHECK(md["center"].substr(md["center"].rfind(',')) == ",13");
    const BBox b = tiles::data_bounds(snap());
    double minlon = 0, minlat = 0, maxlon = 0, maxlat = 0;
    REQUIRE(std::sscanf(md["bounds"].c_str(), "%lf,%lf,%lf,%lf", &minlon, &minlat, &maxlon, &maxlat) == 4);
    CHECK(minlon == Approx(b.min_lon).margin(1e-6));
    CHECK(maxlat == Approx(b.max_lat).margin(1e-6));

    // Rows are TMS: had they been stored XYZ, GDAL would place the data at the wrong latitude.
    std::smatch m;
    REQUIRE(std::regex_search(info.out, m, std::regex(R"(Extent: \(([-\d.]+), ([-\d.]+)\))")));
    CHECK(tiles::mercator_y_to_lat(std::stod(m[2])) == Approx(b.min_lat).margin(0.01));
    CHECK(tiles::mercator_x_to_lon(std::stod(m[1])) == Approx(b.min_lon).margin(0.01));
}

TEST_CASE("mbtiles: a bbox limits the export, bad ranges are refused", "[mbtiles]") {
    test::TempDir dir;
    const grid::Area& community = snap().communities()[0];
    tiles::ExportSummary whole, part;
    {
        store::MbtilesWriter out(dir / "whole.mbtiles");
        whole = tiles::export_tiles(snap(), VectorLayer::grids, {11, 15, std::nullopt}, out);
    }
    {
        store::MbtilesWriter out(dir / "part.mbtiles");
        part = tiles::export_tiles(snap(), VectorLayer::grids, {11, 15, community.bbox}, out);
        CHECK(out.tile_count() == part.written);
        out.commit();
    }
    CHECK(part.written > 0);
    CHECK(part.tiles < whole.tiles);
    CHECK_FALSE(std::filesystem::exists(dir / "whole.mbtiles")); // never committed

    store::MbtilesWriter out(dir / "bad.mbtiles");
    auto refused = [&](tiles::ExportRange range, VectorLayer layer = VectorLayer::grids) {
        try {
            tiles::export_tiles(snap(), layer, range, out);
        } catch (const Error& e) {
            return e.code() == "invalid_option";
        }
        return false;
    };
    CHECK(refused({10, 14, std::nullopt}));           // grids start at z11
    CHECK(refused({14, 12, std::nullopt}));           // min above max
    CHECK(refused({14, 21, std::nullopt}));           // beyond z20
    CHECK(refused({14, 14, BBox{0, 0, 1, 1}}));       // meets no data
    CHECK(refused({14, 14, BBox{1, 1, 0, 0}}));       // empty box
    CHECK(refused({14, 14, BBox{0, 0, 200, 1}}));     // not WGS84
    CHECK(refused({0, 18, BBox{-180, -85, 180, 85}}, VectorLayer::hierarchy)); // far too many tiles
    // The message names the layer and its zooms, and the layer that has the lower ones.
    try {
        tiles::export_tiles(snap(), VectorLayer::buildings, {12, 16, std::nullopt}, out);
        FAIL("buildings at z12 were exported");
    } catch (const Error& e) {
        const std::string message = e.what();
        INFO(message);
        CHECK(message.find("layer buildings has zooms " + std::to_string(tiles::layer_min_zoom(VectorLayer::buildings)) +
                           "..20, and zooms 12..16 reach outside them") != std::string::npos);
        CHECK(message.find("export --layer hierarchy (zooms 0..20)") != std::string::npos);
    }
}

TEST_CASE("mbtiles: the writer refuses to overwrite unless asked", "[mbtiles]") {
    test::TempDir dir;
    const auto path = dir / "x.mbtiles";
    {
        store::MbtilesWriter out(path);
        out.set_metadata("name", "x");
        out.set_metadata("format", "pbf");
        out.put_tile(0, 0, 0, tiles::gzip("not really a tile"));
        out.commit();
    }
    CHECK_THROWS_AS(store::MbtilesWriter(path), Error);
    CHECK(std::filesystem::exists(path));
    {
        store::MbtilesWriter out(path, true);
        CHECK(out.tile_count() == 0);
    }
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("mbtiles: the renderer hook writes PNG tiles that GDAL reads as a raster", "[mbtiles][gdal]") {
    test::TempDir dir;
    const auto path = dir / "png.mbtiles";
    std::vector<tiles::TileId> asked;
    {
        store::MbtilesWriter out(path);
        auto summary = tiles::export_tiles(snap(), "default", "png", {12, 13, std::nullopt},
                                           [&](const tiles::TileId& t) {
                                               asked.push_back(t);
                                               return solid_png(200);
                                           },
                                           out);
        CHECK(summary.written == asked.size());
        out.commit();
    }
    REQUIRE_FALSE(asked.empty());
    CHECK(asked.front().z == 12);
    CHECK(asked.back().z == 13);
    auto info = test::run({WANGGE_GDALINFO, path.string()});
    INFO(info.out << info.err);
    REQUIRE(info.exit_code == 0);
    CHECK(info.out.find("Driver: MBTiles") != std::string::npos);
    CHECK(info.out.find("format=png") != std::string::npos);
    CHECK(info.out.find("maxzoom=13") != std::string::npos);
}

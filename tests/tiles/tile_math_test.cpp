// Web-Mercator tile arithmetic: bounds, the tile at a point, ranges, and URL parsing errors.
#include "core/error.hpp"
#include "tiles/tile_math.hpp"

#include <catch2/catch.hpp>

using namespace wangge;
using tiles::TileId;

namespace {
std::string error_code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return std::string(to_string(e.kind())) + "/" + e.code();
    }
    return "no error";
}
} // namespace

TEST_CASE("tile math: the world tile and its quarters", "[tile_math]") {
    BBox world = tiles::lonlat_bounds({0, 0, 0});
    CHECK(world.min_lon == Approx(-180));
    CHECK(world.max_lon == Approx(180));
    CHECK(world.max_lat == Approx(85.0511287798));
    CHECK(world.min_lat == Approx(-85.0511287798));
    tiles::MercatorBox ne = tiles::mercator_bounds({1, 1, 0});
    CHECK(ne.min_x == Approx(0).margin(1e-6));
    CHECK(ne.min_y == Approx(0).margin(1e-6));
    CHECK(ne.max_x == Approx(tiles::earth_half_circumference));
    CHECK(tiles::tms_y({1, 1, 0}) == 1u);
    CHECK(tiles::tms_y({14, 13600, 6700}) == (1u << 14) - 1 - 6700);
}

TEST_CASE("tile math: the tile at a point holds the point", "[tile_math]") {
    const LonLat nanjing{118.7969, 32.0603};
    for (int z : {0, 5, 10, 14, 18, 22}) {
        TileId t = tiles::tile_at(nanjing, z);
        CHECK(t.z == z);
        BBox b = tiles::lonlat_bounds(t);
        CHECK(b.contains(nanjing));
    }
    CHECK(tiles::tile_at(nanjing, 14) == TileId{14, 13598, 6650});
    // The edges of the world clamp into the first and last tiles.
    CHECK(tiles::tile_at({180, -90}, 3) == TileId{3, 7, 7});
    CHECK(tiles::tile_at({-180, 90}, 3) == TileId{3, 0, 0});
}

TEST_CASE("tile math: buffered bounds and ranges", "[tile_math]") {
    const TileId t{14, 13598, 6693};
    BBox plain = tiles::lonlat_bounds(t);
    BBox grown = tiles::buffered_lonlat_bounds(t, 64.0 / 4096);
    const double width = plain.max_lon - plain.min_lon;
    CHECK(plain.min_lon - grown.min_lon == Approx(width / 64));
    CHECK(grown.max_lon - plain.max_lon == Approx(width / 64));
    CHECK(grown.max_lat > plain.max_lat);
    CHECK(grown.min_lat < plain.min_lat);

    tiles::TileRange one = tiles::tile_range(tiles::buffered_lonlat_bounds(t, -0.1), 14);
    CHECK(one.count() == 1);
    CHECK(one.contains(t));
    tiles::TileRange three = tiles::tile_range(tiles::buffered_lonlat_bounds(t, 0.5), 14);
    CHECK(three.count() == 9);
    CHECK(three.min_x == t.x - 1);
    CHECK(three.max_y == t.y + 1);
    CHECK(tiles::tile_range(BBox{-180, -85, 180, 85}, 2).count() == 16);
}

TEST_CASE("tile math: parsing URL segments", "[tile_math]") {
    CHECK(tiles::parse_tile("14", "13598", "6693") == TileId{14, 13598, 6693});
    CHECK(tiles::parse_tile("0", "0", "0") == TileId{0, 0, 0});
    CHECK(error_code_of([] { tiles::parse_tile("a", "0", "0"); }) == "bad_request/invalid_tile");
    CHECK(error_code_of([] { tiles::parse_tile("1", "-1", "0"); }) == "bad_request/invalid_tile");
    CHECK(error_code_of([] { tiles::parse_tile("1", "2", "0"); }) == "bad_request/invalid_tile");
    CHECK(error_code_of([] { tiles::parse_tile("23", "0", "0"); }) == "bad_request/invalid_tile");
    CHECK(error_code_of([] { tiles::parse_tile("1", "1.5", "0"); }) == "bad_request/invalid_tile");
    CHECK(error_code_of([] { tiles::parse_tile("1", "", "0"); }) == "bad_request/invalid_tile");
    CHECK(error_code_of([] { tiles::parse_tile("1", " 1", "0"); }) == "bad_request/invalid_tile");
    CHECK(error_code_of([] { tiles::parse_tile("99999999999999999999", "0", "0"); }) == "bad_request/invalid_tile");
    CHECK(tiles::to_string(TileId{3, 1, 2}) == "3/1/2");
}

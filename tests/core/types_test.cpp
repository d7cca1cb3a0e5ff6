#include "core/error.hpp"
#include "core/types.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace wangge;

TEST_CASE("types: WGS84 range checks", "[types]") {
    CHECK(in_wgs84_range({118.79, 32.05}));
    CHECK(in_wgs84_range({-180, -90}));
    CHECK_FALSE(in_wgs84_range({180.0001, 0}));
    CHECK_FALSE(in_wgs84_range({0, 90.5}));
    CHECK_FALSE(in_wgs84_range({std::nan(""), 0}));
    CHECK_FALSE(in_wgs84_range({std::numeric_limits<double>::infinity(), 0}));
    try {
        require_wgs84_range({200, 10});
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::bad_request);
        CHECK(e.code() == "out_of_range");
        CHECK(std::string(e.what()).find("longitude") != std::string::npos);
    }
}

TEST_CASE("types: bbox parsing", "[types]") {
    BBox b = parse_bbox("118.7,32.0,118.8,32.1");
    CHECK(b.min_lon == 118.7);
    CHECK(b.max_lat == 32.1);
    CHECK(b.contains({118.75, 32.05}));
    CHECK_FALSE(b.contains({118.85, 32.05}));
    CHECK_THROWS_AS(parse_bbox("1,2,3"), Error);
    CHECK_THROWS_AS(parse_bbox("1,2,3,x"), Error);
    CHECK_THROWS_AS(parse_bbox("3,2,1,4"), Error);   // min > max
    CHECK_THROWS_AS(parse_bbox("0,-91,1,0"), Error); // out of range
}

TEST_CASE("types: bbox extend and intersect", "[types]") {
    BBox b;
    CHECK(b.empty());
    b.extend(LonLat{1, 2});
    b.extend(LonLat{3, 5});
    CHECK_FALSE(b.empty());
    CHECK(b.intersects(BBox{2, 4, 10, 10}));
    CHECK_FALSE(b.intersects(BBox{3.5, 0, 10, 10}));
}

#include "geo/chinese_crs.hpp"
#include "geo/geometry.hpp"

#include <catch2/catch.hpp>

using namespace wangge;
using Catch::Matchers::WithinAbs;

TEST_CASE("chinese crs: GCJ-02 offset near Nanjing is hundreds of metres", "[geo][crs]") {
    LonLat wgs{118.7969, 32.0603};
    LonLat gcj = geo::wgs84_to_gcj02(wgs);
    double d = geo::distance_m(wgs, gcj);
    CHECK(d > 100.0);
    CHECK(d < 700.0);
    // The published offset in Nanjing is about +0.0052 lon, -0.0020 lat.
    CHECK_THAT(gcj.lon - wgs.lon, WithinAbs(0.0052, 0.0008));
    CHECK_THAT(gcj.lat - wgs.lat, WithinAbs(-0.0020, 0.0008));
}

TEST_CASE("chinese crs: conversions invert to about a centimetre", "[geo][crs]") {
    for (LonLat wgs : {LonLat{118.7969, 32.0603}, LonLat{116.3975, 39.9087}, LonLat{121.4737, 31.2304}}) {
        LonLat back = geo::gcj02_to_wgs84(geo::wgs84_to_gcj02(wgs));
        CHECK(geo::distance_m(wgs, back) < 0.01);
        LonLat bd = geo::gcj02_to_bd09(geo::wgs84_to_gcj02(wgs));
        CHECK(geo::distance_m(wgs, geo::to_wgs84(bd, geo::InputCrs::bd09)) < 0.01);
        CHECK(geo::distance_m(bd, geo::wgs84_to_gcj02(wgs)) > 100.0); // BD-09 is offset again
    }
}

TEST_CASE("chinese crs: no offset outside China and names parse", "[geo][crs]") {
    LonLat paris{2.35, 48.85};
    CHECK(geo::wgs84_to_gcj02(paris).lon == paris.lon);
    CHECK(geo::parse_input_crs("GCJ02") == geo::InputCrs::gcj02);
    CHECK(geo::parse_input_crs("bd-09") == geo::InputCrs::bd09);
    CHECK(geo::parse_input_crs("EPSG:4326") == geo::InputCrs::wgs84);
    CHECK_FALSE(geo::parse_input_crs("EPSG:3857"));
}

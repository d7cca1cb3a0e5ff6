#include "core/error.hpp"
#include "geo/geometry.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace wangge;
using Catch::Matchers::WithinRel;

TEST_CASE("geo: geodesic area of a 0.01 degree square near Nanjing", "[geo]") {
    geo::Geometry sq = geo::make_rectangle({118.79, 32.05, 118.80, 32.06});
    // 0.01 deg lon at 32.055 N is about 944.6 m, 0.01 deg lat about 1108.9 m.
    CHECK_THAT(geo::area_m2(sq), WithinRel(944.6 * 1108.9, 0.002));
}

TEST_CASE("geo: geodesic distance", "[geo]") {
    // One degree of latitude at the equator is 110,574 m on WGS84.
    CHECK_THAT(geo::distance_m({0, 0}, {0, 1}), WithinRel(110574.0, 1e-4));
}

TEST_CASE("geo: WKB and WKT round trip", "[geo]") {
    geo::Geometry g = geo::from_wkt("POLYGON((0 0, 2 0, 2 1, 0 1, 0 0))");
    auto wkb = geo::to_wkb(g);
    geo::Geometry back = geo::from_wkb(wkb);
    CHECK(geo::to_wkt(back) == "POLYGON ((0 0, 2 0, 2 1, 0 1, 0 0))");
    CHECK(back.bbox().max_lon == 2);
    std::vector<unsigned char> junk{1, 2, 3};
    CHECK_THROWS_AS(geo::from_wkb(junk), Error);
}

TEST_CASE("geo: GeoJSON output is RFC 7946 (shell counter-clockwise, rounded)", "[geo]") {
    // A clockwise shell must come out counter-clockwise.
    geo::Geometry cw = geo::from_wkt("POLYGON((0 0, 0 1, 1 1, 1 0, 0 0))");
    CHECK(geo::to_geojson(cw) == R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})");
    geo::Geometry p = geo::make_point({118.123456789, 32.5});
    CHECK(geo::to_geojson(p) == R"({"type":"Point","coordinates":[118.1234568,32.5]})");
    geo::Geometry mp = geo::from_wkt("MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)),((5 5, 6 5, 6 6, 5 5)))");
    CHECK(geo::to_geojson(mp).rfind(R"({"type":"MultiPolygon","coordinates":[[[[0,0],)", 0) == 0);
}

TEST_CASE("geo: GeoJSON input", "[geo]") {
    geo::Geometry g = geo::from_geojson(R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]})");
    CHECK(g.type() == geo::GeometryType::polygon);
    CHECK_THROWS_AS(geo::from_geojson(R"({"type":"Polygon","coordinates":[[[0,0],[1,0]]})"), Error);
    CHECK_THROWS_AS(geo::from_geojson("{not json"), Error);
}

TEST_CASE("geo: invalid polygons are detected and repaired", "[geo]") {
    geo::Geometry bowtie = geo::from_wkt("POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))");
    std::string reason = geo::invalid_reason(bowtie);
    CHECK(reason.find("Self-intersection") != std::string::npos);
    geo::Geometry fixed = geo::make_valid_polygonal(bowtie);
    CHECK(geo::invalid_reason(fixed).empty());
    CHECK(geo::polygon_count(fixed) == 2);
    CHECK_THAT(geo::planar_area(fixed), WithinRel(0.5, 1e-9));
    CHECK(geo::invalid_reason(geo::make_rectangle({0, 0, 1, 1})).empty());
}

TEST_CASE("geo: overlay operations", "[geo]") {
    geo::Geometry a = geo::make_rectangle({0, 0, 2, 2});
    geo::Geometry b = geo::make_rectangle({1, 1, 3, 3});
    CHECK_THAT(geo::planar_area(geo::intersection(a, b)), WithinRel(1.0, 1e-12));
    CHECK_THAT(geo::planar_area(geo::difference(a, b)), WithinRel(3.0, 1e-12));
    geo::Geometry u = geo::union_all({&a, &b});
    CHECK_THAT(geo::planar_area(u), WithinRel(7.0, 1e-12));
    CHECK(geo::polygon_count(u) == 1);
    CHECK(geo::polygons(geo::from_wkt("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))")).size() == 2);
    CHECK(geo::union_all({}).is_empty());
}

TEST_CASE("geo: drop_slivers keeps only polygons above the area threshold", "[geo]") {
    geo::Geometry big = geo::make_rectangle({118.0, 32.0, 118.001, 32.001});       // ~ 10,000 m²
    geo::Geometry tiny = geo::make_rectangle({118.01, 32.0, 118.01001, 32.00001}); // ~ 1 m²
    geo::Geometry both = geo::union_all({&big, &tiny});
    CHECK(geo::polygon_count(geo::drop_slivers(both, 10.0)) == 1);
    CHECK(geo::polygon_count(geo::drop_slivers(both, 0.1)) == 2);
}

TEST_CASE("geo: prepared geometry covers its boundary", "[geo]") {
    geo::Geometry sq = geo::make_rectangle({0, 0, 1, 1});
    geo::PreparedGeometry prep(sq);
    CHECK(prep.covers({0.5, 0.5}));
    CHECK(prep.covers({1.0, 0.5})); // on the boundary
    CHECK_FALSE(prep.covers({1.5, 0.5}));
}

TEST_CASE("geo: spatial index query and nearest", "[geo]") {
    std::vector<geo::Geometry> boxes;
    for (int i = 0; i < 100; ++i)
        boxes.push_back(geo::make_rectangle({double(i), 0, double(i) + 0.5, 0.5}));
    geo::SpatialIndex idx;
    for (std::uint32_t i = 0; i < boxes.size(); ++i) idx.insert(boxes[i], i);
    idx.finish();
    std::vector<std::uint32_t> hits;
    idx.query(BBox{10.2, 0.1, 12.2, 0.2}, [&](std::uint32_t id) { hits.push_back(id); });
    std::sort(hits.begin(), hits.end());
    CHECK(hits == std::vector<std::uint32_t>{10, 11, 12});
    auto n = idx.nearest({42.7, 3.0}, [&](std::uint32_t id) { return geo::planar_distance({42.7, 3.0}, boxes[id]); });
    REQUIRE(n);
    CHECK(*n == 42);
    geo::SpatialIndex empty;
    empty.finish();
    CHECK_FALSE(empty.nearest({0, 0}, [](std::uint32_t) { return 0.0; }));
}

TEST_CASE("geo: prepared geometries and the index are read-only across threads", "[geo]") {
    geo::Geometry sq = geo::make_polygon({{{0, 0}, {10, 0}, {10, 10}, {5, 12}, {0, 10}}});
    geo::PreparedGeometry prep(sq);
    std::atomic<int> inside{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i)
                if (prep.covers({5.0, double(i % 20)})) ++inside;
        });
    for (auto& t : threads) t.join();
    // y in [0, 12] is inside at x = 5 (the apex is at 12): 13 of every 20 values.
    CHECK(inside.load() == 4 * 50 * 13);
}

TEST_CASE("geo: nearest_m measures metres to the closest boundary point", "[geo]") {
    geo::Geometry sq = geo::make_rectangle({118.0, 32.0, 118.01, 32.01});
    auto n = geo::nearest_m({118.005, 31.99}, sq); // 0.01 deg south of the square
    CHECK_THAT(n.metres, WithinRel(1109.0, 0.003));
    CHECK(n.point.lat == 32.0);
}

TEST_CASE("geo: clip_by_rect cuts polygons and lines at the box edges", "[geo]") {
    geo::Geometry sq = geo::make_rectangle({0, 0, 10, 10});
    geo::Geometry clipped = geo::clip_by_rect(sq, {5, -1, 20, 4});
    CHECK(geo::planar_area(clipped) == Approx(5 * 4));
    CHECK(geo::clip_by_rect(sq, {20, 20, 30, 30}).is_empty());
    geo::Geometry line = geo::make_multi_line_string({{{-5, 5}, {15, 5}}});
    auto parts = geo::line_strings(geo::clip_by_rect(line, {0, 0, 10, 10}));
    REQUIRE(parts.size() == 1);
    REQUIRE(parts[0].size() == 2);
    CHECK(std::min(parts[0][0].lon, parts[0][1].lon) == 0.0);
    CHECK(std::max(parts[0][0].lon, parts[0][1].lon) == 10.0);
}

TEST_CASE("geo: polygon_rings and line_strings expose coordinates, shell first", "[geo]") {
    geo::Geometry donut = geo::make_polygon({{{0, 0}, {10, 0}, {10, 10}, {0, 10}}, {{4, 4}, {6, 4}, {6, 6}, {4, 6}}});
    geo::Geometry two = geo::from_wkt("MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))");
    auto rings = geo::polygon_rings(donut);
    REQUIRE(rings.size() == 1);
    REQUIRE(rings[0].size() == 2);
    CHECK(rings[0][0].size() == 5); // closed: the first point repeats last
    CHECK(rings[0][1][0].lon == 4.0);
    CHECK(rings[0][1][0].lat == 4.0);
    CHECK(geo::polygon_rings(two).size() == 2);
    CHECK(geo::polygon_rings(geo::make_point({1, 1})).empty());
    auto lines = geo::line_strings(geo::from_wkt("GEOMETRYCOLLECTION(LINESTRING(0 0,1 1,2 0),POINT(3 3))"));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].size() == 3);
    CHECK(lines[0][2].lon == 2.0);
}

// The MVT encoder and the coverage simplifier, checked through an independent decoder.
#include "geo/geometry.hpp"
#include "tiles/mvt.hpp"
#include "tiles/simplify.hpp"
#include "tiles/mvt_decoder.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace wangge;
namespace enc = tiles::mvt;
namespace dec = test::mvt;

namespace {

enc::Ring square(int x0, int y0, int size) {
    return {{x0, y0}, {x0 + size, y0}, {x0 + size, y0 + size}, {x0, y0 + size}};
}

geo::Geometry to_geometry(const std::vector<enc::Polygon>& polygons) {
    std::vector<const geo::Geometry*> parts;
    std::vector<geo::Geometry> made;
    for (const auto& polygon : polygons) {
        std::vector<std::vector<LonLat>> rings;
        for (const auto& ring : polygon) {
            std::vector<LonLat> r;
            for (auto p : ring) r.push_back({double(p.x), double(p.y)});
            rings.push_back(r);
        }
        made.push_back(geo::make_polygon(rings));
    }
    for (const auto& g : made) parts.push_back(&g);
    return geo::union_all(parts);
}

} // namespace

TEST_CASE("mvt: a layer decodes to what was encoded", "[mvt]") {
    enc::LayerBuilder layer("grids");
    CHECK(layer.add_polygons(320101001001001ull, {{square(10, 10, 100)}},
                             {{"code", std::string("320101001001001")}, {"households", std::int64_t{420}},
                              {"estimated", false}, {"ratio", 0.5}, {"delta", std::int64_t{-3}}}));
    CHECK(layer.add_polygons(2, {{square(200, 10, 50)}},
                             {{"code", std::string("320101001001002")}, {"households", std::int64_t{420}}}));
    CHECK(layer.add_lines(7, {{{-20, 5}, {100, 5}, {100, 4200}}}, {{"name", std::string("中山路")}}));
    CHECK(layer.add_points(std::nullopt, {{1, 2}, {3, 4}}, {}));
    const std::string bytes = enc::serialize_tile({layer});
    auto layers = dec::decode(bytes);
    REQUIRE(layers.size() == 1);
    const dec::Layer& l = layers[0];
    CHECK(l.name == "grids");
    CHECK(l.version == 2);
    CHECK(l.extent == 4096);
    REQUIRE(l.features.size() == 4);
    // Keys and values are shared across features: "households" and 420 appear once.
    CHECK(std::count(l.keys.begin(), l.keys.end(), "households") == 1);
    CHECK(l.values.size() == 7); // two codes, 420, false, 0.5, -3, the road name

    const dec::Feature& a = l.features[0];
    CHECK(a.id == 320101001001001ull);
    CHECK(a.type == 3);
    CHECK(a.text("code") == "320101001001001");
    CHECK(a.integer("households") == 420);
    CHECK(a.integer("delta") == -3);
    CHECK(std::get<bool>(a.properties.at("estimated")) == false);
    CHECK(std::get<double>(a.properties.at("ratio")) == 0.5);
    REQUIRE(a.parts.size() == 1);
    CHECK(a.parts[0].size() == 4);
    CHECK(a.close_paths == 1);
    CHECK(dec::doubled_area(a.parts[0]) == 2 * 100 * 100);

    const dec::Feature& road = l.features[2];
    CHECK(road.type == 2);
    CHECK(road.text("name") == "中山路");
    REQUIRE(road.parts.size() == 1);
    CHECK(road.parts[0][0].x == -20); // buffer coordinates are negative
    CHECK(road.parts[0][2].y == 4200);
    CHECK(l.features[3].type == 1);
    CHECK_FALSE(l.features[3].id);
    CHECK(l.features[3].parts[0].size() == 2);
}

TEST_CASE("mvt: rings are wound as the spec requires, whatever their input order", "[mvt]") {
    enc::Ring shell = square(0, 0, 1000);
    enc::Ring hole = square(100, 100, 200);
    std::reverse(shell.begin(), shell.end()); // counter-clockwise on screen: negative area
    enc::LayerBuilder layer("l");
    layer.add_polygons(1, {{shell, hole}, {square(2000, 2000, 10)}}, {});
    auto layers = dec::decode(enc::serialize_tile({layer}));
    const dec::Feature& f = layers.at(0).features.at(0);
    REQUIRE(f.parts.size() == 3);
    CHECK(f.close_paths == 3);
    CHECK(dec::doubled_area(f.parts[0]) > 0);  // exterior
    CHECK(dec::doubled_area(f.parts[1]) < 0);  // hole
    CHECK(dec::doubled_area(f.parts[2]) > 0);  // the second polygon's exterior
    CHECK(f.parts[0][0].x == 0);               // rings keep their first point
}

TEST_CASE("mvt: degenerate geometry is dropped, not written", "[mvt]") {
    enc::LayerBuilder layer("l");
    CHECK_FALSE(layer.add_polygons(1, {{{{0, 0}, {10, 0}, {0, 0}}}}, {{"k", std::string("v")}}));
    CHECK_FALSE(layer.add_polygons(2, {{{{0, 0}, {10, 0}, {20, 0}}}}, {})); // no area
    CHECK_FALSE(layer.add_lines(3, {{{5, 5}, {5, 5}}}, {}));
    CHECK(layer.empty());
    CHECK(enc::serialize_tile({layer}).empty());
    // Repeated points go; a shell without area takes its holes with it.
    CHECK(layer.add_polygons(4, {{{{0, 0}, {0, 0}, {10, 0}, {10, 10}, {10, 10}, {0, 10}, {0, 0}}},
                                 {{{50, 50}, {60, 50}, {70, 50}}, square(52, 52, 2)}},
                             {}));
    auto f = dec::decode(enc::serialize_tile({layer})).at(0).features.at(0);
    REQUIRE(f.parts.size() == 1);
    CHECK(f.parts[0].size() == 4);
}

TEST_CASE("simplify: neighbours sharing a jagged edge keep sharing it", "[simplify]") {
    // Two cells split by a zig-zag edge with 1-unit teeth, and a third cell below both.
    enc::Ring edge;
    for (int y = 0; y <= 400; y += 10) edge.push_back({200 + (y / 10 % 2), y});
    enc::Ring left{{0, 0}}, right;
    left.insert(left.end(), edge.begin(), edge.end());
    left.push_back({0, 400});
    right = {{400, 0}, {400, 400}};
    right.insert(right.end(), edge.rbegin(), edge.rend());
    const enc::Ring below{{0, 400}, {400, 400}, {400, 500}, {0, 500}};
    std::vector<std::vector<enc::Polygon>> features{{{left}}, {{right}}, {{below}}};
    const double before = geo::planar_area(to_geometry({features[0][0], features[1][0], features[2][0]}));

    tiles::simplify_coverage(features, {.tolerance = 4, .min_area = 64});
    REQUIRE(features[0].size() == 1);
    REQUIRE(features[1].size() == 1);
    CHECK(features[0][0][0].size() < left.size()); // the teeth are gone...
    CHECK(features[1][0][0].size() < right.size());
    // ...on both sides alike: no gap, no overlap, the same total.
    double sum = 0;
    for (const auto& f : features) sum += std::abs(double(enc::doubled_area(f[0][0]))) / 2;
    geo::Geometry all = to_geometry({features[0][0], features[1][0], features[2][0]});
    CHECK(geo::planar_area(all) == Approx(sum));
    CHECK(geo::planar_area(all) == Approx(before).epsilon(0.01));
    CHECK(geo::polygon_count(all) == 1);
    CHECK(geo::polygon_rings(all)[0].size() == 1); // no hole opened between them
}

TEST_CASE("simplify: an island filling a hole is simplified like the hole", "[simplify]") {
    enc::Ring island;
    for (int i = 0; i < 64; ++i) {
        const double a = 2 * 3.14159265358979 * i / 64;
        island.push_back({static_cast<int>(std::lround(500 + 200 * std::cos(a))),
                          static_cast<int>(std::lround(500 + 200 * std::sin(a)))});
    }
    enc::Ring hole(island.rbegin(), island.rend());
    std::rotate(hole.begin(), hole.begin() + 17, hole.end()); // starts elsewhere, runs the other way
    std::vector<std::vector<enc::Polygon>> features{{{square(0, 0, 1000), hole}}, {{island}}};
    tiles::simplify_coverage(features, {.tolerance = 8, .min_area = 0});
    const enc::Ring& a = features[0][0][1];
    const enc::Ring& b = features[1][0][0];
    CHECK(a.size() < island.size());
    CHECK(a.size() == b.size());
    std::vector<std::pair<int, int>> pa, pb;
    for (auto p : a) pa.emplace_back(p.x, p.y);
    for (auto p : b) pb.emplace_back(p.x, p.y);
    std::sort(pa.begin(), pa.end());
    std::sort(pb.begin(), pb.end());
    CHECK(pa == pb);
}

TEST_CASE("simplify: rings smaller than the minimum area go, lines keep their ends", "[simplify]") {
    std::vector<std::vector<enc::Polygon>> features{{{square(0, 0, 100), square(10, 10, 5)}}, {{square(500, 500, 7)}}};
    tiles::simplify_coverage(features, {.tolerance = 1, .min_area = 64});
    REQUIRE(features[0].size() == 1);
    CHECK(features[0][0].size() == 1); // the 25-unit hole went
    CHECK(features[1].empty());        // the 49-unit square went
    std::vector<enc::Line> lines{{{0, 0}, {50, 1}, {100, 0}, {100, 0}}, {{5, 5}, {5, 5}}};
    tiles::simplify_lines(lines, {.tolerance = 2, .min_area = 0});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == enc::Line{{0, 0}, {100, 0}});
}

TEST_CASE("mvt: the value table numbers each distinct typed value once, in the order seen", "[mvt]") {
    enc::ValueTable table;
    std::string text = "320101001001001";
    CHECK(table.index(std::string_view(text)) == 0);
    CHECK(table.index(std::int64_t{1}) == 1);
    CHECK(table.index(1.0) == 2);
    CHECK(table.index(true) == 3);
    CHECK(table.index(std::string_view("1")) == 4);
    CHECK(table.index(0.0) == 5);
    CHECK(table.index(-0.0) == 6); // other bits, another value
    CHECK(table.index(std::int64_t{-1}) == 7);
    CHECK(table.index(false) == 8);
    CHECK(table.index(std::string_view()) == 9);
    // Seen again: the same numbers, whatever buffer the text is in.
    const std::string again = text;
    text = "overwritten";
    CHECK(table.index(std::string_view(again)) == 0);
    CHECK(table.index(std::int64_t{1}) == 1);
    CHECK(table.index(true) == 3);
    CHECK(table.index(std::string_view("")) == 9);
    REQUIRE(table.size() == 10);
    CHECK(std::get<std::string_view>(table[0]) == "320101001001001"); // the table's own copy
    CHECK(std::get<std::int64_t>(table[1]) == 1);
    CHECK(std::get<double>(table[2]) == 1.0);
    CHECK(std::get<bool>(table[3]));
    CHECK(std::signbit(std::get<double>(table[6])));
    CHECK(std::get<std::int64_t>(table[7]) == -1);

    // Thousands of values (the table grows many times) keep their numbers.
    enc::ValueTable many;
    std::vector<std::string> names;
    for (int i = 0; i < 5000; ++i) names.push_back("楼栋 " + std::to_string(i));
    for (int i = 0; i < 5000; ++i) {
        REQUIRE(many.index(std::string_view(names[i])) == std::uint32_t(2 * i));
        REQUIRE(many.index(std::int64_t{i}) == std::uint32_t(2 * i + 1));
    }
    for (int i = 4999; i >= 0; --i) {
        REQUIRE(many.index(std::int64_t{i}) == std::uint32_t(2 * i + 1));
        REQUIRE(many.index(std::string_view(names[i])) == std::uint32_t(2 * i));
    }
    CHECK(many.size() == 10000);
    CHECK(std::get<std::string_view>(many[2 * 4321]) == "楼栋 4321");
}

TEST_CASE("mvt: a layer's tables hold each key and value once, as the decoder reads them", "[mvt]") {
    enc::LayerBuilder layer("buildings");
    for (int i = 0; i < 300; ++i) {
        const std::string name = "楼 " + std::to_string(i % 100); // 100 distinct names
        REQUIRE(layer.add_polygons(std::uint64_t(i), {{square(i, i, 10)}},
                                   {{"name", name}, {"floors", std::int64_t{i % 7}}, {"estimated", i % 2 == 0}}));
    }
    auto layers = dec::decode(enc::serialize_tile({layer}));
    const dec::Layer& l = layers.at(0);
    CHECK(l.keys == std::vector<std::string>{"name", "floors", "estimated"});
    CHECK(l.values.size() == 100 + 7 + 2);
    REQUIRE(l.features.size() == 300);
    CHECK(l.features[257].text("name") == "楼 57");
    CHECK(l.features[257].integer("floors") == 257 % 7);
    CHECK(std::get<bool>(l.features[257].properties.at("estimated")) == false);
}

TEST_CASE("simplify: the node set holds the points with other than two neighbours", "[simplify]") {
    // Two squares side by side share the edge x = 100 from (100,0) to (100,100); a third square
    // below the right one meets it along y = 100 and touches the left one at (100,100) only.
    tiles::NodeSet nodes;
    nodes.add_ring(square(0, 0, 100));
    nodes.add_ring(square(100, 0, 100));
    CHECK(nodes.contains({100, 0}));   // three neighbours: (0,0), (200,0), (100,100)
    CHECK(nodes.contains({100, 100})); // three
    CHECK_FALSE(nodes.contains({0, 0}));
    CHECK_FALSE(nodes.contains({200, 100}));
    CHECK_FALSE(nodes.contains({50, 50})); // not a point of any ring
    nodes.add_ring(square(100, 100, 100));
    CHECK(nodes.contains({100, 100}));  // four: where the left square only touches
    CHECK(nodes.contains({200, 100}));  // three
    CHECK_FALSE(nodes.contains({200, 200}));

    // A ring walked twice (a hole and the island filling it) adds no nodes; repeated points
    // are skipped.
    tiles::NodeSet shared;
    enc::Ring ring{{0, 0}, {10, 0}, {10, 0}, {10, 10}, {0, 10}};
    enc::Ring back(ring.rbegin(), ring.rend());
    shared.add_ring(ring);
    shared.add_ring(back);
    for (auto p : ring) CHECK_FALSE(shared.contains(p));
    shared.clear();
    CHECK_FALSE(shared.contains({0, 0}));

    // A grid of 40 x 40 cells: every inner corner has four neighbours, a border corner three
    // (except the four outer corners); no mid-edge point exists. The set grows many times.
    tiles::NodeSet cells;
    for (int i = 0; i < 40; ++i)
        for (int j = 0; j < 40; ++j) cells.add_ring(square(10 * i, 10 * j, 10));
    int found = 0;
    for (int i = 0; i <= 40; ++i)
        for (int j = 0; j <= 40; ++j) found += cells.contains({10 * i, 10 * j});
    CHECK(found == 41 * 41 - 4);
}

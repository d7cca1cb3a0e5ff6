// The incidents layer's encoder (docs/TILES.md, "The incidents layer"), read back with the
// independent decoder: single cases with their properties from z15, clusters with their count and
// worst light below it, and the user's filter applied before anything is counted.
#include "tiles/incident_tiles.hpp"
#include "tiles/mvt_decoder.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace wangge;
namespace dec = test::mvt;
using tiles::IncidentLight;
using tiles::IncidentMark;

namespace {

// The point at fractions (fx, fy) of a tile's width and height from its north-west corner.
LonLat inside(const tiles::TileId& t, double fx, double fy) {
    const tiles::MercatorBox b = tiles::mercator_bounds(t);
    return {tiles::mercator_x_to_lon(b.min_x + fx * (b.max_x - b.min_x)),
            tiles::mercator_y_to_lat(b.max_y - fy * (b.max_y - b.min_y))};
}

IncidentMark mark(std::int64_t id, LonLat at, IncidentLight light, const std::string& state = "dispatched") {
    return {id, at, "0101", state, "2026-12-04T06:00:00Z", light};
}

const tiles::MaySee everyone = [](const IncidentMark&) { return true; };

const dec::Layer& only_layer(const std::vector<dec::Layer>& layers) {
    REQUIRE(layers.size() == 1);
    REQUIRE(layers[0].name == "incidents");
    return layers[0];
}

} // namespace

TEST_CASE("incident tiles: from z15 each visible case is a point with its properties", "[tiles][incidents]") {
    const tiles::TileId t{16, 54000, 26500};
    const std::vector<IncidentMark> marks{
        mark(1, inside(t, 0.25, 0.25), IncidentLight::red),
        mark(2, inside(t, 0.5, 0.5), IncidentLight::green),
        mark(3, inside(t, 0.75, 0.75), IncidentLight::none, "closed"),
        mark(4, inside(t, 1.005, 0.5), IncidentLight::yellow), // in the buffer (64 of 4096 units)
        mark(5, inside(t, 1.5, 0.5), IncidentLight::yellow),   // in the next tile
    };
    const auto layers = dec::decode(tiles::make_incident_tile(marks, t, everyone));
    const dec::Layer& l = only_layer(layers);
    REQUIRE(l.features.size() == 4);
    // The worst is drawn last, over the others.
    std::vector<std::uint64_t> order;
    for (const auto& f : l.features) order.push_back(*f.id);
    CHECK(order == std::vector<std::uint64_t>{3, 2, 4, 1});

    const dec::Feature& red = *l.find(1);
    CHECK(red.type == 1);
    CHECK(red.integer("id") == 1);
    CHECK(red.text("category") == "0101");
    CHECK(red.text("state") == "dispatched");
    CHECK(red.text("light") == "red");
    CHECK(red.text("due") == "2026-12-04T06:00:00Z");
    CHECK_FALSE(red.has("count"));
    REQUIRE(red.parts.size() == 1);
    CHECK(red.parts[0][0].x == 1024);
    CHECK(red.parts[0][0].y == 1024);
    // A case not running against a limit has no light.
    CHECK_FALSE(l.find(3)->has("light"));
    CHECK(l.find(4)->parts[0][0].x == 4116);

    // The user's filter: a worker of another grid sees none of these.
    CHECK(tiles::make_incident_tile(marks, t, [](const IncidentMark&) { return false; }).empty());
    const auto some = dec::decode(tiles::make_incident_tile(marks, t, [](const IncidentMark& m) { return m.id != 1; }));
    CHECK(only_layer(some).features.size() == 3);
    CHECK(only_layer(some).find(1) == nullptr);
    CHECK(tiles::make_incident_tile({}, t, everyone).empty());
}

TEST_CASE("incident tiles: below z15 the cases of a cell are one point with their count and worst light",
          "[tiles][incidents]") {
    const tiles::TileId t{12, 3375, 1656};
    // Cell (0, 0) of 8 x 8: three cases, the worst yellow; cell (7, 7): two, red and green; cell
    // (3, 4): one case alone; and one beyond the tile's east edge, left to the next tile.
    const std::vector<IncidentMark> marks{
        mark(10, inside(t, 0.01, 0.01), IncidentLight::green), mark(11, inside(t, 0.05, 0.1), IncidentLight::yellow),
        mark(12, inside(t, 0.1, 0.02), IncidentLight::green),  mark(20, inside(t, 0.95, 0.95), IncidentLight::red),
        mark(21, inside(t, 0.99, 0.9), IncidentLight::green),  mark(30, inside(t, 3.5 / 8, 4.5 / 8), IncidentLight::green),
        mark(40, inside(t, 1.004, 0.5), IncidentLight::red),
    };
    const auto layers = dec::decode(tiles::make_incident_tile(marks, t, everyone));
    const dec::Layer& l = only_layer(layers);
    REQUIRE(l.features.size() == 3);
    std::map<std::int64_t, std::string> light_by_count; // clusters
    std::int64_t counted = 0;
    for (const auto& f : l.features) {
        if (!f.has("count")) continue;
        CHECK_FALSE(f.id.has_value());
        CHECK_FALSE(f.has("category"));
        light_by_count[f.integer("count")] = f.text("light");
        counted += f.integer("count");
    }
    CHECK(light_by_count == std::map<std::int64_t, std::string>{{2, "red"}, {3, "yellow"}});
    CHECK(counted == 5);
    // Alone in its cell, a case is shown as itself.
    const dec::Feature* alone = l.find(30);
    REQUIRE(alone != nullptr);
    CHECK(alone->text("state") == "dispatched");
    CHECK_FALSE(alone->has("count"));
    // The red cluster is drawn last; a cluster lies at the mean of its cases.
    CHECK(l.features.back().integer("count") == 2);
    const dec::Point at = l.features.back().parts[0][0];
    CHECK(at.x == std::lround((0.95 + 0.99) / 2 * 4096));
    CHECK(at.y == std::lround((0.95 + 0.9) / 2 * 4096));

    // Hidden cases count nowhere and colour nothing: without case 20 the red cluster is case 21
    // alone, and without 11 the first cluster is two green cases.
    const auto filtered = dec::decode(
        tiles::make_incident_tile(marks, t, [](const IncidentMark& m) { return m.id != 20 && m.id != 11; }));
    const dec::Layer& f = only_layer(filtered);
    REQUIRE(f.features.size() == 3);
    CHECK(f.find(21) != nullptr);
    CHECK(f.find(21)->text("light") == "green");
    std::set<std::int64_t> counts;
    for (const auto& feature : f.features)
        if (feature.has("count")) {
            counts.insert(feature.integer("count"));
            CHECK(feature.text("light") == "green");
        }
    CHECK(counts == std::set<std::int64_t>{2});
}

TEST_CASE("incident tiles: each case is counted in one tile of a zoom, on edges too", "[tiles][incidents]") {
    // Four tiles of z11 meeting at one corner, with cases in each and on their shared edges.
    const tiles::TileId nw{11, 1686, 828};
    std::vector<IncidentMark> marks;
    std::int64_t id = 1;
    for (double fx : {0.3, 1.0, 1.0 + 1e-9, 1.7})
        for (double fy : {0.2, 1.0, 1.6}) marks.push_back(mark(id++, inside(nw, fx, fy), IncidentLight::green));
    std::int64_t counted = 0;
    for (std::uint32_t dx = 0; dx < 2; ++dx)
        for (std::uint32_t dy = 0; dy < 2; ++dy) {
            const tiles::TileId t{11, nw.x + dx, nw.y + dy};
            const auto layers = dec::decode(tiles::make_incident_tile(marks, t, everyone));
            for (const auto& f : only_layer(layers).features) counted += f.has("count") ? f.integer("count") : 1;
        }
    CHECK(counted == static_cast<std::int64_t>(marks.size()));
    // Clusters are made below z15 only; at z15 every case is its own point.
    tiles::IncidentTileOptions options;
    options.cluster_below = 11;
    const auto single = dec::decode(tiles::make_incident_tile(marks, nw, everyone, options));
    for (const auto& f : only_layer(single).features) CHECK_FALSE(f.has("count"));
}

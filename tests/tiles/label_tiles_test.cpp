// The labels layer: one point per area, inside it even when the area is concave or in parts, and
// in exactly one tile of a zoom however many tiles the area spans (issue 11: a grid's name was
// drawn once per tile piece of its polygon).
#include "grid/snapshot.hpp"
#include "tiles/mvt_decoder.hpp"
#include "tiles/vector_tiles.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

using namespace wangge;
using tiles::TileId;

namespace {

constexpr double west = 118.80, south = 31.95, u = 0.01; // about 1 km

std::vector<LonLat> box(double a, double b, double c, double d) {
    return {{west + a * u, south + b * u}, {west + c * u, south + b * u}, {west + c * u, south + d * u}, {west + a * u, south + d * u}};
}

// A C open to the east, 3 x 3 units: a back 1 unit wide (0.85 km on the ground) and arms 0.75
// units (0.83 km) thick. Its centroid (1.25, 1.5) and its box's centre lie in the notch, outside it.
geo::Geometry c_shape() {
    return geo::make_polygon({{{west, south},
                               {west + 3 * u, south},
                               {west + 3 * u, south + 0.75 * u},
                               {west + 1 * u, south + 0.75 * u},
                               {west + 1 * u, south + 2.25 * u},
                               {west + 3 * u, south + 2.25 * u},
                               {west + 3 * u, south + 3 * u},
                               {west, south + 3 * u}}});
}

std::shared_ptr<const grid::Snapshot> district() {
    grid::Snapshot::Input in;
    in.streets.push_back({"320102002", "山林街道", geo::make_polygon({box(-1, -1, 8, 4)})});
    in.communities.push_back({"320102002001", "320102002", "山林社区", geo::make_polygon({box(-1, -1, 8, 4)})});
    store::GridRow c;
    c.code = "320102002001003";
    c.community_code = "320102002001";
    c.name = "山林社区第3网格";
    c.geom = c_shape();
    in.grids.push_back(std::move(c));
    // Two parts: a 0.5 km square and, 1 km east of it, a 2 km square that should carry the label.
    store::GridRow parts;
    parts.code = "320102002001004";
    parts.community_code = "320102002001";
    parts.name = "山林社区第4网格";
    parts.geom = geo::from_wkt("MULTIPOLYGON(((118.84 31.95,118.845 31.95,118.845 31.955,118.84 31.955,118.84 31.95)),"
                               "((118.855 31.95,118.875 31.95,118.875 31.97,118.855 31.97,118.855 31.95)))");
    in.grids.push_back(std::move(parts));
    return grid::Snapshot::build(std::move(in));
}

// The WGS84 position of a point of a tile, in its 4096 units.
LonLat unproject(const TileId& t, const test::mvt::Point& p) {
    const double n = std::ldexp(1, t.z);
    const double lon = (t.x + (p.x + 0.5) / 4096) / n * 360 - 180;
    const double merc = std::numbers::pi * (1 - 2 * (t.y + (p.y + 0.5) / 4096) / n);
    return {lon, std::atan(std::sinh(merc)) * 180 / std::numbers::pi};
}

} // namespace

TEST_CASE("labels: a C-shaped grid is labelled inside it, in one tile of a zoom", "[vector_tiles][labels]") {
    const auto snapshot = district();
    const grid::GridArea& g = *snapshot->find_grid("320102002001003");
    const geo::PreparedGeometry inside(g.geom);
    CHECK(inside.covers(g.label));
    CHECK_FALSE(inside.covers({west + 1.25 * u, south + 1.5 * u})); // the centroid
    // In the C's back, its widest part, at least half the back's width (424 m) from every edge
    // and less than half the arms' thickness more.
    CHECK(g.label.lon < west + 1 * u);
    CHECK(g.label_room_m > 0.5 * u * std::cos(31.965 * std::numbers::pi / 180) * 111195 * 0.99);
    CHECK(g.label_room_m < 0.6 * u * 111195);

    for (int z : {13, 15, 17}) {
        const tiles::TileRange range = tiles::tile_range(g.bbox, z);
        INFO("zoom " << z);
        REQUIRE(range.count() >= 4); // the polygon spans several tiles
        int found = 0;
        for (std::uint32_t x = range.min_x; x <= range.max_x; ++x)
            for (std::uint32_t y = range.min_y; y <= range.max_y; ++y) {
                const TileId t{z, x, y};
                for (auto layer : {tiles::VectorLayer::labels, tiles::VectorLayer::hierarchy}) {
                    const auto layers = test::mvt::decode(tiles::make_vector_tile(*snapshot, layer, t));
                    const auto* labels = test::mvt::find_layer(layers, "labels");
                    const auto* f = labels ? labels->find(320102002001003) : nullptr;
                    if (!f) continue;
                    if (layer == tiles::VectorLayer::labels) ++found;
                    CHECK(t == tiles::tile_at(g.label, z));
                    CHECK(f->type == 1);
                    CHECK(f->text("name") == "山林社区第3网格");
                    CHECK(f->text("code") == g.code);
                    CHECK(f->text("level") == "grid");
                    CHECK(f->text("parent") == "320102002001");
                    REQUIRE(f->parts.size() == 1);
                    REQUIRE(f->parts[0].size() == 1);
                    CHECK(inside.covers(unproject(t, f->parts[0][0])));
                }
            }
        CHECK(found == 1);
    }
}

TEST_CASE("labels: a grid in parts is labelled once, in its largest part", "[vector_tiles][labels]") {
    const auto snapshot = district();
    const grid::GridArea& g = *snapshot->find_grid("320102002001004");
    CHECK(g.label.lon > 118.855);
    CHECK(g.label.lon < 118.875);
    CHECK(std::abs(g.label.lat - 31.96) < 0.001);
    // Street and community have their own labels: one each at z12, none of grids below z11.
    const TileId t = tiles::tile_at(snapshot->find_street("320102002")->label, 12);
    const auto layers = test::mvt::decode(tiles::make_vector_tile(*snapshot, tiles::VectorLayer::labels, t));
    REQUIRE(test::mvt::find_layer(layers, "labels"));
    CHECK(test::mvt::find_layer(layers, "labels")->find(320102002) != nullptr);
    const TileId low = tiles::tile_at(g.label, 10);
    const auto at10 = test::mvt::decode(tiles::make_vector_tile(*snapshot, tiles::VectorLayer::labels, low));
    for (const auto& l : at10)
        for (const auto& f : l.features) CHECK(f.text("level") != "grid");
}

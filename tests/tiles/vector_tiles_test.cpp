// Vector tiles of the demo district, decoded back with the test's own decoder and with GDAL's
// MVT driver, and compared with the snapshot they were cut from.
#include "core/error.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "tiles/demo_fixture.hpp"
#include "tiles/mvt_decoder.hpp"
#include "tiles/vector_tiles.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <numbers>
#include <regex>

using namespace wangge;
using tiles::TileId;
using tiles::VectorLayer;

namespace {

const grid::Snapshot& snap() { return *test::demo_district().snapshot; }

LonLat centre_of_data() {
    BBox b = tiles::data_bounds(snap());
    return {(b.min_lon + b.max_lon) / 2, (b.min_lat + b.max_lat) / 2};
}

// Web Mercator written out again (not through tile_math) to project into a tile's 4096 units.
struct TileProjection {
    TileId t;
    double x(double lon) const { return ((lon + 180) / 360 * std::ldexp(1, t.z) - t.x) * 4096; }
    double y(double lat) const {
        const double r = lat * std::numbers::pi / 180;
        const double merc = std::log(std::tan(r) + 1 / std::cos(r));
        return ((1 - merc / std::numbers::pi) / 2 * std::ldexp(1, t.z) - t.y) * 4096;
    }
};

// Area of a geometry projected into the tile, in tile units squared (shoelace per ring).
double projected_area(const geo::Geometry& g, const TileProjection& p) {
    double total = 0;
    for (const auto& polygon : geo::polygon_rings(g))
        for (std::size_t i = 0; i < polygon.size(); ++i) {
            double a = 0;
            const auto& ring = polygon[i];
            for (std::size_t k = 0; k + 1 < ring.size(); ++k)
                a += p.x(ring[k].lon) * p.y(ring[k + 1].lat) - p.x(ring[k + 1].lon) * p.y(ring[k].lat);
            total += (i == 0 ? 1 : -1) * std::abs(a) / 2;
        }
    return total;
}

double decoded_area(const test::mvt::Feature& f) {
    double a = 0;
    for (const auto& ring : f.parts) a += test::mvt::doubled_area(ring) / 2;
    return a;
}

// The decoded polygons of a feature as a GEOS geometry in tile units (for overlay checks).
geo::Geometry decoded_geometry(const test::mvt::Feature& f) {
    std::vector<geo::Geometry> shells;
    std::vector<std::vector<std::vector<LonLat>>> polygons;
    for (const auto& ring : f.parts) {
        std::vector<LonLat> r;
        for (auto p : ring) r.push_back({double(p.x), double(p.y)});
        if (test::mvt::doubled_area(ring) > 0) polygons.push_back({r});
        else polygons.back().push_back(r);
    }
    std::vector<geo::Geometry> made;
    for (const auto& rings : polygons) made.push_back(geo::make_polygon(rings));
    std::vector<const geo::Geometry*> parts;
    for (const auto& g : made) parts.push_back(&g);
    return geo::union_all(parts);
}

std::map<std::string, std::size_t> counts(const std::vector<test::mvt::Layer>& layers) {
    std::map<std::string, std::size_t> out;
    for (const auto& l : layers) out[l.name] = l.features.size();
    return out;
}

} // namespace

TEST_CASE("vector tiles: the snapshot holds the roads with an index", "[vector_tiles]") {
    const auto& roads = snap().roads();
    REQUIRE(roads.size() > 10);
    for (std::size_t i = 1; i < roads.size(); ++i) CHECK(roads[i - 1].row.id < roads[i].row.id);
    BBox b = roads[0].bbox;
    auto hits = snap().query_roads(b);
    CHECK(std::find(hits.begin(), hits.end(), 0u) != hits.end());
    CHECK(hits.size() < roads.size());
    CHECK(snap().query_roads(BBox{0, 0, 1, 1}).empty());
}

TEST_CASE("vector tiles: a z14 hierarchy tile carries six layers with their properties", "[vector_tiles]") {
    const TileId t = tiles::tile_at(centre_of_data(), 14);
    auto layers = test::mvt::decode(tiles::make_vector_tile(snap(), VectorLayer::hierarchy, t));
    std::vector<std::string> names;
    for (const auto& l : layers) names.push_back(l.name);
    CHECK(names == std::vector<std::string>{"streets", "communities", "grids", "roads", "buildings", "labels"});
    for (const auto& l : layers) {
        CHECK(l.version == 2);
        CHECK(l.extent == 4096);
        CHECK_FALSE(l.features.empty());
    }

    // Every grid that covers a pixel of the tile is in it, and every grid in it meets the buffer.
    const geo::Geometry tile_box = geo::make_rectangle(tiles::lonlat_bounds(t));
    const geo::Geometry buffered = geo::make_rectangle(tiles::buffered_lonlat_bounds(t, 64.0 / 4096));
    const auto* grids = test::mvt::find_layer(layers, "grids");
    const double pixel_deg2 = std::pow((tiles::lonlat_bounds(t).max_lon - tiles::lonlat_bounds(t).min_lon) / 512, 2);
    for (const auto& g : snap().grids()) {
        const bool visible = geo::planar_area(geo::intersection(g.geom, tile_box)) > 4 * pixel_deg2;
        const auto* f = grids->find(std::stoull(g.code));
        if (visible) CHECK(f != nullptr);
        if (f) CHECK(geo::intersects(g.geom, buffered));
        if (!f) continue;
        CHECK(f->type == 3);
        CHECK(f->text("code") == g.code);
        CHECK(f->text("name") == g.name);
        CHECK(f->text("level") == "grid");
        CHECK(f->text("parent") == g.parent_code);
        CHECK(f->integer("households") == g.stats.households);
        CHECK(f->integer("buildings") == std::int64_t(g.stats.buildings));
        CHECK(f->text("kind") == std::string(store::to_string(g.kind)));
        CHECK(f->text("load") == std::string(grid::to_string(g.load)));
        CHECK(f->integer("version") == g.version);
    }
    for (const auto& f : test::mvt::find_layer(layers, "buildings")->features) {
        REQUIRE(f.id);
        const grid::Building* b = nullptr;
        for (const auto& x : snap().buildings())
            if (x.row.id == std::int64_t(*f.id)) b = &x;
        REQUIRE(b);
        CHECK(f.integer("id") == b->row.id);
        CHECK(f.text("use") == b->row.use);
        CHECK(f.integer("households") == b->row.households);
        CHECK(std::get<bool>(f.properties.at("estimated")) == b->row.households_estimated);
        CHECK(f.text("grid_code") == b->row.grid_code.value_or(""));
        if (b->row.floors) CHECK(f.integer("floors") == *b->row.floors);
    }
    for (const auto& f : test::mvt::find_layer(layers, "roads")->features) {
        CHECK(f.type == 2);
        CHECK(f.has("name"));
        CHECK(f.has("kind"));
    }
    const auto* streets = test::mvt::find_layer(layers, "streets");
    CHECK_FALSE(streets->features[0].has("parent"));
}

TEST_CASE("vector tiles: decoded grid rings match their projected polygons within 1%", "[vector_tiles]") {
    int compared = 0;
    for (std::size_t i = 0; i < snap().grids().size(); i += 7) {
        const grid::GridArea& g = snap().grids()[i];
        // The deepest zoom at which the grid still fits in one tile (so nothing is clipped).
        std::optional<TileId> t;
        for (int z = 16; z >= 11 && !t; --z) {
            TileId a = tiles::tile_at({g.bbox.min_lon, g.bbox.max_lat}, z);
            if (a == tiles::tile_at({g.bbox.max_lon, g.bbox.min_lat}, z)) t = a;
        }
        if (!t) continue;
        auto layers = test::mvt::decode(tiles::make_vector_tile(snap(), VectorLayer::grids, *t));
        REQUIRE(layers.size() == 1);
        const auto* f = layers[0].find(std::stoull(g.code));
        REQUIRE(f);
        REQUIRE_FALSE(f->parts.empty());
        CHECK(test::mvt::doubled_area(f->parts[0]) > 0); // exterior: positive, clockwise on screen
        CHECK(f->close_paths == f->parts.size());
        const double expected = projected_area(g.geom, TileProjection{*t});
        CHECK(decoded_area(*f) == Approx(expected).epsilon(0.01));
        ++compared;
    }
    CHECK(compared > 10);
}

TEST_CASE("vector tiles: grids still tile their community after simplification", "[vector_tiles]") {
    // At z12 a grid is tens of units wide: simplification moves edges by pixels, and separate
    // simplification would open gaps between neighbours and against the community edge.
    const TileId t = tiles::tile_at(centre_of_data(), 12);
    auto layers = test::mvt::decode(tiles::make_vector_tile(snap(), VectorLayer::hierarchy, t));
    const auto* communities = test::mvt::find_layer(layers, "communities");
    const auto* grids = test::mvt::find_layer(layers, "grids");
    const BBox inner = tiles::lonlat_bounds(t);
    int checked = 0;
    for (const auto& c : snap().communities()) {
        if (!(c.bbox.min_lon > inner.min_lon && c.bbox.max_lon < inner.max_lon && c.bbox.min_lat > inner.min_lat &&
              c.bbox.max_lat < inner.max_lat))
            continue;
        const auto* cf = communities->find(std::stoull(c.code));
        REQUIRE(cf);
        std::vector<geo::Geometry> parts;
        for (const auto& gf : grids->features)
            if (gf.text("parent") == c.code) parts.push_back(decoded_geometry(gf));
        REQUIRE_FALSE(parts.empty());
        std::vector<const geo::Geometry*> ptrs;
        double sum = 0;
        for (const auto& p : parts) {
            ptrs.push_back(&p);
            sum += geo::planar_area(p);
        }
        geo::Geometry all = geo::union_all(ptrs);
        geo::Geometry community = decoded_geometry(*cf);
        CHECK(sum == Approx(geo::planar_area(all)).epsilon(1e-9));                      // no overlaps
        CHECK(geo::planar_area(geo::difference(community, all)) == Approx(0).margin(1e-6)); // no gaps
        CHECK(geo::planar_area(geo::difference(all, community)) == Approx(0).margin(1e-6));
        ++checked;
    }
    CHECK(checked > 3);
}

TEST_CASE("vector tiles: layers appear from their minimum zooms", "[vector_tiles]") {
    const LonLat c = centre_of_data();
    auto names_at = [&](int z) {
        std::vector<std::string> names;
        const std::string tile = tiles::make_vector_tile(snap(), VectorLayer::hierarchy, tiles::tile_at(c, z));
        for (const auto& l : test::mvt::decode(tile)) names.push_back(l.name);
        return names;
    };
    using V = std::vector<std::string>;
    CHECK(names_at(3).empty()); // the whole district is below a pixel at z3: nothing is drawn
    CHECK(names_at(8) == V{"streets", "communities", "labels"});
    CHECK(names_at(10) == V{"streets", "communities", "labels"});
    CHECK(names_at(11) == V{"streets", "communities", "grids", "labels"});
    CHECK(names_at(12) == V{"streets", "communities", "grids", "roads", "labels"});
    CHECK(names_at(14) == V{"streets", "communities", "grids", "roads", "buildings", "labels"});
    CHECK(tiles::layer_min_zoom(VectorLayer::buildings) == 14);
    CHECK_THROWS_AS(tiles::make_vector_tile(snap(), VectorLayer::buildings, tiles::tile_at(c, 13)), Error);
    CHECK_THROWS_AS(tiles::make_vector_tile(snap(), VectorLayer::grids, tiles::tile_at(c, 21)), Error);
    // Far from the district: nothing, as an empty tile.
    CHECK(tiles::make_vector_tile(snap(), VectorLayer::hierarchy, tiles::tile_at({0, 0}, 14)).empty());
}

TEST_CASE("vector tiles: GDAL's MVT driver reads a tile", "[vector_tiles][gdal]") {
    const TileId t = tiles::tile_at(centre_of_data(), 14);
    const std::string bytes = tiles::make_vector_tile(snap(), VectorLayer::hierarchy, t);
    auto expected = counts(test::mvt::decode(bytes));
    test::TempDir dir;
    const auto file = dir / "tile.mvt";
    std::ofstream(file, std::ios::binary) << bytes;
    auto r = test::run({WANGGE_OGRINFO, "-ro", "-al", "-so", "-oo", "X=" + std::to_string(t.x), "-oo",
                        "Y=" + std::to_string(t.y), "-oo", "Z=" + std::to_string(t.z), file.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    std::map<std::string, std::size_t> listed;
    std::regex layer_re(R"(Layer name: (\w+)[\s\S]*?Feature Count: (\d+))");
    for (std::sregex_iterator it(r.out.begin(), r.out.end(), layer_re), end; it != end; ++it)
        listed[(*it)[1]] = std::stoul((*it)[2]);
    CHECK(listed == expected);
}

// Imports of small real files (GeoJSON, Shapefile, GeoPackage) into a real SpatiaLite store.
#include "ingest/importer.hpp"

#include "core/error.hpp"
#include "geo/chinese_crs.hpp"
#include "ingest/fields.hpp"
#include "ingest_fixtures.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

using namespace wangge;
using namespace wangge::test;
using Catch::Matchers::Contains;
using ingest::Target;

namespace {

double rect_area_m2(double x0, double y0, double x1, double y1) {
    return geo::area_m2(geo::make_rectangle(BBox{x0, y0, x1, y1}));
}

// Runs `body`, expects it to throw wangge::Error of `kind` and `code`, and returns the message.
template <typename Body>
std::string expect_error(Body&& body, ErrorKind kind, const std::string& code) {
    try {
        body();
    } catch (const Error& e) {
        CHECK(e.kind() == kind);
        CHECK(e.code() == code);
        return e.what();
    }
    FAIL("no wangge::Error was thrown (expected " << code << ")");
    return {};
}

// A street with two communities, each split into two grids, west to east.
struct Hierarchy {
    std::string streets = collection(
        {feature(R"("code":"320102001","name":"玄武门街道")", polygon_geometry(rect(118.78, 32.04, 118.80, 32.06)))});
    // Codes as JSON integers (OGR Integer64 columns).
    std::string communities = collection(
        {feature(R"("code":320102001001,"name":"西社区","street_code":320102001)",
                 polygon_geometry(rect(118.78, 32.04, 118.79, 32.06))),
         feature(R"("code":320102001002,"name":"东社区")", polygon_geometry(rect(118.79, 32.04, 118.80, 32.06)))});
    // Codes as JSON reals (OGR Real columns, as spreadsheets export them); parent codes as text.
    std::string grids = collection(
        {feature(R"("code":320102001001001.0,"name":"西一","community_code":"320102001001","kind":"residential")",
                 polygon_geometry(rect(118.78, 32.04, 118.79, 32.05))),
         feature(R"("code":320102001001002.0,"name":"西二","community_code":"320102001001","kind":"单位网格")",
                 polygon_geometry(rect(118.78, 32.05, 118.79, 32.06))),
         feature(R"("code":320102001002001.0,"name":"东一")", polygon_geometry(rect(118.79, 32.04, 118.80, 32.05))),
         feature(R"("code":320102001002002.0,"name":"东二","kind":"unit")",
                 polygon_geometry(rect(118.79, 32.05, 118.80, 32.06)))});
};

} // namespace

TEST_CASE("streets then communities then grids import and read back") {
    Workspace w;
    Hierarchy h;
    auto streets = w.run(Target::streets, w.file("streets.geojson", h.streets));
    auto communities = w.run(Target::communities, w.file("communities.geojson", h.communities));
    auto grids = w.run(Target::grids, w.file("grids.geojson", h.grids));
    CHECK(streets.read == 1);
    CHECK(streets.stored == 1);
    CHECK(communities.stored == 2);
    CHECK(grids.read == 4);
    CHECK(grids.stored == 4);
    CHECK(grids.issues.empty());
    CHECK(w.db->data_version() == 3); // one transaction per import

    auto street_rows = w.db->load_streets();
    REQUIRE(street_rows.size() == 1);
    CHECK(street_rows[0].code == "320102001");
    CHECK(street_rows[0].name == "玄武门街道");
    CHECK(geo::area_m2(street_rows[0].geom) == Approx(rect_area_m2(118.78, 32.04, 118.80, 32.06)).epsilon(1e-9));

    auto community_rows = w.db->load_communities();
    REQUIRE(community_rows.size() == 2);
    CHECK(community_rows[0].street_code == "320102001");
    CHECK(community_rows[1].code == "320102001002");     // a JSON number, stored as digits
    CHECK(community_rows[1].street_code == "320102001"); // derived from the code
    CHECK(community_rows[1].name == "东社区");

    auto grid_rows = w.db->load_grids();
    REQUIRE(grid_rows.size() == 4);
    CHECK(grid_rows[0].code == "320102001001001");
    CHECK(grid_rows[0].kind == store::GridKind::residential);
    CHECK(grid_rows[1].code == "320102001001002");
    CHECK(grid_rows[1].kind == store::GridKind::unit); // 单位网格
    CHECK(grid_rows[2].code == "320102001002001");     // a Real, without ".0"
    CHECK(grid_rows[2].community_code == "320102001002");
    CHECK(grid_rows[2].kind == store::GridKind::residential); // no kind: residential
    CHECK(grid_rows[2].name == "东一");
    CHECK(grid_rows[3].kind == store::GridKind::unit);
    CHECK(geo::area_m2(grid_rows[3].geom) == Approx(rect_area_m2(118.79, 32.05, 118.80, 32.06)).epsilon(1e-9));
}

TEST_CASE("a Shapefile in EPSG:3857 is reprojected to WGS84 lon/lat") {
    Workspace w;
    // Web Mercator by its closed formula, independent of PROJ.
    auto mercator = [](double lon, double lat) {
        const double r = 6378137.0, d = std::numbers::pi / 180.0;
        return Xy{r * lon * d, r * std::log(std::tan(std::numbers::pi / 4 + lat * d / 2))};
    };
    std::vector<Xy> ring = {mercator(118.78, 32.05), mercator(118.79, 32.05), mercator(118.79, 32.06),
                            mercator(118.78, 32.06)};
    auto path = w.dir / "streets.shp";
    write_layer(path, "ESRI Shapefile", 3857, wkbPolygon, {"code", "name"},
                {{wkt_polygon(ring), {"320102001", "玄武门街道"}}});
    auto report = w.run(Target::streets, path);
    CHECK(report.stored == 1);
    auto rows = w.db->load_streets();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].name == "玄武门街道");
    CHECK(nearest_vertex_deg(rows[0].geom, {118.78, 32.05}) < 1e-6);
    CHECK(nearest_vertex_deg(rows[0].geom, {118.79, 32.06}) < 1e-6);
}

TEST_CASE("a GeoPackage in CGCS2000 Gauss-Kruger with northing-first axes comes out as lon and lat") {
    Workspace w;
    // EPSG:4549 (CM 120E) of 118.78E 32.05N, from PROJ's cs2cs: easting 384777.137771, northing
    // 3548047.827834. EPSG lists northing first; the importer must not swap the axes.
    const Xy corner{384777.137771, 3548047.827834};
    std::vector<Xy> ring = rect(corner.x, corner.y, corner.x + 500, corner.y + 400);
    auto path = w.dir / "grids.gpkg";
    write_layer(path, "GPKG", 4549, wkbPolygon, {"GRID_ID", "NAME"}, {{wkt_polygon(ring), {"320102001001001", "一"}}});
    auto report = w.run(Target::grids, path, {{"code", "GRID_ID"}});
    CHECK(report.stored == 1);
    auto rows = w.db->load_grids();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].name == "一"); // the default column "name" matches "NAME" case-insensitively
    CHECK(nearest_vertex_deg(rows[0].geom, {118.78, 32.05}) < 1e-6);
    // 500 m x 400 m in a conformal projection near its central meridian: the scale factor
    // there is about 1.0002, so the geodesic area is within 0.1% of the grid area.
    CHECK(geo::area_m2(rows[0].geom) == Approx(200000.0).epsilon(1e-3));
}

TEST_CASE("a file without a CRS needs --crs") {
    Workspace w;
    auto path = w.dir / "noprj.shp";
    write_layer(path, "ESRI Shapefile", std::nullopt, wkbPolygon, {"code"},
                {{wkt_polygon(rect(13222000, 3770000, 13223000, 3771000)), {"320102001"}}});
    auto message = expect_error([&] { w.run(Target::streets, path); }, ErrorKind::bad_request, "missing_crs");
    CHECK_THAT(message, Contains("noprj.shp has no CRS; pass --crs EPSG:n"));
    CHECK(w.db->count(Level::street) == 0);

    ingest::ImportOptions o;
    o.target = Target::streets;
    o.path = path;
    o.crs = "EPSG:3857";
    CHECK(ingest::import_file(*w.db, o).stored == 1);
    auto rows = w.db->load_streets();
    CHECK(rows.at(0).geom.bbox().min_lon == Approx(118.775).margin(0.01));

    o.crs = "EPSG:999999";
    expect_error([&] { ingest::import_file(*w.db, o); }, ErrorKind::bad_request, "invalid_crs");
}

TEST_CASE("projected coordinates declared as WGS84 fail as out of range and name the feature") {
    Workspace w;
    auto path =
        w.file("projected.geojson",
               collection({feature(R"("osm_id":"a")", polygon_geometry(rect(118.78, 32.04, 118.79, 32.05))),
                           feature(R"("osm_id":"b")", polygon_geometry(rect(384777, 3548047, 385777, 3549047)))}));
    auto message = expect_error([&] { w.run(Target::buildings, path); }, ErrorKind::unprocessable, "out_of_range");
    CHECK_THAT(message, Contains("feature 1 (id b)"));
    CHECK_THAT(message, Contains("--crs"));
    CHECK(w.db->building_count() == 0); // even lenient targets stop: the CRS concerns every feature
}

TEST_CASE("GCJ-02 and BD-09 coordinates are converted to WGS84 per vertex") {
    const std::vector<Xy> wgs84 = rect(118.78, 32.05, 118.781, 32.0508);
    for (auto crs : {geo::InputCrs::gcj02, geo::InputCrs::bd09}) {
        Workspace w;
        std::vector<Xy> shifted;
        for (Xy p : wgs84) {
            LonLat g = geo::wgs84_to_gcj02({p.x, p.y});
            if (crs == geo::InputCrs::bd09) g = geo::gcj02_to_bd09(g);
            shifted.push_back({g.lon, g.lat});
        }
        // The offset is hundreds of metres: far more than the tolerance checked below.
        REQUIRE(std::abs(shifted[0].x - wgs84[0].x) + std::abs(shifted[0].y - wgs84[0].y) > 1e-3);
        auto path = w.file("amap.geojson", collection({feature(R"("osm_id":"1")", polygon_geometry(shifted))}));
        ingest::ImportOptions o;
        o.target = Target::buildings;
        o.path = path;
        o.crs = std::string(geo::to_string(crs));
        CHECK(ingest::import_file(*w.db, o).stored == 1);
        auto rows = w.db->load_buildings();
        REQUIRE(rows.size() == 1);
        for (Xy p : wgs84) CHECK(nearest_vertex_deg(rows[0].geom, p) < 1e-6);
    }
}

TEST_CASE("malformed GeoJSON fails clearly and leaves the database as it was") {
    Workspace w;
    Hierarchy h;
    w.run(Target::streets, w.file("streets.geojson", h.streets));
    const Counts before = counts(*w.db);
    std::string truncated = h.communities.substr(0, h.communities.size() / 2);
    auto message = expect_error([&] { w.run(Target::communities, w.file("broken.geojson", truncated)); },
                                ErrorKind::bad_request, "unreadable_data");
    CHECK_THAT(message, Contains("broken.geojson"));
    CHECK(counts(*w.db) == before);

    expect_error([&] { w.run(Target::communities, w.dir / "missing.geojson"); }, ErrorKind::io, "file_not_found");
    CHECK(counts(*w.db) == before);
}

TEST_CASE("a self-intersecting polygon is repaired and reported") {
    Workspace w;
    // A bow-tie: two triangles meeting at the centre of the square.
    std::vector<Xy> bow_tie = {{118.78, 32.04}, {118.79, 32.05}, {118.79, 32.04}, {118.78, 32.05}};
    auto report =
        w.run(Target::streets,
              w.file("bowtie.geojson", collection({feature(R"("code":"320102001")", polygon_geometry(bow_tie))})));
    CHECK(report.stored == 1);
    CHECK(report.repaired == 1);
    REQUIRE(report.issues.size() == 1);
    CHECK(report.issues[0].index == 0);
    CHECK(report.issues[0].id == "320102001");
    CHECK_FALSE(report.issues[0].skipped);
    CHECK_THAT(report.issues[0].reason, Contains("Self-intersection"));
    auto rows = w.db->load_streets();
    REQUIRE(rows.size() == 1);
    CHECK(geo::invalid_reason(rows[0].geom).empty());
    CHECK(geo::polygon_count(rows[0].geom) == 2);
    // The two triangles hold half of the square.
    CHECK(geo::area_m2(rows[0].geom) == Approx(rect_area_m2(118.78, 32.04, 118.79, 32.05) / 2).epsilon(1e-3));
}

TEST_CASE("a point among street polygons fails the whole import") {
    Workspace w;
    auto path =
        w.file("streets.geojson",
               collection({feature(R"("code":"320102001")", polygon_geometry(rect(118.78, 32.04, 118.79, 32.05))),
                           feature(R"("code":"320102002")", point_geometry({118.785, 32.045}))}));
    const Counts before = counts(*w.db);
    auto message = expect_error([&] { w.run(Target::streets, path); }, ErrorKind::unprocessable, "not_polygonal");
    CHECK_THAT(message, Contains("feature 1 (id 320102002)"));
    CHECK_THAT(message, Contains("Point"));
    CHECK(counts(*w.db) == before); // the first street, already inserted, was rolled back
}

TEST_CASE("buildings skip unusable features and list them") {
    Workspace w;
    auto path = w.file(
        "buildings.geojson",
        collection(
            {feature(R"("osm_id":"1","building":"residential")",
                     polygon_geometry(rect(118.78, 32.04, 118.7803, 32.0403))),
             feature(R"("osm_id":"2")", point_geometry({118.785, 32.045})), feature(R"("osm_id":"3")", "null"),
             feature(R"("osm_id":"4","building":"yes")", polygon_geometry(rect(118.781, 32.04, 118.7813, 32.0403))),
             // collinear (one latitude): a ring without area, nothing is left after repair
             feature(R"("osm_id":"5")", polygon_geometry({{118.782, 32.04}, {118.783, 32.04}, {118.784, 32.04}}))}));
    auto report = w.run(Target::buildings, path);
    CHECK(report.read == 5);
    CHECK(report.stored == 2);
    CHECK(report.skipped == 3);
    CHECK(report.repaired == 0);
    REQUIRE(report.issues.size() == 3);
    CHECK(report.issues[0].index == 1);
    CHECK(report.issues[0].id == "2");
    CHECK(report.issues[0].skipped);
    CHECK_THAT(report.issues[0].reason, Contains("Point"));
    CHECK(report.issues[1].index == 2);
    CHECK_THAT(report.issues[1].reason, Contains("no geometry"));
    CHECK(report.issues[2].index == 4);
    CHECK(report.issues[2].skipped);
    CHECK_THAT(report.issues[2].reason, Contains("no area left after repair"));
    CHECK(w.db->building_count() == 2);

    // Nothing usable at all: the import fails rather than reporting success with zero rows.
    auto points = w.file("points.geojson", collection({feature(R"("osm_id":"9")", point_geometry({118.785, 32.045}))}));
    expect_error([&] { w.run(Target::buildings, points); }, ErrorKind::unprocessable, "nothing_imported");
    CHECK(w.db->building_count() == 2);
}

TEST_CASE("roads keep lines only") {
    Workspace w;
    auto path = w.file("roads.geojson", collection({feature(R"("osm_id":"10","name":"中山路","highway":"primary")",
                                                            line_geometry({{118.78, 32.04}, {118.79, 32.05}})),
                                                    feature(R"("osm_id":"11","highway":"service")",
                                                            polygon_geometry(rect(118.78, 32.04, 118.79, 32.05)))}));
    auto report = w.run(Target::roads, path);
    CHECK(report.stored == 1);
    CHECK(report.skipped == 1);
    REQUIRE(report.issues.size() == 1);
    CHECK(report.issues[0].index == 1);
    CHECK(report.issues[0].id == "11");
    auto roads = w.db->load_roads();
    REQUIRE(roads.size() == 1);
    CHECK(roads[0].source_id == "10");
    CHECK(roads[0].name == "中山路");
    CHECK(roads[0].kind == "primary");
}

TEST_CASE("buildings and roads add up on import and --replace swaps the whole layer") {
    Workspace w;
    auto buildings = w.file("b.geojson", collection({feature(R"("osm_id":"1","building":"apartments")",
                                                             polygon_geometry(rect(118.78, 32.04, 118.7804, 32.0403))),
                                                     feature(R"("osm_id":"2","building":"apartments")",
                                                             polygon_geometry(rect(118.79, 32.04, 118.7904, 32.0403)))}));
    auto roads = w.file("r.geojson", collection({feature(R"("osm_id":"10","highway":"primary")",
                                                         line_geometry({{118.78, 32.04}, {118.79, 32.05}}))}));
    w.run(Target::buildings, buildings);
    w.run(Target::buildings, buildings);
    CHECK(w.db->building_count() == 4);
    w.run(Target::buildings, buildings, {}, true);
    CHECK(w.db->building_count() == 2);
    w.run(Target::roads, roads);
    w.run(Target::roads, roads, {}, true);
    CHECK(w.db->road_count() == 1);
    // A failed replacing import keeps the old layer.
    auto broken = w.file("broken.geojson", "{\"type\": \"FeatureCollection\", \"features\": [");
    CHECK_THROWS_AS(w.run(Target::buildings, broken, {}, true), Error);
    CHECK(w.db->building_count() == 2);
}

TEST_CASE("duplicate codes in the file or already stored fail unless replacing") {
    Workspace w;
    auto square = polygon_geometry(rect(118.78, 32.04, 118.79, 32.05));
    auto twice = w.file("twice.geojson", collection({feature(R"("code":"320102001","name":"a")", square),
                                                     feature(R"("code":"320102001","name":"b")", square)}));
    auto message = expect_error([&] { w.run(Target::streets, twice); }, ErrorKind::unprocessable, "duplicate_code");
    CHECK_THAT(message, Contains("feature 1 (id 320102001)"));
    CHECK_THAT(message, Contains("also at feature 0"));
    CHECK(w.db->count(Level::street) == 0);

    auto first = w.file("first.geojson", collection({feature(R"("code":"320102001","name":"旧名")", square)}));
    auto renamed = w.file("renamed.geojson", collection({feature(R"("code":"320102001","name":"新名")", square)}));
    w.run(Target::streets, first);
    message = expect_error([&] { w.run(Target::streets, renamed); }, ErrorKind::conflict, "duplicate_code");
    CHECK_THAT(message, Contains("--replace"));
    CHECK(w.db->load_streets().at(0).name == "旧名");

    CHECK(w.run(Target::streets, renamed, {}, true).stored == 1);
    auto rows = w.db->load_streets();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].name == "新名");
}

TEST_CASE("codes must fit their level and parent column") {
    Workspace w;
    auto square = polygon_geometry(rect(118.78, 32.04, 118.79, 32.05));
    auto mismatch = w.file(
        "grids.geojson", collection({feature(R"("code":"320102001001001","community_code":"320102001001")", square),
                                     feature(R"("code":"320102001001002","community_code":"320102001002")", square)}));
    auto message =
        expect_error([&] { w.run(Target::grids, mismatch); }, ErrorKind::unprocessable, "code_parent_mismatch");
    CHECK_THAT(message, Contains("feature 1 (id 320102001001002)"));
    CHECK_THAT(message, Contains("320102001002"));
    CHECK(w.db->count(Level::grid) == 0);

    auto short_code = w.file("short.geojson", collection({feature(R"("code":"32010200")", square)}));
    message = expect_error([&] { w.run(Target::streets, short_code); }, ErrorKind::unprocessable, "invalid_code");
    CHECK_THAT(message, Contains("feature 0"));

    // Text columns mixing numbers and strings keep "320102001.0" as text; a code is still read.
    auto mixed =
        w.file("mixed.geojson",
               collection({feature(R"("code":"320102001")", square),
                           feature(R"("code":320102002.0)", polygon_geometry(rect(118.79, 32.04, 118.80, 32.05)))}));
    CHECK(w.run(Target::streets, mixed).stored == 2);
    CHECK(w.db->has_code(Level::street, "320102002"));

    auto no_code = w.file("nocode.geojson", collection({feature(R"("name":"x")", square)}));
    expect_error([&] { w.run(Target::streets, no_code); }, ErrorKind::unprocessable, "missing_code");

    auto bad_kind = w.file("kind.geojson", collection({feature(R"("code":"320102001001001","kind":"park")", square)}));
    expect_error([&] { w.run(Target::grids, bad_kind); }, ErrorKind::unprocessable, "invalid_kind");
}

TEST_CASE("field mapping names source columns and unknown ones are errors listing the columns") {
    Workspace w;
    auto square = polygon_geometry(rect(118.78, 32.04, 118.79, 32.05));
    auto path = w.file("s.geojson", collection({feature(R"("JDDM":"320102001","JDMC":"玄武门街道")", square)}));
    auto message = expect_error(
        [&] {
            w.run(Target::streets, path, {{"code", "STREET_ID"}});
        },
        ErrorKind::bad_request, "unknown_column");
    CHECK_THAT(message, Contains("STREET_ID"));
    CHECK_THAT(message, Contains("JDDM, JDMC"));
    expect_error([&] { w.run(Target::streets, path, {{"kode", "JDDM"}}); }, ErrorKind::bad_request, "unknown_field");
    expect_error([&] { w.run(Target::streets, path, {}, false); }, ErrorKind::unprocessable, "missing_code");

    CHECK(w.run(Target::streets, path, {{"code", "jddm"}, {"name", "JDMC"}}).stored == 1);
    auto rows = w.db->load_streets();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].code == "320102001");
    CHECK(rows[0].name == "玄武门街道");
}

TEST_CASE("households: counted numbers are kept and the rest estimated by the formula") {
    Workspace w;
    const grid::EstimatorConfig config = grid::EstimatorConfig::defaults();
    auto at = [](double x) { return rect(118.78 + x, 32.04, 118.7804 + x, 32.0403); }; // about 38 x 33 m
    auto path = w.file(
        "buildings.geojson",
        collection(
            {feature(R"("osm_id":"counted","building":"residential","households":120)", polygon_geometry(at(0))),
             feature(R"("osm_id":"levels","building":"yes","building_levels":"6")", polygon_geometry(at(0.001))),
             feature(R"("osm_id":"school","building":"school","building_levels":"4")", polygon_geometry(at(0.002))),
             feature(R"("osm_id":"negative","building":"Apartments","households":-1)", polygon_geometry(at(0.003))),
             feature(
                 R"("osm_id":"tags","other_tags":"\"building:levels\"=>\"4\",\"addr:street\"=>\"中山路\",\"addr:housenumber\"=>\"8号\"")",
                 polygon_geometry(at(0.004)))}));
    auto report = w.run(Target::buildings, path);
    CHECK(report.stored == 5);
    CHECK(report.estimated == 4);

    std::map<std::string, store::BuildingRow> by_id;
    for (auto& b : w.db->load_buildings()) by_id.emplace(b.source_id, std::move(b));
    auto formula = [&](const store::BuildingRow& b, int levels) {
        return static_cast<int>(std::lround(geo::area_m2(b.geom) * levels * config.usable_ratio / config.dwelling_m2));
    };
    const auto& counted = by_id.at("counted");
    CHECK(counted.households == 120);
    CHECK_FALSE(counted.households_estimated);

    const auto& levels = by_id.at("levels");
    CHECK(levels.households_estimated);
    CHECK(levels.floors == 6);
    CHECK(levels.households > 0);
    CHECK(levels.households == formula(levels, 6));

    CHECK(by_id.at("school").households == 0); // non-residential
    CHECK(by_id.at("school").households_estimated);

    const auto& negative = by_id.at("negative"); // -1 is "unknown", so it is estimated
    CHECK(negative.households_estimated);
    CHECK(negative.use == "apartments");
    CHECK(negative.households == formula(negative, config.default_levels_by_use.at("apartments")));

    const auto& tags = by_id.at("tags"); // OSM's other_tags hstore
    CHECK(tags.floors == 4);
    CHECK(tags.use == "yes");
    CHECK(tags.address == "中山路8号");
    CHECK(tags.households == formula(tags, 4));

    long total = 0;
    for (const auto& [id, b] : by_id) total += b.households;
    CHECK(report.households_total == total);
}

TEST_CASE("buildings go to the grid holding most of their footprint") {
    Workspace w;
    auto grids = w.file(
        "grids.geojson",
        collection({feature(R"("code":"320102001001001")", polygon_geometry(rect(118.78, 32.04, 118.79, 32.05))),
                    feature(R"("code":"320102001001002")", polygon_geometry(rect(118.79, 32.04, 118.80, 32.05)))}));
    auto buildings = w.file(
        "buildings.geojson",
        collection({feature(R"("osm_id":"west")", polygon_geometry(rect(118.781, 32.041, 118.7815, 32.0414))),
                    // a quarter in the west grid, three quarters in the east one
                    feature(R"("osm_id":"straddling")", polygon_geometry(rect(118.7895, 32.045, 118.7915, 32.0454))),
                    feature(R"("osm_id":"outside")", polygon_geometry(rect(118.81, 32.045, 118.8105, 32.0454)))}));

    SECTION("grids first, then buildings") {
        w.run(Target::grids, grids);
        auto report = w.run(Target::buildings, buildings);
        CHECK(report.assignment.assigned == 2);
        REQUIRE(report.assignment.unassigned.size() == 1);
        CHECK(report.assignment.unassigned[0].second == "outside");
    }
    SECTION("buildings first, then grids") {
        auto before = w.run(Target::buildings, buildings);
        CHECK(before.assignment.assigned == 0);
        auto report = w.run(Target::grids, grids);
        CHECK(report.assignment.assigned == 2);
        CHECK(report.assignment.changed == 2);
        CHECK(report.assignment.unassigned.size() == 1);
    }
    std::map<std::string, std::optional<std::string>> grid_of;
    for (const auto& b : w.db->load_buildings()) grid_of[b.source_id] = b.grid_code;
    CHECK(grid_of.at("west") == "320102001001001");
    CHECK(grid_of.at("straddling") == "320102001001002");
    CHECK_FALSE(grid_of.at("outside").has_value());
}

TEST_CASE("layers: the only one by default or the one chosen with errors listing them") {
    Workspace w;
    auto path = w.dir / "two.gpkg";
    auto square = wkt_polygon(rect(118.78, 32.04, 118.79, 32.05));
    write_layer(path, "GPKG", 4326, wkbPolygon, {"code"}, {{square, {"320102001"}}}, "streets");
    CHECK(w.run(Target::streets, path).stored == 1); // the only layer

    write_layer(path, "GPKG", 4326, wkbPolygon, {"code"}, {{square, {"320102001001"}}}, "communities");
    auto message = expect_error([&] { w.run(Target::communities, path); }, ErrorKind::bad_request, "ambiguous_layer");
    CHECK_THAT(message, Contains("streets, communities"));
    CHECK_THAT(message, Contains("--layer"));

    ingest::ImportOptions o;
    o.target = Target::communities;
    o.path = path;
    o.layer = "nope";
    message = expect_error([&] { ingest::import_file(*w.db, o); }, ErrorKind::bad_request, "unknown_layer");
    CHECK_THAT(message, Contains("has no layer 'nope'; its layers are streets, communities"));

    o.layer = "communities";
    CHECK(ingest::import_file(*w.db, o).stored == 1);
    CHECK(w.db->load_communities().at(0).code == "320102001001");
}

TEST_CASE("a zipped file is read through GDAL's /vsizip/") {
    Workspace w;
    const std::string zip = "/vsizip/" + (w.dir / "streets.zip").string() + "/streets.geojson";
    const std::string text =
        collection({feature(R"("code":"320102001")", polygon_geometry(rect(118.78, 32.04, 118.79, 32.05)))});
    VSILFILE* out = VSIFOpenL(zip.c_str(), "wb");
    REQUIRE(out != nullptr);
    VSIFWriteL(text.data(), 1, text.size(), out);
    VSIFCloseL(out);
    CHECK(w.run(Target::streets, zip).stored == 1);
    expect_error([&] { w.run(Target::streets, "/vsizip/" + (w.dir / "none.zip").string() + "/x.geojson"); },
                 ErrorKind::io, "file_not_found");
}

TEST_CASE("OSM XML: buildings from multipolygons and roads from lines with their tags") {
    Workspace w;
    const std::string osm = R"(<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="wangge test">
  <node id="1" lat="32.0400" lon="118.7800"/>
  <node id="2" lat="32.0400" lon="118.7805"/>
  <node id="3" lat="32.0404" lon="118.7805"/>
  <node id="4" lat="32.0404" lon="118.7800"/>
  <node id="5" lat="32.0410" lon="118.7810"/>
  <node id="6" lat="32.0410" lon="118.7815"/>
  <node id="7" lat="32.0414" lon="118.7815"/>
  <way id="100">
    <nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
    <tag k="building" v="apartments"/><tag k="building:levels" v="5"/><tag k="height" v="16 m"/>
    <tag k="addr:street" v="北京东路"/><tag k="addr:housenumber" v="41号"/><tag k="name" v="一号楼"/>
  </way>
  <way id="101">
    <nd ref="5"/><nd ref="6"/><nd ref="7"/><nd ref="5"/>
    <tag k="leisure" v="park"/>
  </way>
  <way id="102">
    <nd ref="1"/><nd ref="5"/><tag k="highway" v="residential"/><tag k="name" v="北京东路"/>
  </way>
  <way id="103">
    <nd ref="2"/><nd ref="6"/><tag k="waterway" v="stream"/>
  </way>
</osm>
)";
    auto path = w.file("small.osm", osm);
    auto buildings = w.run(Target::buildings, path);
    CHECK(buildings.read == 1); // the park is not a building
    CHECK(buildings.stored == 1);
    auto rows = w.db->load_buildings();
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].source_id == "100");
    CHECK(rows[0].use == "apartments");
    CHECK(rows[0].floors == 5);      // from other_tags
    CHECK(rows[0].height_m == 16.0); // "16 m"
    CHECK(rows[0].name == "一号楼");
    CHECK(rows[0].address == "北京东路41号");

    auto roads = w.run(Target::roads, path);
    CHECK(roads.read == 1); // the stream is not a road
    auto road_rows = w.db->load_roads();
    REQUIRE(road_rows.size() == 1);
    CHECK(road_rows[0].source_id == "102");
    CHECK(road_rows[0].kind == "residential");
}

TEST_CASE("progress is reported with the layer's feature count") {
    Workspace w;
    std::vector<std::string> features;
    for (int i = 0; i < 250; ++i)
        features.push_back(
            feature(R"("osm_id":")" + std::to_string(i) + "\"",
                    polygon_geometry(rect(118.78 + i * 1e-4, 32.04, 118.78 + i * 1e-4 + 5e-5, 32.0405))));
    ingest::ImportOptions o;
    o.target = Target::buildings;
    o.path = w.file("many.geojson", collection(features));
    std::vector<std::pair<std::size_t, std::size_t>> calls;
    o.progress = [&](std::size_t done, std::size_t total) { calls.emplace_back(done, total); };
    auto report = ingest::import_file(*w.db, o);
    CHECK(report.stored == 250);
    REQUIRE(calls.size() == 125); // every 2 features (1% of 250)
    CHECK(calls.front() == std::pair<std::size_t, std::size_t>{2, 250});
    CHECK(calls.back() == std::pair<std::size_t, std::size_t>{250, 250});
}

TEST_CASE("field values: numbers as digits and hstore tags and lengths with units") {
    using namespace ingest::detail;
    CHECK(format_number(320102001001001.0) == "320102001001001");
    CHECK(format_number(20.5) == "20.5");
    auto tags = parse_hstore(R"("building:levels"=>"6","height"=>"20 m","name"=>"say \"hi\"","x"=>NULL)");
    CHECK(tags.size() == 3);
    CHECK(tags.at("building:levels") == "6");
    CHECK(tags.at("name") == R"(say "hi")");
    CHECK(parse_hstore(R"("a"=>"1","b"=>)").size() == 1); // malformed tail: what was read
    CHECK(parse_number(" 20 m") == 20.0);
    CHECK(parse_number("10 ft") == Approx(3.048));
    CHECK_FALSE(parse_number("5;6").has_value());
    CHECK_FALSE(parse_number("").has_value());
}

TEST_CASE("targets parse from their CLI names") {
    CHECK(ingest::parse_target("streets") == Target::streets);
    CHECK(ingest::parse_target("grid") == Target::grids);
    CHECK_FALSE(ingest::parse_target("parcels").has_value());
    CHECK(ingest::to_string(Target::roads) == "roads");
}

TEST_CASE("units keep their kind from a kind column or OSM tags, an unknown kind is refused per feature") {
    Workspace w;
    auto path = w.file(
        "units.geojson",
        collection({feature(R"("id":"u1","name":"某大学","kind":"大学")", polygon_geometry(rect(118.78, 32.04, 118.79, 32.05))),
                    feature(R"("id":"u2","name":"某医院","amenity":"hospital")",
                            polygon_geometry(rect(118.79, 32.04, 118.795, 32.045))),
                    feature(R"("id":"u3","name":"营区","landuse":"military")",
                            polygon_geometry(rect(118.80, 32.04, 118.81, 32.05))),
                    feature(R"("id":"u4","name":"公园","kind":"park")", polygon_geometry(rect(118.81, 32.04, 118.82, 32.05))),
                    feature(R"("id":"u5","name":"无类型")", polygon_geometry(rect(118.82, 32.04, 118.83, 32.05)))}));
    auto report = w.run(Target::units, path);
    CHECK(report.stored == 4);
    CHECK(report.skipped == 1);
    REQUIRE(report.issues.size() == 1);
    CHECK(report.issues[0].id == "u4");
    CHECK_THAT(report.issues[0].reason, Contains("is not a unit kind"));
    const auto units = w.db->load_units();
    REQUIRE(units.size() == 4);
    CHECK(units[0].kind == store::UnitKind::university);
    CHECK(units[0].name == "某大学");
    CHECK(units[1].kind == store::UnitKind::hospital);
    CHECK(units[2].kind == store::UnitKind::military);
    CHECK(units[3].kind == store::UnitKind::other); // no kind at all: a unit of some other kind
    CHECK(units[3].source_id == "u5");
    // --replace swaps the whole layer.
    auto one = w.file("one.geojson", collection({feature(R"("id":"u9","kind":"school")",
                                                         polygon_geometry(rect(118.78, 32.04, 118.79, 32.05)))}));
    ingest::ImportOptions o;
    o.target = Target::units;
    o.path = one;
    o.replace = true;
    ingest::import_file(*w.db, o);
    REQUIRE(w.db->load_units().size() == 1);
    CHECK(w.db->load_units()[0].kind == store::UnitKind::school);
}

TEST_CASE("buildings: the field names Wangge exports import back as they were") {
    Workspace w;
    // As GET /api/v1/buildings writes them: height_m, households_estimated, id and source_id.
    auto path = w.file(
        "export.geojson",
        collection({feature(R"("id":7,"source_id":"way/1","name":"一号楼","use":"residential","floors":6,"height_m":19.5,"households":48,"households_estimated":true,"grid_code":null)",
                            polygon_geometry(rect(118.78, 32.04, 118.7804, 32.0403))),
                    feature(R"("id":8,"source_id":"way/2","use":"residential","floors":null,"height_m":null,"households":120,"households_estimated":false)",
                            polygon_geometry(rect(118.781, 32.04, 118.7814, 32.0403)))}));
    auto report = w.run(Target::buildings, path);
    CHECK(report.stored == 2);
    CHECK(report.estimated == 0); // both had a number
    std::map<std::string, store::BuildingRow> by_id;
    for (auto& b : w.db->load_buildings()) by_id.emplace(b.source_id, std::move(b));
    REQUIRE(by_id.size() == 2);
    const auto& one = by_id.at("way/1");
    CHECK(one.height_m == std::optional<double>(19.5));
    CHECK(one.floors == 6);
    CHECK(one.households == 48);
    CHECK(one.households_estimated); // an estimate stays an estimate
    const auto& two = by_id.at("way/2");
    CHECK_FALSE(two.height_m);
    CHECK(two.households == 120);
    CHECK_FALSE(two.households_estimated);
}

TEST_CASE("buildings --update changes only the fields given, by source id or by id") {
    Workspace w;
    auto at = [](double x) { return rect(118.78 + x, 32.04, 118.7804 + x, 32.0403); };
    w.run(Target::buildings,
          w.file("buildings.geojson",
                 collection({feature(R"("osm_id":"a","building":"residential","households":120,"name":"甲")", polygon_geometry(at(0))),
                             feature(R"("osm_id":"b","building":"residential","building_levels":"6")", polygon_geometry(at(0.001))),
                             feature(R"("osm_id":"c","building":"residential","building_levels":"4")", polygon_geometry(at(0.002))),
                             feature(R"("osm_id":"d","building":"residential","households":30)", polygon_geometry(at(0.003)))})));
    auto stored = [&] {
        std::map<std::string, store::BuildingRow> by_id;
        for (auto& b : w.db->load_buildings()) by_id.emplace(b.source_id, std::move(b));
        return by_id;
    };
    const auto before = stored();
    const std::int64_t version = w.db->data_version();
    auto update = [&](const std::filesystem::path& path, ingest::ImportOptions::Key key) {
        ingest::ImportOptions o;
        o.target = Target::buildings;
        o.path = path;
        o.update = true;
        o.update_key = key;
        return ingest::import_file(*w.db, o);
    };

    SECTION("a CSV without geometry: households of one, floors of another, an unknown id listed") {
        const auto report = update(w.file("households.csv", "source_id,households,floors\n"
                                                            "a,130,\n"
                                                            "b,,12\n"
                                                            "zz,50,\n"),
                                   ingest::ImportOptions::Key::source_id);
        CHECK(report.read == 3);
        CHECK(report.stored == 2);
        CHECK(report.skipped == 1);
        REQUIRE(report.issues.size() == 1);
        CHECK(report.issues.front().id == "zz");
        CHECK_THAT(report.issues.front().reason, Contains("no stored building has source id zz"));
        CHECK(report.households_before == before.at("a").households + before.at("b").households);
        const auto after = stored();
        CHECK(after.size() == 4);
        CHECK(after.at("a").households == 130); // counted, as given
        CHECK_FALSE(after.at("a").households_estimated);
        CHECK(after.at("a").name == "甲"); // not given: kept
        CHECK(after.at("a").use == "residential");
        CHECK(geo::to_wkb(after.at("a").geom) == geo::to_wkb(before.at("a").geom));
        // b's estimate follows its new floors: twice the levels, twice the households.
        CHECK(after.at("b").floors == 12);
        CHECK(after.at("b").households_estimated);
        CHECK(std::abs(after.at("b").households - 2 * before.at("b").households) <= 1);
        CHECK(report.households_total == after.at("a").households + after.at("b").households);
        // c and d are untouched.
        CHECK(after.at("c").households == before.at("c").households);
        CHECK(after.at("d").households == 30);
        CHECK(w.db->data_version() == version + 1);
    }
    SECTION("floors of a counted building leave its households as counted") {
        update(w.file("floors.csv", "source_id,floors\nd,9\n"), ingest::ImportOptions::Key::source_id);
        const auto after = stored();
        CHECK(after.at("d").floors == 9);
        CHECK(after.at("d").households == 30);
        CHECK_FALSE(after.at("d").households_estimated);
    }
    SECTION("a negative count turns a counted building back into an estimate") {
        update(w.file("unknown.csv", "source_id,households\nd,-1\n"), ingest::ImportOptions::Key::source_id);
        const auto after = stored();
        CHECK(after.at("d").households_estimated);
        CHECK(after.at("d").households != 30);
    }
    SECTION("by Wangge's building id, with a new footprint") {
        const std::int64_t id = before.at("c").id;
        const auto report = update(
            w.file("by_id.geojson",
                   collection({feature(R"("id":)" + std::to_string(id) + R"(,"households":75)", polygon_geometry(at(0.0025)))})),
            ingest::ImportOptions::Key::id);
        CHECK(report.stored == 1);
        const auto after = stored();
        CHECK(after.at("c").id == id);
        CHECK(after.at("c").households == 75);
        CHECK(geo::to_wkb(after.at("c").geom) != geo::to_wkb(before.at("c").geom));
        CHECK(after.size() == 4);
    }
    SECTION("nothing matched: an error, nothing written") {
        expect_error([&] { update(w.file("none.csv", "source_id,households\nzz,1\n"), ingest::ImportOptions::Key::source_id); },
                     ErrorKind::unprocessable, "nothing_imported");
        CHECK(w.db->data_version() == version);
    }
    SECTION("another target, or with --replace, is refused") {
        ingest::ImportOptions o;
        o.target = Target::roads;
        o.path = w.file("x.csv", "source_id\na\n");
        o.update = true;
        expect_error([&] { ingest::import_file(*w.db, o); }, ErrorKind::bad_request, "invalid_option");
        o.target = Target::buildings;
        o.replace = true;
        expect_error([&] { ingest::import_file(*w.db, o); }, ErrorKind::bad_request, "invalid_option");
    }
}

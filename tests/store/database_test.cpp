#include "core/error.hpp"
#include "store/sqlite_database.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

using namespace wangge;
using Catch::Matchers::WithinRel;

namespace {
std::string pragma(store::SqliteDatabase& db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db.handle(), sql, -1, &st, nullptr);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}
} // namespace

TEST_CASE("store: a new file gets the latest schema, WAL and spatial metadata", "[store]") {
    test::TempDir dir;
    auto db = store::SqliteDatabase::open(dir / "w.sqlite", store::OpenMode::create);
    CHECK(db->schema_version() == store::SqliteDatabase::latest_schema_version());
    CHECK(pragma(*db, "PRAGMA journal_mode") == "wal");
    CHECK(pragma(*db, "PRAGMA synchronous") == "2"); // FULL
    CHECK(pragma(*db, "SELECT count(*) FROM geometry_columns") == "6");
    CHECK(pragma(*db, "SELECT count(*) FROM geometry_columns WHERE spatial_index_enabled = 1") == "6");
    CHECK(db->data_version() == 0);
}

TEST_CASE("store: opening a missing file without create is a clear error", "[store]") {
    test::TempDir dir;
    try {
        store::SqliteDatabase::open(dir / "missing.sqlite", store::OpenMode::read_write);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == "no_database");
        CHECK(std::string(e.what()).find("missing.sqlite") != std::string::npos);
    }
}

TEST_CASE("store: rows round-trip through SpatiaLite", "[store]") {
    test::TempDir dir;
    auto db = store::SqliteDatabase::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    CHECK(db->data_version() == 1);
    auto streets = db->load_streets();
    REQUIRE(streets.size() == 1);
    CHECK(streets[0].name == "梅园新村街道");
    CHECK(streets[0].geom.type() == geo::GeometryType::multi_polygon);
    CHECK_THAT(geo::planar_area(streets[0].geom), WithinRel(0.02 * 0.01, 1e-9));
    auto grids = db->load_grids();
    REQUIRE(grids.size() == 3);
    CHECK(grids[2].kind == store::GridKind::unit);
    CHECK(grids[0].community_code == "320102002001");
    CHECK(grids[0].version == 1); // the data version of the transaction that wrote it
    auto buildings = db->load_buildings();
    REQUIRE(buildings.size() == 4);
    CHECK(buildings[0].households == 300);
    CHECK(buildings[3].households_estimated);
    CHECK(db->count(Level::community) == 2);
    // The spatial index answers through SpatiaLite's own SQL.
    CHECK(pragma(*db, "SELECT count(*) FROM SpatialIndex WHERE f_table_name = 'grids' AND search_frame = "
                      "BuildMbr(118.801, 32.001, 118.802, 32.002)") == "1");
}

TEST_CASE("store: duplicate codes are refused unless replaced", "[store]") {
    test::TempDir dir;
    auto db = store::SqliteDatabase::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    store::Transaction tx(*db);
    store::StreetRow again{"320102002", "改名街道", geo::make_rectangle({118.80, 32.00, 118.82, 32.01})};
    try {
        db->put_street(again, false);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::conflict);
        CHECK(e.code() == "duplicate_code");
    }
    db->put_street(again, true);
    // Replacing a boundary moves it in the spatial index too (an update, not delete + insert).
    db->put_street({"320102002", "改名街道", geo::make_rectangle({119.50, 32.50, 119.52, 32.51})}, true);
    tx.commit();
    CHECK(db->load_streets().at(0).name == "改名街道");
    CHECK(db->count(Level::street) == 1);
    CHECK(pragma(*db, "SELECT count(*) FROM SpatialIndex WHERE f_table_name = 'streets' AND search_frame = "
                      "BuildMbr(118.801, 32.001, 118.802, 32.002)") == "0");
    CHECK(pragma(*db, "SELECT count(*) FROM SpatialIndex WHERE f_table_name = 'streets' AND search_frame = "
                      "BuildMbr(119.505, 32.502, 119.506, 32.503)") == "1");
    CHECK(pragma(*db, "SELECT count(*) FROM idx_streets_geom") == "1");
}

TEST_CASE("store: a transaction that is not committed leaves nothing behind", "[store]") {
    test::TempDir dir;
    auto db = store::SqliteDatabase::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    {
        store::Transaction tx(*db);
        db->put_street({"320102003", "新街口街道", geo::make_rectangle({118.9, 32.0, 119.0, 32.1})}, false);
        db->insert_building(test::small_building("x", {118.9, 32.0, 118.91, 32.01}, 5));
        // destroyed without commit: rolled back
    }
    CHECK(db->count(Level::street) == 1);
    CHECK(db->building_count() == 4);
    CHECK(db->data_version() == 1);
}

TEST_CASE("store: committed writes survive reopening", "[store]") {
    test::TempDir dir;
    {
        auto db = store::SqliteDatabase::open(dir / "w.sqlite", store::OpenMode::create);
        test::write_small_district(*db);
    }
    auto db = store::SqliteDatabase::open(dir / "w.sqlite", store::OpenMode::read_only);
    CHECK(db->count(Level::grid) == 3);
    CHECK(db->data_version() == 1);
}

TEST_CASE("store: invalid rows are refused with the reason", "[store]") {
    test::TempDir dir;
    auto db = store::SqliteDatabase::open(dir / "w.sqlite", store::OpenMode::create);
    store::Transaction tx(*db);
    CHECK_THROWS_WITH(db->put_street({"32010200", "短", geo::make_rectangle({0, 0, 1, 1})}, false),
                      Catch::Contains("must be 9 digits"));
    CHECK_THROWS_WITH(db->put_community({"320102003001", "320102002", "错", geo::make_rectangle({0, 0, 1, 1})}, false),
                      Catch::Contains("does not start with"));
    CHECK_THROWS_WITH(db->put_street({"320102002", "点", geo::make_point({0, 0})}, false),
                      Catch::Contains("Polygon or MultiPolygon"));
    store::RoadRow road;
    road.geom = geo::make_rectangle({0, 0, 1, 1});
    CHECK_THROWS_WITH(db->insert_road(road), Catch::Contains("LineString"));
    road.geom = geo::from_wkt("LINESTRING(0 0, 1 1)");
    road.name = "中山路";
    db->insert_road(road);
    tx.commit();
    auto roads = db->load_roads();
    REQUIRE(roads.size() == 1);
    CHECK(roads[0].geom.type() == geo::GeometryType::multi_line_string);
    CHECK(roads[0].name == "中山路");
}

#include "core/error.hpp"
#include "demo/store_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace wangge;

TEST_CASE("store_district: every row stored and every building already in its own grid", "[demo][store]") {
    test::TempDir dir;
    demo::DemoOptions options;
    options.households = 20000;
    demo::DemoDistrict d = demo::generate_demo(options);
    auto db = store::Database::open(dir / "d.sqlite", store::OpenMode::create);
    std::size_t last_done = 0, last_total = 0;
    auto report = demo::store_district(*db, d, [&](std::size_t done, std::size_t total) {
        last_done = done;
        last_total = total;
    });
    CHECK(db->count(Level::street) == d.streets.size());
    CHECK(db->count(Level::community) == d.communities.size());
    CHECK(db->count(Level::grid) == d.grids.size());
    CHECK(db->building_count() == d.buildings.size());
    CHECK(db->road_count() == d.roads.size());
    CHECK(report.assigned == d.buildings.size());
    CHECK(report.unassigned.empty());
    CHECK(report.changed == 0); // the generator's grid_code agrees with the footprint rule
    CHECK(last_total == d.streets.size() + d.communities.size() + d.grids.size() + d.buildings.size() + d.roads.size());
    CHECK(last_done == last_total);
    CHECK(db->data_version() == 1); // one transaction
}

TEST_CASE("store_district: a failing row leaves the database empty", "[demo][store]") {
    test::TempDir dir;
    demo::DemoOptions options;
    options.households = 10000;
    demo::DemoDistrict d = demo::generate_demo(options);
    const auto& first = d.grids.front();
    d.grids.push_back({first.code, first.community_code, first.name, first.kind, 0, first.geom.clone()}); // a duplicate code
    auto db = store::Database::open(dir / "d.sqlite", store::OpenMode::create);
    CHECK_THROWS_AS(demo::store_district(*db, d), Error);
    CHECK(db->count(Level::street) == 0);
    CHECK(db->count(Level::grid) == 0);
    CHECK(db->data_version() == 0);
}

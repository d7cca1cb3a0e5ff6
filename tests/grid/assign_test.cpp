#include "grid/assign.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace wangge;

TEST_CASE("assign: a building goes to the grid holding the largest part of its footprint", "[assign]") {
    test::TempDir dir;
    auto db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    store::Transaction tx(*db);
    grid::AssignmentReport r = grid::reassign_buildings(*db);
    tx.commit();
    CHECK(r.assigned == 3);
    CHECK(r.changed == 3);
    REQUIRE(r.unassigned.size() == 1);
    CHECK(r.unassigned[0].second == "gap");
    auto buildings = db->load_buildings();
    std::map<std::string, std::optional<std::string>> by_source;
    for (const auto& b : buildings) by_source[b.source_id] = b.grid_code;
    CHECK(by_source["north"] == "320102002001001");
    // 0.0006 of its 0.001 deg height lies south of the boundary at 32.005: 60% in 001002.
    CHECK(by_source["straddle"] == "320102002001002");
    CHECK(by_source["estimated"] == "320102002002001");
    CHECK_FALSE(by_source["gap"].has_value());
}

TEST_CASE("assign: area decides even when the centroid lies in the other grid", "[assign]") {
    std::vector<store::GridRow> grids;
    grids.push_back({"320102002001001", "320102002001", "a", store::GridKind::residential, 0,
                     geo::from_wkt("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))")});
    grids.push_back({"320102002001002", "320102002001", "b", store::GridKind::residential, 0,
                     geo::from_wkt("POLYGON((10 0, 20 0, 20 10, 10 10, 10 0))")});
    grid::GridAssigner assigner(grids);
    // A hook-shaped building: 6.0 of its 10.9 area units lie in grid b (x > 10), but its
    // centroid is at x = (4 * 0.5 + 0.9 * 5.5 + 6 * 13) / 10.9 = 7.8, inside grid a.
    geo::Geometry l_shape = geo::from_wkt("POLYGON((0 0, 16 0, 16 1, 10 1, 10 0.1, 1 0.1, 1 4, 0 4, 0 0))");
    REQUIRE(geo::planar_area(l_shape) == Approx(10.9));
    auto found = assigner.assign(l_shape);
    REQUIRE(found);
    CHECK(assigner.grid(*found).code == "320102002001002");
    // Exactly half and half: the smaller code wins, every time.
    geo::Geometry half = geo::from_wkt("POLYGON((9 4, 11 4, 11 6, 9 6, 9 4))");
    CHECK(assigner.grid(*assigner.assign(half)).code == "320102002001001");
    CHECK_FALSE(assigner.assign(geo::from_wkt("POLYGON((30 0, 31 0, 31 1, 30 1, 30 0))")));
    // Touching a grid only along an edge is not being in it.
    CHECK_FALSE(assigner.assign(geo::from_wkt("POLYGON((20 0, 21 0, 21 1, 20 1, 20 0))")));
}

#include "core/error.hpp"
#include "grid/assign.hpp"
#include "grid/snapshot.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace wangge;
using Status = grid::LocateResult::Status;
using Catch::Matchers::WithinRel;

namespace {
struct Fixture {
    test::TempDir dir;
    std::unique_ptr<store::Database> db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
    std::shared_ptr<const grid::Snapshot> snap;
    Fixture() {
        test::write_small_district(*db);
        grid::reassign_buildings(*db);
        snap = grid::Snapshot::load(*db);
    }
};
} // namespace

TEST_CASE("snapshot: locate inside a grid returns all three levels", "[snapshot]") {
    Fixture f;
    auto r = f.snap->locate({118.802, 32.008});
    CHECK(r.status == Status::grid);
    REQUIRE(r.grid);
    CHECK(r.grid->code == "320102002001001");
    REQUIRE(r.community);
    CHECK(r.community->code == "320102002001");
    REQUIRE(r.street);
    CHECK(r.street->code == "320102002");
    CHECK(f.snap->locate({118.805, 32.002}).grid->code == "320102002001002");
}

TEST_CASE("snapshot: a point in a community but in no grid falls to the community", "[snapshot]") {
    Fixture f;
    auto r = f.snap->locate({118.818, 32.005});
    CHECK(r.status == Status::no_grid);
    CHECK(r.grid == nullptr);
    REQUIRE(r.community);
    CHECK(r.community->code == "320102002002");
    CHECK(r.street->code == "320102002");
}

TEST_CASE("snapshot: a point on a shared boundary resolves the same way every time", "[snapshot]") {
    Fixture f;
    // 32.005 is the boundary between grids 001001 (north) and 001002 (south): the smaller code wins.
    for (int i = 0; i < 20; ++i) CHECK(f.snap->locate({118.805, 32.005}).grid->code == "320102002001001");
    // 118.81 is the boundary between the two communities.
    CHECK(f.snap->locate({118.81, 32.007}).community->code == "320102002001");
}

TEST_CASE("snapshot: a point outside everything reports the nearest grid and its distance", "[snapshot]") {
    Fixture f;
    auto r = f.snap->locate({118.805, 31.99}); // 0.01 deg (about 1,109 m) south of the street
    CHECK(r.status == Status::not_covered);
    CHECK(r.street == nullptr);
    REQUIRE(r.nearest_grid);
    CHECK(r.nearest_grid->code == "320102002001002");
    CHECK_THAT(r.nearest_distance_m, WithinRel(1109.0, 0.003));
}

TEST_CASE("snapshot: out-of-range coordinates are rejected", "[snapshot]") {
    Fixture f;
    CHECK_THROWS_AS(f.snap->locate({181, 32}), Error);
    CHECK_THROWS_AS(f.snap->locate({118, -91}), Error);
}

TEST_CASE("snapshot: households roll up from buildings to grids, communities and streets", "[snapshot]") {
    Fixture f;
    const auto* north = f.snap->find_grid("320102002001001");
    const auto* south = f.snap->find_grid("320102002001002");
    REQUIRE(north);
    REQUIRE(south);
    CHECK(north->stats.households == 300);
    CHECK(south->stats.households == 120); // the straddling building, by largest overlap
    CHECK(north->load == grid::Load::in_band);
    CHECK(south->load == grid::Load::below);
    CHECK(f.snap->find_grid("320102002002001")->load == grid::Load::unit);
    const auto* west = f.snap->find_community("320102002001");
    CHECK(west->stats.households == 420);
    CHECK(west->stats.children == 2);
    const auto* east = f.snap->find_community("320102002002");
    CHECK(east->stats.households == 40); // the "gap" building is in no grid
    CHECK(east->stats.estimated_buildings == 1);
    const auto* street = f.snap->find_street("320102002");
    CHECK(street->stats.households == 460);
    CHECK(street->stats.children == 2);
    CHECK(f.snap->total_households() == 540);
    CHECK_THAT(street->area_m2, WithinRel(1886.0 * 1109.0, 0.003));
}

TEST_CASE("snapshot: bbox queries and lookups by code", "[snapshot]") {
    Fixture f;
    auto hits = f.snap->query(Level::grid, BBox{118.809, 32.001, 118.811, 32.002});
    REQUIRE(hits.size() == 2);
    CHECK(f.snap->grids()[hits[0]].code == "320102002001002");
    CHECK(f.snap->grids()[hits[1]].code == "320102002002001");
    CHECK(f.snap->find(Level::grid, "320102002009001") == nullptr);
    CHECK(f.snap->query_buildings(BBox{118.8, 32.0, 118.82, 32.01}).size() == 4);
    CHECK(f.snap->buildings_of_grid("320102002001001").size() == 1);
}

TEST_CASE("snapshot: concurrent readers get identical answers", "[snapshot]") {
    Fixture f;
    std::atomic<int> mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 2000; ++i) {
                double lon = 118.8005 + 0.0095 * ((i * 7 + t) % 100) / 100.0;
                double lat = 32.0005 + 0.0095 * ((i * 13) % 100) / 100.0;
                auto r = f.snap->locate({lon, lat});
                std::string expected = lat >= 32.005 ? "320102002001001" : "320102002001002";
                if (!r.grid || r.grid->code != expected) ++mismatches;
            }
        });
    for (auto& th : threads) th.join();
    CHECK(mismatches.load() == 0);
}

TEST_CASE("snapshot holder: readers keep their version while a new one is swapped in", "[snapshot]") {
    Fixture f;
    grid::SnapshotHolder holder(f.snap);
    auto before = holder.get();
    {
        store::Transaction tx(*f.db);
        f.db->put_street({"320102003", "新街口街道", geo::make_rectangle({118.82, 32.00, 118.83, 32.01})}, false);
        tx.commit();
    }
    holder.set(grid::Snapshot::load(*f.db));
    auto after = holder.get();
    CHECK(after->version() == before->version() + 1);
    CHECK(before->streets().size() == 1); // the reader's snapshot is unchanged
    CHECK(after->streets().size() == 2);
    CHECK(after->locate({118.825, 32.005}).status == Status::no_community);
}

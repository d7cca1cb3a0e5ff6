// The map and the transactions on both backends of the store: a generated district written to a
// SpatiaLite file and to a PostgreSQL database reads back the same, row for row and coordinate for
// coordinate; the data version, rollback, meta and read transactions behave alike
// (tests/store/backends.hpp).
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
#include "geo/geometry.hpp"
#include "store/backends.hpp"
#include "support/small_district.hpp"

#include <algorithm>
#include <map>
#include <thread>

using namespace wangge;

namespace {

const demo::DemoDistrict& small_demo() {
    static const demo::DemoDistrict d = [] {
        demo::DemoOptions o;
        o.households = 8000;
        o.seed = 7;
        return demo::generate_demo(o);
    }();
    return d;
}

// The error a call throws, or "" when it throws nothing.
template <typename F> std::string error_code_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return "";
}

std::map<std::string, std::string> wkt_by_code(const std::vector<store::GridRow>& rows) {
    std::map<std::string, std::string> out;
    for (const auto& r : rows) out[r.code] = geo::to_wkt(r.geom, 7);
    return out;
}

} // namespace

TEST_CASE("backends: a generated district reads back the same from either store", "[store][backends]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("backend " << backend);
    test::TestStore store(backend);
    store::Database& db = store.db();
    const demo::DemoDistrict& d = small_demo();
    REQUIRE(db.data_version() == 0);
    const grid::AssignmentReport report = demo::store_district(db, d);
    CHECK(db.data_version() == 1);

    CHECK(db.count(Level::street) == d.streets.size());
    CHECK(db.count(Level::community) == d.communities.size());
    CHECK(db.count(Level::grid) == d.grids.size());
    CHECK(db.building_count() == d.buildings.size());
    CHECK(db.road_count() == d.roads.size());
    CHECK(db.load_units().empty());

    const auto streets = db.load_streets();
    REQUIRE(streets.size() == d.streets.size());
    for (std::size_t i = 0; i < streets.size(); ++i) {
        CHECK(streets[i].code == d.streets[i].code);
        CHECK(streets[i].name == d.streets[i].name);
        CHECK(geo::to_wkt(streets[i].geom, 7) == geo::to_wkt(d.streets[i].geom, 7));
    }
    const auto communities = db.load_communities();
    REQUIRE(communities.size() == d.communities.size());
    for (std::size_t i = 0; i < communities.size(); ++i) {
        CHECK(communities[i].code == d.communities[i].code);
        CHECK(communities[i].street_code == d.communities[i].street_code);
    }
    // Grids come back in code order, each at the version its write produced.
    const auto grids = db.load_grids();
    REQUIRE(grids.size() == d.grids.size());
    CHECK(std::is_sorted(grids.begin(), grids.end(), [](const auto& a, const auto& b) { return a.code < b.code; }));
    CHECK(wkt_by_code(grids) == wkt_by_code(d.grids));
    for (const auto& g : grids) CHECK(g.version == 1);

    // Every building is where the assignment put it, with its households and attributes.
    std::size_t seen = 0, assigned = 0;
    long households = 0;
    std::int64_t last_id = 0;
    db.for_each_building([&](store::BuildingRow&& b) {
        CHECK(b.id > last_id);
        last_id = b.id;
        ++seen;
        households += b.households;
        if (b.grid_code) ++assigned;
    });
    CHECK(seen == d.buildings.size());
    CHECK(assigned == report.assigned);
    long expected_households = 0;
    for (const auto& b : d.buildings) expected_households += b.households;
    CHECK(households == expected_households);
    const auto buildings = db.load_buildings();
    REQUIRE(buildings.size() == d.buildings.size());
    const auto one = db.find_building(buildings.front().id);
    REQUIRE(one);
    CHECK(one->source_id == buildings.front().source_id);
    CHECK(one->grid_code == buildings.front().grid_code);
    CHECK(geo::to_wkt(one->geom, 7) == geo::to_wkt(buildings.front().geom, 7));
    CHECK_FALSE(db.find_building(last_id + 1000));

    // The extent holds every street.
    const auto extent = db.extent();
    REQUIRE(extent);
    for (const auto& s : d.streets) {
        const BBox box = s.geom.bbox();
        CHECK(extent->min_lon <= box.min_lon + 1e-9);
        CHECK(extent->max_lat >= box.max_lat - 1e-9);
    }
}

TEST_CASE("backends: a rolled back write leaves nothing and keeps the data version", "[store][backends]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("backend " << backend);
    test::TestStore store(backend);
    store::Database& db = store.db();
    test::write_small_district(db);
    REQUIRE(db.data_version() == 1);
    {
        store::Transaction tx(db);
        db.delete_grid("320102002001001");
        db.put_street({"320102003", "另一街道", geo::make_rectangle({118.83, 32.00, 118.84, 32.01})}, false);
        CHECK_FALSE(db.has_code(Level::grid, "320102002001001"));
        CHECK(db.has_code(Level::street, "320102003"));
        // destroyed without commit
    }
    CHECK(db.data_version() == 1);
    CHECK(db.has_code(Level::grid, "320102002001001"));
    CHECK_FALSE(db.has_code(Level::street, "320102003"));
    CHECK(db.count(Level::grid) == 3);

    // A failing call inside a transaction does not poison the next one.
    {
        store::Transaction tx(db);
        CHECK(error_code_of([&] {
                  db.put_street({"320102002", "重复", geo::make_rectangle({118.80, 32.00, 118.82, 32.01})}, false);
              }) == "duplicate_code");
    }
    {
        store::Transaction tx(db);
        db.put_street({"320102002", "改名街道", geo::make_rectangle({118.80, 32.00, 118.82, 32.01})}, true);
        tx.commit();
    }
    CHECK(db.data_version() == 2);
    CHECK(db.load_streets().at(0).name == "改名街道");

    // A commit without a bump changes data and not the version.
    {
        store::Transaction tx(db, store::Bump::none);
        db.set_building_grid(db.load_buildings().at(0).id, std::nullopt);
        tx.commit();
    }
    CHECK(db.data_version() == 2);
    CHECK_FALSE(db.load_buildings().at(0).grid_code);
}

TEST_CASE("backends: bad codes are refused the same way", "[store][backends]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("backend " << backend);
    test::TestStore store(backend);
    store::Database& db = store.db();
    test::write_small_district(db);
    store::Transaction tx(db);
    // A grid whose code does not start with its community's, a malformed code, an unknown parent.
    CHECK(error_code_of([&] {
              db.put_grid({"320102002002009", "320102002001", "错码", store::GridKind::residential, 0,
                           geo::make_rectangle({118.80, 32.00, 118.801, 32.001})},
                          false);
          }) != "");
    CHECK(error_code_of([&] {
              db.put_community({"32010200200", "320102002", "短码", geo::make_rectangle({118.80, 32.00, 118.81, 32.01})},
                               false);
          }) != "");
    CHECK(error_code_of([&] {
              db.put_grid({"320102002001001", "320102002001", "重复", store::GridKind::residential, 0,
                           geo::make_rectangle({118.80, 32.005, 118.81, 32.01})},
                          false);
          }) == "duplicate_code");
    CHECK(db.count(Level::grid) == 3);
}

TEST_CASE("backends: meta_or_set keeps the first value and meta reads it back", "[store][backends]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("backend " << backend);
    test::TestStore store(backend);
    store::Database& db = store.db();
    CHECK_FALSE(db.meta("test.key"));
    CHECK(db.meta_or_set("test.key", "first") == "first");
    CHECK(db.meta_or_set("test.key", "second") == "first");
    // Another connection sees it too.
    auto other = store::Database::open(store.where(), store::OpenMode::read_write);
    CHECK(other->meta("test.key") == std::optional<std::string>("first"));
    CHECK(other->meta_or_set("test.key", "third") == "first");
    CHECK(db.schema_version() > 0);
    CHECK(db.name().find(backend == "sqlite" ? "store.sqlite" : "postgresql") != std::string::npos);
}

TEST_CASE("backends: a read transaction sees one state while another connection writes", "[store][backends]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("backend " << backend);
    test::TestStore store(backend);
    store::Database& db = store.db();
    test::write_small_district(db);
    auto writer = store::Database::open(store.where(), store::OpenMode::read_write);
    {
        store::ReadTransaction read(db);
        CHECK(db.count(Level::grid) == 3);
        {
            store::Transaction tx(*writer);
            writer->delete_grid("320102002002001");
            tx.commit();
        }
        CHECK(writer->count(Level::grid) == 2);
        // Still the state the read began on: the grid, and the version it came with.
        CHECK(db.count(Level::grid) == 3);
        CHECK(db.data_version() == 1);
        CHECK(db.has_code(Level::grid, "320102002002001"));
    }
    CHECK(db.count(Level::grid) == 2);
    CHECK(db.data_version() == 2);
}

TEST_CASE("backends: writers on two connections take turns and every commit counts", "[store][backends]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO("backend " << backend);
    test::TestStore store(backend);
    test::write_small_district(store.db());
    auto a = store::Database::open(store.where(), store::OpenMode::read_write);
    auto b = store::Database::open(store.where(), store::OpenMode::read_write);
    constexpr int rounds = 20;
    auto work = [&](store::Database& db, const std::string& prefix) {
        for (int i = 0; i < rounds; ++i) {
            store::Transaction tx(db);
            store::RoadRow r;
            r.source_id = prefix + std::to_string(i);
            r.kind = "residential";
            r.geom = geo::make_multi_line_string({{{118.80, 32.00}, {118.81, 32.01}}});
            db.insert_road(r);
            tx.commit();
        }
    };
    std::thread ta([&] { work(*a, "a"); });
    std::thread tb([&] { work(*b, "b"); });
    ta.join();
    tb.join();
    CHECK(store.db().road_count() == 2 * rounds);
    // Each commit moved the version on by one: none was lost to a race on the counter.
    CHECK(store.db().data_version() == 1 + 2 * rounds);
}

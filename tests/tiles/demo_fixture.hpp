#pragma once
// A small real district for the tile tests: the demo generator's 30,000 households written to a
// SpatiaLite file through the store, exactly as `wangge demo` writes it, and loaded as a
// snapshot. Made once per test process.
#include "demo/generator.hpp"
#include "grid/assign.hpp"
#include "grid/snapshot.hpp"
#include "store/database.hpp"
#include "support/temp_dir.hpp"

#include <memory>

namespace wangge::test {

struct DemoFixture {
    TempDir dir;
    std::filesystem::path db_path = dir / "demo.sqlite";
    std::shared_ptr<const grid::Snapshot> snapshot;

    DemoFixture() {
        demo::DemoDistrict d = demo::generate_demo(demo::DemoOptions{.households = 30000});
        auto db = store::Database::open(db_path, store::OpenMode::create);
        store::Transaction tx(*db);
        for (const auto& s : d.streets) db->put_street(s, false);
        for (const auto& c : d.communities) db->put_community(c, false);
        for (const auto& g : d.grids) db->put_grid(g, false);
        for (const auto& b : d.buildings) db->insert_building(b);
        for (const auto& r : d.roads) db->insert_road(r);
        grid::reassign_buildings(*db);
        tx.commit();
        snapshot = grid::Snapshot::load(*db);
    }
};

inline const DemoFixture& demo_district() {
    static const DemoFixture fixture;
    return fixture;
}

} // namespace wangge::test

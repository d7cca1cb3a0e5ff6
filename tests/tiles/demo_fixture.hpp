#pragma once
// A small real district for the tile tests: the demo generator's 30,000 households written to a
// SpatiaLite file through the store, exactly as `wangge demo` writes it, and loaded as a
// snapshot. Made once per test process.
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
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
        demo::store_district(*db, d);
        snapshot = grid::Snapshot::load(*db);
    }
};

inline const DemoFixture& demo_district() {
    static const DemoFixture fixture;
    return fixture;
}

} // namespace wangge::test

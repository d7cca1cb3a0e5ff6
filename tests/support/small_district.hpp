#pragma once
// A small hand-made hierarchy whose answers are known exactly, for store, grid and api tests.
//
//   street 320102002 = [118.80, 118.82] x [32.00, 32.01]
//   community 320102002001 = west half [118.80, 118.81]; grids:
//       320102002001001 north [32.005, 32.01], 320102002001002 south [32.00, 32.005]
//   community 320102002002 = east half [118.81, 118.82]; one grid on its west half only:
//       320102002002001 = [118.81, 118.815] x [32.00, 32.01]; the east half is a gap (no grid)
//   buildings: "north" (300 households) inside grid 001001; "straddle" (120) crossing the
//   001001/001002 boundary with 60% of it in 001002; "gap" (80) in community 002's gap;
//   "estimated" (40, estimated) in grid 002001.
#include "geo/geometry.hpp"
#include "store/database.hpp"

namespace wangge::test {

inline store::BuildingRow small_building(std::string source, BBox box, int households, bool estimated = false) {
    store::BuildingRow b;
    b.source_id = std::move(source);
    b.name = b.source_id;
    b.use = "residential";
    b.households = households;
    b.households_estimated = estimated;
    b.geom = geo::make_rectangle(box);
    return b;
}

inline void write_small_district(store::Database& db) {
    store::Transaction tx(db);
    db.put_street({"320102002", "梅园新村街道", geo::make_rectangle({118.80, 32.00, 118.82, 32.01})}, false);
    db.put_community({"320102002001", "320102002", "西社区", geo::make_rectangle({118.80, 32.00, 118.81, 32.01})}, false);
    db.put_community({"320102002002", "320102002", "东社区", geo::make_rectangle({118.81, 32.00, 118.82, 32.01})}, false);
    db.put_grid({"320102002001001", "320102002001", "西社区第1网格", store::GridKind::residential, 0,
                 geo::make_rectangle({118.80, 32.005, 118.81, 32.01})},
                false);
    db.put_grid({"320102002001002", "320102002001", "西社区第2网格", store::GridKind::residential, 0,
                 geo::make_rectangle({118.80, 32.00, 118.81, 32.005})},
                false);
    db.put_grid({"320102002002001", "320102002002", "东社区第1网格", store::GridKind::unit, 0,
                 geo::make_rectangle({118.81, 32.00, 118.815, 32.01})},
                false);
    db.insert_building(small_building("north", {118.802, 32.007, 118.803, 32.008}, 300));
    db.insert_building(small_building("straddle", {118.805, 32.0044, 118.806, 32.0054}, 120)); // 0.0006 south, 0.0004 north
    db.insert_building(small_building("gap", {118.817, 32.002, 118.818, 32.003}, 80));
    db.insert_building(small_building("estimated", {118.811, 32.002, 118.812, 32.003}, 40, true));
    tx.commit();
}

} // namespace wangge::test

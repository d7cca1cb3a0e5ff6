#include "demo/store_district.hpp"

namespace wangge::demo {

grid::AssignmentReport store_district(store::Database& db, const DemoDistrict& d,
                                      const std::function<void(std::size_t, std::size_t)>& progress) {
    store::Transaction tx(db);
    const std::size_t total =
        d.streets.size() + d.communities.size() + d.grids.size() + d.buildings.size() + d.roads.size();
    std::size_t done = 0;
    auto step = [&] {
        ++done;
        if (progress && (done % 1000 == 0 || done == total)) progress(done, total);
    };
    for (const auto& s : d.streets) db.put_street(s, false), step();
    for (const auto& c : d.communities) db.put_community(c, false), step();
    for (const auto& g : d.grids) db.put_grid(g, false), step();
    for (const auto& b : d.buildings) db.insert_building(b), step();
    for (const auto& r : d.roads) db.insert_road(r), step();
    grid::AssignmentReport report = grid::reassign_buildings(db);
    tx.commit();
    return report;
}

} // namespace wangge::demo

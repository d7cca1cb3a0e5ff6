// 3.5 million households, the size of a large city: about 1,400 communities and 10,000 grids.
// Checks counts and the cheap invariants; the geometric ones are covered at default size.
#include "demo/generator.hpp"

#include "core/codes.hpp"
#include "geo/geometry.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

using namespace wangge;

namespace {

// A tower of 18-33 floors with 2-6 flats per floor on 20-35 m x 15-20 m, or a walk-up of 5-7
// floors with 2-4 units of 2 flats on 50-70 m x 10-14 m.
bool plausible_home(const store::BuildingRow& b) {
    int floors = b.floors.value_or(0);
    if (floors == 0 || b.households % floors != 0) return false;
    int per_floor = b.households / floors;
    double area = geo::area_m2(b.geom);
    if (floors >= 18) return floors <= 33 && per_floor >= 2 && per_floor <= 6 && area >= 297 && area <= 707;
    return floors >= 5 && floors <= 7 && per_floor % 2 == 0 && per_floor >= 4 && per_floor <= 8 &&
           area >= 495 && area <= 990;
}

} // namespace

TEST_CASE("a district of 3.5 million households keeps every rule at scale") {
    auto start = std::chrono::steady_clock::now();
    demo::DemoDistrict d = demo::generate_demo(demo::DemoOptions{.households = 3500000});
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("generated %zu streets, %zu communities, %zu grids, %zu buildings, %zu roads in %.1f s\n",
                d.streets.size(), d.communities.size(), d.grids.size(), d.buildings.size(), d.roads.size(),
                seconds);

    CHECK(d.communities.size() == 1400);
    CHECK(d.streets.size() >= 100);
    CHECK(d.streets.size() <= 175);
    CHECK(d.grids.size() >= 9000);
    CHECK(d.grids.size() <= 12000);
    CHECK(d.buildings.size() >= 50000);
    CHECK(d.buildings.size() <= 150000);

    std::unordered_map<std::string, long> by_grid;
    long total = 0;
    std::size_t odd_buildings = 0;
    for (const auto& b : d.buildings) {
        by_grid[b.grid_code.value()] += b.households;
        total += b.households;
        if (b.use == "residential" && !plausible_home(b)) ++odd_buildings;
    }
    CHECK(odd_buildings == 0);
    CHECK(std::abs(total - 3500000) <= 70000);

    std::set<std::string> codes;
    std::map<std::string, long> by_community;
    std::map<std::string, int> communities_per_street;
    std::size_t out_of_band = 0, not_one_polygon = 0, units = 0;
    for (const auto& g : d.grids) {
        CHECK(codes.insert(g.code).second);
        long households = by_grid[g.code];
        by_community[g.community_code] += households;
        if (g.kind == store::GridKind::unit)
            ++units;
        else if (households < 250 || households > 500)
            ++out_of_band;
        if (geo::polygon_count(g.geom) != 1) ++not_one_polygon;
    }
    CHECK(out_of_band == 0);
    CHECK(not_one_polygon == 0);
    CHECK(units > 100);
    for (const auto& c : d.communities) {
        require_code(Level::community, c.code);
        ++communities_per_street[c.street_code];
        INFO(c.code);
        CHECK(by_community[c.code] >= 2000);
        CHECK(by_community[c.code] <= 3000);
    }
    for (const auto& [street, count] : communities_per_street) {
        INFO(street);
        CHECK(count >= 8);
        CHECK(count <= 15);
    }
    // Areas add up level by level (planar: cheap, and exact enough for a tiling check).
    double streets = 0, communities = 0, grids = 0;
    for (const auto& s : d.streets) streets += geo::planar_area(s.geom);
    for (const auto& c : d.communities) communities += geo::planar_area(c.geom);
    for (const auto& g : d.grids) grids += geo::planar_area(g.geom);
    CHECK(communities == Approx(streets).epsilon(1e-9));
    CHECK(grids == Approx(communities).epsilon(1e-9));
}

// From a write to the tiles it touches: changed_bounds() between two snapshots, fed to the
// cache, drops every tile whose bytes changed and keeps the others.
#include "tiles/changes.hpp"
#include "tiles/compress.hpp"
#include "tiles/demo_fixture.hpp"
#include "tiles/tile_cache.hpp"
#include "tiles/vector_tiles.hpp"

#include <catch2/catch.hpp>

#include <functional>

using namespace wangge;

namespace {

// The demo's rows, changed by `edit`, as the next snapshot.
std::shared_ptr<const grid::Snapshot> edited(const std::function<void(grid::Snapshot::Input&)>& edit) {
    auto db = store::Database::open(test::demo_district().db_path, store::OpenMode::read_only);
    grid::Snapshot::Input in;
    in.version = db->data_version() + 1;
    in.streets = db->load_streets();
    in.communities = db->load_communities();
    in.grids = db->load_grids();
    in.buildings = db->load_buildings();
    in.roads = db->load_roads();
    edit(in);
    return grid::Snapshot::build(std::move(in));
}

bool contains_box(const std::vector<BBox>& boxes, const BBox& b) {
    for (const auto& x : boxes)
        if (x.min_lon == b.min_lon && x.min_lat == b.min_lat && x.max_lon == b.max_lon && x.max_lat == b.max_lat)
            return true;
    return false;
}

struct Outcome {
    std::size_t tiles = 0, rendered = 0, changed = 0, stale = 0;
};

// Fills a cache with every hierarchy tile of z11-16 at `before`, invalidates with the changes,
// and asks again at `after`.
Outcome replay(const grid::Snapshot& before, const grid::Snapshot& after) {
    tiles::TileCache cache(tiles::TileCache::Options{});
    const auto changed = tiles::changed_bounds(before, after);
    std::vector<tiles::TileId> all;
    for (int z = 11; z <= 16; ++z) {
        auto r = tiles::tile_range(tiles::data_bounds(before), z);
        for (std::uint32_t x = r.min_x; x <= r.max_x; ++x)
            for (std::uint32_t y = r.min_y; y <= r.max_y; ++y) all.push_back({z, x, y});
    }
    auto make = [](const grid::Snapshot& s, const tiles::TileId& t) {
        return [&s, t] { return tiles::make_vector_tile(s, tiles::VectorLayer::hierarchy, t); };
    };
    for (const auto& t : all) cache.get({"mvt/hierarchy", t}, before.version(), make(before, t));
    cache.invalidate(after.version(), changed);
    Outcome o;
    for (const auto& t : all) {
        const std::size_t misses = cache.stats().misses;
        auto got = cache.get({"mvt/hierarchy", t}, after.version(), make(after, t));
        const bool rendered = cache.stats().misses != misses;
        const std::string fresh = tiles::make_vector_tile(after, tiles::VectorLayer::hierarchy, t);
        const bool differs = fresh != tiles::make_vector_tile(before, tiles::VectorLayer::hierarchy, t);
        ++o.tiles;
        o.rendered += rendered;
        o.changed += differs;
        o.stale += *got.bytes != fresh;
    }
    return o;
}

} // namespace

TEST_CASE("changes: a household count touches the building, its grid, community and street", "[changes]") {
    const grid::Snapshot& before = *test::demo_district().snapshot;
    const grid::Building& b = before.buildings()[before.buildings().size() / 2];
    auto after = edited([&](grid::Snapshot::Input& in) {
        for (auto& row : in.buildings)
            if (row.id == b.row.id) row.households += 37;
    });
    const auto changed = tiles::changed_bounds(before, *after);
    const grid::GridArea* g = before.find_grid(*b.row.grid_code);
    REQUIRE(g);
    const grid::Area* c = before.find_community(g->parent_code);
    const grid::Area* s = before.find_street(c->parent_code);
    CHECK(changed.size() == 8); // old and new box of each of the four
    CHECK(contains_box(changed, b.bbox));
    CHECK(contains_box(changed, g->bbox));
    CHECK(contains_box(changed, c->bbox));
    CHECK(contains_box(changed, s->bbox));

    Outcome o = replay(before, *after);
    CHECK(o.stale == 0);              // no tile from before the change is served after it
    CHECK(o.changed > 0);
    CHECK(o.rendered >= o.changed);   // every changed tile was made again...
    CHECK(o.rendered < o.tiles);      // ...but not every tile
}

TEST_CASE("changes: moving one building touches only the tiles around it", "[changes]") {
    const grid::Snapshot& before = *test::demo_district().snapshot;
    const grid::Building& b = before.buildings()[7];
    auto after = edited([&](grid::Snapshot::Input& in) {
        for (auto& row : in.buildings)
            if (row.id == b.row.id) {
                BBox box = row.geom.bbox();
                box.max_lon += 0.00005; // about 5 m wider, still inside its grid
                row.geom = geo::make_rectangle(box);
            }
    });
    const auto changed = tiles::changed_bounds(before, *after);
    CHECK(changed.size() == 2);
    Outcome o = replay(before, *after);
    CHECK(o.stale == 0);
    CHECK(o.changed >= 1);
    CHECK(o.rendered <= 4 * 6); // at most the four tiles around a corner, at each of six zooms
    CHECK(o.tiles > 2 * o.rendered);
    CHECK(tiles::changed_bounds(before, before).empty());
}

#include "grid/validate.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace wangge;
using Catch::Matchers::WithinRel;

namespace {
const grid::Finding* find(const grid::ValidationReport& r, grid::FindingKind kind, Level level = Level::grid) {
    for (const auto& f : r.findings)
        if (f.kind == kind && f.level == level) return &f;
    return nullptr;
}
} // namespace

TEST_CASE("validate: the small district has exactly one gap, in the east community", "[validate]") {
    test::TempDir dir;
    auto db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    auto r = grid::validate(*grid::Snapshot::load(*db));
    CHECK(r.grids == 3);
    REQUIRE(r.findings.size() == 1);
    const auto& gap = r.findings[0];
    CHECK(gap.kind == grid::FindingKind::gap);
    CHECK(gap.parent == "320102002002");
    // The gap is [118.815, 118.82] x [32.00, 32.01]: about 472 m x 1,109 m.
    CHECK_THAT(gap.area_m2, WithinRel(471.6 * 1109.0, 0.005));
    REQUIRE(gap.location);
    CHECK(gap.location->lon > 118.815);
    CHECK(gap.message.find("320102002002") != std::string::npos);
}

TEST_CASE("validate: overlaps, outside parts, missing parents and empty communities", "[validate]") {
    test::TempDir dir;
    auto db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    {
        store::Transaction tx(*db);
        // Fill the east gap but overlap the existing east grid by 0.001 deg and stick out of the
        // community to the east by 0.001 deg.
        db->put_grid({"320102002002002", "320102002002", "东2", store::GridKind::residential, 0,
                      geo::make_rectangle({118.814, 32.00, 118.821, 32.01})},
                     false);
        db->put_community({"320102002003", "320102002", "空社区", geo::make_rectangle({118.82, 32.00, 118.821, 32.01})},
                          false);
        db->put_grid({"320102009001001", "320102009001", "孤儿", store::GridKind::residential, 0,
                      geo::make_rectangle({119.0, 32.0, 119.01, 32.01})},
                     false);
        tx.commit();
    }
    auto r = grid::validate(*grid::Snapshot::load(*db));
    const auto* overlap = find(r, grid::FindingKind::overlap);
    REQUIRE(overlap);
    CHECK(overlap->codes == std::vector<std::string>{"320102002002001", "320102002002002"});
    CHECK_THAT(overlap->area_m2, WithinRel(94.3 * 1109.0, 0.01));
    const auto* outside = find(r, grid::FindingKind::outside_parent);
    REQUIRE(outside);
    CHECK(outside->codes == std::vector<std::string>{"320102002002002"});
    CHECK_THAT(outside->area_m2, WithinRel(94.3 * 1109.0, 0.01));
    // The new community lies outside the street (street ends at 118.82) and has no grids.
    CHECK(r.count(grid::FindingKind::no_children) == 1);
    CHECK(find(r, grid::FindingKind::no_children)->codes[0] == "320102002003");
    CHECK(r.count(grid::FindingKind::missing_parent) == 1);
    CHECK(find(r, grid::FindingKind::missing_parent)->codes[0] == "320102009001001");
    CHECK(r.count(grid::FindingKind::gap) == 0); // the east gap is now covered
    // The new community lies east of the street's edge at 118.82.
    REQUIRE(find(r, grid::FindingKind::outside_parent, Level::community));
    CHECK(find(r, grid::FindingKind::outside_parent, Level::community)->codes[0] == "320102002003");
    CHECK(r.count(grid::FindingKind::outside_parent) == 2);
}

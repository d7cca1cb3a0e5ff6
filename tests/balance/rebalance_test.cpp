// Rebalancing a community end to end: proposals on the demo district five years on (band,
// tiling, contiguity, stability, codes), apply and undo through the store with grid history and
// stale-proposal checks, and the edge cases of docs/BALANCE.md on small hand-made communities.
#include "balance/apply.hpp"
#include "balance/rebalance.hpp"
#include "core/error.hpp"
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
#include "grid/assign.hpp"
#include "grid/snapshot.hpp"
#include "grid/validate.hpp"
#include "store/sqlite_database.hpp"
#include "support/temp_dir.hpp"
#include "synthetic.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

using namespace wangge;
using balance::Proposal;
using balance::ProposedGrid;
using balance::RebalanceOptions;
using balance::Violation;
using test::rect_m;
using test::SyntheticDistrict;

// Checks that `expr` throws wangge::Error of `kind_` with the machine code `code_`.
#define CHECK_WANGGE_ERROR(expr, kind_, code_)                                                                 \
    do {                                                                                                       \
        try {                                                                                                  \
            (void)(expr);                                                                                      \
            FAIL_CHECK("no Error thrown by " #expr);                                                           \
        } catch (const Error& e) {                                                                             \
            INFO(e.what());                                                                                    \
            CHECK(std::string(to_string(e.kind())) == std::string(to_string(kind_)));                          \
            CHECK(e.code() == (code_));                                                                        \
        }                                                                                                      \
    } while (false)

namespace {

using Bytes = std::vector<unsigned char>;
using BuildingCodes = std::map<std::int64_t, std::optional<std::string>>;

bool same_wkb(const geo::Geometry& a, const geo::Geometry& b) { return geo::to_wkb(a) == geo::to_wkb(b); }

bool in_band(int households, const grid::Band& band) { return households >= band.min && households <= band.max; }

const ProposedGrid* find(const Proposal& p, const std::string& code) {
    for (const ProposedGrid& g : p.grids)
        if (g.code == code) return &g;
    return nullptr;
}

std::vector<const grid::GridArea*> grids_of(const grid::Snapshot& snap, const std::string& community) {
    std::vector<const grid::GridArea*> out;
    for (const grid::GridArea& g : snap.grids())
        if (g.parent_code == community) out.push_back(&g);
    return out;
}

// The proposal's grids tile the community: each is one valid polygon inside it, they overlap
// nowhere by more than 1 m², and their union is the community (within 1 m² + 1e-6 of its area).
void check_tiles(const grid::Area& community, const Proposal& p) {
    INFO("community " << community.code);
    const double tolerance = 1.0 + 1e-6 * community.area_m2;
    std::vector<const geo::Geometry*> parts;
    for (const ProposedGrid& g : p.grids) {
        INFO("grid " << g.code);
        CHECK(geo::invalid_reason(g.geom).empty());
        CHECK(geo::polygon_count(g.geom) == 1);
        CHECK(g.area_m2 > 0);
        parts.push_back(&g.geom);
    }
    const geo::Geometry covered = geo::union_all(parts);
    CHECK(std::abs(geo::area_m2(covered) - community.area_m2) <= tolerance);
    CHECK(geo::area_m2(geo::difference(community.geom, covered)) <= tolerance);
    CHECK(geo::area_m2(geo::difference(covered, community.geom)) <= tolerance);
    for (std::size_t i = 0; i < p.grids.size(); ++i)
        for (std::size_t j = i + 1; j < p.grids.size(); ++j) {
            INFO("grids " << p.grids[i].code << " and " << p.grids[j].code);
            CHECK(geo::area_m2(geo::intersection(p.grids[i].geom, p.grids[j].geom)) <= 1.0);
        }
}

// The proposal as it would be applied passes `wangge validate`: the district with the community's
// grids replaced by the proposal's has no gap, overlap or part outside its parent of 1 m² or more.
void check_validates_applied(const grid::Snapshot& snap, const std::string& community, const Proposal& p) {
    grid::Snapshot::Input in;
    in.version = snap.version() + 1;
    for (const grid::Area& s : snap.streets()) in.streets.push_back({s.code, s.name, s.geom.clone()});
    for (const grid::Area& c : snap.communities()) in.communities.push_back({c.code, c.parent_code, c.name, c.geom.clone()});
    for (const grid::GridArea& g : snap.grids())
        if (g.parent_code != community) in.grids.push_back({g.code, g.parent_code, g.name, g.kind, g.version, g.geom.clone()});
    for (const ProposedGrid& g : p.grids) in.grids.push_back({g.code, community, g.name, g.kind, 1, g.geom.clone()});
    const auto after = grid::Snapshot::build(std::move(in));
    const grid::ValidationReport report = grid::validate(*after);
    std::string messages;
    for (const grid::Finding& f : report.findings)
        if (f.parent == community || (f.codes.size() && f.codes.front().compare(0, 12, community) == 0))
            messages += f.message + "\n";
    INFO("validate after applying " << community << ":\n" << messages);
    CHECK(messages.empty());
}

// Tiles, and validates once applied.
void check_tiles(const grid::Snapshot& snap, const grid::Area& community, const Proposal& p) {
    check_tiles(community, p);
    check_validates_applied(snap, community.code, p);
}

// Every residential grid is in the band or flagged with an explanation; households add up to
// `households`; moved households add up, per grid, per building and in total.
void check_band_and_moves(const grid::Snapshot& snap, const Proposal& p, long households) {
    std::map<std::int64_t, int> households_of;
    for (const grid::Building& b : snap.buildings()) households_of[b.row.id] = b.row.households;
    long sum = 0, moved = 0;
    int in = 0, out = 0;
    for (const ProposedGrid& g : p.grids) {
        INFO("grid " << g.code << " households " << g.households << " " << g.explanation);
        sum += g.households;
        moved += g.households_moved;
        if (!g.changed) CHECK(g.households_moved == 0);
        if (g.kind != store::GridKind::residential) continue;
        if (in_band(g.households, p.band)) {
            ++in;
            CHECK(g.violation == Violation::none);
            CHECK(g.explanation.empty());
        } else {
            ++out;
            CHECK(g.violation != Violation::none);
            CHECK_FALSE(g.explanation.empty());
        }
    }
    CHECK(sum == households);
    CHECK(moved == p.households_moved);
    CHECK(p.after.in_band == in);
    CHECK(p.after.below + p.after.above == out);
    long moved_by_building = 0;
    for (const auto& m : p.building_moves) {
        CHECK(m.before != m.after);
        REQUIRE(m.after);
        CHECK(find(p, *m.after) != nullptr);
        if (m.before) moved_by_building += households_of.at(m.building_id);
    }
    CHECK(moved_by_building == p.households_moved);
}

// --- the demo district five years on ---

const demo::DemoDistrict& later_district(std::uint64_t seed, long households) {
    static std::map<std::pair<std::uint64_t, long>, demo::DemoDistrict> cache;
    const auto key = std::pair{seed, households};
    auto it = cache.find(key);
    if (it == cache.end())
        it = cache.emplace(key, demo::generate_demo(demo::DemoOptions{.seed = seed, .households = households, .years_later = 5}))
                 .first;
    return it->second;
}

const demo::DemoOptions default_options{};

// A district written to a fresh SpatiaLite file, as `wangge demo` writes it.
struct StoredDistrict {
    test::TempDir dir;
    std::unique_ptr<store::SqliteDatabase> db;

    explicit StoredDistrict(const demo::DemoDistrict& d)
        : db(store::SqliteDatabase::open(dir / "later.sqlite", store::OpenMode::create)) {
        demo::store_district(*db, d);
    }
};

// The default district five years on, stored once and only read.
const grid::Snapshot& shared_later() {
    static const StoredDistrict stored(later_district(default_options.seed, default_options.households));
    static const std::shared_ptr<const grid::Snapshot> snap = grid::Snapshot::load(*stored.db);
    return *snap;
}

std::vector<std::string> communities_out_of_band(const grid::Snapshot& snap) {
    std::set<std::string> out;
    for (const grid::GridArea& g : snap.grids())
        if (g.load == grid::Load::below || g.load == grid::Load::above) out.insert(g.parent_code);
    return {out.begin(), out.end()};
}

std::map<std::string, store::GridRow> grids_in_store(store::Database& db, const std::string& community) {
    std::map<std::string, store::GridRow> out;
    for (store::GridRow& g : db.load_grids())
        if (g.community_code == community) out.emplace(g.code, std::move(g));
    return out;
}

BuildingCodes building_codes(store::Database& db) {
    BuildingCodes out;
    for (const store::BuildingRow& b : db.load_buildings()) out[b.id] = b.grid_code;
    return out;
}

// Codes, names, kinds and geometry bytes of the community's grids in the store.
std::map<std::string, std::tuple<std::string, store::GridKind, Bytes>> grid_state(store::Database& db,
                                                                                  const std::string& community) {
    std::map<std::string, std::tuple<std::string, store::GridKind, Bytes>> out;
    for (const auto& [code, g] : grids_in_store(db, community)) out[code] = {g.name, g.kind, geo::to_wkb(g.geom)};
    return out;
}

std::set<std::string> codes(const std::vector<store::GridRow>& rows) {
    std::set<std::string> out;
    for (const auto& g : rows) out.insert(g.code);
    return out;
}

void check_validates(store::Database& db) {
    const auto snap = grid::Snapshot::load(db);
    const grid::ValidationReport report = grid::validate(*snap);
    std::string messages;
    for (const grid::Finding& f : report.findings) messages += f.message + "\n";
    INFO(messages);
    CHECK(report.findings.empty());
}

} // namespace

// ---------------------------------------------------------------------------------------------
// A. The demo district five years on
// ---------------------------------------------------------------------------------------------

TEST_CASE("rebalance: every community that left the band gets grids in the band that tile it", "[balance][demo]") {
    // The default district, and two smaller ones whose changes are harder (in seed 99's
    // community 320199001005 big towers leave a grid of 243 households, flagged).
    const auto [seed, households, bound_moves] =
        GENERATE(std::tuple{default_options.seed, default_options.households, true}, std::tuple{std::uint64_t{7}, 30000L, false},
                 std::tuple{std::uint64_t{99}, 30000L, true});
    INFO("seed " << seed << ", " << households << " households");
    const StoredDistrict stored(later_district(seed, households));
    const auto snap = grid::Snapshot::load(*stored.db);
    const std::vector<std::string> out = communities_out_of_band(*snap);
    REQUIRE(out.size() >= 2);
    for (const std::string& code : out) {
        const grid::Area& community = *snap->find_community(code);
        const Proposal p = balance::propose_rebalance(*snap, code, RebalanceOptions{});
        INFO(balance::to_table(p));
        CHECK(p.community_code == code);
        CHECK(p.base_version == snap->version());
        CHECK(p.changes_anything());
        CHECK(p.before.below + p.before.above > 0);
        CHECK(balance::improves(p.before, p.after)); // only a division that gains is offered
        CHECK(p.after.households == p.before.households);
        check_tiles(*snap, community, p);
        check_band_and_moves(*snap, p, community.stats.households);
        // Seed 7's 武岗社区 has four of six grids above the band: four new grids of at least
        // 250 households must be filled, more than a third of its 3,368 households.
        if (bound_moves) CHECK(p.households_moved * 3 < community.stats.households);
    }
}

TEST_CASE("rebalance: a community whose grids are all in the band moves no households", "[balance][demo]") {
    const grid::Snapshot& snap = shared_later();
    const std::vector<std::string> out = communities_out_of_band(snap);
    int checked = 0;
    for (const grid::Area& community : snap.communities()) {
        if (std::count(out.begin(), out.end(), community.code)) continue;
        const Proposal p = balance::propose_rebalance(snap, community.code, RebalanceOptions{});
        INFO(balance::to_table(p));
        CHECK(p.households_moved == 0);
        CHECK(p.removed.empty());
        const auto today = grids_of(snap, community.code);
        REQUIRE(p.grids.size() == today.size());
        for (const grid::GridArea* g : today) {
            const ProposedGrid* after = find(p, g->code);
            REQUIRE(after);
            CHECK(after->kept);
            CHECK(after->households == g->stats.households);
            CHECK(after->violation == Violation::none);
        }
        CHECK(p.after.in_band == p.before.in_band);
        CHECK(p.after.below + p.after.above == 0);
        ++checked;
    }
    CHECK(checked >= 20);
}

// BUG (reported, src/balance/partition.cpp improve()): the stability term counts households
// only, so buildings without households (markets, offices) drift to a neighbouring grid for
// compactness even when every grid is in the band. In the default district five years on,
// communities 320199001008, 320199002003 and 320199002010 each get two grids redrawn and a
// market moved. Expected: no change at all.
TEST_CASE("rebalance: a community whose grids are all in the band is left as it is", "[balance][demo]") {
    const grid::Snapshot& snap = shared_later();
    const std::vector<std::string> out = communities_out_of_band(snap);
    for (const grid::Area& community : snap.communities()) {
        if (std::count(out.begin(), out.end(), community.code)) continue;
        const Proposal p = balance::propose_rebalance(snap, community.code, RebalanceOptions{});
        INFO(balance::to_table(p));
        CHECK_FALSE(p.changes_anything());
        CHECK(p.building_moves.empty());
        for (const grid::GridArea* g : grids_of(snap, community.code)) {
            INFO("grid " << g->code);
            const ProposedGrid* after = find(p, g->code);
            REQUIRE(after);
            CHECK_FALSE(after->changed);
            CHECK(same_wkb(after->geom, g->geom));
        }
    }
}

TEST_CASE("rebalance: kept codes are today's, new codes are fresh, unit grids stay", "[balance][demo]") {
    const grid::Snapshot& snap = shared_later();
    int new_grids = 0, unit_grids = 0;
    for (const std::string& code : communities_out_of_band(snap)) {
        INFO("community " << code);
        const Proposal p = balance::propose_rebalance(snap, code, RebalanceOptions{});
        std::map<std::string, const grid::GridArea*> today;
        for (const grid::GridArea* g : grids_of(snap, code)) today[g->code] = g;

        std::set<std::string> proposed;
        for (const ProposedGrid& g : p.grids) {
            INFO("grid " << g.code);
            CHECK(proposed.insert(g.code).second);
            CHECK_FALSE(g.name.empty());
            if (g.kept) {
                REQUIRE(today.count(g.code));
                CHECK(g.kind == today.at(g.code)->kind);
                if (!g.changed) CHECK(same_wkb(g.geom, today.at(g.code)->geom));
            } else {
                ++new_grids;
                CHECK(g.changed);
                CHECK(g.code.size() == 15);
                CHECK(std::all_of(g.code.begin(), g.code.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }));
                CHECK(g.code.compare(0, 12, code) == 0);
                CHECK_FALSE(today.count(g.code));
                CHECK(g.kind == store::GridKind::residential);
            }
        }
        // Every code of today survives or is listed as removed, never both.
        for (const auto& [c, g] : today) CHECK((proposed.count(c) + std::count(p.removed.begin(), p.removed.end(), c)) == 1);
        for (const grid::GridArea* g : grids_of(snap, code)) {
            if (g->kind != store::GridKind::unit) continue;
            ++unit_grids;
            INFO("unit grid " << g->code);
            const ProposedGrid* after = find(p, g->code);
            REQUIRE(after);
            CHECK(after->kind == store::GridKind::unit);
            CHECK_FALSE(after->changed);
            CHECK(same_wkb(after->geom, g->geom));
            for (const auto& m : p.building_moves) {
                CHECK(m.before != std::optional<std::string>(g->code));
                CHECK(m.after != std::optional<std::string>(g->code));
            }
        }
    }
    CHECK(new_grids >= 1);
    CHECK(unit_grids >= 1);
}

TEST_CASE("rebalance: every community divided from scratch gets grids in the band that tile it", "[balance][demo]") {
    const grid::Snapshot& snap = shared_later();
    const bool include_unit_grids = GENERATE(false, true);
    INFO("include_unit_grids " << include_unit_grids);
    RebalanceOptions o;
    o.from_scratch = true;
    o.include_unit_grids = include_unit_grids;
    int flagged = 0;
    for (const grid::Area& community : snap.communities()) {
        const Proposal p = balance::propose_rebalance(snap, community.code, o);
        INFO(balance::to_table(p));
        check_tiles(snap, community, p);
        check_band_and_moves(snap, p, community.stats.households);
        flagged += p.after.below + p.after.above;
    }
    CHECK(flagged == 0);
}

// Regression (src/balance/rebalance.cpp, codes and kinds), once wrong: with unit grids divided with the
// rest, a zone whose homes all come from residential grids can take a unit grid's code by
// shared atoms and keep kind unit: in 320199002004 from scratch, unit grid 320199002004002 (a
// school, 0 households) becomes a "unit" grid of 252 households in 8 buildings, which the band
// and the summary then skip. Expected: a grid that takes in homes from residential grids is
// residential.
TEST_CASE("rebalance: with unit grids included, a grid that takes in homes is residential",
          "[balance][demo]") {
    const grid::Snapshot& snap = shared_later();
    RebalanceOptions o;
    o.include_unit_grids = true;
    o.from_scratch = GENERATE(false, true);
    INFO("from_scratch " << o.from_scratch);
    for (const grid::Area& community : snap.communities()) {
        const Proposal p = balance::propose_rebalance(snap, community.code, o);
        for (const ProposedGrid& g : p.grids) {
            INFO("grid " << g.code << ": " << g.households << " households, " << g.households_moved << " moved in");
            CHECK((g.kind == store::GridKind::residential || g.households_moved == 0));
        }
    }
}

TEST_CASE("rebalance: the same options give the same proposal", "[balance][demo]") {
    const grid::Snapshot& snap = shared_later();
    const std::string code = communities_out_of_band(snap).front();
    const Proposal a = balance::propose_rebalance(snap, code, RebalanceOptions{});
    const Proposal b = balance::propose_rebalance(snap, code, RebalanceOptions{});
    CHECK(balance::to_json(a, true) == balance::to_json(b, true));
}

TEST_CASE("apply: writes the proposal, its building codes and one change of history", "[balance][demo][store]") {
    const StoredDistrict stored(later_district(default_options.seed, default_options.households));
    store::Database& db = *stored.db;
    check_validates(db);
    const auto snap = grid::Snapshot::load(db);
    const std::string code = communities_out_of_band(*snap).front();
    const auto today = grids_in_store(db, code);
    const BuildingCodes codes_before = building_codes(db);
    const std::int64_t version = db.data_version();
    const Proposal p = balance::propose_rebalance(*snap, code, RebalanceOptions{});
    REQUIRE(p.changes_anything());

    const balance::AppliedChange done = balance::apply(db, p);
    // One transaction: one step of the data version.
    CHECK(done.version == version + 1);
    CHECK(db.data_version() == version + 1);
    check_validates(db);

    SECTION("the store holds the proposed grids") {
        const auto now = grids_in_store(db, code);
        REQUIRE(now.size() == p.grids.size());
        const auto after = grid::Snapshot::load(db);
        for (const ProposedGrid& g : p.grids) {
            INFO("grid " << g.code);
            REQUIRE(now.count(g.code));
            const store::GridRow& row = now.at(g.code);
            CHECK(row.name == g.name);
            CHECK(row.kind == g.kind);
            CHECK(same_wkb(row.geom, g.geom));
            CHECK(row.version == (g.changed ? done.version : today.at(g.code).version));
            const grid::GridArea* loaded = after->find_grid(g.code);
            REQUIRE(loaded);
            CHECK(loaded->stats.households == g.households);
            CHECK(loaded->stats.buildings == static_cast<std::size_t>(g.buildings));
            if (g.kind == store::GridKind::residential && g.violation == Violation::none)
                CHECK(loaded->load == grid::Load::in_band);
        }
        for (const std::string& removed : p.removed) CHECK_FALSE(now.count(removed));
    }

    SECTION("every building's grid code is the proposal's, and the grid holding most of it") {
        BuildingCodes expected = codes_before;
        for (const auto& m : p.building_moves) {
            CHECK(expected.at(m.building_id) == m.before);
            expected[m.building_id] = m.after;
        }
        const BuildingCodes now = building_codes(db);
        CHECK(now == expected);

        std::vector<store::GridRow> rows;
        for (auto& [c, g] : grids_in_store(db, code)) rows.push_back(std::move(g));
        const grid::GridAssigner assigner(rows);
        int checked = 0;
        for (const store::BuildingRow& b : db.load_buildings()) {
            if (!b.grid_code || b.grid_code->compare(0, 12, code) != 0) continue;
            INFO("building " << b.id);
            const auto r = assigner.assign(b.geom);
            REQUIRE(r);
            CHECK(rows[*r].code == *b.grid_code);
            ++checked;
        }
        CHECK(checked > 10);
    }

    SECTION("the history holds the change with the grids before and after") {
        const auto changes = db.list_grid_changes(code);
        REQUIRE(changes.size() == 1);
        CHECK(changes[0].id == done.change_id);
        CHECK(changes[0].action == "rebalance");
        CHECK(changes[0].base_version == version);
        CHECK(changes[0].applied_version == done.version);
        CHECK_FALSE(changes[0].undoes);
        CHECK_FALSE(changes[0].undone_by);
        CHECK(changes[0].before.empty()); // listed without grids
        const auto change = db.load_grid_change(done.change_id);
        REQUIRE(change);
        std::set<std::string> changed, replaced(p.removed.begin(), p.removed.end());
        for (const ProposedGrid& g : p.grids)
            if (g.changed) {
                changed.insert(g.code);
                if (g.kept) replaced.insert(g.code);
            }
        CHECK(codes(change->after) == changed);
        CHECK(codes(change->before) == replaced);
        for (const store::GridRow& g : change->before) {
            INFO("before " << g.code);
            CHECK(same_wkb(g.geom, today.at(g.code).geom));
            CHECK(g.name == today.at(g.code).name);
        }
        for (const store::GridRow& g : change->after) {
            INFO("after " << g.code);
            CHECK(same_wkb(g.geom, find(p, g.code)->geom));
        }
        CHECK(change->buildings.size() == p.building_moves.size());
        CHECK(done.grids_written == change->after.size());
        CHECK(done.grids_removed == change->before.size());
        CHECK(done.buildings_moved == p.building_moves.size());
        for (const std::string& other : communities_out_of_band(*snap))
            if (other != code) CHECK(db.list_grid_changes(other).empty());
    }

    SECTION("applying the same proposal again is refused and writes nothing") {
        const auto state = grid_state(db, code);
        const BuildingCodes buildings = building_codes(db);
        CHECK_WANGGE_ERROR(balance::apply(db, p), ErrorKind::conflict, "stale_proposal");
        CHECK(db.data_version() == version + 1);
        CHECK(grid_state(db, code) == state);
        CHECK(building_codes(db) == buildings);
        CHECK(db.list_grid_changes(code).size() == 1);
    }
}

TEST_CASE("apply: a proposal made before another write is stale", "[balance][demo][store]") {
    const StoredDistrict stored(later_district(default_options.seed, default_options.households));
    store::Database& db = *stored.db;
    const auto snap = grid::Snapshot::load(db);
    const std::string code = communities_out_of_band(*snap).front();
    const Proposal p = balance::propose_rebalance(*snap, code, RebalanceOptions{});
    REQUIRE(p.changes_anything());
    const auto state = grid_state(db, code);
    const BuildingCodes buildings = building_codes(db);

    // Someone edits a grid of another community meanwhile.
    {
        store::Transaction tx(db);
        for (store::GridRow& g : db.load_grids())
            if (g.community_code != code) {
                g.name += "（改）";
                db.put_grid(g, true);
                break;
            }
        tx.commit();
    }
    const std::int64_t version = db.data_version();
    REQUIRE(version == p.base_version + 1);
    CHECK_WANGGE_ERROR(balance::apply(db, p), ErrorKind::conflict, "stale_proposal");
    CHECK(db.data_version() == version);
    CHECK(grid_state(db, code) == state);
    CHECK(building_codes(db) == buildings);
    CHECK(db.list_grid_changes(code).empty());

    // A proposal made on the new data applies.
    const auto fresh = grid::Snapshot::load(db);
    const balance::AppliedChange done = balance::apply(db, balance::propose_rebalance(*fresh, code, RebalanceOptions{}));
    CHECK(done.version == version + 1);
}

TEST_CASE("apply: a write that fails half way leaves nothing written", "[balance][demo][store]") {
    const StoredDistrict stored(later_district(default_options.seed, default_options.households));
    store::Database& db = *stored.db;
    const auto snap = grid::Snapshot::load(db);
    const std::string code = communities_out_of_band(*snap).front();
    Proposal p = balance::propose_rebalance(*snap, code, RebalanceOptions{});
    // The last grid written gets a code the store refuses, after the others were written.
    auto last = std::find_if(p.grids.rbegin(), p.grids.rend(), [](const ProposedGrid& g) { return g.changed; });
    REQUIRE(last != p.grids.rend());
    REQUIRE(std::count_if(p.grids.begin(), p.grids.end(), [](const ProposedGrid& g) { return g.changed; }) >= 2);
    last->code = code + "99x";
    const auto state = grid_state(db, code);
    const BuildingCodes buildings = building_codes(db);
    const std::int64_t version = db.data_version();
    CHECK_WANGGE_ERROR(balance::apply(db, p), ErrorKind::unprocessable, "invalid_code");
    CHECK(db.data_version() == version);
    CHECK(grid_state(db, code) == state);
    CHECK(building_codes(db) == buildings);
    CHECK(db.list_grid_changes(code).empty());
}

namespace {

// Commits a change of one grid's name through a second connection the moment the first
// connection starts a write transaction, as another process would.
struct RaceAtBegin {
    store::Database* other = nullptr;
    std::string grid;
    bool done = false;

    static int on_statement(unsigned, void* context, void*, void* sql) {
        auto* race = static_cast<RaceAtBegin*>(context);
        if (race->done || std::string_view(static_cast<const char*>(sql)).rfind("BEGIN", 0) != 0) return 0;
        race->done = true;
        try {
            store::Transaction tx(*race->other);
            for (store::GridRow& g : race->other->load_grids())
                if (g.code == race->grid) {
                    g.name += "（他处修改）";
                    race->other->put_grid(g, true);
                }
            tx.commit();
        } catch (...) {
            race->done = false;
        }
        return 0;
    }
};

} // namespace

// Regression (src/balance/apply.cpp apply), once wrong: the data version is compared with the proposal's
// before the write transaction begins, so a write committed by another process in between is
// not seen: the proposal is applied on newer data and overwrites that write. Expected: the
// version is checked inside the transaction and the proposal refused as stale.
TEST_CASE("apply: a write by another process just before apply's transaction makes the proposal stale",
          "[balance][demo][store]") {
    const StoredDistrict stored(later_district(default_options.seed, default_options.households));
    store::SqliteDatabase& db = *stored.db;
    const auto snap = grid::Snapshot::load(db);
    const std::string code = communities_out_of_band(*snap).front();
    const Proposal p = balance::propose_rebalance(*snap, code, RebalanceOptions{});
    const auto redrawn = std::find_if(p.grids.begin(), p.grids.end(), [](const ProposedGrid& g) { return g.kept && g.changed; });
    REQUIRE(redrawn != p.grids.end());

    auto other = store::SqliteDatabase::open(db.path(), store::OpenMode::read_write);
    RaceAtBegin race{other.get(), redrawn->code};
    sqlite3_trace_v2(db.handle(), SQLITE_TRACE_STMT, &RaceAtBegin::on_statement, &race);
    bool applied = false;
    try {
        balance::apply(db, p);
        applied = true;
    } catch (const Error& e) {
        CHECK(e.code() == "stale_proposal");
    }
    sqlite3_trace_v2(db.handle(), 0, nullptr, nullptr);
    REQUIRE(race.done);
    CHECK_FALSE(applied);
    CHECK(grids_in_store(db, code).at(redrawn->code).name == redrawn->name + "（他处修改）");
}

TEST_CASE("undo: restores the community's grids and building codes exactly", "[balance][demo][store]") {
    const StoredDistrict stored(later_district(default_options.seed, default_options.households));
    store::Database& db = *stored.db;
    const auto snap = grid::Snapshot::load(db);
    const std::string code = communities_out_of_band(*snap).front();
    const auto state = grid_state(db, code);
    const BuildingCodes buildings = building_codes(db);
    const Proposal p = balance::propose_rebalance(*snap, code, RebalanceOptions{});
    const balance::AppliedChange applied = balance::apply(db, p);
    REQUIRE(grid_state(db, code) != state);
    REQUIRE(building_codes(db) != buildings);

    SECTION("undo, then nothing left to undo") {
        const balance::AppliedChange undone = balance::undo(db, code);
        CHECK(undone.version == applied.version + 1);
        CHECK(db.data_version() == applied.version + 1);
        CHECK(grid_state(db, code) == state);
        CHECK(building_codes(db) == buildings);
        CHECK(undone.grids_written == applied.grids_removed);
        CHECK(undone.grids_removed == applied.grids_written);
        CHECK(undone.buildings_moved == applied.buildings_moved);
        check_validates(db);

        const auto changes = db.list_grid_changes(code);
        REQUIRE(changes.size() == 2);
        CHECK(changes[0].id == undone.change_id);
        CHECK(changes[0].action == "undo");
        CHECK(changes[0].undoes == std::optional<std::int64_t>(applied.change_id));
        CHECK(changes[1].id == applied.change_id);
        CHECK(changes[1].undone_by == std::optional<std::int64_t>(undone.change_id));

        CHECK_WANGGE_ERROR(balance::undo(db, code), ErrorKind::not_found, "nothing_to_undo");
        CHECK(db.data_version() == undone.version);

        // The data is as it was, so the same proposal comes again and applies.
        const auto again = grid::Snapshot::load(db);
        const Proposal q = balance::propose_rebalance(*again, code, RebalanceOptions{});
        REQUIRE(q.grids.size() == p.grids.size());
        for (std::size_t i = 0; i < p.grids.size(); ++i) {
            CHECK(q.grids[i].code == p.grids[i].code);
            CHECK(same_wkb(q.grids[i].geom, p.grids[i].geom));
        }
        balance::apply(db, q);
        balance::undo(db, code);
        CHECK(grid_state(db, code) == state);
        CHECK(building_codes(db) == buildings);
    }

    SECTION("a community never changed has nothing to undo") {
        for (const grid::Area& other : snap->communities())
            if (other.code != code) {
                CHECK_WANGGE_ERROR(balance::undo(db, other.code), ErrorKind::not_found, "nothing_to_undo");
                break;
            }
    }

    SECTION("a grid of the change edited by hand afterwards blocks the undo") {
        const auto change = db.load_grid_change(applied.change_id);
        REQUIRE(change);
        REQUIRE_FALSE(change->after.empty());
        {
            store::Transaction tx(db);
            store::GridRow g = std::move(grids_in_store(db, code).at(change->after.front().code));
            g.name += "（手改）";
            db.put_grid(g, true);
            tx.commit();
        }
        const auto edited = grid_state(db, code);
        const BuildingCodes codes_now = building_codes(db);
        const std::int64_t version = db.data_version();
        CHECK_WANGGE_ERROR(balance::undo(db, code), ErrorKind::conflict, "changed_since");
        CHECK(db.data_version() == version);
        CHECK(grid_state(db, code) == edited);
        CHECK(building_codes(db) == codes_now);
    }

    SECTION("a grid of the change deleted by hand afterwards blocks the undo") {
        const auto change = db.load_grid_change(applied.change_id);
        REQUIRE(change);
        {
            store::Transaction tx(db);
            db.delete_grid(change->after.back().code);
            tx.commit();
        }
        const std::int64_t version = db.data_version();
        CHECK_WANGGE_ERROR(balance::undo(db, code), ErrorKind::conflict, "changed_since");
        CHECK(db.data_version() == version);
    }
}

namespace {

using GridState = decltype(grid_state(std::declval<store::Database&>(), std::string()));

// A community of the default district rebalanced, then rebalanced again with a narrower band.
struct TwoChanges {
    StoredDistrict stored{later_district(default_options.seed, default_options.households)};
    store::Database& db = *stored.db;
    std::string code = communities_out_of_band(*grid::Snapshot::load(db)).front();
    GridState original = grid_state(db, code), first;
    BuildingCodes original_buildings = building_codes(db), first_buildings;

    TwoChanges() {
        balance::apply(db, balance::propose_rebalance(*grid::Snapshot::load(db), code, RebalanceOptions{}));
        first = grid_state(db, code);
        first_buildings = building_codes(db);
        RebalanceOptions narrow;
        narrow.band = {300, 420};
        const Proposal second = balance::propose_rebalance(*grid::Snapshot::load(db, narrow.band), code, narrow);
        REQUIRE(second.changes_anything());
        balance::apply(db, second);
        REQUIRE(grid_state(db, code) != first);
    }
};

} // namespace

TEST_CASE("undo: of two changes, the last is undone", "[balance][demo][store]") {
    TwoChanges t;
    const balance::AppliedChange undone = balance::undo(t.db, t.code);
    CHECK(grid_state(t.db, t.code) == t.first);
    CHECK(building_codes(t.db) == t.first_buildings);
    const auto changes = t.db.list_grid_changes(t.code);
    REQUIRE(changes.size() == 3);
    CHECK(changes[0].undoes == std::optional<std::int64_t>(changes[1].id));
    CHECK(changes[1].undone_by == std::optional<std::int64_t>(undone.change_id));
    CHECK_FALSE(changes[2].undone_by);
}

// Regression (src/balance/apply.cpp undo), once wrong: undoing the last change writes the grids of the
// change before it again, with a new data version, so undoing that one too throws
// changed_since although nobody touched the community. Expected: undo steps back through the
// community's changes.
TEST_CASE("undo: two changes of a community are undone one after the other", "[balance][demo][store]") {
    TwoChanges t;
    balance::undo(t.db, t.code);
    REQUIRE(grid_state(t.db, t.code) == t.first);
    try {
        balance::undo(t.db, t.code);
        CHECK(grid_state(t.db, t.code) == t.original);
        CHECK(building_codes(t.db) == t.original_buildings);
        CHECK_WANGGE_ERROR(balance::undo(t.db, t.code), ErrorKind::not_found, "nothing_to_undo");
    } catch (const Error& e) {
        FAIL_CHECK("the second undo threw " << e.code() << ": " << e.what());
    }
}

// ---------------------------------------------------------------------------------------------
// B. Edge cases on small hand-made communities
// ---------------------------------------------------------------------------------------------

namespace {

// Buildings of `households` each on a lattice: columns x0, x0 + step, ... (cols of them), rows
// likewise from y0.
void add_lattice(SyntheticDistrict& d, double x0, double y0, int cols, int rows, double step, int households) {
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) d.add_building(x0 + c * step, y0 + r * step, households);
}

long households_of(const SyntheticDistrict& d) {
    long sum = 0;
    for (const auto& b : d.buildings()) sum += b.households;
    return sum;
}

// Where the proposal puts building `index`: its move, or its code of today when it does not move.
std::optional<std::string> code_after(const SyntheticDistrict& d, const Proposal& p, std::size_t index) {
    const store::BuildingRow& b = d.buildings()[index];
    for (const auto& m : p.building_moves)
        if (m.building_id == b.id) return m.after;
    return b.grid_code;
}

} // namespace

TEST_CASE("rebalance: a building above the band is a grid of its own, flagged", "[balance]") {
    SyntheticDistrict d;
    const std::string c = d.add_community("001", rect_m(0, 0, 400, 300));
    d.add_grid(c, "001", rect_m(0, 0, 200, 300));
    d.add_grid(c, "002", rect_m(200, 0, 400, 300));
    const std::size_t tower = d.add_building(100, 150, 620, 30);
    d.add_building(30, 30, 40);
    d.add_building(30, 270, 40);
    add_lattice(d, 225, 50, 4, 3, 50, 50); // 600 households in grid 002
    const auto snap = d.snapshot();
    const Proposal p = balance::propose_rebalance(*snap, c, RebalanceOptions{});
    INFO(balance::to_table(p));
    check_tiles(*snap, *snap->find_community(c), p);
    check_band_and_moves(*snap, p, households_of(d));
    int flagged = 0;
    for (const ProposedGrid& g : p.grids) {
        if (g.violation == Violation::none) continue;
        ++flagged;
        CHECK(g.violation == Violation::atom_above_max);
        CHECK(g.households == 620);
        CHECK(g.buildings == 1);
        CHECK(g.explanation.find("620") != std::string::npos);
        CHECK(code_after(d, p, tower) == std::optional<std::string>(g.code));
    }
    CHECK(flagged == 1);
    CHECK(p.after.in_band == p.after.grids - 1);
    CHECK(p.after.grids >= 3);
}

TEST_CASE("rebalance: a community below the band becomes one grid, flagged", "[balance]") {
    SyntheticDistrict d;
    const std::string c = d.add_community("001", rect_m(0, 0, 300, 200));
    SECTION("from two grids") {
        const std::string west = d.add_grid(c, "001", rect_m(0, 0, 150, 200));
        const std::string east = d.add_grid(c, "002", rect_m(150, 0, 300, 200));
        d.add_building(50, 50, 40);
        d.add_building(50, 150, 40);
        d.add_building(220, 100, 40);
        const auto snap = d.snapshot();
        const Proposal p = balance::propose_rebalance(*snap, c, RebalanceOptions{});
        INFO(balance::to_table(p));
        check_tiles(*snap, *snap->find_community(c), p);
        check_band_and_moves(*snap, p, 120);
        REQUIRE(p.grids.size() == 1);
        const ProposedGrid& g = p.grids.front();
        CHECK(g.code == west); // it holds more of the households
        CHECK(g.households == 120);
        CHECK(g.violation == Violation::area_below_min);
        CHECK(g.explanation.find("120") != std::string::npos);
        CHECK(p.removed == std::vector<std::string>{east});
        CHECK(p.households_moved == 40);
    }
    SECTION("from one grid: nothing changes, still flagged") {
        d.add_grid(c, "001", rect_m(0, 0, 300, 200));
        d.add_building(50, 50, 60);
        d.add_building(220, 100, 60);
        const auto snap = d.snapshot();
        const Proposal p = balance::propose_rebalance(*snap, c, RebalanceOptions{});
        CHECK_FALSE(p.changes_anything());
        REQUIRE(p.grids.size() == 1);
        CHECK(p.grids.front().violation == Violation::area_below_min);
        CHECK_FALSE(p.grids.front().explanation.empty());
    }
}

TEST_CASE("rebalance: a division that gains nothing is not offered", "[balance]") {
    SECTION("the rule, on the summaries of a dry run that redrew a community for nothing") {
        balance::ProposalSummary before{5, 3, 1, 1, 0.68, 0, 1500, 320};
        balance::ProposalSummary after = before;
        after.mean_polsby_popper = 0.63;
        CHECK_FALSE(balance::improves(before, after)); // no grid into the band, worse shapes
        after.mean_polsby_popper = 0.685;
        CHECK_FALSE(balance::improves(before, after)); // shapes hardly better
        after.mean_polsby_popper = 0.70;
        CHECK(balance::improves(before, after)); // the same band, more compact
        after = before;
        after.in_band = 4;
        after.above = 0;
        after.mean_polsby_popper = 0.50;
        CHECK(balance::improves(before, after)); // one more grid in the band is worth some shape
        after = before;
        after.outside = 100;
        CHECK(balance::improves(before, after)); // nearer the band
        after.in_band = 2;
        after.below = 2;
        CHECK_FALSE(balance::improves(before, after)); // a grid fewer in the band
        CHECK(balance::improves(balance::ProposalSummary{}, before)); // a community without grids
    }
    SECTION("redrawing square grids in the band from scratch: today's grids stay, and apply has nothing") {
        SyntheticDistrict d;
        const std::string c = d.add_community("001", rect_m(0, 0, 450, 150));
        for (int i = 0; i < 3; ++i) {
            d.add_grid(c, "00" + std::to_string(i + 1), rect_m(150 * i, 0, 150 * (i + 1), 150));
            add_lattice(d, 150 * i + 25, 25, 3, 3, 50, 35); // 315 households a grid
        }
        const auto snap = d.snapshot();
        RebalanceOptions o;
        o.from_scratch = true;
        const Proposal p = balance::propose_rebalance(*snap, c, o);
        INFO(balance::to_table(p));
        CHECK_FALSE(p.changes_anything());
        CHECK(p.building_moves.empty());
        CHECK(p.removed.empty());
        CHECK(p.households_moved == 0);
        CHECK(p.after.in_band == 3);
        CHECK(p.before.in_band == 3);
        CHECK(p.note.rfind("nothing better was found", 0) == 0);
        CHECK(balance::to_table(p).find(p.note) != std::string::npos);
        REQUIRE(p.grids.size() == 3);
        for (const ProposedGrid& g : p.grids) {
            INFO("grid " << g.code);
            CHECK(g.kept);
            CHECK_FALSE(g.changed);
            CHECK(g.households == 315);
            CHECK(same_wkb(g.geom, snap->find_grid(g.code)->geom));
        }
        CHECK(balance::to_json(p, false).find("\"changes\":false") != std::string::npos);
    }
}

TEST_CASE("rebalance: a building across the community boundary belongs where most of it stands", "[balance]") {
    SyntheticDistrict d;
    const std::string a = d.add_community("001", rect_m(0, 0, 300, 300));
    const std::string b = d.add_community("002", rect_m(300, 0, 600, 300));
    d.add_grid(a, "001", rect_m(0, 0, 150, 300));
    const std::string a2 = d.add_grid(a, "002", rect_m(150, 0, 300, 300));
    d.add_grid(b, "001", rect_m(300, 0, 600, 300));
    add_lattice(d, 40, 40, 2, 3, 80, 50);  // 300 households in A's 001
    add_lattice(d, 180, 40, 2, 4, 70, 60); // 480 in A's 002
    add_lattice(d, 450, 50, 2, 2, 100, 80); // 320 in B's 001
    // A T-shaped block: 3,000 m² in A, a 600 m² wing in B; its point on surface lies in B.
    const geo::Geometry t = geo::make_polygon({{test::at_m(270, 100), test::at_m(300, 100), test::at_m(300, 145),
                                                test::at_m(360, 145), test::at_m(360, 155), test::at_m(300, 155),
                                                test::at_m(300, 200), test::at_m(270, 200)}});
    CHECK(geo::point_on_surface(t).lon > test::at_m(300, 0).lon);
    const std::size_t straddler = d.add_building(t.clone(), 100, a2);
    const auto snap = d.snapshot();

    const Proposal p = balance::propose_rebalance(*snap, a, RebalanceOptions{});
    INFO(balance::to_table(p));
    check_tiles(*snap, *snap->find_community(a), p);
    check_band_and_moves(*snap, p, 880);
    const auto code = code_after(d, p, straddler);
    REQUIRE(code);
    CHECK(code->compare(0, 12, a) == 0);
    CHECK(find(p, *code) != nullptr);

    // The neighbour does not count it.
    const Proposal q = balance::propose_rebalance(*snap, b, RebalanceOptions{});
    REQUIRE(q.grids.size() == 1);
    CHECK(q.grids.front().households == 320);
    CHECK(q.building_moves.empty());
}

// Regression (src/balance/rebalance.cpp, atoms of propose_rebalance), once wrong: a building in no grid
// is taken as an atom when it merely touches the area being divided, so the community claims a
// building that stands three quarters in its neighbour. Expected: it belongs where most of its
// footprint stands, as grid::GridAssigner decides.
TEST_CASE("rebalance: a building in no grid is claimed by the community holding most of it", "[balance]") {
    SyntheticDistrict d;
    const std::string a = d.add_community("001", rect_m(0, 0, 300, 300));
    const std::string b = d.add_community("002", rect_m(300, 0, 600, 300)); // no grids yet
    d.add_grid(a, "001", rect_m(0, 0, 150, 300));
    d.add_grid(a, "002", rect_m(150, 0, 300, 300));
    add_lattice(d, 40, 40, 2, 3, 80, 50);  // 300 households in 001
    add_lattice(d, 180, 40, 2, 4, 70, 60); // 480 in 002
    const std::size_t all_in_a = d.add_building(rect_m(240, 240, 280, 260), 30, std::nullopt);
    const std::size_t mostly_b = d.add_building(rect_m(290, 20, 330, 40), 30, std::nullopt); // a quarter in A
    const auto snap = d.snapshot();
    REQUIRE(snap->find_community(b));
    const Proposal p = balance::propose_rebalance(*snap, a, RebalanceOptions{});
    INFO(balance::to_table(p));
    check_tiles(*snap, *snap->find_community(a), p);
    const auto in_a = code_after(d, p, all_in_a);
    REQUIRE(in_a);
    CHECK(in_a->compare(0, 12, a) == 0);
    CHECK_FALSE(code_after(d, p, mostly_b));
    long sum = 0;
    for (const ProposedGrid& g : p.grids) sum += g.households;
    CHECK(sum == 810);
}

TEST_CASE("rebalance: no grid spans two parts of a community that do not touch", "[balance]") {
    SyntheticDistrict d;
    const geo::Geometry west = rect_m(0, 0, 300, 300);
    const geo::Geometry east = rect_m(500, 0, 800, 300);
    const std::string c = d.add_community("001", geo::union_all({&west, &east}));
    d.add_grid(c, "001", geo::union_all({&west, &east})); // today one grid over both parts
    add_lattice(d, 37.5, 37.5, 4, 4, 75, 45);             // 720 households in the west part
    int east_households = 0;
    SECTION("both parts can be divided") {
        add_lattice(d, 537.5, 50, 4, 3, 75, 50); // 600 in the east part
        east_households = 600;
    }
    SECTION("the smaller part holds fewer than the band's minimum") {
        add_lattice(d, 550, 100, 3, 2, 100, 25); // 150 in the east part
        east_households = 150;
    }
    const auto snap = d.snapshot();
    const Proposal p = balance::propose_rebalance(*snap, c, RebalanceOptions{});
    INFO(balance::to_table(p));
    check_tiles(*snap, *snap->find_community(c), p);
    check_band_and_moves(*snap, p, 720 + east_households);
    int in_east = 0, east_sum = 0;
    for (const ProposedGrid& g : p.grids) {
        INFO("grid " << g.code);
        const double a = geo::area_m2(g.geom);
        const double w = geo::area_m2(geo::intersection(g.geom, west));
        const double e = geo::area_m2(geo::intersection(g.geom, east));
        CHECK((std::abs(w - a) <= 1.0 || std::abs(e - a) <= 1.0));
        CHECK(std::min(w, e) <= 1.0);
        if (e > 1.0) {
            ++in_east;
            east_sum += g.households;
        }
    }
    CHECK(east_sum == east_households);
    if (east_households == 600) {
        CHECK(p.after.in_band == p.after.grids);
        CHECK(in_east == 2);
    } else {
        REQUIRE(in_east == 1);
        for (const ProposedGrid& g : p.grids)
            if (g.households == 150) {
                CHECK(g.violation == Violation::part_below_min);
                CHECK_FALSE(g.explanation.empty());
            }
        CHECK(p.after.in_band == p.after.grids - 1);
    }
}

TEST_CASE("rebalance: a park without buildings is covered by the proposed grids", "[balance]") {
    SyntheticDistrict d;
    const std::string c = d.add_community("001", rect_m(0, 0, 800, 400));
    d.add_grid(c, "001", rect_m(0, 0, 300, 400));
    const std::string park = d.add_grid(c, "002", rect_m(300, 0, 800, 400)); // 0 households
    add_lattice(d, 25, 50, 6, 4, 50, 45);                                      // 1,080 households
    const auto snap = d.snapshot();
    const Proposal p = balance::propose_rebalance(*snap, c, RebalanceOptions{});
    INFO(balance::to_table(p));
    check_tiles(*snap, *snap->find_community(c), p);
    check_band_and_moves(*snap, p, 1080);
    CHECK(p.after.grids >= 3);
    CHECK(p.after.in_band == p.after.grids);
    // The park's 20 ha went to grids that hold buildings.
    double park_covered = 0;
    const geo::Geometry park_area = rect_m(300, 0, 800, 400);
    for (const ProposedGrid& g : p.grids) {
        CHECK(g.buildings > 0);
        park_covered += geo::area_m2(geo::intersection(g.geom, park_area));
    }
    CHECK(park_covered == Approx(geo::area_m2(park_area)).epsilon(1e-6));
    CHECK((find(p, park) == nullptr || find(p, park)->households > 0));
}

TEST_CASE("rebalance: unit grids stay as they are unless included", "[balance]") {
    SyntheticDistrict d;
    const std::string c = d.add_community("001", rect_m(0, 0, 400, 300));
    const std::string school = d.add_grid(c, "001", rect_m(0, 0, 100, 300), store::GridKind::unit);
    d.add_grid(c, "002", rect_m(100, 0, 250, 300));
    d.add_grid(c, "003", rect_m(250, 0, 400, 300));
    const std::size_t school_building = d.add_building(rect_m(30, 100, 70, 200), 0, school, "school");
    add_lattice(d, 125, 50, 2, 3, 100, 100); // 600 households in 002
    add_lattice(d, 300, 75, 2, 2, 75, 50);   // 200 in 003
    const auto snap = d.snapshot();
    const grid::GridArea& unit = *snap->find_grid(school);

    SECTION("fixed by default") {
        const Proposal p = balance::propose_rebalance(*snap, c, RebalanceOptions{});
        INFO(balance::to_table(p));
        check_tiles(*snap, *snap->find_community(c), p);
        check_band_and_moves(*snap, p, 800);
        const ProposedGrid* u = find(p, school);
        REQUIRE(u);
        CHECK(u->kind == store::GridKind::unit);
        CHECK(u->kept);
        CHECK_FALSE(u->changed);
        CHECK(same_wkb(u->geom, unit.geom));
        CHECK(code_after(d, p, school_building) == std::optional<std::string>(school));
        for (const auto& m : p.building_moves) CHECK(m.building_id != d.buildings()[school_building].id);
        CHECK(p.after.grids == 2); // the unit grid is not counted
        CHECK(p.after.in_band == 2);
    }
    SECTION("divided with the rest when included") {
        RebalanceOptions o;
        o.include_unit_grids = true;
        const Proposal p = balance::propose_rebalance(*snap, c, o);
        INFO(balance::to_table(p));
        check_tiles(*snap, *snap->find_community(c), p);
        check_band_and_moves(*snap, p, 800);
        const ProposedGrid* u = find(p, school);
        const bool removed = std::count(p.removed.begin(), p.removed.end(), school) == 1;
        CHECK((removed || (u && u->changed && !same_wkb(u->geom, unit.geom))));
        if (removed) CHECK(code_after(d, p, school_building) != std::optional<std::string>(school));
    }
}

namespace {

// Length of the boundaries between grids (the community's outline left out) and the share of
// it within `metres` of `roads`.
std::pair<double, double> inner_boundary_on_roads(const grid::Area& community, const Proposal& p,
                                                  const geo::Geometry& roads, double metres) {
    const geo::Geometry outline = geo::buffer_m(geo::boundary(community.geom), 1.0);
    const geo::Geometry near = geo::buffer_m(roads, metres);
    double total = 0, on = 0;
    for (const ProposedGrid& g : p.grids) {
        const geo::Geometry inner = geo::difference(geo::boundary(g.geom), outline);
        total += geo::length_m(inner);
        on += geo::length_m(geo::intersection(inner, near));
    }
    return {total, total > 0 ? on / total : 0};
}

} // namespace

TEST_CASE("rebalance: grid boundaries follow the roads that cut a community into blocks", "[balance]") {
    // 600 m square, 144 buildings of 20 households; roads at x = 300 and y = 200, 400 cut it
    // into six blocks of 480 households, each a grid in the band.
    const std::vector<std::vector<std::pair<double, double>>> road_lines{
        {{300, -50}, {300, 650}}, {{-50, 200}, {650, 200}}, {{-50, 400}, {650, 400}}};
    std::vector<std::vector<LonLat>> lines;
    for (const auto& l : road_lines) {
        lines.emplace_back();
        for (auto [x, y] : l) lines.back().push_back(test::at_m(x, y));
    }
    const geo::Geometry roads = geo::make_multi_line_string(lines);
    auto proposal = [&](bool with_roads) {
        SyntheticDistrict d;
        const std::string c = d.add_community("001", rect_m(0, 0, 600, 600));
        d.add_grid(c, "001", rect_m(0, 0, 600, 600));
        add_lattice(d, 25, 25, 12, 12, 50, 20);
        if (with_roads)
            for (const auto& l : road_lines) d.add_road(l);
        const auto snap = d.snapshot();
        RebalanceOptions o;
        o.from_scratch = true;
        Proposal p = balance::propose_rebalance(*snap, c, o);
        check_tiles(*snap, *snap->find_community(c), p);
        check_band_and_moves(*snap, p, 2880);
        const auto [length, share] = inner_boundary_on_roads(*snap->find_community(c), p, roads, balance::road_tolerance_m);
        return std::tuple{std::move(p), length, share};
    };
    const auto [with, with_length, with_share] = proposal(true);
    const auto [without, without_length, without_share] = proposal(false);
    INFO(balance::to_table(with) << "inner boundary " << with_length << " m, " << with_share * 100 << "% on roads\n"
                                 << balance::to_table(without) << "inner boundary " << without_length << " m, "
                                 << without_share * 100 << "% on roads");
    CHECK(with.after.in_band == with.after.grids);
    // Measured: 67% with roads (eight grids, not the six blocks), 32% without.
    CHECK(with_share >= 0.6);
    CHECK(with_share > without_share + 0.2);
    CHECK(with.after.mean_road_share > 0);
    CHECK(without.after.mean_road_share == 0); // no roads known: nothing is on a road
}

TEST_CASE("rebalance: bad input is refused with the right error", "[balance]") {
    SyntheticDistrict d;
    const std::string c = d.add_community("001", rect_m(0, 0, 400, 300));
    SECTION("codes and band") {
        d.add_grid(c, "001", rect_m(0, 0, 200, 300));
        d.add_grid(c, "002", rect_m(200, 0, 400, 300));
        add_lattice(d, 50, 50, 8, 5, 40, 10);
        const auto snap = d.snapshot();
        CHECK_WANGGE_ERROR(balance::propose_rebalance(*snap, "320102003009", RebalanceOptions{}), ErrorKind::not_found,
                           "unknown_code");
        for (const grid::Band band : {grid::Band{600, 500}, grid::Band{0, 500}, grid::Band{-250, 500}}) {
            INFO("band " << band.min << "-" << band.max);
            RebalanceOptions o;
            o.band = band;
            CHECK_WANGGE_ERROR(balance::propose_rebalance(*snap, c, o), ErrorKind::bad_request, "invalid_band");
        }
        for (const std::string code : {"32010200300", "32010200300a", "320102003001001", ""}) {
            INFO("code '" << code << "'");
            CHECK_WANGGE_ERROR(balance::propose_rebalance(*snap, code, RebalanceOptions{}), ErrorKind::unprocessable,
                               "invalid_code");
        }
        // A band of one size is allowed.
        RebalanceOptions o;
        o.band = {400, 400};
        CHECK_NOTHROW(balance::propose_rebalance(*snap, c, o));
    }
    SECTION("grids that do not tile the community") {
        SECTION("overlap") {
            d.add_grid(c, "001", rect_m(0, 0, 220, 300));
            d.add_grid(c, "002", rect_m(180, 0, 400, 300));
        }
        SECTION("gap") {
            d.add_grid(c, "001", rect_m(0, 0, 180, 300));
            d.add_grid(c, "002", rect_m(220, 0, 400, 300));
        }
        add_lattice(d, 30, 50, 6, 3, 60, 35); // 630 households, some in the gap or the overlap
        const auto snap = d.snapshot();
        CHECK_WANGGE_ERROR(balance::propose_rebalance(*snap, c, RebalanceOptions{}), ErrorKind::unprocessable,
                           "invalid_grids");
        RebalanceOptions o;
        o.from_scratch = true;
        const Proposal p = balance::propose_rebalance(*snap, c, o);
        INFO(balance::to_table(p));
        check_tiles(*snap, *snap->find_community(c), p);
        CHECK(p.after.in_band == p.after.grids);
        CHECK(p.after.grids == 2);
        long sum = 0;
        for (const ProposedGrid& g : p.grids) sum += g.households;
        CHECK(sum == 630);
    }
}

TEST_CASE("rebalance: a community without grids is divided from nothing", "[balance]") {
    SyntheticDistrict d;
    const std::string c = d.add_community("001", rect_m(0, 0, 600, 300));
    add_lattice(d, 25, 25, 12, 6, 50, 15); // 1,080 households in no grid
    const auto snap = d.snapshot();
    const Proposal p = balance::propose_rebalance(*snap, c, RebalanceOptions{});
    INFO(balance::to_table(p));
    check_tiles(*snap, *snap->find_community(c), p);
    check_band_and_moves(*snap, p, 1080);
    CHECK(p.households_moved == 0);
    CHECK(p.after.grids >= 3);
    CHECK(p.after.in_band == p.after.grids);
    CHECK(p.building_moves.size() == 72);
    for (std::size_t i = 0; i < p.grids.size(); ++i) {
        const std::string number = std::to_string(i + 1);
        CHECK(p.grids[i].code == c + std::string(3 - number.size(), '0') + number);
        CHECK_FALSE(p.grids[i].kept);
    }
}

// Regression (src/balance/rebalance.cpp codes), once wrong: new codes continue from the highest code of
// today's grids, so a code that an applied change removed is given to a different area later
// (the snapshot knows nothing of the grid history). Expected: a code once used in the community
// is never given again.
TEST_CASE("rebalance: a code removed by an applied change is not given to a new grid later",
          "[balance][store]") {
    SyntheticDistrict d;
    const std::string c = d.add_community("001", rect_m(0, 0, 450, 300));
    d.add_grid(c, "001", rect_m(0, 0, 150, 300));
    d.add_grid(c, "002", rect_m(150, 0, 300, 300));
    const std::string east = d.add_grid(c, "003", rect_m(300, 0, 450, 300));
    add_lattice(d, 40, 50, 2, 3, 70, 50);  // 300 households in 001
    add_lattice(d, 190, 50, 2, 3, 70, 50); // 300 in 002
    d.add_building(340, 150, 60);          // 100 in 003
    d.add_building(410, 150, 40);
    test::TempDir dir;
    auto db = store::Database::open(dir / "synthetic.sqlite", store::OpenMode::create);
    d.store(*db);

    const Proposal first = balance::propose_rebalance(*grid::Snapshot::load(*db), c, RebalanceOptions{});
    INFO(balance::to_table(first));
    REQUIRE(first.removed == std::vector<std::string>{east});
    balance::apply(*db, first);

    // New homes in the east make a third grid necessary again.
    {
        const auto snap = grid::Snapshot::load(*db);
        store::Transaction tx(*db);
        for (double y : {40.0, 110.0, 190.0, 260.0})
            for (double x : {330.0, 420.0}) {
                store::BuildingRow b;
                b.use = "residential";
                b.households = 50;
                b.geom = rect_m(x - 10, y - 10, x + 10, y + 10);
                const grid::LocateResult where = snap->locate(test::at_m(x, y));
                REQUIRE(where.grid);
                b.grid_code = where.grid->code;
                db->insert_building(b);
            }
        tx.commit();
    }
    // The callers (CLI, API) hand the codes of the grid history to the proposal.
    RebalanceOptions o;
    o.retired_codes = db->history_grid_codes(c);
    CHECK(std::find(o.retired_codes.begin(), o.retired_codes.end(), east) != o.retired_codes.end());
    const Proposal second = balance::propose_rebalance(*grid::Snapshot::load(*db), c, o);
    INFO(balance::to_table(second));
    int fresh = 0;
    for (const ProposedGrid& g : second.grids)
        if (!g.kept) {
            ++fresh;
            CHECK(g.code != east);
        }
    CHECK(fresh >= 1);
}

// --- census blocks as buildings (issue: a grid of its own held nothing, its reason was not true) ---

namespace {

// A community of 5 x 5 census blocks given as buildings: wide blocks between narrow strips
// (column widths and row heights 30, 150, 30, 150, 40 m), so that a wide block's point lies far
// from most of its area and the plain Voronoi cell of that point holds less than half of it.
struct BlockCommunity {
    SyntheticDistrict d;
    std::string community;
    std::map<std::pair<int, int>, std::size_t> block; // (col, row) -> building index
    static constexpr double edges[6] = {0, 30, 180, 210, 360, 400};

    explicit BlockCommunity(const std::map<std::pair<int, int>, int>& households) {
        community = d.add_community("001", rect_m(0, 0, 400, 400));
        const std::string grid = d.add_grid(community, "001", rect_m(0, 0, 400, 400));
        for (int r = 0; r < 5; ++r)
            for (int c = 0; c < 5; ++c) {
                const auto it = households.find({c, r});
                block[{c, r}] = d.add_building(rect_m(edges[c], edges[r], edges[c + 1], edges[r + 1]),
                                               it == households.end() ? 0 : it->second, grid);
            }
    }
};

// What each proposed grid holds, counted from the buildings as the store assigns them.
struct Holding {
    int households = 0;
    int with_households = 0;
    int largest = 0;
};
std::map<std::string, Holding> holdings(const SyntheticDistrict& d, const Proposal& p) {
    std::vector<store::GridRow> rows;
    for (const ProposedGrid& g : p.grids) rows.push_back({g.code, "", g.name, g.kind, 0, g.geom.clone()});
    const grid::GridAssigner assigner(rows);
    std::map<std::string, Holding> out;
    for (const store::BuildingRow& b : d.buildings()) {
        const auto r = assigner.assign(b.geom);
        REQUIRE(r);
        Holding& h = out[rows[*r].code];
        h.households += b.households;
        h.with_households += b.households > 0 ? 1 : 0;
        h.largest = std::max(h.largest, b.households);
    }
    return out;
}

// Every grid's households are what it holds, and every reason given is true of the grid.
void check_reasons(const SyntheticDistrict& d, const Proposal& p) {
    const auto held = holdings(d, p);
    for (const ProposedGrid& g : p.grids) {
        INFO("grid " << g.code << " households " << g.households << ": " << g.explanation);
        const Holding h = held.count(g.code) ? held.at(g.code) : Holding{};
        CHECK(g.households == h.households);
        if (g.kind != store::GridKind::residential) continue;
        // A grid of nobody only where it touches no other grid.
        if (g.households == 0) {
            for (const ProposedGrid& other : p.grids)
                if (&other != &g) CHECK(geo::shared_boundary_m(g.geom, other.geom) < 0.5);
        }
        switch (g.violation) {
        case Violation::none: CHECK(in_band(g.households, p.band)); break;
        case Violation::atom_above_max:
            CHECK(h.largest > p.band.max);
            CHECK(h.with_households == 1);
            CHECK(g.explanation.find(std::to_string(h.largest)) != std::string::npos);
            break;
        case Violation::area_below_min: CHECK(g.households < p.band.min); break;
        case Violation::part_below_min:
            CHECK(g.households < p.band.min);
            for (const ProposedGrid& other : p.grids)
                if (&other != &g) CHECK(geo::shared_boundary_m(g.geom, other.geom) < 0.5);
            break;
        case Violation::infeasible_split:
            CHECK_FALSE(in_band(g.households, p.band));
            CHECK(g.explanation.find(std::to_string(g.households)) != std::string::npos);
            break;
        }
    }
}

} // namespace

TEST_CASE("rebalance: census blocks as buildings, the block above max alone and the rest in band",
          "[balance]") {
    // 642, 463, 307, 190, 177, 73 and 10 households and 18 empty blocks; 463 + 10, 307 + 177 and
    // 190 + 73 are neighbours, so the rest divides into three grids in the band.
    BlockCommunity b({{{1, 1}, 642}, {{3, 1}, 463}, {{4, 1}, 10}, {{1, 3}, 307}, {{2, 3}, 177}, {{3, 3}, 190},
                      {{4, 3}, 73}});
    const auto snap = b.d.snapshot();
    for (const std::uint64_t seed : {1u, 2u, 3u, 20240601u}) {
        INFO("seed " << seed);
        RebalanceOptions o;
        o.from_scratch = true;
        o.seed = seed;
        const Proposal p = balance::propose_rebalance(*snap, b.community, o);
        INFO(balance::to_table(p));
        check_tiles(*snap, *snap->find_community(b.community), p);
        check_band_and_moves(*snap, p, 1862);
        check_reasons(b.d, p);
        const auto big = code_after(b.d, p, b.block.at({1, 1}));
        REQUIRE(big);
        const ProposedGrid* own = find(p, *big);
        REQUIRE(own);
        CHECK(own->households == 642);
        CHECK(own->violation == Violation::atom_above_max);
        CHECK(p.after.grids == 4);
        CHECK(p.after.in_band == 3);
        CHECK(p.after.above == 1);
        CHECK(p.after.below == 0);
    }
}

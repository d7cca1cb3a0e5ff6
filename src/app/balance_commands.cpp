// `wangge rebalance` and `wangge history`: propose, apply and undo new grid boundaries.
#include "app/commands.hpp"
#include "balance/apply.hpp"
#include "balance/bootstrap.hpp"
#include "grid/assign.hpp"
#include "ingest/importer.hpp"
#include "balance/rebalance.hpp"
#include "core/error.hpp"
#include "grid/snapshot.hpp"
#include "store/database.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <set>

namespace wangge::app {

namespace {

// A community code that is stored, or an error that says how to find the stored ones.
void require_community(store::Database& db, const std::string& code) {
    require_code(Level::community, code);
    if (!db.has_code(Level::community, code))
        throw Error(ErrorKind::not_found, "unknown_code",
                    "no community " + code + " in " + db.name() +
                        "; 'wangge list communities [--parent STREET]' lists the stored ones");
}

} // namespace

int run_rebalance(const RebalanceCommand& c) {
    if (c.band_min <= 0 || c.band_min > c.band_max)
        throw Error(ErrorKind::bad_request, "invalid_band", "the band needs 0 < --min <= --max");
    const bool read_only = c.dry_run && !c.undo;
    auto db = store::Database::open(c.db, read_only ? store::OpenMode::read_only : store::OpenMode::read_write);
    if (c.undo) {
        require_community(*db, c.community);
        // Say what the undo changes before changing it; a bootstrap, or leaving the community
        // without grids, needs --force.
        const balance::UndoPlan plan = balance::plan_undo(*db, c.community);
        if (!c.json) std::printf("%s\n", balance::describe(plan, c.community).c_str());
        if (!plan.needs_force.empty() && !c.force)
            throw Error(ErrorKind::conflict, "needs_force",
                        "refused: " + plan.needs_force + "; pass --force to undo it anyway");
        if (c.dry_run) return 0;
        const balance::AppliedChange done = balance::undo(*db, c.community, c.force);
        if (c.json) {
            std::printf("%s\n", nlohmann::json{{"change", done.change_id}, {"version", done.version},
                                               {"grids_written", done.grids_written},
                                               {"grids_removed", done.grids_removed},
                                               {"buildings_moved", done.buildings_moved}}
                                    .dump()
                                    .c_str());
        } else {
            std::printf("undone: %zu grids restored, %zu removed, %zu buildings back in their grids (change %lld, "
                        "data version %lld)\n",
                        done.grids_written, done.grids_removed, done.buildings_moved,
                        static_cast<long long>(done.change_id), static_cast<long long>(done.version));
        }
        return 0;
    }
    require_community(*db, c.community);
    const grid::Band band{c.band_min, c.band_max};
    const auto snapshot = grid::Snapshot::load(*db, band);
    balance::RebalanceOptions o;
    o.band = band;
    o.seed = c.seed;
    o.include_unit_grids = c.include_unit_grids;
    o.from_scratch = c.from_scratch;
    o.retired_codes = db->history_grid_codes(c.community);
    const balance::Proposal proposal = balance::propose_rebalance(*snapshot, c.community, o);
    if (c.json) std::printf("%s\n", balance::to_json(proposal, false).c_str());
    else std::fputs(balance::to_table(proposal).c_str(), stdout);
    if (c.dry_run) return 0;
    if (!proposal.changes_anything()) {
        if (!c.json) std::printf("nothing applied\n");
        return 0;
    }
    const balance::AppliedChange done = balance::apply(*db, proposal);
    if (!c.json)
        std::printf("applied: %zu grids written, %zu removed, %zu buildings moved (change %lld, data version %lld; "
                    "undo with --undo)\n",
                    done.grids_written, done.grids_removed, done.buildings_moved,
                    static_cast<long long>(done.change_id), static_cast<long long>(done.version));
    return 0;
}

int run_history(const std::filesystem::path& db_path, const std::string& community, bool json) {
    require_code(Level::community, community);
    auto db = store::Database::open(db_path, store::OpenMode::read_only);
    require_community(*db, community); // as over HTTP: an unknown community is an error, not an empty history
    const auto changes = db->list_grid_changes(community);
    if (json) {
        std::printf("%s\n", balance::changes_json(changes).c_str());
        return 0;
    }
    if (changes.empty()) std::printf("community %s: no grid changes recorded\n", community.c_str());
    for (const auto& ch : changes)
        std::printf("%5lld  %s  %-9s  version %lld -> %lld%s  %s\n", static_cast<long long>(ch.id), ch.created_at.c_str(),
                    ch.action.c_str(), static_cast<long long>(ch.base_version),
                    static_cast<long long>(ch.applied_version),
                    ch.undone_by ? (" (undone by " + std::to_string(*ch.undone_by) + ")").c_str() : "",
                    ch.summary_json.c_str());
    return 0;
}

namespace {

// Divides one street (c.street is ignored: `street` names it) and writes it.
void bootstrap_one(store::Database& db, const grid::Snapshot& s, const BootstrapCommand& c, const std::string& street,
                   const std::vector<const store::UnitRow*>& units) {
    require_code(Level::street, street);
    const auto t0 = std::chrono::steady_clock::now();
    const grid::Snapshot* snapshot = &s;
    balance::BootstrapInput in;
    in.street_code = street;
    in.street_name = c.street_name;
    if (c.codes) {
        try {
            in.codes = balance::read_code_list(*c.codes, street);
        } catch (const Error& e) {
            if (e.kind() != ErrorKind::not_found || !c.all_streets) throw;
        }
    }
    const grid::Area* stored = snapshot->find_street(street);
    if (c.boundary) {
        in.boundary = ingest::read_boundary(*c.boundary, c.crs);
    } else if (stored) {
        in.boundary = stored->geom.clone();
    } else {
        // The buildings' convex hull, 30 m out: the area they stand in.
        std::vector<const geo::Geometry*> footprints;
        for (const auto& b : snapshot->buildings()) footprints.push_back(&b.row.geom);
        if (footprints.empty())
            throw Error(ErrorKind::unprocessable, "no_buildings", "no buildings to divide: import buildings first");
        in.boundary = geo::buffer_m(geo::convex_hull(geo::union_all(footprints)), 30);
        // The hull sweeps in whatever stands near: say so, and what points elsewhere.
        std::size_t elsewhere = 0;
        for (const auto& b : snapshot->buildings())
            if (b.row.grid_code && b.row.grid_code->compare(0, 9, street) != 0) ++elsewhere;
        std::printf("no boundary given: using the outline of %zu buildings (their convex hull, 30 m out); pass "
                    "--boundary FILE with the street's real boundary%s\n",
                    footprints.size(),
                    elsewhere ? (" (" + std::to_string(elsewhere) + " of these buildings are in grids of other streets)").c_str()
                              : "");
    }
    if (in.street_name.empty() && stored) in.street_name = stored->name;
    in.units = units;
    const BBox box = in.boundary.bbox();
    for (std::uint32_t i : snapshot->query_buildings(box)) in.buildings.push_back(&snapshot->buildings()[i].row);
    std::vector<std::vector<LonLat>> lines;
    for (std::uint32_t i : snapshot->query_roads(box))
        for (auto& line : geo::line_strings(snapshot->roads()[i].row.geom)) lines.push_back(std::move(line));
    if (!lines.empty()) in.roads = geo::make_multi_line_string(lines);

    // The street must not have communities yet, unless they are to be replaced.
    std::vector<std::string> existing;
    for (const auto& community : snapshot->communities())
        if (community.parent_code == street) existing.push_back(community.code);
    if (!existing.empty() && !c.replace)
        throw Error(ErrorKind::conflict, "street_divided",
                    "street " + street + " has " + std::to_string(existing.size()) +
                        " communities already; rebalance them, or divide it anew with --replace");

    balance::BootstrapOptions o;
    o.band = grid::Band{c.band_min, c.band_max};
    o.community_households = c.community_households;
    o.seed = c.seed;
    o.unit_min_m2 = c.unit_min_ha * 10000;
    const balance::BootstrapResult result = balance::bootstrap_street(in, o);

    const balance::AppliedChange done = balance::write_bootstrap(db, result);
    int grids_in_band = 0, grids_below = 0, grids_above = 0, unit_grids = 0, communities_in_band = 0;
    for (std::size_t i = 0; i < result.grids.size(); ++i) {
        const int h = result.grid_households[i];
        if (result.grids[i].kind == store::GridKind::unit) {
            ++unit_grids;
            continue;
        }
        grids_in_band += h >= c.band_min && h <= c.band_max ? 1 : 0;
        grids_below += h < c.band_min ? 1 : 0;
        grids_above += h > c.band_max ? 1 : 0;
    }
    for (int h : result.community_households)
        communities_in_band += h >= c.community_households * 0.7 && h <= c.community_households * 1.3 ? 1 : 0;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("street %s %s divided in %.1fs: %zu buildings, %zu communities (%d of about %d households), %zu grids "
                "(%d in band %d-%d, %d below, %d above, %d unit grids); data version %lld\n",
                result.street.code.c_str(), result.street.name.c_str(), seconds, result.buildings,
                result.communities.size(), communities_in_band, c.community_households, result.grids.size(),
                grids_in_band, c.band_min, c.band_max, grids_below, grids_above, unit_grids,
                static_cast<long long>(done.version));
    for (const balance::UnitDecision& u : result.units)
        std::printf("  unit %s (%s): %s%s%s\n", u.name.c_str(), std::string(store::to_string(u.kind)).c_str(),
                    u.reason.c_str(), u.grid_code.empty() ? "" : ", grid ", u.grid_code.c_str());
    for (std::size_t i = 0; i < result.grids.size(); ++i)
        if (result.grid_violations[i] != balance::Violation::none)
            std::printf("  grid %s: %d households (%s): %s\n", result.grids[i].code.c_str(), result.grid_households[i],
                        std::string(balance::to_string(result.grid_violations[i])).c_str(),
                        result.grid_explanations[i].c_str());
}

} // namespace

int run_bootstrap(const BootstrapCommand& c) {
    if (c.all_streets == !c.street.empty())
        throw Error(ErrorKind::bad_request, "invalid_option", "give either --street CODE or --all-streets");
    if (c.all_streets && c.boundary)
        throw Error(ErrorKind::bad_request, "invalid_option", "--boundary names one street's area: use it with --street");
    const auto t0 = std::chrono::steady_clock::now();
    auto db = store::Database::open(c.db, store::OpenMode::read_write);
    // The snapshot is read once: bootstrapping a street changes only its own communities and grids.
    const auto snapshot = grid::Snapshot::load(*db, grid::Band{c.band_min, c.band_max});
    // Unit areas imported with `wangge import units` (docs/BALANCE.md, "Unit grids").
    const std::vector<store::UnitRow> unit_rows = db->load_units();
    std::vector<const store::UnitRow*> units;
    for (const store::UnitRow& u : unit_rows) units.push_back(&u);
    if (!c.all_streets) {
        bootstrap_one(*db, *snapshot, c, c.street, units);
        return 0;
    }
    if (snapshot->streets().empty())
        throw Error(ErrorKind::unprocessable, "no_streets", "--all-streets divides the stored streets: there are none");
    for (const grid::Area& street : snapshot->streets()) bootstrap_one(*db, *snapshot, c, street.code, units);
    std::printf("%zu streets divided in %.1fs\n", snapshot->streets().size(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    return 0;
}

} // namespace wangge::app

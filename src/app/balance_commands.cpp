// `wangge rebalance` and `wangge history`: propose, apply and undo new grid boundaries.
#include "app/commands.hpp"
#include "balance/apply.hpp"
#include "balance/rebalance.hpp"
#include "core/error.hpp"
#include "grid/snapshot.hpp"
#include "store/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace wangge::app {

int run_rebalance(const RebalanceCommand& c) {
    if (c.band_min <= 0 || c.band_min > c.band_max)
        throw Error(ErrorKind::bad_request, "invalid_band", "the band needs 0 < --min <= --max");
    const bool read_only = c.dry_run && !c.undo;
    auto db = store::Database::open(c.db, read_only ? store::OpenMode::read_only : store::OpenMode::read_write);
    if (c.undo) {
        const balance::AppliedChange done = balance::undo(*db, c.community);
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
    const grid::Band band{c.band_min, c.band_max};
    const auto snapshot = grid::Snapshot::load(*db, band);
    balance::RebalanceOptions o;
    o.band = band;
    o.seed = c.seed;
    o.include_unit_grids = c.include_unit_grids;
    o.from_scratch = c.from_scratch;
    const balance::Proposal proposal = balance::propose_rebalance(*snapshot, c.community, o);
    if (c.json) std::printf("%s\n", balance::to_json(proposal, false).c_str());
    else std::fputs(balance::to_table(proposal).c_str(), stdout);
    if (c.dry_run || !proposal.changes_anything()) return 0;
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
    const auto changes = db->list_grid_changes(community);
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& ch : changes) {
            nlohmann::json j{{"id", ch.id},
                             {"action", ch.action},
                             {"base_version", ch.base_version},
                             {"applied_version", ch.applied_version},
                             {"created_at", ch.created_at},
                             {"summary", nlohmann::json::parse(ch.summary_json)}};
            if (ch.undoes) j["undoes"] = *ch.undoes;
            if (ch.undone_by) j["undone_by"] = *ch.undone_by;
            out.push_back(std::move(j));
        }
        std::printf("%s\n", out.dump().c_str());
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

} // namespace wangge::app

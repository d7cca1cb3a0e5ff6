#pragma once
// Writing a proposal, and undoing it (docs/BALANCE.md). Each runs in one transaction: the
// community's grids, its buildings' grid codes and the grid history change together or not at
// all. The caller builds the next snapshot afterwards (and invalidates the tiles of `changed`).
#include "balance/rebalance.hpp"
#include "store/database.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wangge::balance {

struct AppliedChange {
    std::int64_t change_id = 0;
    std::int64_t version = 0;           // the data version after the change
    std::vector<BBox> changed;          // boxes of the grids removed, redrawn or added
    std::size_t grids_written = 0;
    std::size_t grids_removed = 0;
    std::size_t buildings_moved = 0;
};

// Applies the proposal. Throws Error(conflict, "stale_proposal") when the data changed since the
// proposal was made (its base_version is not the database's version), and writes nothing.
AppliedChange apply(store::Database& db, const Proposal& proposal, const std::string& action = "rebalance");

// Writes a street divided from nothing (bootstrap_street): the street (replaced), its
// communities and grids in place of any it had, every building assigned to its grid by largest
// overlap, and one grid_history change per community (action "bootstrap"), in one transaction.
struct BootstrapResult;
AppliedChange write_bootstrap(store::Database& db, const BootstrapResult& result);

// The recorded changes of a community as a JSON array (id, action, versions, time, summary,
// undoes / undone_by), for the CLI and the API alike.
std::string changes_json(const std::vector<store::GridChange>& changes);

// What undoing the community's last change (that is not undone yet) would do.
struct UndoPlan {
    std::int64_t change_id = 0;
    std::string action;                 // of the change undone: rebalance or bootstrap
    std::vector<std::string> restored;  // grid codes it brings back (as they were before the change)
    std::vector<std::string> removed;   // grid codes of the change, taken away
    std::size_t buildings = 0;          // buildings whose grid changes back
    // Why it needs force (empty: it does not): it undoes a bootstrap, or it leaves the community
    // without grids.
    std::string needs_force;
};
// Throws Error(not_found, "nothing_to_undo") when there is nothing to undo.
UndoPlan plan_undo(store::Database& db, const std::string& community_code);
// A line saying what the plan changes, and what becomes of the codes.
std::string describe(const UndoPlan& plan, const std::string& community_code);

// Restores the grids and building codes as they were before the community's last change that
// is not undone yet. Throws Error(not_found, "nothing_to_undo") when there is none,
// Error(conflict, "changed_since") when the community's grids changed after it (by hand or by
// an import), so undoing would overwrite newer work, and Error(conflict, "needs_force") unless
// `force` when the undo would remove a bootstrap or leave the community without grids.
AppliedChange undo(store::Database& db, const std::string& community_code, bool force = false);

} // namespace wangge::balance

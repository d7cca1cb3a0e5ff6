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

// Restores the grids and building codes as they were before the community's last change that
// is not undone yet. Throws Error(not_found, "nothing_to_undo") when there is none, and
// Error(conflict, "changed_since") when the community's grids changed after it (by hand or by
// an import), so undoing would overwrite newer work.
AppliedChange undo(store::Database& db, const std::string& community_code);

} // namespace wangge::balance

#pragma once
// Who answers for a reported case (docs/INCIDENTS.md, "Dispatch"): the grid's first-responsible
// worker when on duty, else its backups in order, else the community, else the street. A case is
// never left with nobody (属地兜底): a point in no grid falls to its community, in no community to
// its street, and outside everything to the nearest grid when it is close (a phone's position is
// off by tens of metres) or else to that grid's street.
#include "grid/snapshot.hpp"
#include "incident/types.hpp"
#include "store/records.hpp"

#include <optional>
#include <string>
#include <vector>

namespace wangge::incident {

struct Assignment {
    HandlingLevel level = HandlingLevel::street;
    std::string code;                    // the grid, community or street that answers for the case
    std::optional<store::WorkerRow> worker; // set when a worker was found
    std::string reason;                  // why this one, in words for the dispatcher and the log
};

struct DispatchRules {
    // A point outside every area this close to a grid is that grid's case.
    double nearest_grid_m = 200.0;
};

// `workers` are the grid's workers by rank (0 = first responsible), as the store lists them, with
// their rows; `category_level` is the level the category is handled at: a community-level case
// skips the grid worker.
Assignment choose_assignee(const grid::LocateResult& where, HandlingLevel category_level,
                           const std::vector<store::WorkerRow>& grid_workers, const DispatchRules& rules = {});

} // namespace wangge::incident

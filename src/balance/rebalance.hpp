#pragma once
// Rebalancing one community (docs/BALANCE.md): its buildings become atoms whose cells (Voronoi
// cells of the buildings, clipped to the community less its unit grids) tile the community;
// the partitioner groups them into grids of the band; grids that keep their buildings keep
// their boundary and code, changed grids are redrawn inside the area they free, codes carried
// over by largest overlap and new codes given west to east, north to south. The result is a
// proposal, with a report, until apply() writes it.
#include "balance/partition.hpp"
#include "grid/snapshot.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace wangge::balance {

struct RebalanceOptions {
    grid::Band band;
    std::uint64_t seed = 20240601;
    bool include_unit_grids = false; // unit grids stay fixed unless asked
    bool from_scratch = false;       // ignore today's grids (no stability)
    // Codes the community had before (grid history): new grids are numbered after them too,
    // so a retired code never comes back for another area.
    std::vector<std::string> retired_codes;
};

struct ProposedGrid {
    std::string code;
    std::string name;
    store::GridKind kind = store::GridKind::residential;
    bool kept = false;    // continues today's grid of this code
    bool changed = true;  // boundary differs from today's (false: today's grid, untouched)
    geo::Geometry geom;   // MultiPolygon, WGS84
    int households = 0;
    int buildings = 0;
    double area_m2 = 0;
    double perimeter_m = 0;
    double polsby_popper = 0;
    double road_share = 0;     // share of the boundary within road_tolerance_m of a road
    long households_moved = 0; // households that were in another grid today
    Violation violation = Violation::none;
    std::string explanation; // why it is out of the band, in words
};

struct ProposalSummary {
    int grids = 0;
    int in_band = 0;
    int below = 0;
    int above = 0;
    double mean_polsby_popper = 0;
    double mean_road_share = 0;
    long households = 0;
    // How far the residential grids lie outside the band, in households: the sum over grids of
    // (min - households) below the band and (households - max) above it.
    long outside = 0;
};

// Whether `after` is a better division than `before` (docs/BALANCE.md, "Proposals that gain
// nothing"): more grids in the band; else as many, fewer households outside the band; else the
// same band, shapes more compact by at least 0.01 (mean Polsby-Popper). A community without
// grids gains from any division.
bool improves(const ProposalSummary& before, const ProposalSummary& after);

struct Proposal {
    std::string community_code;
    std::string community_name;
    std::int64_t base_version = 0; // the data version it was computed on
    grid::Band band;
    std::vector<ProposedGrid> grids;       // every grid of the community after the change
    std::vector<std::string> removed;      // today's codes that do not survive
    ProposalSummary before, after;
    long households_moved = 0;
    // Buildings whose grid changes: id, code before (none: in no grid), code after.
    std::vector<store::GridChange::BuildingMove> building_moves;
    // Why nothing changes, when nothing does: every grid is in the band, or nothing better was
    // found (the division found is described, today's grids are what is proposed).
    std::string note;
    bool changes_anything() const;
};

inline constexpr double road_tolerance_m = 20.0;

// A division that does not improve on today's grids is not offered: the proposal is then today's
// grids, unchanged, and its note says what was found instead.
// Throws Error(not_found, "unknown_code") for a community not in the snapshot,
// Error(bad_request, "invalid_band") for a bad band.
Proposal propose_rebalance(const grid::Snapshot& snapshot, const std::string& community_code,
                           const RebalanceOptions& options);

// The proposal as JSON: summary, grids (with GeoJSON geometry when `geometry`), moves.
std::string to_json(const Proposal& proposal, bool geometry);
// The proposal as a readable table for the terminal.
std::string to_table(const Proposal& proposal);

} // namespace wangge::balance

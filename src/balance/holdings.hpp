#pragma once
// What proposed grids hold, counted as the store counts it (every building in the grid holding
// most of its footprint), why a grid is out of the band in words true of that grid, and the
// joining of grids that hold nobody to a neighbour (docs/BALANCE.md, "Reasons" and "Empty
// land"). Shared by rebalancing and bootstrap, so that a proposal and a bootstrap report say what
// will be stored.
#include "balance/partition.hpp"
#include "store/records.hpp"

#include <optional>
#include <string>
#include <vector>

namespace wangge::balance {

struct Holding {
    int households = 0;
    int buildings = 0;
    int with_households = 0; // buildings holding at least one household
    int largest = 0;         // households of its largest building
};

// The holding of each of `grids`, and (when `where` is given) the grid of each building, nullopt
// for a building in none.
std::vector<Holding> holdings(const std::vector<store::GridRow>& grids,
                              const std::vector<const store::BuildingRow*>& buildings,
                              std::vector<std::optional<std::size_t>>* where = nullptr);

// Why a residential grid holding `h` is out of `band`, true of the grid as it stands:
// atom_above_max when one building above max is all it holds of households, area_below_min when
// it is the whole (residential) community and that holds fewer than min, part_below_min when it
// is below min and touches no other residential grid (`alone`), and infeasible_split otherwise.
Violation reason(const Holding& h, bool alone, bool whole, const grid::Band& band);
// The words of a reason, with the grid's own numbers.
std::string explain(Violation v, const Holding& h, const grid::Band& band);

// Residential grids that hold no households (by `held`) and share a boundary with another
// residential grid join that neighbour: of the neighbours with `preferred` set (grids the caller
// is redrawing anyway) if any, the one whose union with it is most compact. Its households are
// unchanged; its buildings (none with households) go with it. Grids holding nobody that touch no
// other residential grid stay: the caller reports them as parts alone. `grids`, `held` and
// `preferred` lose the grids joined; the answer says, for each grid left, its index in the grids
// as given and whether it took in another.
struct Joined {
    std::vector<std::size_t> index;
    std::vector<char> took_in;
};
Joined join_empty_grids(std::vector<store::GridRow>& grids, std::vector<Holding>& held, std::vector<char>& preferred);

} // namespace wangge::balance

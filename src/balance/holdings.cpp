#include "balance/holdings.hpp"

#include "grid/assign.hpp"

#include <algorithm>
#include <cmath>

namespace wangge::balance {

std::vector<Holding> holdings(const std::vector<store::GridRow>& grids,
                              const std::vector<const store::BuildingRow*>& buildings,
                              std::vector<std::optional<std::size_t>>* where) {
    std::vector<Holding> out(grids.size());
    if (where) where->assign(buildings.size(), std::nullopt);
    if (grids.empty()) return out;
    const grid::GridAssigner assigner(grids);
    for (std::size_t i = 0; i < buildings.size(); ++i) {
        const auto r = assigner.assign(buildings[i]->geom);
        if (!r) continue;
        if (where) (*where)[i] = r;
        Holding& h = out[*r];
        const int n = buildings[i]->households;
        h.households += n;
        h.buildings += 1;
        h.with_households += n > 0 ? 1 : 0;
        h.largest = std::max(h.largest, n);
    }
    return out;
}

Violation reason(const Holding& h, bool alone, bool whole, const grid::Band& band) {
    if (h.households >= band.min && h.households <= band.max) return Violation::none;
    if (h.with_households == 1 && h.largest > band.max) return Violation::atom_above_max;
    if (h.households < band.min && whole) return Violation::area_below_min;
    if (h.households < band.min && alone) return Violation::part_below_min;
    return Violation::infeasible_split;
}

std::string explain(Violation v, const Holding& h, const grid::Band& band) {
    const std::string n = std::to_string(h.households);
    const std::string min = std::to_string(band.min), max = std::to_string(band.max);
    switch (v) {
    case Violation::none: return "";
    case Violation::atom_above_max:
        return "one building holds " + std::to_string(h.largest) + " households, more than " + max +
               ": it is a grid of its own";
    case Violation::part_below_min:
        return h.households == 0 ? "a part of the community that touches no other part; it holds no households"
                                 : "a part of the community that touches no other part holds only " + n +
                                       " households (fewer than " + min + ")";
    case Violation::area_below_min: return "the community holds only " + n + " households, fewer than " + min + ": one grid";
    case Violation::infeasible_split:
        if (h.largest > band.max)
            return "it holds a building of " + std::to_string(h.largest) + " households, more than " + max +
                   ", and " + std::to_string(h.households - h.largest) + " households more (" + n + " in all)";
        return "no division was found with every grid here between " + min + " and " + max + " households (" + n +
               " here)";
    }
    return "";
}

namespace {
double polsby_popper(const geo::Geometry& g) {
    const double p = geo::length_m(g);
    return p > 0 ? 4 * 3.14159265358979323846 * geo::area_m2(g) / (p * p) : 0;
}
} // namespace

Joined join_empty_grids(std::vector<store::GridRow>& grids, std::vector<Holding>& held, std::vector<char>& preferred) {
    Joined out;
    for (std::size_t i = 0; i < grids.size(); ++i) out.index.push_back(i);
    out.took_in.assign(grids.size(), 0);
    for (bool joined = true; joined;) {
        joined = false;
        for (std::size_t e = 0; e < grids.size(); ++e) {
            if (grids[e].kind != store::GridKind::residential || held[e].households != 0) continue;
            // Its residential neighbours, preferred ones first, then the most compact union.
            std::optional<std::size_t> best;
            std::pair<int, double> best_key{};
            geo::Geometry best_union;
            for (std::size_t n = 0; n < grids.size(); ++n) {
                if (n == e || grids[n].kind != store::GridKind::residential) continue;
                if (geo::shared_boundary_m(grids[e].geom, grids[n].geom) < 0.5) continue;
                geo::Geometry u = geo::to_multi_polygon(geo::polygonal_part(geo::union_all({&grids[e].geom, &grids[n].geom})));
                if (geo::polygon_count(u) != 1) continue;
                const std::pair<int, double> key{preferred[n] ? 0 : 1, -polsby_popper(u)};
                if (!best || key < best_key) {
                    best = n;
                    best_key = key;
                    best_union = std::move(u);
                }
            }
            if (!best) continue;
            const std::size_t n = *best;
            grids[n].geom = std::move(best_union);
            held[n].buildings += held[e].buildings;
            out.took_in[n] = 1;
            grids.erase(grids.begin() + static_cast<std::ptrdiff_t>(e));
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(e));
            preferred.erase(preferred.begin() + static_cast<std::ptrdiff_t>(e));
            out.index.erase(out.index.begin() + static_cast<std::ptrdiff_t>(e));
            out.took_in.erase(out.took_in.begin() + static_cast<std::ptrdiff_t>(e));
            joined = true;
            break;
        }
    }
    return out;
}

} // namespace wangge::balance

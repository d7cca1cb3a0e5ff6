#pragma once
// The partitioner of grid division (docs/BALANCE.md): atoms (buildings, or census blocks) with
// their households, joined by an adjacency graph, are grouped into contiguous zones of
// [band.min, band.max] households each, compact, cut along roads where possible, and, when today's
// zones are given, moving as few households as possible.
//
// Pure computation on a graph: no geometry library, no store. The same options always give the
// same partition.
#include "grid/snapshot.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace wangge::balance {

struct Edge {
    int to = 0;
    double length_m = 0; // the boundary the two atoms share
    bool road = false;   // a road runs between them: a good place for a zone boundary
};

struct AtomGraph {
    std::vector<int> households;
    std::vector<double> x, y;    // centre, in metres on a local plane
    std::vector<double> area_m2; // of the atom's cell
    std::vector<double> outer_m; // cell boundary on the outer edge of the area being divided
    std::vector<std::vector<Edge>> adjacency; // symmetric

    std::size_t size() const noexcept { return households.size(); }
    // Appends an atom and returns its index.
    int add_atom(int households, double x, double y, double area_m2, double outer_m);
    // Adds the edge both ways (a length of shared boundary adds up if called twice).
    void connect(int a, int b, double length_m, bool road);
};

struct PartitionOptions {
    grid::Band band;
    std::uint64_t seed = 20240601;
    // Today's zone of each atom (>= 0), or -1 for an atom in none; empty: divide from nothing.
    std::vector<int> current;
    int trees = 24; // random spanning trees tried for each split
    int starts = 4; // complete divisions from nothing (other trees), the best kept; not for a repair
};

// Why a zone is out of the band although the partitioner tried.
enum class Violation {
    none,
    atom_above_max,   // one atom alone holds more than band.max households
    part_below_min,   // a part of the area not connected to the rest holds fewer than band.min
    area_below_min,   // the whole area holds fewer than band.min
    infeasible_split, // the atoms' sizes allow no split into the band here
};
std::string_view to_string(Violation v) noexcept;

struct Partition {
    std::vector<int> zone_of; // atom -> zone, 0..zones-1
    int zones = 0;
    std::vector<Violation> violation; // per zone
};

// Throws Error(bad_request, "invalid_band") unless 0 < min <= max,
// Error(bad_request, "invalid_options") for fewer than one tree or start, and
// Error(bad_request, "invalid_graph") for an asymmetric graph or a current of the wrong size.
Partition partition(const AtomGraph& graph, const PartitionOptions& options);

// --- measures of a partition, shared by the report and the benchmarks ---
struct ZoneMeasure {
    int households = 0;
    int atoms = 0;
    double area_m2 = 0;
    double perimeter_m = 0;      // outer edge + boundary with other zones
    double road_boundary_m = 0;  // boundary with other zones that runs along roads
    double inner_boundary_m = 0; // boundary with other zones
    bool contiguous = true;
    double polsby_popper() const noexcept; // 4 pi A / P^2, 1 for a disc
};
std::vector<ZoneMeasure> measure(const AtomGraph& graph, const std::vector<int>& zone_of, int zones);
// Which of today's zones each new zone continues: pairs (new, today's) taken greedily by the
// households they share (then atoms), each zone used once; -1 for a new zone that continues none.
std::vector<int> match_zones(const AtomGraph& graph, const std::vector<int>& current, const std::vector<int>& zone_of,
                             int zones);
// Households whose zone changes: atoms whose new zone does not continue their zone of today.
long households_moved(const AtomGraph& graph, const std::vector<int>& current, const std::vector<int>& zone_of,
                      int zones);

} // namespace wangge::balance

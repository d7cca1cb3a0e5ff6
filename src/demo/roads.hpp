#pragma once
// The road network of the demo district: arterials (主干道) along every superblock edge and a
// cross of local roads (支路) inside each superblock, between its compounds.
#include "demo/lattice.hpp"
#include "geo/geometry.hpp"
#include "store/records.hpp"

#include <string>
#include <vector>

namespace wangge::demo::detail {

struct ArterialNames {
    std::vector<std::string> east_west;   // per superblock row line, north to south
    std::vector<std::string> north_south; // per superblock column line, west to east
};

// Arterial names with their suffix: every third line is a primary (大道/大街), the others
// secondaries (路), so the names tell their kind.
bool is_primary_line(std::size_t line) noexcept;

// One road per arterial line, covering the superblocks that exist beside it (`present` is
// row-major over superblocks), kind "primary" or "secondary".
void add_arterials(const Lattice& lattice, const std::vector<char>& present, const ArterialNames& names,
                   std::vector<store::RoadRow>& out);

// A local road along a lattice line inside a superblock, kind "residential".
void add_local_road(const Lattice& lattice, CellIndex from, CellIndex to, std::string name,
                    std::vector<store::RoadRow>& out);

} // namespace wangge::demo::detail

#pragma once
// Square lattices of atoms for partitioner tests: w x h cells of 50 m, 4-neighbour adjacency.
#include "balance/partition.hpp"

#include <functional>

namespace wangge::test {

inline constexpr double lattice_cell_m = 50;

inline int lattice_index(int w, int col, int row) { return row * w + col; }

using LatticeEdge = std::function<bool(int col, int row, int col2, int row2)>;

// households(col, row) gives each atom's households; road marks road edges; apart marks
// neighbours that do not touch (water between them), so a test can make parts of an area that
// are not connected.
inline balance::AtomGraph lattice(int w, int h, const std::function<int(int, int)>& households,
                                  const LatticeEdge& road = {}, const LatticeEdge& apart = {}) {
    balance::AtomGraph g;
    auto joined = [&](int c, int r, int c2, int r2) {
        return c2 >= 0 && r2 >= 0 && c2 < w && r2 < h && !(apart && (apart(c, r, c2, r2) || apart(c2, r2, c, r)));
    };
    for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) {
            double outer = 0;
            for (auto [dc, dr] : {std::pair{1, 0}, {-1, 0}, {0, 1}, {0, -1}})
                if (!joined(c, r, c + dc, r + dr)) outer += lattice_cell_m;
            g.add_atom(households(c, r), (c + 0.5) * lattice_cell_m, (r + 0.5) * lattice_cell_m,
                       lattice_cell_m * lattice_cell_m, outer);
        }
    for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) {
            if (joined(c, r, c + 1, r))
                g.connect(lattice_index(w, c, r), lattice_index(w, c + 1, r), lattice_cell_m, road && road(c, r, c + 1, r));
            if (joined(c, r, c, r + 1))
                g.connect(lattice_index(w, c, r), lattice_index(w, c, r + 1), lattice_cell_m, road && road(c, r, c, r + 1));
        }
    return g;
}

} // namespace wangge::test

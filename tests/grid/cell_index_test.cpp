#include "grid/cell_index.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace wangge;

TEST_CASE("cell index: answers like a brute-force scan, boundaries to the smaller index", "[cell_index]") {
    // A 4 x 3 block of unit squares with one overlapping extra square (index 12) on top.
    std::vector<geo::Geometry> polys;
    for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 4; ++c) polys.push_back(geo::make_rectangle({double(c), double(r), c + 1.0, r + 1.0}));
    polys.push_back(geo::make_rectangle({0.5, 0.5, 1.5, 1.5}));
    std::vector<const geo::Geometry*> ptrs;
    std::vector<geo::PreparedGeometry> prepared;
    for (const auto& p : polys) {
        ptrs.push_back(&p);
        prepared.emplace_back(p);
    }
    grid::CellIndex index(ptrs, prepared, 16.0);
    CHECK(index.cell_count() >= 13 * 16 / 2);
    CHECK(index.whole_cells() > index.cell_count() / 2); // most cells need no point-in-polygon test

    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> x(-0.5, 4.5), y(-0.5, 3.5);
    int mismatches = 0;
    for (int i = 0; i < 20000; ++i) {
        // Snap half the points to a 0.25 lattice so that many lie exactly on shared edges.
        LonLat p{x(rng), y(rng)};
        if (i % 2) p = {std::round(p.lon * 4) / 4, std::round(p.lat * 4) / 4};
        std::optional<std::uint32_t> expected;
        for (std::uint32_t k = 0; k < prepared.size() && !expected; ++k)
            if (prepared[k].covers(p)) expected = k;
        if (index.covering(p, prepared) != expected) ++mismatches;
    }
    CHECK(mismatches == 0);
    CHECK(index.covering({1.0, 1.0}, prepared) == 0u); // a corner of four squares: the smallest index
    CHECK_FALSE(index.covering({9.0, 9.0}, prepared));
}

TEST_CASE("cell index: empty input answers nothing", "[cell_index]") {
    grid::CellIndex index({}, {});
    std::vector<geo::PreparedGeometry> none;
    CHECK_FALSE(index.covering({0, 0}, none));
    CHECK(index.cell_count() == 0);
}

// The demo generator's building blocks: the run cutter, the band snake, the outline tracer and
// the name pools.
#include "demo/grouping.hpp"
#include "demo/lattice.hpp"
#include "demo/names.hpp"

#include "core/error.hpp"
#include "geo/geometry.hpp"

#include <catch2/catch.hpp>

#include <numeric>
#include <set>

using namespace wangge;
using namespace wangge::demo::detail;

namespace {

std::vector<int> run_sums(const std::vector<int>& households, const std::vector<std::size_t>& runs) {
    std::vector<int> sums;
    std::size_t at = 0;
    for (std::size_t r : runs) {
        sums.push_back(std::accumulate(households.begin() + static_cast<long>(at),
                                       households.begin() + static_cast<long>(at + r), 0));
        at += r;
    }
    REQUIRE(at == households.size());
    return sums;
}

} // namespace

TEST_CASE("cut_runs keeps every run within the band and finds the closest cut") {
    std::vector<int> households{100, 200, 100, 150, 150, 90, 0, 200, 120};
    std::vector<std::size_t> runs = cut_runs(households, Band{250, 500, 375});
    std::vector<int> sums = run_sums(households, runs);
    for (int s : sums) {
        CHECK(s >= 250);
        CHECK(s <= 500);
    }
    // 1,110 households: three runs near 375 beat two near 555 (out of band) and four near 277.
    CHECK(sums.size() == 3);

    // Exactly two cuts are feasible here, 400|400 and 300|500: least squares picks the first.
    CHECK(cut_runs(std::vector<int>{300, 100, 400}, Band{250, 500, 375}) == std::vector<std::size_t>{2, 1});
    // With a ceiling of 450 only 400|400 is left; with a floor of 350 neither cut is.
    CHECK(cut_runs(std::vector<int>{300, 100, 400}, Band{250, 450, 375}) == std::vector<std::size_t>{2, 1});
    CHECK(cut_runs(std::vector<int>{300, 100, 400}, Band{410, 800, 600}).size() == 1);
}

TEST_CASE("cut_runs reports an impossible cut as empty") {
    CHECK(cut_runs(std::vector<int>{600}, Band{250, 500, 375}).empty());
    CHECK(cut_runs(std::vector<int>{100, 100}, Band{250, 500, 375}).empty());
    CHECK(cut_runs(std::vector<int>{240, 30, 240}, Band{250, 500, 375}).empty());
    CHECK(cut_runs(std::vector<int>{}, Band{250, 500, 375}).empty());
}

TEST_CASE("band_snake visits every position once, always stepping to an edge neighbour") {
    for (auto [rows, cols, band] :
         {std::tuple{5, 5, 2}, {7, 7, 2}, {6, 5, 2}, {9, 37, 3}, {4, 1, 3}, {8, 3, 3}}) {
        std::vector<CellIndex> walk = band_snake(rows, cols, band);
        REQUIRE(walk.size() == static_cast<std::size_t>(rows * cols));
        std::set<std::pair<int, int>> seen;
        for (std::size_t i = 0; i < walk.size(); ++i) {
            seen.insert({walk[i].row, walk[i].col});
            if (i == 0) continue;
            int step = std::abs(walk[i].row - walk[i - 1].row) + std::abs(walk[i].col - walk[i - 1].col);
            INFO(rows << "x" << cols << " band " << band << " step " << i);
            CHECK(step == 1);
        }
        CHECK(seen.size() == walk.size());
    }
    CHECK_THROWS_AS(band_snake(6, 4, 2), Error);
}

TEST_CASE("outline traces a set of cells as one ring through every lattice vertex") {
    Rng rng(7);
    Lattice l = make_lattice(1, 1, LonLat{118.8, 31.95}, rng);
    // An L: two cells on the top row, one below the left one.
    std::vector<CellIndex> cells{{0, 0}, {0, 1}, {1, 0}};
    std::vector<LonLat> ring = outline(l, cells);
    REQUIRE(ring.size() == 9); // 8 boundary vertices (one on the L's long side) + closing point
    geo::Geometry poly = geo::make_polygon({ring});
    CHECK(geo::invalid_reason(poly).empty());
    double cells_area = 0;
    for (CellIndex c : cells)
        cells_area += geo::planar_area(geo::make_rectangle(
            BBox{l.lon[static_cast<std::size_t>(c.col)], l.lat[static_cast<std::size_t>(c.row + 1)],
                 l.lon[static_cast<std::size_t>(c.col + 1)], l.lat[static_cast<std::size_t>(c.row)]}));
    CHECK(geo::planar_area(poly) == Approx(cells_area).epsilon(1e-12));
    // Counter-clockwise: the signed (shoelace) area is positive.
    double twice = 0;
    for (std::size_t i = 0; i + 1 < ring.size(); ++i)
        twice += ring[i].lon * ring[i + 1].lat - ring[i + 1].lon * ring[i].lat;
    CHECK(twice > 0);

    std::vector<CellIndex> corner_only{{0, 0}, {1, 1}};
    CHECK_THROWS_AS(outline(l, corner_only), Error);
    std::vector<CellIndex> ring_of_cells{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}, {2, 2}};
    CHECK_THROWS_AS(outline(l, ring_of_cells), Error); // a hole in the middle
}

TEST_CASE("a name pool never repeats a name, even past its stock") {
    Rng rng(1);
    NamePool pool(NameStock::place, rng);
    std::set<std::string> names;
    for (int i = 0; i < 20000; ++i) names.insert(pool.next());
    CHECK(names.size() == 20000);

    Rng a(5), b(5);
    NamePool first(NameStock::road, a), second(NameStock::road, b);
    for (int i = 0; i < 10; ++i) CHECK(first.next() == second.next());
}

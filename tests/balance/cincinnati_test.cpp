// Real data: the 457 census blocks of Walnut Hills, Cincinnati (../shared/data), 16,766 real
// households, partitioned into contiguous zones of 250-500 households.
#include "balance/graph.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace wangge;

namespace {

// The census blocks with their households, each block its own cell.
std::vector<balance::AtomShape> walnut_hills_blocks() {
    return balance::read_atom_shapes(test::shared_data_dir / "cincinnati-walnut-hills" / "blocks_households.geojson",
                                     "HOUSEHOLDS");
}

} // namespace

TEST_CASE("real data: Walnut Hills census blocks partition into contiguous zones of 250-500 households",
          "[balance][real]") {
    if (!test::shared_data_available()) return;
    const std::vector<balance::AtomShape> blocks = walnut_hills_blocks();
    REQUIRE(blocks.size() == 457);
    const balance::AtomGraph g = balance::build_graph(blocks, nullptr);
    long total = 0;
    int largest = 0;
    for (int h : g.households) {
        total += h;
        largest = std::max(largest, h);
    }
    CHECK(total == 16766);
    CHECK(largest == 745);

    balance::PartitionOptions o;
    const balance::Partition p = balance::partition(g, o);
    const auto m = balance::measure(g, p.zone_of, p.zones);
    int in_band = 0, flagged = 0;
    double pp = 0;
    for (int z = 0; z < p.zones; ++z) {
        const auto& zm = m[static_cast<std::size_t>(z)];
        const auto why = p.violation[static_cast<std::size_t>(z)];
        INFO("zone " << z << ": " << zm.households << " households, " << zm.atoms << " blocks, "
                     << balance::to_string(why));
        CHECK(zm.contiguous);
        if (zm.households >= 250 && zm.households <= 500) {
            ++in_band;
        } else {
            ++flagged;
            // Out of the band only where a single block makes it impossible, or a part of the
            // area that touches nothing else is too small.
            CHECK((why == balance::Violation::atom_above_max || why == balance::Violation::part_below_min));
        }
        pp += zm.polsby_popper();
    }
    std::printf("Walnut Hills: %d zones, %d in band, %d flagged, mean Polsby-Popper %.3f\n", p.zones, in_band,
                flagged, pp / p.zones);
    CHECK(flagged <= 3);
    CHECK(in_band >= 33);
}

TEST_CASE("real data: Walnut Hills zones repaired after a change of households stay whole, for many seeds",
          "[balance][real]") {
    if (!test::shared_data_available()) return;
    const std::vector<balance::AtomShape> blocks = walnut_hills_blocks();
    const balance::AtomGraph today = balance::build_graph(blocks, nullptr);
    for (std::uint64_t seed = 20240601; seed < 20240616; ++seed) {
        INFO("seed " << seed);
        balance::PartitionOptions o;
        o.seed = seed;
        const balance::Partition before = balance::partition(today, o);
        // About one block in eight changes by up to half its households.
        balance::AtomGraph later = today;
        std::mt19937_64 rng(seed);
        for (int& h : later.households)
            if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.125)
                h = std::max(0, h + static_cast<int>(std::lround(h * std::uniform_real_distribution<double>(-0.5, 0.5)(rng))));
        balance::PartitionOptions repair = o;
        repair.current = before.zone_of;
        const balance::Partition after = balance::partition(later, repair);
        REQUIRE(after.zone_of.size() == later.size());
        const auto m = balance::measure(later, after.zone_of, after.zones);
        long total = 0, expected = 0;
        int short_of_band = 0;
        for (std::size_t z = 0; z < m.size(); ++z) {
            CHECK(m[z].contiguous);
            CHECK(m[z].atoms > 0);
            total += m[z].households;
            short_of_band += after.violation[z] == balance::Violation::infeasible_split ? 1 : 0;
        }
        // In band wherever one block does not make it impossible.
        CHECK(short_of_band == 0);
        for (int h : later.households) expected += h;
        CHECK(total == expected);
        CHECK(balance::households_moved(later, before.zone_of, after.zone_of, after.zones) * 2 < expected);
    }
}

// Real data: each census tract of Walnut Hills, Cincinnati (../shared/data) divided on its own,
// as `wangge rebalance --from-scratch` divides a community (the quality table of
// bench/balance.sh --only quality, docs/BENCHMARKS.md): every zone contiguous, none without
// households, in band wherever a division exists, and at least as compact as METIS's division
// of the same blocks where METIS's is in band.
#include "balance/graph.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>

using namespace wangge;

namespace {

// The blocks of each tract, as the atoms of that tract alone.
std::map<std::string, std::vector<balance::AtomShape>> tracts() {
    const auto path = test::shared_data_dir / "cincinnati-walnut-hills" / "blocks_households.geojson";
    std::vector<balance::AtomShape> blocks = balance::read_atom_shapes(path, "HOUSEHOLDS");
    std::ifstream in(path);
    const nlohmann::json collection = nlohmann::json::parse(in);
    std::map<std::string, std::vector<balance::AtomShape>> out;
    std::size_t i = 0;
    for (const auto& f : collection.at("features"))
        out[f.at("properties").at("TRACT").get<std::string>()].push_back(std::move(blocks.at(i++)));
    return out;
}

} // namespace

TEST_CASE("real data: every Walnut Hills tract divided alone is in band where it can be, without empty zones, "
          "and as compact as METIS",
          "[balance][real]") {
    if (!test::shared_data_available()) return;
    // Mean Polsby-Popper of METIS k-way (contiguous parts, Wangge's zone count, tolerance up to
    // the band) on the tracts where all its parts are in band: bench/balance.sh --only quality.
    const std::map<std::string, double> metis = {{"39061001800", 0.566}, {"39061001900", 0.496},
                                                 {"39061002200", 0.604}, {"39061003600", 0.609},
                                                 {"39061003700", 0.690}, {"39061004200", 0.466}};
    const auto all = tracts();
    REQUIRE(all.size() == 23);
    for (const auto& [tract, blocks] : all) {
        INFO("tract " << tract << ", " << blocks.size() << " blocks");
        const balance::AtomGraph g = balance::build_graph(blocks, nullptr);
        const balance::PartitionOptions o;
        const balance::Partition p = balance::partition(g, o);
        const auto m = balance::measure(g, p.zone_of, p.zones);
        double pp = 0;
        for (std::size_t z = 0; z < m.size(); ++z) {
            const auto why = p.violation[z];
            INFO("zone " << z << ": " << m[z].households << " households, " << balance::to_string(why));
            CHECK(m[z].contiguous);
            CHECK(m[z].households > 0);
            pp += m[z].polsby_popper();
            if (why == balance::Violation::none || why == balance::Violation::atom_above_max ||
                why == balance::Violation::part_below_min || why == balance::Violation::area_below_min)
                continue;
            // Tract 0030.00 holds 580 households, 356 of them in one block: the other 224 can
            // neither make a zone of their own nor join that block's (the exact MIP finds no
            // division with both zones in band).
            CHECK(tract == "39061003000");
        }
        // The table gives three decimals.
        if (const auto it = metis.find(tract); it != metis.end()) CHECK(pp / p.zones >= it->second - 5e-4);
    }
}

// The demo district some years on: households changed (churn, new towers, cleared blocks) so that
// grids leave their band, with every boundary, code and footprint as generated.
#include "demo/generator.hpp"

#include "core/error.hpp"
#include "district_rows.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <map>

using namespace wangge;
using test::dump;
using test::households_by_grid;

namespace {

// Default options (60,000 households) some years on, generated once per (seed, years).
const demo::DemoDistrict& district(std::uint64_t seed, int years) {
    static std::map<std::pair<std::uint64_t, int>, demo::DemoDistrict> cache;
    auto key = std::pair{seed, years};
    auto it = cache.find(key);
    if (it == cache.end())
        it = cache.emplace(key, demo::generate_demo(demo::DemoOptions{.seed = seed, .years_later = years})).first;
    return it->second;
}

const std::vector<std::uint64_t> seeds{20240601, 7, 123456789};

// Households that changed building by building, as a share of today's: sum |after - before| /
// sum before.
double changed_share(const demo::DemoDistrict& before, const demo::DemoDistrict& after) {
    REQUIRE(before.buildings.size() == after.buildings.size());
    long changed = 0, total = 0;
    for (std::size_t i = 0; i < before.buildings.size(); ++i) {
        changed += std::abs(after.buildings[i].households - before.buildings[i].households);
        total += before.buildings[i].households;
    }
    return static_cast<double>(changed) / static_cast<double>(total);
}

struct OutOfBand {
    std::size_t below = 0; // residential grids under 250 households
    std::size_t above = 0; // residential grids over 500
};

OutOfBand out_of_band(const demo::DemoDistrict& d) {
    std::map<std::string, long> households = households_by_grid(d);
    OutOfBand out;
    for (const auto& g : d.grids) {
        if (g.kind != store::GridKind::residential) continue;
        out.below += households.at(g.code) < 250;
        out.above += households.at(g.code) > 500;
    }
    return out;
}

std::vector<int> households_of(const demo::DemoDistrict& d) {
    std::vector<int> out;
    for (const auto& b : d.buildings) out.push_back(b.households);
    return out;
}

} // namespace

TEST_CASE("years_later = 0 is today's district, byte for byte") {
    demo::DemoDistrict today = demo::generate_demo(demo::DemoOptions{.seed = 99, .households = 12000});
    demo::DemoDistrict zero =
        demo::generate_demo(demo::DemoOptions{.seed = 99, .households = 12000, .years_later = 0});
    CHECK(dump(today) == dump(zero));
}

TEST_CASE("the same seed gives the same households years later") {
    demo::DemoOptions options{.seed = 99, .households = 12000, .years_later = 5};
    std::vector<int> later = households_of(demo::generate_demo(options));
    CHECK(later == households_of(demo::generate_demo(options)));
    options.years_later = 0;
    CHECK(later != households_of(demo::generate_demo(options)));
}

TEST_CASE("five years on, about a tenth of the households have changed and grids left their band") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& today = district(seed, 0);
    const demo::DemoDistrict& later = district(seed, 5);
    OutOfBand before = out_of_band(today);
    CHECK(before.below == 0);
    CHECK(before.above == 0);
    double share = changed_share(today, later);
    CAPTURE(share);
    CHECK(share >= 0.05);
    CHECK(share <= 0.20);
    OutOfBand out = out_of_band(later);
    CAPTURE(out.below, out.above);
    CHECK(out.below > 0);
    CHECK(out.above > 0);
}

// The figures docs/CLI.md gives: a change in generation shows here first.
TEST_CASE("the default district five years on: 6,288 households changed, 3 grids out of band") {
    const demo::DemoDistrict& today = district(20240601, 0);
    const demo::DemoDistrict& later = district(20240601, 5);
    CHECK(changed_share(today, later) == Approx(6288.0 / 60000.0).margin(1e-9));
    long total = 0;
    for (const auto& b : later.buildings) total += b.households;
    CHECK(total == 60116);
    OutOfBand out = out_of_band(later);
    CHECK(out.below == 2);
    CHECK(out.above == 1);
}

TEST_CASE("only households change: boundaries, codes, names and footprints stay") {
    demo::DemoOptions options{.seed = 7, .households = 20000, .years_later = 10};
    demo::DemoDistrict later = demo::generate_demo(options);
    options.years_later = 0;
    demo::DemoDistrict today = demo::generate_demo(options);
    REQUIRE(later.buildings.size() == today.buildings.size());
    for (std::size_t i = 0; i < today.buildings.size(); ++i) {
        const store::BuildingRow &b = today.buildings[i], &a = later.buildings[i];
        INFO(b.name);
        CHECK(a.households >= 0);
        if (b.use != "residential") CHECK(a.households == 0);
        CHECK_FALSE(a.households_estimated);
    }
    for (auto* d : {&today, &later})
        for (auto& b : d->buildings) b.households = 0;
    CHECK(dump(today) == dump(later));
}

TEST_CASE("later years carry on from earlier ones: a cleared block stays cleared") {
    demo::DemoOptions options{.seed = 5, .households = 30000, .years_later = 5};
    std::vector<int> five = households_of(demo::generate_demo(options));
    options.years_later = 20;
    std::vector<int> twenty = households_of(demo::generate_demo(options));
    std::size_t cleared = 0, rebuilt = 0;
    for (std::size_t i = 0; i < five.size(); ++i) {
        cleared += five[i] == 0;
        rebuilt += five[i] == 0 && twenty[i] != 0;
    }
    CHECK(cleared > 0);
    CHECK(rebuilt == 0);
}

TEST_CASE("the changes are reported year by year") {
    std::map<std::string, std::pair<std::size_t, std::size_t>> last;
    std::size_t steps = 0;
    demo::generate_demo(demo::DemoOptions{.households = 8000, .years_later = 3},
                        [&](std::string_view stage, std::size_t done, std::size_t total) {
                            last[std::string(stage)] = {done, total};
                            steps += stage == "changes";
                        });
    CHECK(last["changes"] == std::pair<std::size_t, std::size_t>{3, 3});
    CHECK(steps == 3);
    last.clear();
    demo::generate_demo(demo::DemoOptions{.households = 8000},
                        [&](std::string_view stage, std::size_t done, std::size_t total) {
                            last[std::string(stage)] = {done, total};
                        });
    CHECK(last.count("changes") == 0);
}

TEST_CASE("years_later outside 0-20 is refused") {
    for (int years : {-1, 21, 100}) {
        CAPTURE(years);
        try {
            demo::generate_demo(demo::DemoOptions{.households = 5000, .years_later = years});
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::bad_request);
            CHECK(e.code() == "invalid_option");
            CHECK(std::string(e.what()).find("years_later") != std::string::npos);
        }
    }
    CHECK_NOTHROW(demo::generate_demo(demo::DemoOptions{.households = 5000, .years_later = 20}));
}

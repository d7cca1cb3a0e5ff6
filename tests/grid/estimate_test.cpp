#include "core/error.hpp"
#include "grid/estimate.hpp"
#include "support/temp_dir.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>

#include <fstream>

using namespace wangge;

TEST_CASE("estimate: households = area x levels x usable ratio / dwelling size", "[estimate]") {
    grid::EstimatorConfig c = grid::EstimatorConfig::defaults();
    c.usable_ratio = 0.8;
    c.dwelling_m2 = 100;
    auto e = grid::estimate_households(c, 500.0, "apartments", 6, std::nullopt);
    CHECK(e.levels == 6);
    CHECK(e.levels_source == grid::LevelsSource::tag);
    CHECK(e.households == 24); // 500 * 6 * 0.8 / 100
    CHECK(e.residential);
}

TEST_CASE("estimate: levels from height, then use default, then fallback", "[estimate]") {
    grid::EstimatorConfig c = grid::EstimatorConfig::defaults();
    auto h = grid::estimate_households(c, 400.0, "yes", std::nullopt, 31.0);
    CHECK(h.levels == 10); // round(31 / 3.0)
    CHECK(h.levels_source == grid::LevelsSource::height);
    auto u = grid::estimate_households(c, 400.0, "apartments", std::nullopt, std::nullopt);
    CHECK(u.levels == 6);
    CHECK(u.levels_source == grid::LevelsSource::use_default);
    auto f = grid::estimate_households(c, 400.0, "something_else", std::nullopt, std::nullopt);
    CHECK(f.levels == c.default_levels);
    CHECK(f.levels_source == grid::LevelsSource::fallback);
    CHECK(f.households == static_cast<int>(std::lround(400.0 * c.default_levels * c.usable_ratio / c.dwelling_m2)));
}

TEST_CASE("estimate: non-residential uses and tiny footprints hold no households", "[estimate]") {
    grid::EstimatorConfig c = grid::EstimatorConfig::defaults();
    CHECK(grid::estimate_households(c, 5000.0, "school", 4, std::nullopt).households == 0);
    CHECK_FALSE(grid::estimate_households(c, 5000.0, "hospital", 4, std::nullopt).residential);
    CHECK(grid::estimate_households(c, 20.0, "residential", 6, std::nullopt).households == 0);
    CHECK(grid::estimate_households(c, 400.0, "residential", 500, std::nullopt).levels == c.max_levels);
}

TEST_CASE("estimate: names of office towers and hotels mark them non-residential", "[estimate]") {
    grid::EstimatorConfig c = grid::EstimatorConfig::defaults();
    CHECK(grid::estimate_households(c, 2000.0, "yes", 40, std::nullopt, "长安国际中心").households == 0);
    CHECK(grid::estimate_households(c, 2000.0, "yes", 30, std::nullopt, "金陵饭店").households == 0);
    CHECK(grid::estimate_households(c, 600.0, "yes", 6, std::nullopt, "梅园新村8栋").households == 30); // 600 * 6 * 0.75 / 90
    CHECK(grid::estimate_households(c, 600.0, "yes", 6, std::nullopt).households == 30);
}

TEST_CASE("estimate: the shipped configuration file loads and matches the documented defaults", "[estimate]") {
    auto c = grid::EstimatorConfig::load(test::source_dir / "data" / "estimator.json");
    auto d = grid::EstimatorConfig::defaults();
    CHECK(c.usable_ratio == d.usable_ratio);
    CHECK(c.dwelling_m2 == d.dwelling_m2);
    CHECK(c.storey_height_m == d.storey_height_m);
    CHECK(c.default_levels == d.default_levels);
    CHECK(c.default_levels_by_use == d.default_levels_by_use);
    CHECK(c.non_residential_uses == d.non_residential_uses);
    CHECK(c.non_residential_name_keywords == d.non_residential_name_keywords);
}

TEST_CASE("estimate: configuration errors are reported, not ignored", "[estimate]") {
    test::TempDir dir;
    auto write = [&](const std::string& text) {
        std::ofstream(dir / "e.json") << text;
        return dir / "e.json";
    };
    CHECK_THROWS_WITH(grid::EstimatorConfig::load(write(R"({"usable_ratoi": 0.7})")), Catch::Contains("unknown key 'usable_ratoi'"));
    CHECK_THROWS_WITH(grid::EstimatorConfig::load(write(R"({"dwelling_m2": -3})")), Catch::Contains("must be positive"));
    CHECK_THROWS_AS(grid::EstimatorConfig::load(write("{oops")), Error);
    CHECK_THROWS_AS(grid::EstimatorConfig::load(dir / "absent.json"), Error);
    auto c = grid::EstimatorConfig::load(write(R"({"_comment": "ok", "dwelling_m2": 60, "default_levels_by_use": {"yes": 7}})"));
    CHECK(c.dwelling_m2 == 60);
    CHECK(c.default_levels_by_use.at("yes") == 7);
    CHECK(c.default_levels_by_use.size() == 1);
}

// Real data: the OpenStreetMap extract of central Nanjing (../shared/data) divided from nothing
// into communities and grids with the real division codes of 新街口街道.
#include "balance/apply.hpp"
#include "balance/bootstrap.hpp"
#include "grid/validate.hpp"
#include "ingest/importer.hpp"
#include "support/temp_dir.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>

#include <map>

#include <set>

using namespace wangge;

TEST_CASE("real data: the Nanjing extract bootstraps into valid communities and grids with real codes",
          "[balance][real]") {
    if (!test::shared_data_available()) return;
    const auto data = test::shared_data_dir / "nanjing-central";
    test::TempDir dir;
    auto db = store::Database::open(dir / "nanjing.sqlite", store::OpenMode::create);
    for (auto [target, file] : {std::pair{ingest::Target::buildings, "buildings.geojson"},
                                std::pair{ingest::Target::roads, "roads.geojson"}}) {
        ingest::ImportOptions o;
        o.target = target;
        o.path = data / file;
        ingest::import_file(*db, o);
    }
    const auto before = grid::Snapshot::load(*db);
    REQUIRE(before->buildings().size() == 1277);

    balance::BootstrapInput in;
    in.street_code = "320102003";
    in.codes = balance::read_code_list(test::shared_data_dir / "admin-codes", in.street_code);
    CHECK(in.codes.street_name == "新街口街道");
    REQUIRE(in.codes.communities.size() == 6);
    std::vector<const geo::Geometry*> footprints;
    for (const auto& b : before->buildings()) {
        in.buildings.push_back(&b.row);
        footprints.push_back(&b.row.geom);
    }
    in.boundary = geo::buffer_m(geo::convex_hull(geo::union_all(footprints)), 30);
    std::vector<std::vector<LonLat>> lines;
    for (const auto& r : before->roads())
        for (auto& l : geo::line_strings(r.row.geom)) lines.push_back(std::move(l));
    in.roads = geo::make_multi_line_string(lines);

    const balance::BootstrapResult result = balance::bootstrap_street(in, balance::BootstrapOptions{});
    CHECK(result.buildings == 1277);
    CHECK(result.street.name == "新街口街道");
    // Real codes, in the list's order, as far as the list goes.
    std::set<std::string> listed;
    for (const auto& [code, name] : in.codes.communities) listed.insert(code);
    std::size_t real = 0;
    for (const auto& c : result.communities) real += listed.count(c.code);
    CHECK(real == std::min(result.communities.size(), listed.size()));
    // Communities of about 2,500 households (within 30%) where the buildings allow it.
    long total = 0;
    for (int h : result.community_households) total += h;
    CHECK(total == before->total_households());
    std::size_t communities_in_band = 0;
    for (int h : result.community_households) communities_in_band += h >= 1750 && h <= 3250 ? 1 : 0;
    CHECK(communities_in_band + 1 >= result.communities.size());
    // Grids in band, except a few, each flagged (their reasons are checked against what was stored
    // below).
    std::size_t flagged = 0;
    for (std::size_t i = 0; i < result.grids.size(); ++i) {
        const int h = result.grid_households[i];
        INFO(result.grids[i].code << " " << h << ": " << result.grid_explanations[i]);
        CHECK((h >= 250 && h <= 500) == (result.grid_violations[i] == balance::Violation::none));
        flagged += result.grid_violations[i] != balance::Violation::none ? 1 : 0;
    }
    CHECK(flagged * 10 <= result.grids.size());
    for (const auto& g : result.grids) CHECK(geo::polygon_count(g.geom) == 1);

    // Stored, the hierarchy is valid: communities tile the street, grids tile their community.
    balance::write_bootstrap(*db, result);
    const auto after = grid::Snapshot::load(*db);
    const grid::ValidationReport report = grid::validate(*after);
    for (const auto& f : report.findings) INFO(f.message);
    CHECK(report.ok());
    CHECK(after->communities().size() == result.communities.size());
    std::size_t assigned = 0;
    for (const auto& b : after->buildings()) assigned += b.row.grid_code ? 1 : 0;
    CHECK(assigned == 1277);
    // What the bootstrap reported is what was stored: each grid's households as the store counts
    // them (every building in the grid holding most of its footprint), and each reason is true
    // of the grid stored.
    std::map<std::string, std::vector<int>> households_in;
    for (const auto& b : after->buildings())
        if (b.row.grid_code && b.row.households > 0) households_in[*b.row.grid_code].push_back(b.row.households);
    for (std::size_t i = 0; i < result.grids.size(); ++i) {
        const grid::GridArea* stored = after->find_grid(result.grids[i].code);
        REQUIRE(stored);
        INFO("grid " << result.grids[i].code << ": " << result.grid_explanations[i]);
        CHECK(stored->stats.households == result.grid_households[i]);
        CHECK(stored->stats.households > 0); // no residential grid of nobody
        const auto& held = households_in[result.grids[i].code];
        switch (result.grid_violations[i]) {
        case balance::Violation::atom_above_max:
            REQUIRE(held.size() == 1);
            CHECK(held.front() > 500);
            break;
        case balance::Violation::part_below_min:
        case balance::Violation::area_below_min: CHECK(stored->stats.households < 250); break;
        case balance::Violation::infeasible_split:
            CHECK((stored->stats.households < 250 || stored->stats.households > 500));
            break;
        case balance::Violation::none: break;
        }
    }
    CHECK(db->list_grid_changes(result.communities.front().code).size() == 1);
}

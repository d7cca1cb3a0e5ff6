// Bootstrap on districts it has never seen, built to the shapes real extracts have: an irregular
// street boundary with a notch, OSM-like buildings (some across the boundary), census blocks of
// very different sizes given as buildings, single buildings above the band, empty land. What is
// stored must pass `validate`, hold what the report says, and every reason must be true.
#include "balance/apply.hpp"
#include "balance/bootstrap.hpp"
#include "core/error.hpp"
#include "grid/validate.hpp"
#include "support/temp_dir.hpp"
#include "synthetic.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <random>

using namespace wangge;
using test::at_m;
using test::rect_m;

namespace {

constexpr double pi = 3.14159265358979323846;

// A street of about 1.2 km across: a jagged circle of 180 vertices with a notch cut in its east.
geo::Geometry street_boundary(std::mt19937_64& rng) {
    std::uniform_real_distribution<double> jitter(0.9, 1.1);
    std::vector<LonLat> ring;
    for (int k = 0; k < 180; ++k) {
        const double a = 2 * pi * k / 180;
        double r = 600 * jitter(rng);
        if (a < 0.25 || a > 2 * pi - 0.25) r = 250; // the notch
        ring.push_back(at_m(600 + r * std::cos(a), 600 + r * std::sin(a)));
    }
    ring.push_back(ring.front());
    return geo::make_polygon({ring});
}

struct District {
    test::TempDir dir;
    std::unique_ptr<store::Database> db;
    geo::Geometry boundary;
    long households_inside = 0;
};

// Buildings: a lattice of blocks of 60 m, each block either one census block (a building as big
// as the block, 0-300 households, sizes varying with the lattice), a cluster of four OSM-like
// houses (0-90 households each), or empty; a few towers above the band.
void fill(District& d, std::mt19937_64& rng) {
    d.db = store::Database::open(d.dir / "d.sqlite", store::OpenMode::create);
    std::uniform_int_distribution<int> kind(0, 9), block_households(0, 300), house_households(0, 90);
    store::Transaction tx(*d.db);
    std::int64_t id = 0;
    auto add = [&](geo::Geometry g, int households) {
        store::BuildingRow b;
        b.id = ++id;
        b.source_id = "b" + std::to_string(id);
        b.use = "residential";
        b.households = households;
        b.geom = std::move(g);
        d.db->insert_building(b);
    };
    const double widths[] = {20, 90, 35, 70, 25, 110};
    double y = 0;
    for (int r = 0; y < 1200; ++r) {
        const double h = widths[(r * 5 + 1) % 6];
        double x = 0;
        for (int c = 0; x < 1200; ++c) {
            const double w = widths[(c * 7 + r) % 6];
            const int k = kind(rng);
            if (k <= 3) {
                add(rect_m(x, y, x + w, y + h), block_households(rng));
            } else if (k <= 7) {
                for (int q = 0; q < 4; ++q) {
                    const double qx = x + (q % 2) * w / 2, qy = y + (q / 2) * h / 2;
                    add(rect_m(qx + 2, qy + 2, qx + w / 2 - 2, qy + h / 2 - 2), house_households(rng));
                }
            } else if (k == 8 && c % 5 == 0) {
                add(rect_m(x + 3, y + 3, x + w - 3, y + h - 3), 520 + block_households(rng));
            } // else empty land
            x += w;
        }
        y += h;
    }
    tx.commit();
}

} // namespace

TEST_CASE("bootstrap: irregular streets of census blocks and houses validate, hold what is reported",
          "[balance][bootstrap]") {
    for (const std::uint64_t seed : {1u, 2u, 3u}) {
        INFO("seed " << seed);
        std::mt19937_64 rng(seed);
        District d;
        d.boundary = street_boundary(rng);
        fill(d, rng);
        const auto before = grid::Snapshot::load(*d.db);
        balance::BootstrapInput in;
        in.street_code = "320102003";
        in.street_name = "合成街道";
        in.boundary = d.boundary.clone();
        for (const auto& b : before->buildings()) in.buildings.push_back(&b.row);
        balance::BootstrapOptions o;
        o.seed = seed;
        const balance::BootstrapResult result = balance::bootstrap_street(in, o);
        REQUIRE(result.grids.size() >= 10);
        balance::write_bootstrap(*d.db, result);

        const auto after = grid::Snapshot::load(*d.db);
        const grid::ValidationReport report = grid::validate(*after);
        std::string messages;
        for (const grid::Finding& f : report.findings) messages += f.message + "\n";
        INFO(messages);
        CHECK(report.ok());

        std::map<std::string, std::vector<int>> held; // households of each building with some, by grid
        for (const auto& b : after->buildings())
            if (b.row.grid_code && b.row.households > 0) held[*b.row.grid_code].push_back(b.row.households);
        long total = 0;
        int flagged = 0;
        for (std::size_t i = 0; i < result.grids.size(); ++i) {
            const grid::GridArea* g = after->find_grid(result.grids[i].code);
            REQUIRE(g);
            INFO("grid " << g->code << " " << result.grid_households[i] << ": " << result.grid_explanations[i]);
            CHECK(g->stats.households == result.grid_households[i]);
            total += g->stats.households;
            const auto& h = held[g->code];
            bool touches_sibling = false;
            for (const grid::GridArea& other : after->grids())
                if (&other != g && other.parent_code == g->parent_code &&
                    geo::shared_boundary_m(other.geom, g->geom) >= 0.5)
                    touches_sibling = true;
            if (g->stats.households == 0) CHECK_FALSE(touches_sibling); // empty land joins a neighbour
            switch (result.grid_violations[i]) {
            case balance::Violation::none: CHECK((g->stats.households >= 250 && g->stats.households <= 500)); break;
            case balance::Violation::atom_above_max:
                REQUIRE(h.size() == 1);
                CHECK(h.front() > 500);
                CHECK(result.grid_explanations[i].find(std::to_string(h.front())) != std::string::npos);
                break;
            case balance::Violation::part_below_min:
                CHECK(g->stats.households < 250);
                CHECK_FALSE(touches_sibling);
                break;
            case balance::Violation::area_below_min: CHECK(g->stats.households < 250); break;
            case balance::Violation::infeasible_split:
                CHECK((g->stats.households < 250 || g->stats.households > 500));
                CHECK(result.grid_explanations[i].find(std::to_string(g->stats.households)) != std::string::npos);
                break;
            }
            flagged += result.grid_violations[i] != balance::Violation::none ? 1 : 0;
        }
        long communities_total = 0;
        for (int h : result.community_households) communities_total += h;
        CHECK(communities_total == total);
        CHECK(total == after->total_households() - [&] {
                  long outside = 0; // buildings left in no grid (standing outside the street)
                  for (const auto& b : after->buildings()) outside += b.row.grid_code ? 0 : b.row.households;
                  return outside;
              }());
        // The history of each community records what was stored.
        for (const auto& c : result.communities) {
            const auto changes = d.db->list_grid_changes(c.code);
            REQUIRE(changes.size() == 1);
            const nlohmann::json summary = nlohmann::json::parse(changes.front().summary_json);
            INFO(summary.dump());
            int grids = 0, in_band = 0;
            for (std::size_t i = 0; i < result.grids.size(); ++i)
                if (result.grids[i].community_code == c.code) {
                    ++grids;
                    in_band += result.grid_violations[i] == balance::Violation::none ? 1 : 0;
                }
            CHECK(summary.at("grids_after") == grids);
            CHECK(summary.at("in_band_after") == in_band);
        }
        CHECK(flagged * 4 <= static_cast<int>(result.grids.size()));
    }
}

namespace {
void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}
} // namespace

TEST_CASE("code lists: the published layout, any file names, columns by header, clear errors", "[balance][bootstrap]") {
    test::TempDir dir;
    SECTION("china-division: streets.csv, villages.csv, areas.csv") {
        write(dir / "areas.csv", "code,name,cityCode,provinceCode\n320102,玄武区,3201,32\n");
        write(dir / "streets.csv",
              "code,name,areaCode,cityCode,provinceCode\n320102002,梅园新村街道,320102,3201,32\n"
              "320102003,新街口街道办事处,320102,3201,32\n");
        write(dir / "villages.csv",
              "code,name,streetCode,areaCode,cityCode,provinceCode\n"
              "320102003002,\"洪武北路社区居委会\",320102003,320102,3201,32\n"
              "320102003001,\"估衣廊社区居委会\",320102003,320102,3201,32\n"
              "320102002001,梅园新村社区居委会,320102002,320102,3201,32\n");
        const auto list = balance::read_code_list(dir.path(), "320102003");
        CHECK(list.street_name == "新街口街道");
        REQUIRE(list.communities.size() == 2);
        CHECK(list.communities[0] == std::pair<std::string, std::string>{"320102003001", "估衣廊社区"});
        CHECK(list.communities[1] == std::pair<std::string, std::string>{"320102003002", "洪武北路社区"});
    }
    SECTION("columns in another order, a byte order mark, quotes and CRLF") {
        write(dir / "my list.csv", "\xEF\xBB\xBFname,streetCode,code\r\n\"大行宫社区\",320102003,320102003009\r\n"
                                  "\"a \"\"quoted\"\" name, with a comma\",320102003,320102003010\r\n");
        const auto list = balance::read_code_list(dir.path(), "320102003");
        CHECK(list.street_name.empty());
        REQUIRE(list.communities.size() == 2);
        CHECK(list.communities[0].second == "大行宫社区");
        CHECK(list.communities[1].second == "a \"quoted\" name, with a comma");
    }
    SECTION("a street not listed: the message names each file and what it held") {
        write(dir / "streets.csv", "code,name,areaCode\n320102002,梅园新村街道,320102\n");
        write(dir / "notes.csv", "id,text\n1,nothing\n");
        try {
            (void)balance::read_code_list(dir.path(), "320106001");
            FAIL("no error");
        } catch (const Error& e) {
            const std::string m = e.what();
            INFO(m);
            CHECK(e.code() == "unknown_code");
            CHECK(m.find("streets.csv: 1 streets (9 digits), 0 communities (12 digits), 0 in county 320106") != std::string::npos);
            CHECK(m.find("notes.csv: not read (no columns code and name in its header)") != std::string::npos);
        }
    }
}

// Imports of the real OpenStreetMap extract of central Nanjing in ../shared/data (see its
// README): the GeoJSON buildings and roads, and the raw .osm file through GDAL's OSM driver.
#include "ingest/importer.hpp"

#include "support/temp_dir.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

using namespace wangge;
using ingest::Target;

namespace {

std::filesystem::path nanjing(const char* name) { return test::shared_data_dir / "nanjing-central" / name; }

struct Store {
    test::TempDir dir;
    std::unique_ptr<store::Database> db = store::Database::open(dir / "wangge.sqlite", store::OpenMode::create);

    ingest::ImportReport run(Target target, const std::filesystem::path& path) {
        ingest::ImportOptions o;
        o.target = target;
        o.path = path;
        return ingest::import_file(*db, o);
    }
};

void print_report(const char* what, const ingest::ImportReport& r) {
    std::printf("%s: read %zu, stored %zu, repaired %zu, skipped %zu, estimated %zu, households %ld\n", what, r.read,
                r.stored, r.repaired, r.skipped, r.estimated, r.households_total);
    for (const auto& issue : r.issues) {
        std::printf("  %s feature %zu (id %s): %s\n", issue.skipped ? "skipped" : "repaired", issue.index,
                    issue.id.c_str(), issue.reason.c_str());
    }
}

// The estimator's formula, written out again as the test's oracle:
//     households = round(footprint_m2 x levels x usable_ratio / dwelling_m2)
// with levels from the levels tag, else height / storey height, else the use's default; no
// households for non-residential uses and names.
struct Oracle {
    grid::EstimatorConfig config = grid::EstimatorConfig::defaults();

    // Levels known from the building's own tags, if any.
    std::optional<int> tagged_levels(const store::BuildingRow& b) const {
        if (b.floors) return std::min(*b.floors, config.max_levels);
        if (b.height_m)
            return std::min(std::max(1, static_cast<int>(std::lround(*b.height_m / config.storey_height_m))),
                            config.max_levels);
        return std::nullopt;
    }
    int levels(const store::BuildingRow& b) const {
        if (auto tagged = tagged_levels(b)) return *tagged;
        auto it = config.default_levels_by_use.find(b.use);
        return it != config.default_levels_by_use.end() ? it->second : config.default_levels;
    }
    bool named_non_residential(const store::BuildingRow& b) const {
        for (const auto& k : config.non_residential_name_keywords)
            if (b.name.find(k) != std::string::npos) return true;
        return false;
    }
    bool holds_households(const store::BuildingRow& b) const {
        return !config.non_residential_uses.contains(b.use) && !named_non_residential(b) &&
               geo::area_m2(b.geom) >= config.min_footprint_m2;
    }
    double per_level(const store::BuildingRow& b) const {
        return geo::area_m2(b.geom) * config.usable_ratio / config.dwelling_m2;
    }
    int households(const store::BuildingRow& b) const {
        return holds_households(b) ? static_cast<int>(std::lround(per_level(b) * levels(b))) : 0;
    }
};

std::map<std::string, store::BuildingRow> by_source_id(store::Database& db) {
    std::map<std::string, store::BuildingRow> out;
    for (auto& b : db.load_buildings()) out.emplace(b.source_id, std::move(b));
    return out;
}

} // namespace

TEST_CASE("Nanjing buildings.geojson: every footprint stored and households estimated") {
    if (!test::shared_data_available()) return;
    Store s;
    auto report = s.run(Target::buildings, nanjing("buildings.geojson"));
    print_report("buildings.geojson", report);
    CHECK(report.read == 1277);
    // Measured: all 1,277 footprints are valid polygons, so none is skipped or repaired.
    CHECK(report.stored == 1277);
    CHECK(report.skipped == 0);
    CHECK(report.repaired == 0);
    CHECK(s.db->building_count() == 1277);
    // The file has no household counts: every building is estimated.
    CHECK(report.estimated == 1277);

    const Oracle oracle;
    auto buildings = by_source_id(*s.db);
    REQUIRE(buildings.size() == 1277); // osm_id or osm_way_id: unique per building

    // A real building with building:levels=8 (OSM way 187714513, building=yes).
    const auto& tagged = buildings.at("187714513");
    CHECK(tagged.floors == 8);
    CHECK(tagged.use == "yes");
    CHECK(tagged.households_estimated);
    CHECK(tagged.households > 0);
    CHECK(tagged.households ==
          std::lround(geo::area_m2(tagged.geom) * 8 * oracle.config.usable_ratio / oracle.config.dwelling_m2));

    std::size_t with_levels = 0, non_residential = 0;
    long total = 0;
    double low = 0, high = 0; // bounds of the total, from the formula
    int min_default = oracle.config.default_levels, max_default = oracle.config.default_levels;
    for (const auto& [use, levels] : oracle.config.default_levels_by_use) {
        min_default = std::min(min_default, levels);
        max_default = std::max(max_default, levels);
    }
    for (const auto& [id, b] : buildings) {
        CHECK(b.households_estimated);
        CHECK(b.households == oracle.households(b));
        if (b.floors) ++with_levels;
        if (oracle.config.non_residential_uses.contains(b.use)) {
            ++non_residential;
            CHECK(b.households == 0);
        }
        total += b.households;
        if (!oracle.holds_households(b)) continue;
        // A building's levels are its tags' when it has them, else some use default, so its
        // households lie between those of the smallest and the largest default.
        auto tagged_levels = oracle.tagged_levels(b);
        low += oracle.per_level(b) * tagged_levels.value_or(min_default) - 0.5;
        high += oracle.per_level(b) * tagged_levels.value_or(max_default) + 0.5;
    }
    std::printf("households: total %ld, bounds from the formula [%.0f, %.0f]; %zu buildings with levels, "
                "%zu non-residential\n",
                total, low, high, with_levels, non_residential);
    CHECK(report.households_total == total);
    CHECK(with_levels == 131); // the README: levels known for about 10%
    CHECK(non_residential ==
          49 + 33 + 25 + 7 + 5 + 4 + 4 + 1); // school office commercial hotel university retail hospital civic
    CHECK(total >= low);
    CHECK(total <= high);

    // Public buildings named as such hold no households, whatever their building tag says: the
    // library (南京图书馆, estimated at 1,929 households when names were not read), the museums,
    // the gymnasium, the great hall, the art galleries.
    std::size_t public_named = 0;
    for (const auto& [id, b] : buildings)
        for (const char* word : {"图书馆", "博物馆", "体育馆", "会堂", "美术馆"})
            if (b.name.find(word) != std::string::npos) {
                INFO(b.name);
                CHECK(b.households == 0);
                ++public_named;
                break;
            }
    CHECK(public_named >= 8);
}

TEST_CASE("Nanjing roads.geojson") {
    if (!test::shared_data_available()) return;
    Store s;
    auto report = s.run(Target::roads, nanjing("roads.geojson"));
    print_report("roads.geojson", report);
    CHECK(report.read == 383);
    CHECK(report.stored == 383);
    CHECK(s.db->road_count() == 383);
    std::map<std::string, int> kinds;
    for (const auto& r : s.db->load_roads()) ++kinds[r.kind];
    CHECK(kinds["footway"] == 118); // kind falls back to the highway column
    CHECK(kinds["primary"] == 23);
    CHECK(kinds[""] == 0);
}

TEST_CASE("Nanjing .osm through the OSM driver agrees with the GeoJSON extract") {
    if (!test::shared_data_available()) return;
    Store from_osm, from_geojson;
    auto report = from_osm.run(Target::buildings, nanjing("nanjing_central.osm"));
    print_report("nanjing_central.osm buildings (multipolygons with a building tag)", report);
    from_geojson.run(Target::buildings, nanjing("buildings.geojson"));
    CHECK(report.stored > 1000);

    // buildings.geojson was cut from this very file by GDAL's OSM driver: the 1,270 buildings
    // mapped as closed ways must match one to one. The 7 mapped as multipolygon relations are
    // assembled by the driver's relation builder, which may differ between GDAL versions, so
    // the counts may differ by at most those 7 (measured with GDAL 3.6: by none).
    auto osm = by_source_id(*from_osm.db);
    auto geojson = by_source_id(*from_geojson.db);
    const long difference = static_cast<long>(osm.size()) - static_cast<long>(geojson.size());
    std::printf("buildings: %zu from .osm, %zu from GeoJSON\n", osm.size(), geojson.size());
    CHECK(std::abs(difference) <= 7);
    std::size_t common = 0;
    for (const auto& [id, b] : geojson) {
        auto it = osm.find(id);
        if (it == osm.end()) continue;
        ++common;
        // Levels and heights come from other_tags in the .osm and from columns in the GeoJSON.
        CHECK(it->second.floors == b.floors);
        CHECK(it->second.height_m == b.height_m);
        CHECK(it->second.use == b.use);
        CHECK(it->second.households == b.households);
    }
    CHECK(common >= 1270);

    auto roads = from_osm.run(Target::roads, nanjing("nanjing_central.osm"));
    print_report("nanjing_central.osm roads (lines with a highway tag)", roads);
    CHECK(roads.stored == 383); // roads.geojson holds the same highway lines
}

// The demo district against the domain rules: determinism, household bands, codes, exact
// tiling of grids in communities and communities in streets, buildings in their grids.
#include "demo/generator.hpp"

#include "core/codes.hpp"
#include "core/error.hpp"
#include "district_rows.hpp"
#include "geo/geometry.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <set>

using namespace wangge;
using test::dump;
using test::hex;
using test::households_by_grid;

namespace {

// Default options under a few seeds, generated once per seed.
const demo::DemoDistrict& district(std::uint64_t seed) {
    static std::map<std::uint64_t, demo::DemoDistrict> cache;
    auto it = cache.find(seed);
    if (it == cache.end())
        it = cache.emplace(seed, demo::generate_demo(demo::DemoOptions{.seed = seed})).first;
    return it->second;
}

// The rules must hold whatever the seed: the default one and two others.
const std::vector<std::uint64_t> seeds{20240601, 7, 123456789};

std::map<std::string, long> households_by_community(const demo::DemoDistrict& d) {
    std::map<std::string, long> out;
    for (const auto& [grid, households] : households_by_grid(d))
        out[parent_code(Level::grid, grid)] += households;
    return out;
}

// Children tile their parent: areas add up, their union is the parent, and no two overlap.
void check_tiling(const geo::Geometry& parent, const std::vector<const geo::Geometry*>& children) {
    double sum = 0;
    for (const geo::Geometry* c : children) sum += geo::area_m2(*c);
    double whole = geo::area_m2(parent);
    CHECK(sum == Approx(whole).epsilon(1e-4));
    geo::Geometry merged = geo::union_all(children);
    CHECK(geo::area_m2(geo::difference(parent, merged)) < 1.0);
    CHECK(geo::area_m2(geo::difference(merged, parent)) < 1.0);
    for (std::size_t i = 0; i < children.size(); ++i)
        for (std::size_t j = i + 1; j < children.size(); ++j)
            CHECK(geo::area_m2(geo::intersection(*children[i], *children[j])) < 0.01);
}

std::string sequence(int n) {
    std::string s = std::to_string(n);
    return std::string(3 - s.size(), '0') + s;
}

// The last three digits of the codes under each parent are 001, 002, ... without gaps.
void check_sequences(const std::map<std::string, std::set<std::string>>& children) {
    for (const auto& [parent, codes] : children) {
        INFO(parent);
        int expected = 1;
        for (const std::string& code : codes) CHECK(code == parent + sequence(expected++));
    }
}

// The rings of a little-endian WKB MultiPolygon, as written by GEOS.
std::vector<std::vector<LonLat>> rings_of(const geo::Geometry& g) {
    std::vector<unsigned char> wkb = geo::to_wkb(g);
    std::size_t at = 0;
    auto u32 = [&] {
        std::uint32_t v = 0;
        std::memcpy(&v, wkb.data() + at, 4);
        at += 4;
        return v;
    };
    auto f64 = [&] {
        double v = 0;
        std::memcpy(&v, wkb.data() + at, 8);
        at += 8;
        return v;
    };
    REQUIRE(wkb.at(0) == 1);
    at = 5;
    std::vector<std::vector<LonLat>> rings;
    for (std::uint32_t p = u32(), i = 0; i < p; ++i) {
        at += 5; // byte order and type of the polygon
        for (std::uint32_t r = u32(), j = 0; j < r; ++j) {
            rings.emplace_back();
            for (std::uint32_t n = u32(), k = 0; k < n; ++k) {
                double lon = f64();
                rings.back().push_back({lon, f64()});
            }
        }
    }
    return rings;
}

// A box grown by `metres` on every side (the scale at 32°N is close enough for a clearance).
BBox grown(const BBox& b, double metres) {
    double dlat = metres / 110900.0, dlon = metres / 94500.0;
    return {b.min_lon - dlon, b.min_lat - dlat, b.max_lon + dlon, b.max_lat + dlat};
}

// The westmost point of the northmost strip of a polygon: its north-west corner.
LonLat north_west_corner(const geo::Geometry& g) {
    BBox b = g.bbox();
    BBox strip{b.min_lon, b.max_lat - 1e-6, b.max_lon, b.max_lat};
    return {geo::intersection(g, geo::make_rectangle(strip)).bbox().min_lon, b.max_lat};
}

bool numbered_north_west_first(const geo::Geometry& first, const geo::Geometry& second) {
    LonLat a = north_west_corner(first), b = north_west_corner(second);
    return a.lat > b.lat || (a.lat == b.lat && a.lon < b.lon);
}

} // namespace

TEST_CASE("the same options give the same district, byte for byte") {
    demo::DemoOptions options;
    options.households = 12000;
    options.seed = 99;
    std::vector<std::string> a = dump(demo::generate_demo(options));
    std::vector<std::string> b = dump(demo::generate_demo(options));
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("row " << i);
        REQUIRE(a[i] == b[i]);
    }
}

TEST_CASE("another seed gives another district") {
    demo::DemoOptions options;
    options.households = 12000;
    options.seed = 99;
    std::vector<std::string> a = dump(demo::generate_demo(options));
    options.seed = 100;
    std::vector<std::string> b = dump(demo::generate_demo(options));
    CHECK(a != b);
    demo::DemoDistrict other = demo::generate_demo(options);
    demo::DemoDistrict first = demo::generate_demo(demo::DemoOptions{.seed = 99, .households = 12000});
    CHECK(hex(other.buildings.front().geom) != hex(first.buildings.front().geom));
}

TEST_CASE("households add up to the request and fall in the grid and community bands") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    long total = 0;
    for (const auto& b : d.buildings) total += b.households;
    CHECK(std::abs(total - 60000) <= 1200);

    std::map<std::string, long> by_grid = households_by_grid(d);
    for (const auto& g : d.grids) {
        long households = by_grid.at(g.code);
        INFO(g.code << " " << g.name);
        if (g.kind == store::GridKind::residential) {
            CHECK(households >= 250);
            CHECK(households <= 500);
        } else {
            CHECK(households == 0);
        }
    }
    std::map<std::string, long> communities = households_by_community(d);
    CHECK(d.streets.size() >= 2);
    CHECK(d.communities.size() >= 10);
    REQUIRE(communities.size() == d.communities.size());
    for (const auto& [code, households] : communities) {
        INFO(code);
        CHECK(households >= 2000);
        CHECK(households <= 3000);
    }
}

TEST_CASE("the number of communities and streets scales with the households") {
    demo::DemoDistrict small = demo::generate_demo(demo::DemoOptions{.households = 5000});
    CHECK(small.communities.size() == 2);
    CHECK(small.streets.size() == 2);
    demo::DemoDistrict large = demo::generate_demo(demo::DemoOptions{.households = 300000});
    CHECK(large.communities.size() == 120);
    CHECK(large.streets.size() == 11);
    long total = 0;
    for (const auto& b : large.buildings) total += b.households;
    CHECK(std::abs(total - 300000) <= 6000);
}

TEST_CASE("codes are well formed, unique and nested in their parents") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    std::set<std::string> streets, communities, grids;
    std::map<std::string, std::set<std::string>> children;
    for (const auto& s : d.streets) {
        CHECK_NOTHROW(require_code(Level::street, s.code));
        CHECK(s.code.substr(0, 6) == "320199");
        CHECK(s.name.ends_with("街道"));
        CHECK(streets.insert(s.code).second);
        children["320199"].insert(s.code);
    }
    for (const auto& c : d.communities) {
        CHECK_NOTHROW(require_code(Level::community, c.code));
        CHECK(parent_code(Level::community, c.code) == c.street_code);
        CHECK(streets.count(c.street_code) == 1);
        CHECK(c.name.ends_with("社区"));
        CHECK(communities.insert(c.code).second);
        children[c.street_code].insert(c.code);
    }
    for (const auto& g : d.grids) {
        CHECK_NOTHROW(require_code(Level::grid, g.code));
        CHECK(parent_code(Level::grid, g.code) == g.community_code);
        CHECK(communities.count(g.community_code) == 1);
        CHECK(g.name.ends_with(g.kind == store::GridKind::unit ? "单位网格" : "网格"));
        CHECK(grids.insert(g.code).second);
        children[g.community_code].insert(g.code);
    }
    check_sequences(children);
}

TEST_CASE("grids tile their community and communities tile their street exactly") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    for (const auto& c : d.communities) {
        INFO(c.code);
        std::vector<const geo::Geometry*> grids;
        for (const auto& g : d.grids)
            if (g.community_code == c.code) grids.push_back(&g.geom);
        REQUIRE(grids.size() >= 5);
        check_tiling(c.geom, grids);
    }
    for (const auto& s : d.streets) {
        INFO(s.code);
        std::vector<const geo::Geometry*> communities;
        for (const auto& c : d.communities)
            if (c.street_code == s.code) communities.push_back(&c.geom);
        check_tiling(s.geom, communities);
    }
    std::vector<const geo::Geometry*> streets;
    for (const auto& s : d.streets) streets.push_back(&s.geom);
    for (std::size_t i = 0; i < streets.size(); ++i)
        for (std::size_t j = i + 1; j < streets.size(); ++j)
            CHECK(geo::area_m2(geo::intersection(*streets[i], *streets[j])) < 0.01);
}

TEST_CASE("every grid, community and street is one valid polygon of plausible size") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    for (const auto& g : d.grids) {
        INFO(g.code);
        CHECK(g.geom.type() == geo::GeometryType::multi_polygon);
        CHECK(geo::polygon_count(g.geom) == 1);
        CHECK(geo::invalid_reason(g.geom).empty());
        double area = geo::area_m2(g.geom);
        CHECK(area > 5000.0); // a few blocks of ~100 m
        CHECK(area < 200000.0);
    }
    for (const auto& c : d.communities) {
        CHECK(geo::polygon_count(c.geom) == 1);
        double area = geo::area_m2(c.geom);
        CHECK(area > 500.0 * 500.0 * 0.95);
        CHECK(area < 780.0 * 760.0 * 1.05);
    }
    for (const auto& s : d.streets) CHECK(geo::polygon_count(s.geom) == 1);
}

TEST_CASE("neighbouring polygons share every vertex: no vertex lies inside another's edge") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    std::vector<std::vector<LonLat>> rings;
    auto take = [&](const geo::Geometry& g) {
        for (auto& r : rings_of(g)) rings.push_back(std::move(r));
    };
    for (const auto& g : d.grids) take(g.geom);
    for (const auto& c : d.communities) take(c.geom);
    for (const auto& s : d.streets) take(s.geom);
    // Every edge is axis-parallel; index the vertices by the line they lie on.
    std::map<double, std::set<double>> on_parallel, on_meridian;
    for (const auto& ring : rings)
        for (LonLat p : ring) {
            on_parallel[p.lat].insert(p.lon);
            on_meridian[p.lon].insert(p.lat);
        }
    std::size_t t_junctions = 0, slanted = 0;
    auto strictly_between = [](const std::set<double>& values, double a, double b) {
        auto it = values.upper_bound(std::min(a, b));
        return it != values.end() && *it < std::max(a, b);
    };
    for (const auto& ring : rings)
        for (std::size_t i = 0; i + 1 < ring.size(); ++i) {
            LonLat a = ring[i], b = ring[i + 1];
            if (a.lat == b.lat)
                t_junctions += strictly_between(on_parallel[a.lat], a.lon, b.lon);
            else if (a.lon == b.lon)
                t_junctions += strictly_between(on_meridian[a.lon], a.lat, b.lat);
            else
                ++slanted;
        }
    CHECK(slanted == 0);
    CHECK(t_junctions == 0);
}

TEST_CASE("every building stands inside its grid, apart from the others and off the roads") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    std::map<std::string, const store::GridRow*> grids;
    for (const auto& g : d.grids) grids[g.code] = &g;
    std::map<std::string, std::vector<BBox>> boxes;
    for (const auto& b : d.buildings) {
        INFO(b.name);
        REQUIRE(b.grid_code.has_value());
        REQUIRE(grids.count(*b.grid_code) == 1);
        CHECK_FALSE(b.households_estimated);
        CHECK(geo::area_m2(geo::difference(b.geom, grids.at(*b.grid_code)->geom)) < 1e-6);
        boxes[*b.grid_code].push_back(b.geom.bbox());
    }
    for (const auto& [grid, list] : boxes)
        for (std::size_t i = 0; i < list.size(); ++i)
            for (std::size_t j = i + 1; j < list.size(); ++j) {
                INFO(grid);
                CHECK_FALSE(list[i].intersects(list[j]));
            }
    // Buildings keep clear of road centre lines: 15 m from arterials (half their width and a
    // green strip), 8 m from local roads.
    geo::SpatialIndex roads;
    for (std::size_t i = 0; i < d.roads.size(); ++i)
        roads.insert(d.roads[i].geom, static_cast<std::uint32_t>(i));
    roads.finish();
    std::size_t too_close = 0;
    for (const auto& b : d.buildings)
        for (double clearance_m : {8.0, 15.0}) {
            geo::Geometry zone = geo::make_rectangle(grown(b.geom.bbox(), clearance_m));
            roads.query(zone, [&](std::uint32_t i) {
                bool arterial = d.roads[i].kind != "residential";
                if ((clearance_m > 8.0) == arterial) too_close += geo::intersects(zone, d.roads[i].geom);
            });
        }
    CHECK(too_close == 0);
}

TEST_CASE("buildings look like Chinese housing: towers, walk-ups and sites") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    std::size_t towers = 0, walk_ups = 0;
    std::set<std::string> uses;
    for (const auto& b : d.buildings) {
        INFO(b.name << " " << b.address);
        uses.insert(b.use);
        CHECK(b.address.starts_with("示范区"));
        REQUIRE(b.floors.has_value());
        int floors = *b.floors;
        CHECK(b.height_m.value_or(0) > 2.5 * floors);
        if (b.use != "residential") {
            CHECK(b.households == 0);
            continue;
        }
        CHECK(b.name.ends_with("栋"));
        REQUIRE(b.households % floors == 0);
        int per_floor = b.households / floors;
        double area = geo::area_m2(b.geom);
        if (floors >= 18) {
            ++towers;
            CHECK(floors <= 33);
            CHECK(per_floor >= 2);
            CHECK(per_floor <= 6);
            CHECK(area >= 20 * 15 * 0.99);
            CHECK(area <= 35 * 20 * 1.01);
        } else {
            ++walk_ups;
            CHECK(floors >= 5);
            CHECK(floors <= 7);
            CHECK((per_floor == 4 || per_floor == 6 || per_floor == 8));
            CHECK(area >= 50 * 10 * 0.99);
            CHECK(area <= 70 * 14 * 1.01);
        }
    }
    CHECK(towers > 10);
    CHECK(walk_ups > 10);
    CHECK(uses == std::set<std::string>{"residential", "school", "hospital", "market", "office"});

    std::set<std::string> kinds;
    for (const auto& r : d.roads) {
        kinds.insert(r.kind);
        CHECK(r.geom.type() == geo::GeometryType::multi_line_string);
        CHECK_FALSE(r.name.empty());
    }
    CHECK(kinds == std::set<std::string>{"primary", "secondary", "residential"});
}

TEST_CASE("large sites are unit grids holding a school or a hospital") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    std::map<std::string, std::set<std::string>> uses;
    for (const auto& b : d.buildings) uses[*b.grid_code].insert(b.use);
    std::set<std::string> unit_uses;
    for (const auto& g : d.grids) {
        if (g.kind != store::GridKind::unit) continue;
        INFO(g.name);
        CHECK(uses[g.code].size() == 1); // one site, nothing else
        CHECK(uses[g.code].count("residential") == 0);
        unit_uses.insert(uses[g.code].begin(), uses[g.code].end());
    }
    CHECK(unit_uses.count("school") == 1);
    CHECK(unit_uses.count("hospital") == 1);
    // Markets are small: they join a residential grid.
    for (const auto& b : d.buildings)
        if (b.use == "market") CHECK(uses[*b.grid_code].count("residential") == 1);
}

TEST_CASE("codes run west to east, north to south within their parent") {
    const std::uint64_t seed = GENERATE(from_range(seeds));
    CAPTURE(seed);
    const demo::DemoDistrict& d = district(seed);
    std::map<std::string, const geo::Geometry*> grids, communities;
    for (const auto& g : d.grids) grids[g.code] = &g.geom;
    for (const auto& c : d.communities) communities[c.code] = &c.geom;
    for (const auto& c : d.communities) {
        INFO(c.code);
        for (int i = 1; grids.count(c.code + sequence(i + 1)); ++i)
            CHECK(numbered_north_west_first(*grids.at(c.code + sequence(i)),
                                            *grids.at(c.code + sequence(i + 1))));
    }
    for (const auto& s : d.streets) {
        INFO(s.code);
        for (int i = 1; communities.count(s.code + sequence(i + 1)); ++i)
            CHECK(numbered_north_west_first(*communities.at(s.code + sequence(i)),
                                            *communities.at(s.code + sequence(i + 1))));
    }
}

TEST_CASE("progress is reported for every stage up to its total") {
    std::map<std::string, std::pair<std::size_t, std::size_t>> last;
    demo::generate_demo(demo::DemoOptions{.households = 8000},
                        [&](std::string_view stage, std::size_t done, std::size_t total) {
                            last[std::string(stage)] = {done, total};
                        });
    for (const char* stage : {"communities", "grids", "buildings", "streets", "roads"}) {
        INFO(stage);
        REQUIRE(last.count(stage) == 1);
        CHECK(last[stage].first == last[stage].second);
    }
    CHECK(last["communities"].second == 3);
}

TEST_CASE("invalid options are refused with a clear message") {
    auto refuses = [](demo::DemoOptions options, const std::string& mentions) {
        try {
            demo::generate_demo(options);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::bad_request);
            CHECK(e.code() == "invalid_option");
            CHECK(std::string(e.what()).find(mentions) != std::string::npos);
        }
    };
    refuses(demo::DemoOptions{.households = 4999}, "households");
    refuses(demo::DemoOptions{.households = 20000001}, "households");
    refuses(demo::DemoOptions{.district_code = "32019"}, "district_code");
    refuses(demo::DemoOptions{.district_code = "32019a"}, "district_code");
    refuses(demo::DemoOptions{.district_code = "3201990"}, "district_code");
    refuses(demo::DemoOptions{.origin = LonLat{118.8, 95.0}}, "origin");
    CHECK_NOTHROW(demo::generate_demo(demo::DemoOptions{.households = 5000}));
}

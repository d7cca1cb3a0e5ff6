// balance_bench: grid division (balance::partition) side by side with METIS k-way with
// contiguous parts, on the same adjacency graphs and households, and against an exact MIP
// (solved by Debian's cbc) on small instances (docs/BENCHMARKS.md, "Grid division").
//
//   balance_bench [--walnut-hills FILE] [--runs R] [--seeds S] [--only partition|mip|quality]
//                 [--mip-dir DIR] [--mip-seconds S] [--cbc PATH] [--instance PREFIX]
//                 [--wangge-grids FILE] [--mip-atoms N]
//
// Instances: the 457 real census blocks of Walnut Hills (FILE, skipped when absent), seeded
// lattices and seeded irregular "building cell" graphs (Voronoi cells of random sites, a street
// every 200 m) of about 2,500 and 20,000 households. For each: Wangge and METIS are scored with
// the same balance::measure; then about 10% of the households change and the households moved
// by Wangge's repair, Wangge from scratch and METIS from scratch are compared. Small instances
// (30-40 atoms, 3-5 zones) are written as CPLEX LP files, solved exactly by cbc, and the
// solution is read back, checked and scored like the others.
//
// `--only quality` scores the grids `wangge rebalance` stored for each census tract of Walnut
// Hills (--wangge-grids, bench/balance_quality.cpp) beside METIS and the MIP on the same blocks.
//
// Output is one line per measurement, `name key=value ...`, for bench/balance.sh to parse.
#include "balance_bench.hpp"

#include "balance/graph.hpp"
#include "geo/geometry.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::balance_bench {

using Clock = std::chrono::steady_clock;

// Exits with CLI11's message and status on bad arguments or --help.
Options parse(int argc, char** argv) {
    Options o;
    CLI::App app{"Grid division against METIS and an exact MIP (bench/balance.sh)", "balance_bench"};
    app.add_option("--walnut-hills", o.walnut_hills, "Walnut Hills census blocks (GeoJSON); left out when missing");
    app.add_option("--runs", o.runs, "timed runs of each partition (median)")->capture_default_str()->check(CLI::Range(1, 1000));
    app.add_option("--seeds", o.seeds, "instances and seeds of each family")->capture_default_str()->check(CLI::Range(1, 100000));
    app.add_option("--only", o.only, "only the partition table, the MIPs or the quality table")
        ->check(CLI::IsMember({"partition", "mip", "quality"}));
    app.add_option("--mip-dir", o.mip_dir, "where the MIPs' LP, start, solution and log files go")->capture_default_str();
    app.add_option("--mip-seconds", o.mip_seconds, "cbc's limit per instance, CPU seconds")
        ->capture_default_str()
        ->check(CLI::Range(1, 86400));
    app.add_option("--cbc", o.cbc, "the cbc solver")->capture_default_str();
    app.add_option("--instance", o.instance, "only the instances whose name starts with this");
    app.add_option("--wangge-grids", o.wangge_grids,
                   "quality: CSV of grid code, community code, block id as wangge stored them");
    app.add_option("--mip-atoms", o.mip_atoms, "quality: largest tract (blocks) solved exactly")
        ->capture_default_str()
        ->check(CLI::Range(2, 200));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));
    }
    return o;
}

double milliseconds_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

// Runs `f` up to `runs` times (fewer when one run is slow) and returns the median wall time in ms.
double median_ms(int runs, const std::function<void()>& f) {
    std::vector<double> ms;
    const auto start = Clock::now();
    for (int r = 0; r < runs; ++r) {
        const auto t0 = Clock::now();
        f();
        ms.push_back(milliseconds_since(t0));
        if (r >= 2 && milliseconds_since(start) > 30000) break;
    }
    return median(ms);
}

// --- instances --------------------------------------------------------------------------------

struct Instance {
    std::string name;
    AtomGraph graph;
};

// w x h square cells of 50 m, 4-neighbour adjacency, no roads (as tests/balance/lattice.hpp).
AtomGraph lattice(int w, int h, std::uint64_t s, int lo, int hi) {
    constexpr double cell = 50;
    std::mt19937_64 rng(s);
    std::uniform_int_distribution<int> households(lo, hi);
    AtomGraph g;
    for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) {
            const int sides = (c == 0) + (c == w - 1) + (r == 0) + (r == h - 1);
            g.add_atom(households(rng), (c + 0.5) * cell, (r + 0.5) * cell, cell * cell, sides * cell);
        }
    for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c) {
            if (c + 1 < w) g.connect(r * w + c, r * w + c + 1, cell, false);
            if (r + 1 < h) g.connect(r * w + c, (r + 1) * w + c, cell, false);
        }
    return g;
}

// Building cells: `sites` random buildings in a width x height metre rectangle (in Nanjing), the
// cell of each made by balance::make_cells as grid division makes them (Voronoi, clipped to the
// area), a street every 200 m marking road edges. Households per building from `households(rng)`.
AtomGraph building_cells(int sites, double width_m, double height_m, std::uint64_t s,
                         const std::function<int(std::mt19937_64&)>& households) {
    constexpr double lon0 = 118.78, lat0 = 32.05, metres_per_degree = 111320.0;
    const double dlon = 1 / (metres_per_degree * std::cos(lat0 * 3.14159265358979323846 / 180));
    const double dlat = 1 / metres_per_degree;
    auto point = [&](double x, double y) { return LonLat{lon0 + x * dlon, lat0 + y * dlat}; };
    std::mt19937_64 rng(s);
    std::uniform_real_distribution<double> ux(0, width_m), uy(0, height_m);
    std::vector<balance::CellInput> buildings;
    for (int i = 0; i < sites; ++i) {
        const LonLat site = point(ux(rng), uy(rng));
        buildings.push_back({site, households(rng), -1, static_cast<std::size_t>(i)});
    }
    const geo::Geometry area = geo::make_rectangle(BBox{lon0, lat0, lon0 + width_m * dlon, lat0 + height_m * dlat});
    std::vector<std::vector<LonLat>> streets;
    for (double x = 200; x < width_m; x += 200) streets.push_back({point(x, 0), point(x, height_m)});
    for (double y = 200; y < height_m; y += 200) streets.push_back({point(0, y), point(width_m, y)});
    const geo::Geometry roads = geo::make_multi_line_string(streets);
    return balance::build_graph(balance::make_cells(buildings, area).shapes, &roads);
}

// Households of a Chinese residential area's buildings: 15% hold none (shops, schools, sheds),
// the others a log-normal count with median 9, at most 150.
int building_households(std::mt19937_64& rng) {
    if (std::uniform_real_distribution<double>(0, 1)(rng) < 0.15) return 0;
    const double h = std::lognormal_distribution<double>(std::log(9.0), 0.8)(rng);
    return std::clamp(static_cast<int>(std::lround(h)), 1, 150);
}

AtomGraph walnut_hills(const std::string& path) {
    return balance::build_graph(balance::read_atom_shapes(path, "HOUSEHOLDS"), nullptr);
}

// The graph restricted to `atoms` (in that order); boundaries with atoms left out become outer.
AtomGraph subgraph(const AtomGraph& g, const std::vector<int>& atoms) {
    std::vector<int> local(g.size(), -1);
    for (std::size_t i = 0; i < atoms.size(); ++i) local[at(atoms[i])] = static_cast<int>(i);
    AtomGraph s;
    for (int a : atoms) {
        double outer = g.outer_m[at(a)];
        for (const balance::Edge& e : g.adjacency[at(a)])
            if (local[at(e.to)] < 0) outer += e.length_m;
        s.add_atom(g.households[at(a)], g.x[at(a)], g.y[at(a)], g.area_m2[at(a)], outer);
    }
    for (int a : atoms)
        for (const balance::Edge& e : g.adjacency[at(a)])
            if (local[at(e.to)] > local[at(a)]) s.connect(local[at(a)], local[at(e.to)], e.length_m, e.road);
    return s;
}

// The first `n` atoms reached breadth-first from `start`, skipping atoms above band.max.
std::vector<int> neighbourhood(const AtomGraph& g, int start, std::size_t n) {
    std::vector<int> out{start};
    std::vector<char> seen(g.size(), 0);
    seen[at(start)] = 1;
    for (std::size_t i = 0; i < out.size() && out.size() < n; ++i)
        for (const balance::Edge& e : g.adjacency[at(out[i])])
            if (!seen[at(e.to)] && out.size() < n) {
                seen[at(e.to)] = 1;
                if (g.households[at(e.to)] <= band.max) out.push_back(e.to);
            }
    return out;
}

// --- scoring ----------------------------------------------------------------------------------

// What is beyond any partition's reach: atoms above band.max, and connected parts of the graph
// holding fewer than band.min households (they can join nothing).
struct Limits {
    std::vector<char> small_part; // per atom
    int components = 0;
};

Limits limits(const AtomGraph& g) {
    Limits l;
    l.small_part.assign(g.size(), 0);
    std::vector<int> comp(g.size(), -1);
    for (std::size_t s = 0; s < g.size(); ++s) {
        if (comp[s] >= 0) continue;
        std::vector<int> part{static_cast<int>(s)};
        comp[s] = l.components;
        long h = 0;
        for (std::size_t i = 0; i < part.size(); ++i) {
            h += g.households[at(part[i])];
            for (const balance::Edge& e : g.adjacency[at(part[i])])
                if (comp[at(e.to)] < 0) {
                    comp[at(e.to)] = l.components;
                    part.push_back(e.to);
                }
        }
        if (h < band.min)
            for (int a : part) l.small_part[at(a)] = 1;
        ++l.components;
    }
    return l;
}

// A partition's figures, or the sums of several (seeds), so that they pool.
struct Score {
    int partitions = 0;
    int zones = 0;
    int in_band = 0;
    int excused = 0; // out of band, and no partition could do better (see Limits)
    int empty = 0;   // zones without atoms (METIS may leave a part empty)
    int contiguous = 0;
    double pp_sum = 0;  // Polsby-Popper summed over the zones with atoms
    double inner_m = 0; // boundary between zones, counted from both sides
    double road_m = 0;  // the part of it along roads
    double in_band_pct() const { return 100.0 * in_band / std::max(1, zones); }
    // In band among the zones that can be: "all grids in band where feasible".
    double feasible_pct() const { return 100.0 * in_band / std::max(1, zones - excused); }
    double mean_pp() const { return pp_sum / std::max(1, zones - empty); }
    double cut_m() const { return inner_m / 2 / std::max(1, partitions); } // per partition
    double road_pct() const { return inner_m > 0 ? 100 * road_m / inner_m : 0; }
    Score& operator+=(const Score& o) {
        partitions += o.partitions;
        zones += o.zones;
        in_band += o.in_band;
        excused += o.excused;
        empty += o.empty;
        contiguous += o.contiguous;
        pp_sum += o.pp_sum;
        inner_m += o.inner_m;
        road_m += o.road_m;
        return *this;
    }
};

Score score(const AtomGraph& g, const Limits& l, const std::vector<int>& zone_of, int zones) {
    const auto m = balance::measure(g, zone_of, zones);
    std::vector<char> above_max(at(zones), 0), all_small(at(zones), 1);
    for (std::size_t a = 0; a < g.size(); ++a) {
        if (g.households[a] > band.max) above_max[at(zone_of[a])] = 1;
        if (!l.small_part[a]) all_small[at(zone_of[a])] = 0;
    }
    Score s;
    s.partitions = 1;
    s.zones = zones;
    for (std::size_t z = 0; z < m.size(); ++z) {
        const auto& zm = m[z];
        if (zm.atoms == 0) {
            ++s.empty;
            continue;
        }
        if (zm.households >= band.min && zm.households <= band.max) ++s.in_band;
        else if (above_max[z] || (all_small[z] && zm.households < band.min)) ++s.excused;
        s.contiguous += zm.contiguous ? 1 : 0;
        s.pp_sum += zm.polsby_popper();
        s.road_m += zm.road_boundary_m;
        s.inner_m += zm.inner_boundary_m;
    }
    return s;
}

void print_score(std::string_view name, const std::string& instance, std::string_view method, const Score& s,
                 double ms) {
    Line line{name};
    line("instance", instance)("method", method)("partitions", s.partitions)("zones", s.zones)(
        "in_band", s.in_band)("excused", s.excused)("empty", s.empty)("contiguous", s.contiguous)
        .fixed("in_band_pct", s.in_band_pct(), 1)
        .fixed("feasible_in_band_pct", s.feasible_pct(), 1)
        .fixed("mean_pp", s.mean_pp(), 3)
        .fixed("cut_m", s.cut_m(), 0)
        .fixed("road_pct", s.road_pct(), 1)
        .fixed("median_ms", ms, 2);
}

// --- METIS ------------------------------------------------------------------------------------

// METIS's balance tolerance that lets a part reach band.max when the mean part is total / k.
idx_t band_ufactor(const AtomGraph& g, int k) {
    const double mean = static_cast<double>(total_households(g)) / k;
    return std::max<idx_t>(1, static_cast<idx_t>(std::floor((band.max / mean - 1) * 1000)));
}

// METIS_PartGraphKway with contiguous parts: vertex weights are the households, edge weights
// the shared boundary in whole metres (at least 1), so the edge cut METIS minimises is the
// boundary between zones.
std::vector<int> metis(const AtomGraph& g, int k, idx_t ufactor, std::uint64_t s, bool contiguous) {
    if (k <= 1) return std::vector<int>(g.size(), 0);
    std::vector<idx_t> xadj{0}, adjncy, adjwgt, vwgt;
    for (std::size_t a = 0; a < g.size(); ++a) {
        for (const balance::Edge& e : g.adjacency[a]) {
            adjncy.push_back(e.to);
            adjwgt.push_back(std::max<idx_t>(1, static_cast<idx_t>(std::lround(e.length_m))));
        }
        xadj.push_back(static_cast<idx_t>(adjncy.size()));
        vwgt.push_back(g.households[a]);
    }
    idx_t options[METIS_NOPTIONS];
    METIS_SetDefaultOptions(options);
    options[METIS_OPTION_CONTIG] = contiguous ? 1 : 0;
    options[METIS_OPTION_UFACTOR] = ufactor;
    options[METIS_OPTION_SEED] = static_cast<idx_t>(s % 1000003);
    options[METIS_OPTION_NUMBERING] = 0;
    idx_t n = static_cast<idx_t>(g.size()), ncon = 1, parts = k, objval = 0;
    std::vector<idx_t> part(g.size(), 0);
    const int status = METIS_PartGraphKway(&n, &ncon, xadj.data(), adjncy.data(), vwgt.data(), nullptr,
                                           adjwgt.data(), &parts, nullptr, nullptr, options, &objval, part.data());
    if (status != METIS_OK) throw std::runtime_error("METIS_PartGraphKway failed with status " + std::to_string(status));
    return {part.begin(), part.end()};
}

// --- the partition benchmark ------------------------------------------------------------------

// About `share` of the households change (seeded): random atoms grow or shrink by up to 60%,
// empty ones may get new households, until the changes add up to share x total.
AtomGraph perturb(const AtomGraph& g, double share, std::uint64_t s) {
    AtomGraph out = g;
    std::mt19937_64 rng(s);
    std::vector<int> order(g.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const double mean = static_cast<double>(total_households(g)) / static_cast<double>(g.size());
    const double goal = share * static_cast<double>(total_households(g));
    double changed = 0;
    for (int a : order) {
        if (changed >= goal) break;
        const int h = g.households[at(a)];
        if (h > band.max) continue;
        const int next = h == 0 ? std::uniform_int_distribution<int>(0, static_cast<int>(2 * mean))(rng)
                                : static_cast<int>(std::lround(h * std::uniform_real_distribution<double>(0.4, 1.6)(rng)));
        out.households[at(a)] = std::min(next, band.max);
        changed += std::abs(out.households[at(a)] - h);
    }
    return out;
}

struct Family {
    std::string name;
    std::function<AtomGraph(std::uint64_t)> make; // the instance of one seed
};

// Figures of one family pooled over its seeds.
struct Pooled {
    std::map<std::string, Score> score;
    std::map<std::string, std::vector<double>> ms;
    long changed = 0, households = 0, repair_moved = 0, scratch_moved = 0, metis_moved = 0;
    int stability_seeds = 0;       // seeds whose three partitions after the change all succeeded
    double worst_repair_ratio = 0; // repair / scratch, the worst seed
    std::map<std::string, int> failures = {{"wangge", 0}, {"wangge_repair", 0}, {"wangge_after", 0}};
};

// Runs one Wangge partition (`run` times it and keeps the result). A partition that throws is
// a result too: it is counted and reported, and the seed goes on without it.
bool attempt(Pooled& pooled, std::string_view method, const std::string& instance, std::uint64_t s,
             const std::function<void()>& run) {
    try {
        run();
        return true;
    } catch (const std::exception& e) {
        std::string what = e.what();
        std::replace(what.begin(), what.end(), ' ', '_');
        Line("failure")("instance", instance + "#" + std::to_string(s))("method", method)("what", what);
        ++pooled.failures[std::string(method)];
        return false;
    }
}

void add(Pooled& pooled, std::string_view method, const std::string& instance, std::uint64_t s, const Score& score,
         double ms) {
    print_score("run", instance + "#" + std::to_string(s), method, score, ms);
    pooled.score[std::string(method)] += score;
    pooled.ms[std::string(method)].push_back(ms);
}

// One seed of a family: Wangge and METIS from scratch, then about 10% of the households change
// and today's zones (Wangge's) are repaired, divided again from scratch, and METIS's divided again.
void bench_seed(const AtomGraph& g, const std::string& name, std::uint64_t s, const Options& o, Pooled& pooled) {
    const Limits lim = limits(g);
    balance::PartitionOptions po;
    po.band = band;
    po.seed = s;
    balance::Partition p;
    double wangge_ms = 0;
    if (!attempt(pooled, "wangge", name, s, [&] { wangge_ms = median_ms(o.runs, [&] { p = balance::partition(g, po); }); }))
        return;
    add(pooled, "wangge", name, s, score(g, lim, p.zone_of, p.zones), wangge_ms);
    // METIS gets Wangge's zone count, and a tolerance up to band.max ("band") or its default of
    // 3% ("default").
    std::vector<int> metis_before;
    for (const auto& [method, ufactor] : {std::pair<const char*, idx_t>{"metis_band", band_ufactor(g, p.zones)},
                                          std::pair<const char*, idx_t>{"metis_default", 30}}) {
        std::vector<int> part;
        const double ms = median_ms(o.runs, [&] { part = metis(g, p.zones, ufactor, s); });
        add(pooled, method, name, s, score(g, lim, part, p.zones), ms);
        if (metis_before.empty()) metis_before = part;
    }

    const AtomGraph after = perturb(g, 0.10, s + 7);
    const Limits lim_after = limits(after);
    balance::PartitionOptions repair_o = po;
    repair_o.current = p.zone_of;
    balance::Partition repaired, scratch;
    double repair_ms = 0;
    const bool repair_ok = attempt(pooled, "wangge_repair", name, s, [&] {
        repair_ms = median_ms(o.runs, [&] { repaired = balance::partition(after, repair_o); });
    });
    if (!attempt(pooled, "wangge_after", name, s, [&] { scratch = balance::partition(after, po); }) || !repair_ok) return;
    const std::vector<int> metis_after = metis(after, scratch.zones, band_ufactor(after, scratch.zones), s);
    add(pooled, "wangge_repair", name, s, score(after, lim_after, repaired.zone_of, repaired.zones), repair_ms);
    add(pooled, "wangge_after", name, s, score(after, lim_after, scratch.zone_of, scratch.zones), 0);
    add(pooled, "metis_band_after", name, s, score(after, lim_after, metis_after, scratch.zones), 0);

    long changed = 0;
    for (std::size_t a = 0; a < g.size(); ++a) changed += std::abs(after.households[a] - g.households[a]);
    const long repair_moved = balance::households_moved(after, p.zone_of, repaired.zone_of, repaired.zones);
    const long scratch_moved = balance::households_moved(after, p.zone_of, scratch.zone_of, scratch.zones);
    const long metis_moved = balance::households_moved(after, metis_before, metis_after, scratch.zones);
    Line("stability_run")("instance", name + "#" + std::to_string(s))("households", total_households(g))(
        "changed", changed)("repair_moved", repair_moved)("scratch_moved", scratch_moved)("metis_moved", metis_moved);
    pooled.changed += changed;
    pooled.households += total_households(g);
    pooled.repair_moved += repair_moved;
    pooled.scratch_moved += scratch_moved;
    pooled.metis_moved += metis_moved;
    ++pooled.stability_seeds;
    if (scratch_moved > 0)
        pooled.worst_repair_ratio = std::max(pooled.worst_repair_ratio,
                                             static_cast<double>(repair_moved) / static_cast<double>(scratch_moved));
}

void bench_family(const Family& family, const Options& o) {
    Pooled pooled;
    for (int v = 0; v < o.seeds; ++v) {
        const std::uint64_t s = seed + static_cast<std::uint64_t>(v);
        const AtomGraph g = family.make(s);
        if (v == 0) {
            long edges = 0;
            int largest = 0;
            for (std::size_t a = 0; a < g.size(); ++a) {
                edges += static_cast<long>(g.adjacency[a].size());
                largest = std::max(largest, g.households[a]);
            }
            Line("instance")("instance", family.name)("atoms", g.size())("edges", edges / 2)(
                "households", total_households(g))("largest_atom", largest)("components", limits(g).components);
        }
        bench_seed(g, family.name, s, o, pooled);
    }
    for (const auto& [method, sc] : pooled.score) {
        const auto& ms = pooled.ms[method];
        print_score("partition", family.name, method, sc, median(ms));
        Line("time")("instance", family.name)("method", method).fixed("median_ms", median(ms), 2).fixed(
            "max_ms", *std::max_element(ms.begin(), ms.end()), 2);
    }
    Line("failures")("instance", family.name)("wangge", pooled.failures["wangge"])(
        "wangge_repair", pooled.failures["wangge_repair"])("wangge_after", pooled.failures["wangge_after"]);
    Line("stability")("instance", family.name)("seeds", pooled.stability_seeds)("households", pooled.households)(
        "changed", pooled.changed)
        .fixed("changed_pct", 100.0 * static_cast<double>(pooled.changed) / static_cast<double>(pooled.households), 1)(
            "repair_moved", pooled.repair_moved)("scratch_moved", pooled.scratch_moved)("metis_moved", pooled.metis_moved)
        .fixed("repair_ratio", static_cast<double>(pooled.repair_moved) / std::max(1.0, static_cast<double>(pooled.scratch_moved)), 3)
        .fixed("worst_repair_ratio", pooled.worst_repair_ratio, 3);
}

// --- the exact MIP ----------------------------------------------------------------------------


std::string x_name(std::size_t i, int k) { return "x_" + std::to_string(i) + "_" + std::to_string(k); }

// Minimise the boundary between zones over partitions of g into k contiguous zones of
// [band.min, band.max] households: x_i_k = atom i in zone k; y_e >= |x_i_k - x_j_k| marks a cut
// edge; contiguity by a single-commodity flow per zone from its root (its lowest atom), which
// sends one unit to every other atom of the zone over edges inside it; zones ordered by their
// lowest atom (no symmetric copies).
void write_lp(const AtomGraph& g, int k, const fs::path& file) {
    const std::size_t n = g.size();
    std::ofstream out(file);
    std::vector<std::pair<int, int>> edges;
    std::vector<double> length;
    for (std::size_t a = 0; a < n; ++a)
        for (const balance::Edge& e : g.adjacency[a])
            if (at(e.to) > a) {
                edges.emplace_back(static_cast<int>(a), e.to);
                length.push_back(e.length_m);
            }
    auto f = [](std::size_t i, int j, int z) {
        return "f_" + std::to_string(i) + "_" + std::to_string(j) + "_" + std::to_string(z);
    };
    auto r = [](std::size_t i, int z) { return "r_" + std::to_string(i) + "_" + std::to_string(z); };
    auto y = [](std::size_t e, int z) { return "y_" + std::to_string(e) + "_" + std::to_string(z); };
    out << "\\ Wangge grid division, exact: " << n << " atoms, " << k << " zones\nMinimize\n obj:";
    for (std::size_t e = 0; e < edges.size(); ++e)
        for (int z = 0; z < k; ++z) out << " + " << length[e] / 2 << " " << y(e, z);
    out << "\nSubject To\n";
    for (std::size_t i = 0; i < n; ++i) {
        out << " one_" << i << ":";
        for (int z = 0; z < k; ++z) out << " + " << x_name(i, z);
        out << " = 1\n";
    }
    for (int z = 0; z < k; ++z)
        for (const char* sense : {">=", "<="}) {
            out << " band_" << (sense[0] == '>' ? "lo_" : "hi_") << z << ":";
            for (std::size_t i = 0; i < n; ++i) out << " + " << g.households[i] << " " << x_name(i, z);
            out << " " << sense << " " << (sense[0] == '>' ? band.min : band.max) << "\n";
        }
    for (std::size_t e = 0; e < edges.size(); ++e)
        for (int z = 0; z < k; ++z) {
            const std::size_t i = at(edges[e].first), j = at(edges[e].second);
            out << " cut_" << e << "_" << z << "a: " << y(e, z) << " - " << x_name(i, z) << " + " << x_name(j, z) << " >= 0\n";
            out << " cut_" << e << "_" << z << "b: " << y(e, z) << " + " << x_name(i, z) << " - " << x_name(j, z) << " >= 0\n";
        }
    for (int z = 0; z < k; ++z) {
        out << " root_" << z << ":";
        for (std::size_t i = 0; i < n; ++i) out << " + " << r(i, z);
        out << " = 1\n";
        for (std::size_t i = 0; i < n; ++i) {
            out << " rin_" << i << "_" << z << ": " << r(i, z) << " - " << x_name(i, z) << " <= 0\n";
            for (std::size_t j = 0; j < i; ++j) // the root is the zone's lowest atom
                out << " rlow_" << i << "_" << j << "_" << z << ": " << r(i, z) << " + " << x_name(j, z) << " <= 1\n";
            if (z > 0) { // atom i joins zone z only if zone z-1 has a lower atom
                out << " order_" << i << "_" << z << ": " << x_name(i, z);
                for (std::size_t j = 0; j < i; ++j) out << " - " << x_name(j, z - 1);
                out << " <= 0\n";
            }
            // Flow: every atom of the zone but the root takes in one unit more than it sends.
            out << " flow_" << i << "_" << z << ":";
            for (const balance::Edge& e : g.adjacency[i]) out << " + " << f(at(e.to), static_cast<int>(i), z) << " - " << f(i, e.to, z);
            out << " - " << x_name(i, z) << " + " << n << " " << r(i, z) << " >= 0\n";
            for (const balance::Edge& e : g.adjacency[i]) {
                out << " cap_" << i << "_" << e.to << "_" << z << "a: " << f(i, e.to, z) << " - " << n - 1 << " "
                    << x_name(i, z) << " <= 0\n";
                out << " cap_" << i << "_" << e.to << "_" << z << "b: " << f(i, e.to, z) << " - " << n - 1 << " "
                    << x_name(at(e.to), z) << " <= 0\n";
            }
        }
    }
    out << "Binaries\n";
    for (std::size_t i = 0; i < n; ++i)
        for (int z = 0; z < k; ++z) out << " " << x_name(i, z) << " " << r(i, z) << "\n";
    out << "End\n";
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

// A starting solution for cbc (its `mips` file): the zones of `zone_of` numbered by their
// lowest atom, as the model orders them, each rooted at that atom.
void write_start(const std::vector<int>& zone_of, int k, const fs::path& file) {
    std::map<int, int> number;
    for (int z : zone_of) number.emplace(z, static_cast<int>(number.size()));
    std::ofstream out(file);
    out << "start\n";
    std::vector<char> rooted(at(k), 0);
    std::size_t index = 0;
    for (std::size_t i = 0; i < zone_of.size(); ++i) {
        const int zi = number.at(zone_of[i]);
        for (int z = 0; z < k; ++z) {
            const bool root = z == zi && !rooted[at(z)];
            out << index++ << " " << x_name(i, z) << " " << (z == zi ? 1 : 0) << "\n";
            out << index++ << " r_" << i << "_" << z << " " << (root ? 1 : 0) << "\n";
        }
        rooted[at(zi)] = 1;
    }
}

// Value of `key` in cbc's final report ("Lower bound:   123.4"), or NaN.
double cbc_report(const fs::path& log, std::string_view key) {
    std::ifstream in(log);
    std::string line;
    double value = std::nan("");
    while (std::getline(in, line))
        if (line.rfind(key, 0) == 0) value = std::strtod(line.c_str() + key.size(), nullptr);
    return value;
}

// Solves the model of write_lp with cbc, from `start` (a valid partition into k zones) if not empty.
MipResult solve_mip(const AtomGraph& g, int k, const std::vector<int>& start, const std::string& name,
                    const Options& o) {
    fs::create_directories(o.mip_dir);
    const fs::path lp = o.mip_dir / (name + ".lp"), sol = o.mip_dir / (name + ".sol"), log = o.mip_dir / (name + ".log");
    const fs::path mips = o.mip_dir / (name + ".start");
    write_lp(g, k, lp);
    fs::remove(sol);
    if (!start.empty()) write_start(start, k, mips);
    // cbc's limit is in CPU seconds; on a shared machine the wall time may be twice that.
    const std::string command = "timeout " + std::to_string(3 * o.mip_seconds + 60) + " " + o.cbc + " '" + lp.string() +
                                "' " + (start.empty() ? std::string() : "mips '" + mips.string() + "' ") + "sec " + std::to_string(o.mip_seconds) + " threads 1 solve solu '" + sol.string() +
                                "' > '" + log.string() + "' 2>&1";
    const auto t0 = Clock::now();
    const int rc = std::system(command.c_str());
    MipResult r;
    r.seconds = milliseconds_since(t0) / 1000;
    std::ifstream in(sol);
    std::string first;
    if (rc != 0 || !std::getline(in, first)) {
        r.status = "failed";
        return r;
    }
    const double bound = cbc_report(log, "Lower bound:");
    if (first.rfind("Optimal", 0) == 0) r.status = "optimal";
    else if (first.find("infeasible") != std::string::npos) r.status = "infeasible";
    else if (first.find("no integer solution") != std::string::npos) r.status = "no_solution";
    else r.status = "time_limit";
    r.bound = bound;
    if (r.status == "infeasible" || r.status == "no_solution") return r;
    r.objective = std::strtod(first.c_str() + first.find("objective value") + 15, nullptr);
    if (r.status == "optimal" || std::isnan(bound)) r.bound = r.objective;
    std::map<std::string, double> value;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream s(line);
        std::string index, var;
        double v = 0;
        if (s >> index >> var >> v) value[var] = v;
    }
    r.zone_of.assign(g.size(), -1);
    for (std::size_t i = 0; i < g.size(); ++i)
        for (int z = 0; z < k; ++z)
            if (value[x_name(i, z)] > 0.5) r.zone_of[i] = z;
    if (std::count(r.zone_of.begin(), r.zone_of.end(), -1) > 0) throw std::runtime_error("cbc left an atom unassigned: " + sol.string());
    return r;
}

// Never below 0 when Wangge's partition is valid: cbc starts from it or from a better one, so a
// negative gap is float noise (balance.sh marks an invalid partition's gap).
double gap_pct(double value, double best) { return best > 0 ? std::max(0.0, 100 * (value - best) / best) : 0; }

void bench_mip(const Instance& inst, const Options& o) {
    const AtomGraph& g = inst.graph;
    const Limits lim = limits(g);
    balance::PartitionOptions po;
    po.band = band;
    po.seed = seed;
    const balance::Partition p = balance::partition(g, po);
    const Score ws = score(g, lim, p.zone_of, p.zones);
    const std::vector<int> metis_zones = metis(g, p.zones, band_ufactor(g, p.zones), seed);
    const Score ms = score(g, lim, metis_zones, p.zones);
    // cbc starts from the better valid one of the two, so that its time goes into the proof.
    auto valid = [&](const Score& s) { return s.in_band == p.zones && s.contiguous == p.zones; };
    std::vector<int> start;
    if (valid(ws)) start = p.zone_of;
    if (valid(ms) && (start.empty() || ms.cut_m() < ws.cut_m())) start = metis_zones;
    const MipResult mip = solve_mip(g, p.zones, start, inst.name, o);
    Line line("mip");
    line("instance", inst.name)("atoms", g.size())("households", total_households(g))("zones", p.zones)(
        "status", mip.status).fixed("seconds", mip.seconds, 1);
    line.fixed("wangge_cut_m", ws.cut_m(), 0)("wangge_in_band", ws.in_band).fixed("wangge_mean_pp", ws.mean_pp(), 3);
    line.fixed("metis_cut_m", ms.cut_m(), 0)("metis_in_band", ms.in_band)("metis_contiguous", ms.contiguous)
        .fixed("metis_mean_pp", ms.mean_pp(), 3);
    if (mip.status == "optimal" || mip.status == "time_limit") {
        // The solver's answer is checked like any partition before it counts.
        const Score xs = score(g, lim, mip.zone_of, p.zones);
        if (xs.in_band != p.zones || xs.contiguous != p.zones || std::abs(xs.cut_m() - mip.objective) > 1)
            throw std::runtime_error("the MIP solution of " + inst.name + " is not a valid partition");
        line.fixed("mip_cut_m", mip.objective, 0).fixed("mip_bound_m", mip.bound, 0).fixed("mip_mean_pp", xs.mean_pp(), 3);
        line.fixed("wangge_gap_pct", gap_pct(ws.cut_m(), mip.objective), 1)
            .fixed("wangge_gap_to_bound_pct", gap_pct(ws.cut_m(), mip.bound), 1)
            .fixed("metis_gap_pct", gap_pct(ms.cut_m(), mip.objective), 1);
    }
}

std::vector<Instance> mip_instances(const AtomGraph* walnut) {
    auto uniform = [](int lo, int hi) {
        return [lo, hi](std::mt19937_64& rng) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    };
    std::vector<Instance> out;
    out.push_back({"lattice_5x6", lattice(5, 6, seed + 11, 15, 65)});
    out.push_back({"cells_30", building_cells(30, 400, 400, seed + 15, uniform(10, 70))});
    out.push_back({"cells_36", building_cells(36, 450, 400, seed + 14, uniform(10, 70))});
    out.push_back({"cells_30_5z", building_cells(30, 450, 400, seed + 16, uniform(45, 80))});
    if (walnut) {
        // Pieces of Walnut Hills: the blocks breadth-first from a start, the first start (every
        // 23rd block, from the first and from the second half of the list) whose piece has the
        // households of 3 to 5 zones.
        for (const auto& [n, from] : {std::pair<std::size_t, std::size_t>{30, 0}, {40, walnut->size() / 2}}) {
            for (std::size_t start = from; start < walnut->size(); start += 23) {
                AtomGraph piece = subgraph(*walnut, neighbourhood(*walnut, static_cast<int>(start), n));
                const long h = total_households(piece);
                if (piece.size() != n || h < 3 * 375 - 180 || h > 5 * 375 + 180) continue;
                out.push_back({"walnut_" + std::to_string(n) + "_from_" + std::to_string(start), std::move(piece)});
                break;
            }
        }
    }
    return out;
}

} // namespace wangge::balance_bench

int main(int argc, char** argv) try {
    using namespace wangge::balance_bench;
    const Options o = parse(argc, argv);
    std::optional<AtomGraph> walnut;
    if (!o.walnut_hills.empty() && fs::exists(o.walnut_hills)) walnut = walnut_hills(o.walnut_hills);
    else Line("skip")("instance", "walnut_hills")("reason", "no_file");

    if (o.only.empty() || o.only == "partition") {
        std::vector<Family> families;
        if (walnut) families.push_back({"walnut_hills", [&](std::uint64_t) { return *walnut; }});
        families.push_back({"lattice_2500", [](std::uint64_t s) { return lattice(20, 20, s + 1, 0, 12); }});
        families.push_back({"cells_2500", [](std::uint64_t s) {
                                return building_cells(240, 600, 500, s + 2, building_households);
                            }});
        families.push_back({"cells_20000", [](std::uint64_t s) {
                                return building_cells(1920, 1700, 1400, s + 3, building_households);
                            }});
        for (const Family& family : families)
            if (family.name.rfind(o.instance, 0) == 0) bench_family(family, o);
    }
    if (o.only.empty() || o.only == "mip")
        for (const Instance& inst : mip_instances(walnut ? &*walnut : nullptr))
            if (inst.name.rfind(o.instance, 0) == 0) bench_mip(inst, o);
    if (o.only == "quality") {
        if (!walnut) throw std::runtime_error("the quality table needs the Walnut Hills blocks (--walnut-hills)");
        bench_quality(*walnut, o);
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "balance_bench: %s\n", e.what());
    return 1;
}

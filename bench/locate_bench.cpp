// locate_bench: throughput of grid::Snapshot::locate in process, validated before it is timed.
//
//   locate_bench DB.sqlite [--points N] [--seed S] [--threads T] [--validate K]
//                          [--min-seconds X] [--rounds R] [--points-out FILE]
//
// Draws N uniformly random points (fixed seed) in the overall bounding box of the grids, checks
// locate() against a brute-force scan over every grid for the first K of them, then times the
// lookups on one thread and on T threads, and the points inside a grid and those in no grid
// apart (the latter also search the nearest grid). Each timing runs R times and the best round
// counts: on a shared machine the best round is the least disturbed one.
//
// --points-out writes the same points, with the grid code locate() gave each, as CSV
// (id,lon,lat,grid_code) for the PostGIS and HTTP benchmarks of bench/run.sh, so that every peer
// measures the very same points.
//
// Output is one line per measurement, `name key=value ...`, for run.sh to parse.
#include "grid/snapshot.hpp"
#include "store/database.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <time.h>

namespace {

using wangge::BBox;
using wangge::LonLat;
using wangge::grid::LocateResult;
using wangge::grid::Snapshot;
using Clock = std::chrono::steady_clock;

struct Options {
    std::string db;
    std::size_t points = 100000;
    std::uint64_t seed = 20240601;
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::size_t validate = 1000;
    double min_seconds = 3.0;
    unsigned rounds = 1;
    std::string points_out;
};

// Exits with CLI11's message and status on bad arguments or --help.
Options parse_options(int argc, char** argv) {
    Options o;
    CLI::App app{"Throughput of grid::Snapshot::locate in process, validated before it is timed", "locate_bench"};
    app.add_option("db", o.db, "Wangge database (SpatiaLite)")->required()->check(CLI::ExistingFile);
    app.add_option("--points", o.points, "random points to locate")->capture_default_str()->check(CLI::Range(1, 1 << 30));
    app.add_option("--seed", o.seed, "seed of the points (splitmix64)")->capture_default_str();
    app.add_option("--threads", o.threads, "threads of the multi-threaded timing")
        ->capture_default_str()
        ->check(CLI::Range(1, 1024));
    app.add_option("--validate", o.validate, "points checked against a scan of every grid")->capture_default_str();
    app.add_option("--min-seconds", o.min_seconds, "least time of one timing")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--rounds", o.rounds, "rounds of each timing; the best counts")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    app.add_option("--points-out", o.points_out, "write the points and their grid codes as CSV");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));
    }
    return o;
}

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// CPU time of the calling thread: on a shared machine it tells contention inside the process
// (CPU time per lookup grows) from other processes taking the cores (only wall time grows).
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

long peak_rss_kb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss; // kilobytes on Linux
}

// splitmix64: tiny, and the same sequence on every platform and standard library (unlike
// std::uniform_real_distribution), so a seed names the same points everywhere.
class Random {
public:
    explicit Random(std::uint64_t seed) : m_state(seed) {}
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } // [0, 1)

private:
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    std::uint64_t m_state;
};

BBox grids_bbox(const Snapshot& snap) {
    BBox box;
    for (const auto& g : snap.grids()) box.extend(g.bbox);
    return box;
}

std::vector<LonLat> draw_points(const BBox& box, std::size_t n, std::uint64_t seed) {
    Random rng(seed);
    std::vector<LonLat> points(n);
    for (auto& p : points) {
        p.lon = box.min_lon + (box.max_lon - box.min_lon) * rng.unit();
        p.lat = box.min_lat + (box.max_lat - box.min_lat) * rng.unit();
    }
    return points;
}

// The grid code locate() gives, or nullopt when the point is in no grid.
std::optional<std::string> located_grid(const Snapshot& snap, LonLat p) {
    LocateResult r = snap.locate(p);
    if (r.grid) return r.grid->code;
    if (r.status == LocateResult::Status::grid) throw std::logic_error("locate: status grid without a grid");
    return std::nullopt;
}

// Checks locate() against the obvious answer: every grid tested in turn, no index, the smallest
// code among the grids covering the point. Exits on the first disagreement.
void validate(const Snapshot& snap, const std::vector<LonLat>& points, std::size_t sample) {
    sample = std::min(sample, points.size());
    std::vector<wangge::geo::PreparedGeometry> prepared;
    prepared.reserve(snap.grids().size());
    for (const auto& g : snap.grids()) prepared.emplace_back(g.geom);

    std::size_t in_grid = 0;
    for (std::size_t i = 0; i < sample; ++i) {
        std::optional<std::string> expected;
        for (std::size_t g = 0; g < prepared.size(); ++g) {
            const std::string& code = snap.grids()[g].code;
            if ((!expected || code < *expected) && prepared[g].covers(points[i])) expected = code;
        }
        std::optional<std::string> actual = located_grid(snap, points[i]);
        if (actual != expected) {
            std::fprintf(stderr, "locate_bench: VALIDATION FAILED at point %zu (%.9f, %.9f): locate() gave %s, "
                                 "brute force over %zu grids gave %s\n",
                         i, points[i].lon, points[i].lat, actual ? actual->c_str() : "no grid", prepared.size(),
                         expected ? expected->c_str() : "no grid");
            std::exit(1);
        }
        if (expected) ++in_grid;
    }
    std::printf("validate sample=%zu mismatches=0 in_grid=%zu grids=%zu\n", sample, in_grid, prepared.size());
}

void append_double(std::string& out, double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v); // shortest text that reads back exactly
    if (ec != std::errc()) throw std::runtime_error("cannot format a coordinate");
    out.append(buf, end);
}

// One untimed pass over all points (it also warms caches): counts the outcomes, splits the points
// into those inside a grid and the rest, and, when asked, writes the points with their grid codes
// for the other benchmarks.
struct Survey {
    std::vector<LonLat> in_grid;
    std::vector<LonLat> not_in_grid;
};

Survey survey(const Snapshot& snap, const std::vector<LonLat>& points, const std::string& path) {
    Survey s;
    std::size_t counts[4] = {};
    std::size_t candidates = 0; // grids whose bounding box holds the point: polygon tests per lookup
    std::string csv = "id,lon,lat,grid_code\n";
    for (std::size_t i = 0; i < points.size(); ++i) {
        const LonLat& p = points[i];
        LocateResult r = snap.locate(p);
        ++counts[static_cast<int>(r.status)];
        candidates += snap.query(wangge::Level::grid, BBox{p.lon, p.lat, p.lon, p.lat}).size();
        (r.grid ? s.in_grid : s.not_in_grid).push_back(p);
        if (path.empty()) continue;
        csv += std::to_string(i + 1);
        csv += ',';
        append_double(csv, p.lon);
        csv += ',';
        append_double(csv, p.lat);
        csv += ',';
        if (r.grid) csv += r.grid->code;
        csv += '\n';
    }
    std::printf("points n=%zu grid=%zu no_grid=%zu no_community=%zu not_covered=%zu grid_candidates_per_point=%.2f\n",
                points.size(), counts[0], counts[1], counts[2], counts[3],
                static_cast<double>(candidates) / static_cast<double>(points.size()));
    if (!path.empty()) {
        std::ofstream out(path, std::ios::binary);
        out << csv;
        if (!out.flush()) throw std::runtime_error("cannot write " + path);
    }
    return s;
}

// Looks up `count` points starting at `first`, cycling; returns a checksum so the work is used.
std::uintptr_t run_lookups(const Snapshot& snap, const std::vector<LonLat>& points, std::size_t first,
                           std::size_t count) {
    std::uintptr_t sum = 0;
    std::size_t i = first % points.size();
    for (std::size_t k = 0; k < count; ++k) {
        LocateResult r = snap.locate(points[i]);
        sum += reinterpret_cast<std::uintptr_t>(r.grid) + static_cast<std::uintptr_t>(r.status);
        if (++i == points.size()) i = 0;
    }
    return sum;
}

struct Timing {
    std::size_t lookups = 0;
    double seconds = 0;
    double cpu_seconds = 0; // summed over the threads
    std::uintptr_t checksum = 0;
    double rate() const { return static_cast<double>(lookups) / seconds; }
};

// One thread: whole passes over the points until at least `min_seconds` have gone by.
Timing time_single(const Snapshot& snap, const std::vector<LonLat>& points, double min_seconds) {
    Timing t;
    auto t0 = Clock::now();
    double cpu0 = thread_cpu_seconds();
    do {
        t.checksum += run_lookups(snap, points, 0, points.size());
        t.lookups += points.size();
        t.seconds = seconds_between(t0, Clock::now());
    } while (t.seconds < min_seconds);
    t.cpu_seconds = thread_cpu_seconds() - cpu0;
    return t;
}

// T threads sharing the one snapshot, each doing `per_thread` lookups from its own offset; the
// time runs from the common start to the last join.
Timing time_threads(const Snapshot& snap, const std::vector<LonLat>& points, unsigned threads,
                    std::size_t per_thread) {
    std::atomic<bool> go{false};
    std::vector<std::uintptr_t> sums(threads);
    std::vector<double> cpu(threads);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            double cpu0 = thread_cpu_seconds();
            sums[t] = run_lookups(snap, points, t * points.size() / threads, per_thread);
            cpu[t] = thread_cpu_seconds() - cpu0;
        });
    }
    Timing t;
    auto t0 = Clock::now();
    go.store(true, std::memory_order_release);
    for (auto& th : pool) th.join();
    t.seconds = seconds_between(t0, Clock::now());
    t.lookups = per_thread * threads;
    for (unsigned i = 0; i < threads; ++i) {
        t.checksum += sums[i];
        t.cpu_seconds += cpu[i];
    }
    return t;
}

// Runs `measure` `rounds` times and prints the fastest round.
template <typename Measure>
Timing best_of(const char* name, unsigned threads, unsigned rounds, Measure measure) {
    Timing best;
    for (unsigned r = 0; r < rounds; ++r) {
        Timing t = measure();
        if (r == 0 || t.rate() > best.rate()) best = t;
    }
    std::printf("%s threads=%u rounds=%u lookups=%zu seconds=%.3f lookups_per_s=%.0f ns_per_lookup=%.0f "
                "cpu_ns_per_lookup=%.0f checksum=%zx\n",
                name, threads, rounds, best.lookups, best.seconds, best.rate(), 1e9 / best.rate(),
                1e9 * best.cpu_seconds / static_cast<double>(best.lookups),
                static_cast<std::size_t>(best.checksum & 0xffff));
    std::fflush(stdout);
    return best;
}

int run(const Options& o) {
    auto t0 = Clock::now();
    auto db = wangge::store::Database::open(o.db, wangge::store::OpenMode::read_only);
    auto snap = Snapshot::load(*db);
    db.reset();
    std::printf("snapshot_load seconds=%.3f streets=%zu communities=%zu grids=%zu buildings=%zu peak_rss_kb=%ld\n",
                seconds_between(t0, Clock::now()), snap->streets().size(), snap->communities().size(),
                snap->grids().size(), snap->buildings().size(), peak_rss_kb());
    if (snap->grids().empty()) throw std::runtime_error(o.db + " has no grids");

    BBox box = grids_bbox(*snap);
    std::printf("bbox min_lon=%.9f min_lat=%.9f max_lon=%.9f max_lat=%.9f\n", box.min_lon, box.min_lat, box.max_lon,
                box.max_lat);
    std::vector<LonLat> points = draw_points(box, o.points, o.seed);
    validate(*snap, points, o.validate);
    Survey split = survey(*snap, points, o.points_out);

    auto single = [&](const std::vector<LonLat>& pts) { return time_single(*snap, pts, o.min_seconds); };
    Timing one = best_of("locate_inprocess_1t", 1, o.rounds, [&] { return single(points); });
    // As long as the single-thread run (at least one pass over the points) on each thread.
    auto per_thread = std::max(points.size(), static_cast<std::size_t>(one.rate() * o.min_seconds));
    best_of("locate_inprocess_mt", o.threads, o.rounds,
            [&] { return time_threads(*snap, points, o.threads, per_thread); });
    // The two kinds of answer cost very different amounts: a point in no grid also looks for the
    // nearest grid. Timed apart so that the mix of the random points does not hide either.
    if (!split.in_grid.empty())
        best_of("locate_inprocess_1t_in_grid", 1, o.rounds, [&] { return single(split.in_grid); });
    if (!split.not_in_grid.empty())
        best_of("locate_inprocess_1t_not_in_grid", 1, o.rounds, [&] { return single(split.not_in_grid); });
    std::printf("memory peak_rss_kb=%ld\n", peak_rss_kb());
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    Options o = parse_options(argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "locate_bench: %s\n", e.what());
        return 1;
    }
}

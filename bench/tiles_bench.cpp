// tiles_bench: vector tile generation and cold PNG rendering in process, on a fixed set of tiles.
//
//   tiles_bench DB.sqlite [--styles DIR] [--per-zoom N] [--seed S] [--min-seconds X]
//                         [--tiles-out FILE] [--no-mvt] [--no-png]
//
// Picks, with a fixed seed, N distinct tiles at each of z12..z16 around randomly chosen grids (the
// tile holding the centre of a grid's box), so every tile holds data. Then:
//
//   mvt   make_vector_tile(hierarchy) of every tile, uncompressed, in two configurations:
//         `served`  the options `wangge serve` uses (simplified to half a pixel, sub-pixel
//                   polygons dropped);
//         `plain`   no simplification beyond repeated and collinear points and no minimum area,
//                   which is the geometry PostGIS's ST_AsMVTGeom produces (snap to the integer
//                   grid, drop repeated and collinear points, clip to the buffer).
//   png   Renderer::render_png of the z14..z16 tiles in the `default` style, 256 px, no cache.
//
// Each measurement makes whole passes over its tiles until at least --min-seconds have gone by
// (at least one pass); the fastest pass counts, and the per-zoom median and p95 are those of that
// pass. On a shared machine the fastest pass is the least disturbed one. The thread's CPU time is
// measured too (per tile, per pass and over all passes): it tells other processes taking the core
// (wall time grows, CPU time does not) from slower work.
//
// Before the timed passes each configuration makes every tile once: its features and bytes, a
// digest of the tiles' bytes (FNV-1a, equal digests mean byte-identical tiles, which is how a
// change to the tile code is shown not to change the tiles) and the time gzip adds to each tile
// when a tile cache fills (`mvt_gzip`).
//
// --tiles-out writes the tiles as CSV (id,z,x,y and the features of each source layer in the
// `plain` tile) so that PostGIS and the HTTP benchmarks of bench/run.sh use the very same tiles
// and can check that they produce as many features.
//
// Output is one line per measurement, `name key=value ...`, for run.sh to parse.
#include "grid/snapshot.hpp"
#include "render/renderer.hpp"
#include "store/database.hpp"
#include "tiles/compress.hpp"
#include "tiles/tile_math.hpp"
#include "tiles/vector_tiles.hpp"

#include <CLI/CLI.hpp>
#include <protozero/pbf_reader.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <time.h>

namespace {

using wangge::grid::Snapshot;
using wangge::tiles::TileId;
using Clock = std::chrono::steady_clock;

constexpr int min_zoom = 12;
constexpr int max_zoom = 16;
constexpr int png_min_zoom = 14;
constexpr std::array<std::string_view, 5> source_layers{"streets", "communities", "grids", "roads", "buildings"};

struct Options {
    std::string db;
    std::string styles = "styles";
    std::size_t per_zoom = 40;
    std::uint64_t seed = 20240601;
    double min_seconds = 3.0;
    std::string tiles_out;
    bool mvt = true;
    bool png = true;
};

// Exits with CLI11's message and status on bad arguments or --help.
Options parse_options(int argc, char** argv) {
    Options o;
    CLI::App app{"Vector tiles and cold PNG rendering in process, on a fixed set of tiles", "tiles_bench"};
    app.add_option("db", o.db, "Wangge database (SpatiaLite)")->required()->check(CLI::ExistingFile);
    app.add_option("--styles", o.styles, "directory of Mapnik styles")->capture_default_str();
    app.add_option("--per-zoom", o.per_zoom, "distinct tiles per zoom at z12-z16")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--seed", o.seed, "seed of the tile draw (splitmix64)")->capture_default_str();
    app.add_option("--min-seconds", o.min_seconds, "least time of one measurement (whole passes over the tiles)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--tiles-out", o.tiles_out, "write the tiles and their features per source layer as CSV");
    app.add_flag("!--no-mvt", o.mvt, "skip the vector tiles");
    app.add_flag("!--no-png", o.png, "skip the PNG tiles");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));
    }
    return o;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// splitmix64, as in locate_bench: the same sequence everywhere for a seed.
class Random {
public:
    explicit Random(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t m_state;
};

// N distinct tiles per zoom, each holding the centre of the box of a randomly drawn grid.
std::vector<TileId> pick_tiles(const Snapshot& snap, std::size_t per_zoom, std::uint64_t seed) {
    if (snap.grids().empty()) throw std::runtime_error("the database has no grids");
    Random rng(seed);
    std::vector<TileId> tiles;
    for (int z = min_zoom; z <= max_zoom; ++z) {
        std::set<std::pair<std::uint32_t, std::uint32_t>> seen;
        // A small district has fewer tiles than asked at low zooms: stop after enough misses.
        for (std::size_t draws = 0; seen.size() < per_zoom && draws < per_zoom * 200; ++draws) {
            const auto& g = snap.grids()[rng.next() % snap.grids().size()];
            const wangge::LonLat c{(g.bbox.min_lon + g.bbox.max_lon) / 2, (g.bbox.min_lat + g.bbox.max_lat) / 2};
            TileId t = wangge::tiles::tile_at(c, z);
            if (seen.insert({t.x, t.y}).second) tiles.push_back(t);
        }
    }
    return tiles;
}

// Features of each source layer of an MVT (field 3 of Tile: layers; in a Layer, 1: name, 2: features).
std::map<std::string, std::size_t> count_features(const std::string& tile) {
    std::map<std::string, std::size_t> counts;
    protozero::pbf_reader t(tile);
    while (t.next(3)) {
        protozero::pbf_reader layer = t.get_message();
        std::string name;
        std::size_t n = 0;
        while (layer.next()) {
            if (layer.tag() == 1) name = layer.get_string();
            else if (layer.tag() == 2) {
                layer.skip();
                ++n;
            } else layer.skip();
        }
        counts[name] += n;
    }
    return counts;
}

struct Pass {
    double seconds = 0;
    double cpu_seconds = 0;
    std::vector<double> ms;     // per tile, in the order of the tiles
    std::vector<double> cpu_ms; // the thread's CPU time per tile
};

struct Passes {
    Pass best;                   // the fastest
    std::size_t count = 0;
    double all_cpu_seconds = 0;  // over every pass
};

// Whole passes of `make` over the tiles until `min_seconds` have gone by. The thread's CPU time
// is kept too: when the wall time grows and the CPU time does not, other processes took the core.
Passes run_passes(const std::vector<TileId>& tiles, double min_seconds,
                  const std::function<std::size_t(const TileId&)>& make) {
    Passes out;
    std::size_t sink = 0;
    auto t0 = Clock::now();
    do {
        Pass p;
        p.ms.reserve(tiles.size());
        p.cpu_ms.reserve(tiles.size());
        for (const TileId& t : tiles) {
            const double c = thread_cpu_seconds();
            auto s = Clock::now();
            sink += make(t);
            const double ms = std::chrono::duration<double, std::milli>(Clock::now() - s).count();
            const double cpu = thread_cpu_seconds() - c;
            p.ms.push_back(ms);
            p.cpu_ms.push_back(1000 * cpu);
            p.seconds += ms / 1000;
            p.cpu_seconds += cpu;
        }
        out.all_cpu_seconds += p.cpu_seconds;
        if (out.count++ == 0 || p.seconds < out.best.seconds) out.best = std::move(p);
    } while (seconds_since(t0) < min_seconds);
    if (sink == 0) std::printf("# every tile was empty\n");
    return out;
}

// FNV-1a over the bytes of every tile in turn: equal digests, byte-identical tiles.
constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ull;
std::uint64_t fnv1a(std::uint64_t h, std::string_view bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    // Nearest rank, as PostgreSQL's percentile_disc.
    std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

void print_zooms(const char* name, const char* extra, const std::vector<TileId>& tiles, const Pass& pass,
                 const std::vector<std::size_t>& bytes, const std::vector<std::size_t>& features) {
    for (int z = min_zoom; z <= max_zoom; ++z) {
        std::vector<double> ms, cpu;
        double b = 0, f = 0;
        for (std::size_t i = 0; i < tiles.size(); ++i) {
            if (tiles[i].z != z) continue;
            ms.push_back(pass.ms[i]);
            cpu.push_back(pass.cpu_ms[i]);
            b += static_cast<double>(bytes[i]);
            if (!features.empty()) f += static_cast<double>(features[i]);
        }
        if (ms.empty()) continue;
        const double n = static_cast<double>(ms.size());
        std::printf("%s %sz=%d tiles=%zu median_ms=%.3f p95_ms=%.3f max_ms=%.3f cpu_median_ms=%.3f mean_bytes=%.0f",
                    name, extra, z, ms.size(), quantile(ms, 0.5), quantile(ms, 0.95), quantile(ms, 1.0),
                    quantile(cpu, 0.5), b / n);
        if (!features.empty()) std::printf(" mean_features=%.1f", f / n);
        std::printf("\n");
    }
}

void bench_mvt(const Snapshot& snap, const std::vector<TileId>& tiles, const Options& o, const char* config,
               const wangge::tiles::VectorTileOptions& options) {
    using wangge::tiles::VectorLayer;
    std::vector<std::size_t> bytes(tiles.size()), features(tiles.size());
    std::uint64_t digest = fnv_offset;
    std::size_t gzip_bytes = 0;
    double gzip_seconds = 0;
    // Untimed for make_vector_tile: sizes, counts and the digest, and it warms the caches. The
    // gzip that a cache fill adds to each tile is timed here, once per tile.
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        std::string mvt = wangge::tiles::make_vector_tile(snap, VectorLayer::hierarchy, tiles[i], options);
        bytes[i] = mvt.size();
        for (const auto& [layer, n] : count_features(mvt)) features[i] += n;
        digest = fnv1a(digest, mvt);
        auto s = Clock::now();
        gzip_bytes += wangge::tiles::gzip(mvt).size();
        gzip_seconds += seconds_since(s);
    }
    Passes passes = run_passes(tiles, o.min_seconds, [&](const TileId& t) {
        return wangge::tiles::make_vector_tile(snap, VectorLayer::hierarchy, t, options).size();
    });
    const Pass& best = passes.best;
    std::size_t total_bytes = 0, total_features = 0;
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        total_bytes += bytes[i];
        total_features += features[i];
    }
    const double n = static_cast<double>(tiles.size());
    std::printf("mvt config=%s tiles=%zu passes=%zu seconds=%.4f tiles_per_s=%.1f ms_per_tile=%.3f "
                "cpu_ms_per_tile=%.3f all_passes_cpu_ms_per_tile=%.3f features=%zu bytes=%zu digest=%016llx\n",
                config, tiles.size(), passes.count, best.seconds, n / best.seconds, 1000 * best.seconds / n,
                1000 * best.cpu_seconds / n, 1000 * passes.all_cpu_seconds / (n * static_cast<double>(passes.count)),
                total_features, total_bytes, static_cast<unsigned long long>(digest));
    std::printf("mvt_gzip config=%s tiles=%zu ms_per_tile=%.3f gzip_bytes=%zu\n", config, tiles.size(),
                1000 * gzip_seconds / n, gzip_bytes);
    const std::string extra = std::string("config=") + config + " ";
    print_zooms("mvt_zoom", extra.c_str(), tiles, best, bytes, features);
    std::fflush(stdout);
}

void bench_png(const std::string& db, const std::vector<TileId>& all, const Options& o) {
    std::vector<TileId> tiles;
    for (const TileId& t : all)
        if (t.z >= png_min_zoom) tiles.push_back(t);
    if (tiles.empty()) return;
    auto t0 = Clock::now();
    wangge::render::Renderer renderer(db, o.styles);
    // The first render of a style loads its map (about 30 ms): not part of a tile's cost.
    std::string first = renderer.render_png("default", tiles.front(), 1);
    std::printf("png_setup seconds=%.3f first_tile_bytes=%zu\n", seconds_since(t0), first.size());
    std::vector<std::size_t> bytes(tiles.size());
    for (std::size_t i = 0; i < tiles.size(); ++i) bytes[i] = renderer.render_png("default", tiles[i], 1).size();
    Passes passes = run_passes(tiles, o.min_seconds,
                               [&](const TileId& t) { return renderer.render_png("default", t, 1).size(); });
    const Pass& best = passes.best;
    const double n = static_cast<double>(tiles.size());
    std::printf("png style=default scale=1 tiles=%zu passes=%zu seconds=%.4f tiles_per_s=%.1f ms_per_tile=%.3f "
                "cpu_ms_per_tile=%.3f\n",
                tiles.size(), passes.count, best.seconds, n / best.seconds, 1000 * best.seconds / n,
                1000 * best.cpu_seconds / n);
    print_zooms("png_zoom", "", tiles, best, bytes, {});
    std::fflush(stdout);
}

void write_tiles(const std::string& path, const Snapshot& snap, const std::vector<TileId>& tiles) {
    const wangge::tiles::VectorTileOptions plain{.buffer = 64, .tolerance_px = 0, .min_area_px = 0};
    std::string csv = "id,z,x,y";
    for (auto name : source_layers) {
        csv += ',';
        csv += name;
    }
    csv += "\n";
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        const TileId& t = tiles[i];
        auto counts =
            count_features(wangge::tiles::make_vector_tile(snap, wangge::tiles::VectorLayer::hierarchy, t, plain));
        csv += std::to_string(i + 1) + "," + std::to_string(t.z) + "," + std::to_string(t.x) + "," +
               std::to_string(t.y);
        for (auto name : source_layers) {
            csv += ',';
            csv += std::to_string(counts[std::string(name)]);
        }
        csv += "\n";
    }
    std::ofstream out(path, std::ios::binary);
    out << csv;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

int run(const Options& o) {
    auto t0 = Clock::now();
    auto snap = [&] {
        auto db = wangge::store::Database::open(o.db, wangge::store::OpenMode::read_only);
        return Snapshot::load(*db);
    }();
    std::printf("snapshot_load seconds=%.3f streets=%zu communities=%zu grids=%zu buildings=%zu roads=%zu\n",
                seconds_since(t0), snap->streets().size(), snap->communities().size(), snap->grids().size(),
                snap->buildings().size(), snap->roads().size());

    std::vector<TileId> tiles = pick_tiles(*snap, o.per_zoom, o.seed);
    std::map<int, std::size_t> per_zoom;
    for (const TileId& t : tiles) ++per_zoom[t.z];
    std::printf("tiles n=%zu", tiles.size());
    for (const auto& [z, n] : per_zoom) std::printf(" z%d=%zu", z, n);
    std::printf(" seed=%llu\n", static_cast<unsigned long long>(o.seed));
    if (!o.tiles_out.empty()) write_tiles(o.tiles_out, *snap, tiles);
    std::fflush(stdout);

    if (o.mvt) {
        bench_mvt(*snap, tiles, o, "served", wangge::tiles::VectorTileOptions{});
        bench_mvt(*snap, tiles, o, "plain", wangge::tiles::VectorTileOptions{.buffer = 64, .tolerance_px = 0,
                                                                              .min_area_px = 0});
    }
    if (o.png) bench_png(o.db, tiles, o);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const Options o = parse_options(argc, argv);
    try {
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tiles_bench: %s\n", e.what());
        return 1;
    }
}

// The tile cache: LRU by bytes, exact invalidation by changed boxes, versions, disk persistence
// and its staleness rules, the limits on memory and disk, ETags, and a disk that fails (full,
// not a directory): tiles still served whole, the trouble told once.
#include "core/error.hpp"
#include "support/temp_dir.hpp"
#include "tiles/tile_cache.hpp"

#include <catch2/catch.hpp>

#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace wangge;
using tiles::TileCache;
using tiles::TileId;
using tiles::TileKey;

namespace {

// Counts renders; a tile's bytes name the tile and the version it was made for.
struct Renderer {
    int calls = 0;
    std::function<std::string()> operator()(const TileKey& k, std::int64_t version, std::size_t size = 100) {
        return [this, k, version, size] {
            ++calls;
            std::string s = k.source + "/" + tiles::to_string(k.tile) + "@" + std::to_string(version);
            s.resize(size, '.');
            return s;
        };
    }
};

TileKey key(std::uint32_t x, std::uint32_t y, std::string source = "mvt/grids") {
    return TileKey{std::move(source), TileId{14, x, y}};
}

TileCache::Options options(std::size_t memory_bytes, std::optional<std::filesystem::path> disk = std::nullopt) {
    TileCache::Options o;
    o.memory_bytes = memory_bytes;
    o.disk_dir = std::move(disk);
    return o;
}
constexpr std::size_t plenty = 256u << 20;

TileCache::Options disk_options(std::size_t memory_bytes, std::filesystem::path disk, std::size_t disk_bytes) {
    TileCache::Options o = options(memory_bytes, std::move(disk));
    o.disk_bytes = disk_bytes;
    return o;
}

// Bytes the allocator has handed out and not had back. glibc only; AddressSanitizer's allocator
// is one glibc does not see, so there the checks on it pass without meaning anything.
std::size_t heap_in_use() { return mallinfo2().uordblks; }

// What the files under `dir` hold, by their sizes, besides the cache's index file.
struct DiskUse {
    std::size_t files = 0;
    std::uintmax_t bytes = 0;
};
DiskUse disk_use(const std::filesystem::path& dir) {
    DiskUse use;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir))
        if (entry.is_regular_file() && entry.path() != dir / "index") {
            ++use.files;
            use.bytes += entry.file_size();
        }
    return use;
}

// A small box in the middle of a tile.
BBox inside(const TileId& t) {
    BBox b = tiles::lonlat_bounds(t);
    const double w = b.max_lon - b.min_lon, h = b.max_lat - b.min_lat;
    return BBox{b.min_lon + 0.4 * w, b.min_lat + 0.4 * h, b.min_lon + 0.6 * w, b.min_lat + 0.6 * h};
}

} // namespace

TEST_CASE("tile cache: hits, misses and LRU eviction by bytes", "[cache]") {
    // Each entry costs its bytes, its source name twice and the fixed overhead.
    const std::size_t cost = 100 + 2 * std::string("mvt/grids").size() + TileCache::memory_entry_overhead;
    TileCache cache(options(3 * cost));
    Renderer r;
    for (std::uint32_t x = 10; x < 13; ++x) cache.get(key(x, 10), 1, r(key(x, 10), 1));
    CHECK(r.calls == 3);
    cache.get(key(10, 10), 1, r(key(10, 10), 1)); // hit: 10 becomes the most recent
    CHECK(r.calls == 3);
    cache.get(key(13, 10), 1, r(key(13, 10), 1)); // evicts the least recent: 11
    auto s = cache.stats();
    CHECK(s.entries == 3);
    CHECK(s.bytes == 3 * cost);
    CHECK(s.hits == 1);
    CHECK(s.misses == 4);
    cache.get(key(10, 10), 1, r(key(10, 10), 1));
    CHECK(r.calls == 4);
    cache.get(key(11, 10), 1, r(key(11, 10), 1));
    CHECK(r.calls == 5);
    // A tile larger than the whole cache is served but not kept.
    auto big = cache.get(key(20, 20), 1, r(key(20, 20), 1, 10 * cost));
    CHECK(big.bytes->size() == 10 * cost);
    CHECK(cache.stats().bytes <= 3 * cost);
}

TEST_CASE("tile cache: hits hand out the same shared bytes, not copies", "[cache]") {
    TileCache cache(options(plenty));
    Renderer r;
    const auto made = cache.get(key(5, 5), 1, r(key(5, 5), 1));
    const auto hit = cache.get(key(5, 5), 1, r(key(5, 5), 1));
    const auto peeked = cache.peek(key(5, 5), 1);
    CHECK(r.calls == 1);
    REQUIRE(made.bytes);
    CHECK(hit.bytes.get() == made.bytes.get());
    REQUIRE(peeked);
    CHECK(peeked->bytes.get() == made.bytes.get());
    CHECK(hit.etag == made.etag);
    // Another source at the same tile, and the same source at another tile, are other entries.
    const auto other_source = cache.get(key(5, 5, "png/default"), 1, r(key(5, 5, "png/default"), 1));
    const auto other_tile = cache.get(key(5, 6), 1, r(key(5, 6), 1));
    CHECK(other_source.bytes.get() != made.bytes.get());
    CHECK(other_tile.bytes.get() != made.bytes.get());
    CHECK(*other_source.bytes != *made.bytes);
    CHECK(r.calls == 3);
    // put() hands back the bytes it keeps, and later hits share them.
    const auto put = cache.put(key(7, 7), 1, "made elsewhere");
    CHECK(cache.get(key(7, 7), 1, r(key(7, 7), 1)).bytes.get() == put.bytes.get());
    CHECK(r.calls == 3);
}

TEST_CASE("tile cache: a change drops exactly the tiles it touches", "[cache]") {
    TileCache cache(options(plenty));
    Renderer r;
    const TileId centre{14, 13598, 6650};
    std::vector<TileKey> keys;
    for (std::uint32_t x = centre.x - 2; x <= centre.x + 2; ++x)
        for (std::uint32_t y = centre.y - 2; y <= centre.y + 2; ++y)
            for (const char* source : {"mvt/grids", "png/default"}) keys.push_back(key(x, y, source));
    // Zoom 13 and 15 tiles over the same place.
    keys.push_back({"mvt/grids", TileId{13, centre.x / 2, centre.y / 2}});
    keys.push_back({"mvt/grids", TileId{15, centre.x * 2 + 1, centre.y * 2 + 1}});
    keys.push_back({"mvt/grids", TileId{15, centre.x * 2 + 8, centre.y * 2}});
    for (const auto& k : keys) cache.get(k, 1, r(k, 1));
    REQUIRE(r.calls == int(keys.size()));

    // A box inside the centre tile: the centre tile of each source at z14, the z13 tile above
    // it and the z15 tile it falls in; the z15 tile four tiles away and the neighbours stay.
    cache.invalidate(2, {inside(centre)});
    std::set<std::string> rendered;
    for (const auto& k : keys) {
        const int before = r.calls;
        auto t = cache.get(k, 2, r(k, 2));
        if (r.calls != before) rendered.insert(k.source + "/" + tiles::to_string(k.tile));
        CHECK(t.bytes->find(r.calls != before ? "@2" : "@1") != std::string::npos);
    }
    CHECK(rendered == std::set<std::string>{"mvt/grids/14/13598/6650", "png/default/14/13598/6650",
                                            "mvt/grids/13/6799/3325", "mvt/grids/15/27197/13301"});

    // A box just east of the centre tile, inside its 64/4096 buffer: the centre and its east
    // neighbour (whose own buffer reaches back) draw it.
    BBox b = tiles::lonlat_bounds(centre);
    const double unit = (b.max_lon - b.min_lon) / 4096;
    BBox east{b.max_lon + 10 * unit, inside(centre).min_lat, b.max_lon + 20 * unit, inside(centre).max_lat};
    cache.invalidate(3, {east});
    rendered.clear();
    for (const auto& k : keys) {
        if (k.tile.z != 14 || k.source != "mvt/grids") continue;
        const int before = r.calls;
        cache.get(k, 3, r(k, 3));
        if (r.calls != before) rendered.insert(tiles::to_string(k.tile));
    }
    CHECK(rendered == std::set<std::string>{"14/13598/6650", "14/13599/6650"});

    // Beyond the buffer, only the east neighbour.
    BBox far_east{b.max_lon + 100 * unit, east.min_lat, b.max_lon + 110 * unit, east.max_lat};
    cache.invalidate(4, {far_east});
    rendered.clear();
    for (const auto& k : keys) {
        if (k.tile.z != 14 || k.source != "mvt/grids") continue;
        const int before = r.calls;
        cache.get(k, 4, r(k, 4));
        if (r.calls != before) rendered.insert(tiles::to_string(k.tile));
    }
    CHECK(rendered == std::set<std::string>{"14/13599/6650"});
}

TEST_CASE("tile cache: older versions bypass the cache, unannounced newer ones reset it", "[cache]") {
    TileCache cache(options(plenty));
    Renderer r;
    cache.get(key(1, 1), 5, r(key(1, 1), 5));
    cache.get(key(2, 2), 5, r(key(2, 2), 5));
    // A reader still on snapshot 4 gets a tile made from it, which is not kept.
    auto old = cache.get(key(1, 1), 4, r(key(1, 1), 4));
    CHECK(old.bytes->find("@4") != std::string::npos);
    CHECK(r.calls == 3);
    CHECK(cache.get(key(1, 1), 5, r(key(1, 1), 5)).bytes->find("@5") != std::string::npos);
    CHECK(r.calls == 3);
    // Version 7 arrives without invalidate(): nothing can be vouched for.
    cache.get(key(2, 2), 7, r(key(2, 2), 7));
    CHECK(r.calls == 4);
    CHECK(cache.stats().entries == 1);
    // A late invalidate() about version 6 changes nothing.
    cache.invalidate(6, {BBox{-180, -85, 180, 85}});
    cache.get(key(2, 2), 7, r(key(2, 2), 7));
    CHECK(r.calls == 4);
}

TEST_CASE("tile cache: ETags are strong hashes of the bytes", "[cache]") {
    TileCache cache(options(plenty));
    auto a = cache.get(key(1, 1), 1, [] { return std::string("same bytes"); });
    cache.invalidate(2, {BBox{-180, -85, 180, 85}});
    auto b = cache.get(key(1, 1), 2, [] { return std::string("same bytes"); });
    auto c = cache.get(key(1, 2), 2, [] { return std::string("other bytes"); });
    CHECK(a.etag == b.etag); // unchanged tile, new version: same ETag
    CHECK(a.etag != c.etag);
    CHECK(a.etag.size() == 34);
    CHECK(a.etag.front() == '"');
    CHECK(tiles::etag_of("") != tiles::etag_of(std::string(1, '\0')));
    CHECK(tiles::etag_of("abcdefgh12345678") != tiles::etag_of("12345678abcdefgh"));
}

TEST_CASE("tile cache: disk files survive a restart at the same version only", "[cache]") {
    test::TempDir dir;
    const auto disk = dir / "tiles";
    Renderer r;
    const TileId centre{14, 13598, 6650};
    {
        TileCache cache(options(plenty, disk));
        for (std::uint32_t dx = 0; dx < 3; ++dx) {
            const TileKey k = key(centre.x + dx, centre.y);
            cache.get(k, 8, r(k, 8));
        }
        cache.get({"png/default@2x", centre}, 8, r({"png/default@2x", centre}, 8));
        CHECK(std::filesystem::exists(disk / "mvt/grids/14/13598/6650"));
        CHECK(std::filesystem::exists(disk / "png/default@2x/14/13598/6650"));
    }
    CHECK(r.calls == 4);
    {
        // Same version: served from disk, with the same ETag as a fresh render would have.
        TileCache cache(options(plenty, disk));
        auto t = cache.get(key(centre.x, centre.y), 8, r(key(centre.x, centre.y), 8));
        CHECK(r.calls == 4);
        CHECK(t.bytes->find("@8") != std::string::npos);
        CHECK(t.etag == tiles::etag_of(*t.bytes));
        CHECK(cache.stats().hits == 1);
        // The change touches the centre tile only: its files go before the index moves on.
        cache.invalidate(9, {inside(centre)});
        CHECK_FALSE(std::filesystem::exists(disk / "mvt/grids/14/13598/6650"));
        CHECK_FALSE(std::filesystem::exists(disk / "png/default@2x/14/13598/6650"));
        CHECK(std::filesystem::exists(disk / "mvt/grids/14/13599/6650"));
    }
    {
        // After a restart at version 9: the untouched tiles are still served from disk.
        TileCache cache(options(plenty, disk));
        cache.get(key(centre.x + 1, centre.y), 9, r(key(centre.x + 1, centre.y), 9));
        CHECK(r.calls == 4);
        auto t = cache.get(key(centre.x, centre.y), 9, r(key(centre.x, centre.y), 9));
        CHECK(r.calls == 5);
        CHECK(t.bytes->find("@9") != std::string::npos);
    }
    {
        // A restart at another version wipes the directory.
        TileCache cache(options(plenty, disk));
        cache.get(key(centre.x + 2, centre.y), 10, r(key(centre.x + 2, centre.y), 10));
        CHECK(r.calls == 6);
        CHECK_FALSE(std::filesystem::exists(disk / "mvt/grids/14/13599/6650"));
        CHECK_FALSE(std::filesystem::exists(disk / "png"));
    }
    {
        // Started by an invalidate() to another version: wiped too.
        TileCache cache(options(plenty, disk));
        cache.invalidate(11, {});
        cache.get(key(centre.x + 2, centre.y), 11, r(key(centre.x + 2, centre.y), 11));
        CHECK(r.calls == 7);
    }
}

TEST_CASE("tile cache: refuses a directory that is not its own, and unsafe sources", "[cache]") {
    test::TempDir dir;
    std::filesystem::create_directories(dir / "data");
    { std::ofstream(dir / "data" / "precious.txt") << "keep me"; }
    CHECK_THROWS_AS(TileCache(options(plenty, dir / "data")), Error);
    CHECK(std::filesystem::exists(dir / "data" / "precious.txt"));
    TileCache cache(options(plenty, dir / "cache"));
    for (const char* bad : {"../x", "a//b", "", "a/./b", "a b", "/abs"})
        CHECK_THROWS_AS(cache.get({bad, TileId{0, 0, 0}}, 1, [] { return std::string("x"); }), Error);
}

TEST_CASE("tile cache: concurrent gets and invalidations stay consistent", "[cache]") {
    test::TempDir dir;
    TileCache cache(options(64 * 1024, dir / "c"));
    std::atomic<std::int64_t> version{1};
    std::atomic<bool> stop{false};
    std::atomic<int> wrong{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t)
        readers.emplace_back([&, t] {
            for (int i = 0; !stop; ++i) {
                const std::int64_t v = version.load();
                TileKey k = key(13598 + std::uint32_t((i + t) % 8), 6650);
                // Every change below touches every tile, so a tile must come from its version.
                auto tile = cache.get(k, v, [&] { return "v" + std::to_string(v); });
                if (*tile.bytes != "v" + std::to_string(v)) ++wrong;
            }
        });
    for (int i = 0; i < 50; ++i) {
        cache.invalidate(version + 1, {BBox{-180, -85, 180, 85}});
        ++version;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    stop = true;
    for (auto& t : readers) t.join();
    CHECK(wrong == 0);
}

TEST_CASE("tile cache: concurrent misses of one key make it once (single flight)", "[cache]") {
    TileCache cache(options(plenty));
    std::atomic<int> makes{0};
    std::atomic<bool> release{false};
    auto slow = [&] {
        ++makes;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return std::string("made once");
    };
    std::vector<std::string> got(4);
    std::vector<std::thread> callers;
    for (std::size_t i = 0; i < got.size(); ++i)
        callers.emplace_back([&, i] { got[i] = *cache.get(key(1, 1), 1, slow).bytes; });
    // Let every caller reach the cache before the first make returns.
    for (int i = 0; i < 200 && makes.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release = true;
    for (auto& t : callers) t.join();
    CHECK(makes.load() == 1);
    for (const auto& bytes : got) CHECK(bytes == "made once");
    CHECK(cache.stats().misses == 1);
    CHECK(cache.peek(key(1, 1), 1).value().bytes->size() == std::string("made once").size());
}

TEST_CASE("tile cache: a failed make reaches every waiter and is not cached", "[cache]") {
    TileCache cache(options(plenty));
    std::atomic<bool> release{false};
    std::atomic<int> makes{0};
    auto failing = [&]() -> std::string {
        ++makes;
        while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        throw Error(ErrorKind::io, "render_failed", "no data source");
    };
    std::atomic<int> failures{0};
    std::vector<std::thread> callers;
    for (int i = 0; i < 3; ++i)
        callers.emplace_back([&] {
            try {
                cache.get(key(2, 2), 1, failing);
            } catch (const Error& e) {
                if (e.code() == "render_failed") ++failures;
            }
        });
    for (int i = 0; i < 200 && makes.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release = true;
    for (auto& t : callers) t.join();
    CHECK(failures.load() == 3);
    CHECK(makes.load() == 1);
    CHECK_FALSE(cache.peek(key(2, 2), 1).has_value());
    // The next get makes it anew.
    Renderer r;
    const std::string expected = r(key(2, 2), 1)();
    CHECK(*cache.get(key(2, 2), 1, r(key(2, 2), 1)).bytes == expected);
    CHECK(r.calls == 2);
}

TEST_CASE("tile cache: a flood of empty tiles stays within memory_bytes, in real memory too", "[cache]") {
    constexpr std::size_t limit = 64 * 1024;
    constexpr std::uint32_t flood = 100000;
    const std::size_t heap_before = heap_in_use();
    TileCache cache(options(limit));
    for (std::uint32_t i = 0; i < flood; ++i) cache.get(key(i % 1000, i / 1000), 1, [] { return std::string(); });
    const std::size_t held = heap_in_use() - heap_before;
    const auto s = cache.stats();
    CHECK(s.misses == flood);
    CHECK(s.bytes <= limit);
    // Every entry pays the overhead, though its bytes cost nothing.
    CHECK(s.entries > 0);
    CHECK(s.entries <= limit / TileCache::memory_entry_overhead);
    // What the heap holds for the cache (the tiles, the LRU, the allocator's rounding) is what
    // the limit promises, give or take the cache's own few fixed structures.
    INFO("the heap holds " << held << " bytes for " << s.entries << " tiles");
    CHECK(held <= limit + 8 * 1024);
}

TEST_CASE("tile cache: files stay within disk_bytes, the least recently used leave first", "[cache]") {
    test::TempDir dir;
    const auto disk = dir / "tiles";
    constexpr std::size_t limit = 16 * TileCache::disk_block;
    // 10,000 bytes take 3 blocks: 5 such files fit in 16 blocks.
    constexpr std::size_t tile_size = 10000;
    constexpr std::size_t fit = limit / (3 * TileCache::disk_block);
    // Nothing kept in memory: every get after the first write reads the file.
    TileCache cache(disk_options(0, disk, limit));
    Renderer r;
    std::uintmax_t most = 0;
    for (std::uint32_t x = 0; x < 40; ++x) {
        cache.get(key(x, 0), 1, r(key(x, 0), 1, tile_size));
        most = std::max(most, disk_use(disk).bytes);
    }
    CHECK(r.calls == 40);
    CHECK(most <= limit);
    CHECK(disk_use(disk).files == fit);
    auto exists = [&](std::uint32_t x) { return std::filesystem::exists(disk / "mvt/grids/14" / std::to_string(x) / "0"); };
    for (std::uint32_t x = 40 - fit; x < 40; ++x) CHECK(exists(x));
    CHECK_FALSE(exists(0));
    CHECK_FALSE(exists(40 - fit - 1));

    // A read makes a file recent: the next write trims the one after it instead.
    const std::uint32_t oldest = 40 - fit;
    cache.get(key(oldest, 0), 1, r(key(oldest, 0), 1, tile_size));
    CHECK(r.calls == 40); // read from disk
    cache.get(key(40, 0), 1, r(key(40, 0), 1, tile_size));
    CHECK(exists(oldest));
    CHECK_FALSE(exists(oldest + 1));
    CHECK(exists(40));
    const auto s = cache.stats();
    CHECK(s.disk_files == fit);
    CHECK(s.disk_bytes == fit * 3 * TileCache::disk_block);

    // Empty tiles cost a block each, so a flood of them is bounded in number too.
    for (std::uint32_t x = 0; x < 1000; ++x) cache.get(key(x, 1), 1, [] { return std::string(); });
    CHECK(disk_use(disk).files == limit / TileCache::disk_block);
    CHECK(disk_use(disk).bytes <= limit);
}

TEST_CASE("tile cache: a cache started over a full directory trims it, newest kept", "[cache]") {
    test::TempDir dir;
    const auto disk = dir / "tiles";
    constexpr std::size_t tile_size = 10000; // 3 blocks each
    Renderer r;
    {
        TileCache cache(disk_options(plenty, disk, plenty));
        for (std::uint32_t x = 0; x < 20; ++x) cache.get(key(x, 0), 1, r(key(x, 0), 1, tile_size));
    }
    REQUIRE(disk_use(disk).files == 20);
    // Written a second apart, x = 19 last: file times order the index after a restart.
    const auto now = std::filesystem::file_time_type::clock::now();
    for (std::uint32_t x = 0; x < 20; ++x)
        std::filesystem::last_write_time(disk / "mvt/grids/14" / std::to_string(x) / "0",
                                         now - std::chrono::seconds(20 - x));
    // And a temporary file that a crash left behind.
    { std::ofstream(disk / "mvt/grids/14/3/0.tmp7") << std::string(tile_size, 't'); }

    constexpr std::size_t limit = 16 * TileCache::disk_block;
    TileCache cache(disk_options(plenty, disk, limit));
    const auto use = disk_use(disk);
    CHECK(use.bytes <= limit);
    CHECK(use.files == 5);
    CHECK(cache.stats().disk_files == 5);
    CHECK_FALSE(std::filesystem::exists(disk / "mvt/grids/14/3/0.tmp7"));
    CHECK_FALSE(std::filesystem::exists(disk / "mvt/grids/14/14/0"));
    // The newest five are kept, and served at their version without a render.
    for (std::uint32_t x = 15; x < 20; ++x) CHECK(cache.get(key(x, 0), 1, r(key(x, 0), 1, tile_size)).bytes->size() == tile_size);
    CHECK(r.calls == 20);
}

TEST_CASE("tile cache: disk_bytes 0 is refused", "[cache]") {
    test::TempDir dir;
    CHECK_THROWS_AS(TileCache(disk_options(plenty, dir / "tiles", 0)), Error);
}

namespace {

// While alive, no file of this process may grow past `bytes` (RLIMIT_FSIZE, which binds root
// too): a write beyond it fails with EFBIG, as one on a full disk fails with ENOSPC, after a
// partial write up to the limit. SIGXFSZ is ignored meanwhile, so the write returns the error.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &m_before) == 0);
        m_handler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limited = m_before;
        limited.rlim_cur = bytes;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &m_before);
        std::signal(SIGXFSZ, m_handler);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
    rlimit m_before{};
    void (*m_handler)(int) = SIG_DFL;
};

// What on_disk_trouble was told, in order: the problem, or "ok" when writing worked again.
struct Trouble {
    std::mutex mutex;
    std::vector<std::string> told;
    void attach(TileCache::Options& o) {
        o.on_disk_trouble = [this](const std::optional<std::string>& problem) {
            std::lock_guard lock(mutex);
            told.push_back(problem.value_or("ok"));
        };
    }
};

} // namespace

TEST_CASE("tile cache: a full disk serves every tile whole, writes no partial file and tells once", "[cache][faults]") {
    test::TempDir dir;
    const auto disk = dir / "tiles";
    Trouble trouble;
    // Nothing kept in memory: a tile asked for twice is read from its file, when there is one.
    TileCache::Options o = disk_options(0, disk, plenty);
    trouble.attach(o);
    TileCache cache(o);
    Renderer r;
    cache.get(key(0, 0), 1, r(key(0, 0), 1, 900));
    REQUIRE(disk_use(disk).files == 1);
    {
        // Tiles of 900 bytes sit in the stream's buffer until it is closed: only then does the
        // write fail, after 500 bytes reached the file.
        FileSizeLimit full(500);
        for (std::uint32_t x = 1; x <= 20; ++x)
            for (int round = 0; round < 2; ++round) {
                const auto t = cache.get(key(x, 0), 1, r(key(x, 0), 1, 900));
                REQUIRE(t.bytes->size() == 900);
                CHECK(t.bytes->find("/14/" + std::to_string(x) + "/0@1") != std::string::npos);
            }
        // Each was made twice (no file to read it from), and the one written before is still read.
        CHECK(r.calls == 1 + 40);
        CHECK(cache.get(key(0, 0), 1, r(key(0, 0), 1, 900)).bytes->size() == 900);
        CHECK(r.calls == 41);
    }
    const auto use = disk_use(disk);
    CHECK(use.files == 1); // neither a truncated tile nor a temporary file stayed
    CHECK(use.bytes == 900);
    CHECK(cache.stats().disk_failures == 40);
    CHECK(cache.stats().disk_files == 1);
    {
        std::lock_guard lock(trouble.mutex);
        REQUIRE(trouble.told.size() == 1); // once for the 40 failures, not per tile
        CHECK(trouble.told[0].find("cannot write") != std::string::npos);
        CHECK(trouble.told[0].find("File too large") != std::string::npos);
    }
    // Room again: the next tile is written, and that is told once too.
    cache.get(key(21, 0), 1, r(key(21, 0), 1, 900));
    cache.get(key(22, 0), 1, r(key(22, 0), 1, 900));
    CHECK(disk_use(disk).files == 3);
    std::lock_guard lock(trouble.mutex);
    CHECK(trouble.told == std::vector<std::string>{trouble.told[0], "ok"});
}

TEST_CASE("tile cache: an index that cannot move on leaves the disk unused until it is wiped", "[cache][faults]") {
    test::TempDir dir;
    const auto disk = dir / "tiles";
    Trouble trouble;
    TileCache::Options o = disk_options(0, disk, plenty);
    trouble.attach(o);
    const TileId centre{14, 13598, 6650};
    const TileKey near = key(centre.x + 1, centre.y);
    Renderer r;
    {
        TileCache cache(o);
        cache.get(key(centre.x, centre.y), 1, r(key(centre.x, centre.y), 1));
        cache.get(near, 1, r(near, 1));
        REQUIRE(disk_use(disk).files == 2);
        {
            // The index (about 50 bytes) cannot be written: version 2 is not recorded on disk.
            FileSizeLimit full(10);
            cache.invalidate(2, {inside(centre)});
            // The untouched tile's file is not read any more, nor is any file written: each get
            // makes the tile, and it carries version 2.
            for (int i = 0; i < 3; ++i) CHECK(cache.get(near, 2, r(near, 2)).bytes->find("@2") != std::string::npos);
            CHECK(r.calls == 2 + 3);
            const auto t = cache.get(key(centre.x, centre.y), 2, r(key(centre.x, centre.y), 2));
            CHECK(t.bytes->find("@2") != std::string::npos);
        }
        CHECK(disk_use(disk).files == 1); // the touched file went; nothing was written after
        {
            std::lock_guard lock(trouble.mutex);
            REQUIRE(trouble.told.size() == 1);
            CHECK(trouble.told[0].find("index") != std::string::npos);
        }
        // The next change wipes the directory and writes the index: the disk is used again.
        cache.invalidate(3, {});
        CHECK(disk_use(disk).files == 0);
        cache.get(near, 3, r(near, 3));
        cache.get(near, 3, r(near, 3));
        CHECK(r.calls == 2 + 3 + 1 + 1); // the second get read the file
        CHECK(disk_use(disk).files == 1);
        std::lock_guard lock(trouble.mutex);
        CHECK(trouble.told.size() == 2);
        CHECK(trouble.told.back() == "ok");
    }
    // A restart at version 3 serves the file written after the disk came back.
    TileCache again(o);
    CHECK(again.get(near, 3, r(near, 3)).bytes->find("@3") != std::string::npos);
    CHECK(r.calls == 7);
}

TEST_CASE("tile cache: a source whose directory cannot be made is served and told once", "[cache][faults]") {
    test::TempDir dir;
    const auto disk = dir / "tiles";
    Trouble trouble;
    TileCache::Options o = disk_options(plenty, disk, plenty);
    trouble.attach(o);
    TileCache cache(o);
    Renderer r;
    cache.get(key(0, 0), 1, r(key(0, 0), 1));
    // A regular file where the source's directory goes: mkdir fails with ENOTDIR, for root too.
    { std::ofstream(disk / "png") << "not a directory"; }
    for (std::uint32_t x = 0; x < 10; ++x) {
        const TileKey k = key(x, 0, "png/default");
        CHECK(cache.get(k, 1, r(k, 1)).bytes->find("png/default/14/" + std::to_string(x)) == 0);
        CHECK(cache.get(k, 1, r(k, 1)).bytes->size() == 100); // from memory
    }
    CHECK(r.calls == 11);
    CHECK(cache.stats().disk_failures == 10);
    CHECK(disk_use(disk).files == 2); // the first tile and the file in the way
    std::lock_guard lock(trouble.mutex);
    REQUIRE(trouble.told.size() == 1);
    CHECK(trouble.told[0].find("Not a directory") != std::string::npos);
}

#pragma once
// The tile cache of vector and raster tiles: an LRU in memory bounded by bytes, then (optionally)
// files on disk, bounded by bytes too, both valid for one data version at a time (docs/TILES.md).
//
// Versions: the cache holds tiles valid for its current version. invalidate(v, changed) moves it
// to version v, dropping exactly the tiles whose bounds (grown by Options::margin) meet a changed
// box; the rest stay valid. get() with an older version renders without caching (a reader still
// on the old snapshot); get() with a newer version the cache was not told about wipes it, since
// it cannot know what changed. So the writer should call invalidate() before it publishes the
// new snapshot; either order is correct, that one keeps the untouched tiles.
//
// Disk: <disk_dir>/<source>/<z>/<x>/<y>, with <disk_dir>/index naming the version all those files
// are valid for. Files are written whole (temporary file + rename) and deleted by invalidate()
// before the index moves on, so a file stale for the index's version is never served, even after
// a crash. A directory left for another version is wiped when the cache first learns its version.
// The files are counted against Options::disk_bytes in an index kept in memory, rebuilt from the
// directory when the cache starts (oldest written first), so that files left by an earlier run
// count too and the least recently written or read leave first.
//
// A disk that fails (full, read-only, gone) never fails a tile: it is served from memory or made
// again. A file that cannot be written whole is not kept; when the index cannot be moved to the
// current version, or a file that invalidation must delete stays, the disk is not read or
// written again until the next version change has wiped it and written the index (docs/FAULTS.md).
#include "core/types.hpp"
#include "tiles/cost_lru.hpp"
#include "tiles/tile_math.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace wangge::tiles {

// source e.g. "mvt/grids", "png/default@2x": letters, digits, '_', '-', '.', '@' in segments
// separated by '/'.
struct TileKey {
    std::string source;
    TileId tile;
    friend bool operator==(const TileKey&, const TileKey&) = default;
};

struct TileKeyHash {
    std::size_t operator()(const TileKey& key) const noexcept;
};

// A tile as the cache hands it out: `bytes` are the cache's own, shared rather than copied, so
// every hit on a tile sees the same string (which the HTTP server sends as it is).
struct CachedTile {
    std::shared_ptr<const std::string> bytes;
    std::string etag;
};

// A strong ETag of tile bytes (quoted, as the header carries it): 128 bits of two independent
// 64-bit hashes, so an unchanged tile keeps its ETag across versions and restarts.
std::string etag_of(std::string_view bytes);

class TileCache {
public:
    // What a tile in memory costs besides its bytes and the two copies of its source name: the
    // LRU's list node (key, shared pointer, ETag, cost) and map node (the second copy of the
    // key), the string that holds the bytes with its control block (one allocation), the
    // ETag's characters and a bucket, each with malloc's header and rounding. Measured with
    // glibc 2.36 on x86-64: 320 bytes for an empty tile of "mvt/grids" (tile_cache_test.cpp
    // checks the heap), rounded up for the hash table's growth. Counted so that a flood of
    // empty or tiny tiles is bounded by memory_bytes like any other: at most
    // memory_bytes / memory_entry_overhead tiles.
    static constexpr std::size_t memory_entry_overhead = 352;
    // Files on disk are counted in whole blocks of this size, at least one each (what ext4 and
    // XFS allocate; an empty file costs an inode instead), so that a flood of empty tiles is
    // bounded in number too: at most disk_bytes / disk_block files.
    static constexpr std::size_t disk_block = 4096;

    struct Options {
        // Memory held by tiles: their bytes, source names and memory_entry_overhead each. The
        // least recently used tiles leave beyond it; a tile larger than this is served but not
        // kept. 0 keeps nothing in memory.
        std::size_t memory_bytes = 256u << 20;
        std::optional<std::filesystem::path> disk_dir;
        // Bytes of tile files under disk_dir, counted in disk_blocks (the index file and the
        // directories are not counted). When a written tile takes the files past it, the least
        // recently written or read files are deleted until they are within it; a tile larger
        // than this is not written. There is always a limit: the constructor throws
        // Error(bad_request, "invalid_option") for 0. Between writing a file and trimming,
        // each writing thread may hold one tile more.
        std::size_t disk_bytes = std::size_t{1} << 30;
        // How far beyond its bounds a tile draws features, as a fraction of its size: vector
        // tiles buffer 64/4096. A raster source with a wider buffer needs its own cache (or a
        // larger margin here, which only drops a few more tiles than needed).
        double margin = 64.0 / 4096.0;
        // Told when the disk starts failing (a full or read-only disk: the text says what and
        // why) and, with nullopt, when writing works again: once per spell, never per tile.
        // Called on the thread that met it, without the cache's locks; `serve` logs it.
        std::function<void(const std::optional<std::string>& problem)> on_disk_trouble;
    };
    explicit TileCache(Options options);
    ~TileCache();
    TileCache(const TileCache&) = delete;
    TileCache& operator=(const TileCache&) = delete;

    // The tile for `key` at data `version`: from memory, else disk, else make(), called without
    // holding the cache lock. Misses are single-flight: while one caller makes a tile, other
    // callers of the same key and version wait for its bytes (or its exception) instead of
    // making it again. Throws Error(internal, "invalid_source") for a source that is not a safe
    // relative path.
    // `make` is any callable returning the bytes; it is wrapped in a std::function only on a
    // miss, so a hit allocates nothing.
    template <typename Make>
    CachedTile get(const TileKey& key, std::int64_t version, Make&& make) {
        if (auto hit = lookup(key, version)) return std::move(*hit);
        return make_once(key, version, std::function<std::string()>(std::forward<Make>(make)));
    }
    // Stores bytes made elsewhere (asynchronously) for `key` at `version`, as get() stores what
    // make() returns; returns them with their ETag. Not kept when `version` is no longer current.
    CachedTile put(const TileKey& key, std::int64_t version, std::string bytes);
    // The tile when memory or disk holds it, without making it (a caller that must decide
    // whether it can afford to wait for a render asks this first).
    std::optional<CachedTile> peek(const TileKey& key, std::int64_t version);
    // The data changed to `new_version`; tiles whose (lon/lat) bounds intersect any of `changed`
    // are dropped from memory and disk, every other tile stays valid for new_version.
    void invalidate(std::int64_t new_version, const std::vector<BBox>& changed);

    struct Stats {
        std::size_t hits, misses;
        std::size_t entries, bytes;         // tiles in memory, and their cost against memory_bytes
        std::size_t disk_files, disk_bytes; // tile files, and their cost against disk_bytes
        std::size_t disk_failures;          // tile or index files that could not be written or deleted
    };
    Stats stats() const;

private:
    // The miss of get(): makes the tile once per key and version (single flight) and stores it.
    CachedTile make_once(const TileKey& key, std::int64_t version, const std::function<std::string()>& make);
    CachedTile store(const TileKey& key, std::int64_t version, std::string bytes);
    std::optional<CachedTile> lookup(const TileKey& key, std::int64_t version);
    // Learns or moves to `version` when the cache is behind it; wipes what it cannot vouch for.
    void adopt(std::int64_t version);
    bool is_current(std::int64_t version) const;
    std::optional<CachedTile> from_memory(const TileKey& key, std::int64_t version);
    void remember(const TileKey& key, const CachedTile& tile, std::int64_t version);
    bool tile_touched(const TileId& t, const std::vector<BBox>& changed) const;
    // --- disk: callers hold m_disk_mutex (shared to read or write a tile file, exclusive for
    // the rest); write_index and drop_files also need m_sources_mutex ---
    std::filesystem::path file_of(const TileKey& key) const;
    std::optional<std::string> read_file(const TileKey& key) const;
    // Writes the tile's file whole or not at all; a failure is reported, never thrown.
    void write_file(const TileKey& key, const std::string& bytes, std::int64_t version);
    // Counts a file just written (or found at start) as the most recently used and deletes the
    // files that leave the index for it.
    void index_file(const TileKey& key, std::uintmax_t size);
    // Fills the index from the files of the sources the index file names, oldest written
    // first, trimming them to disk_bytes; removes temporary files a crash left behind.
    void scan_disk();
    // False when a file that had to go is still there (reported).
    bool drop_files(const std::vector<BBox>& changed);
    bool wipe_disk();
    // False when the index could not be written (reported); the index on disk is then the old one.
    bool write_index(std::int64_t version);
    std::optional<std::int64_t> read_index();
    // With the disk lock held exclusively: brings the disk to `version` by wiping it and writing
    // the index, and uses it again if that worked.
    void reset_disk(std::int64_t version);
    // Tells on_disk_trouble that the disk started failing (problem) or works again (nullopt),
    // once per change.
    void report_disk(const std::optional<std::string>& problem);

    Options m_options;
    // Guards the LRU, the version and the counters; never held while rendering or doing I/O.
    mutable std::mutex m_mutex;
    std::optional<std::int64_t> m_version;
    detail::CostLru<TileKey, TileKeyHash, CachedTile> m_memory;
    std::size_t m_hits = 0;
    std::size_t m_misses = 0;
    // Tiles being made, by "source/z/x/y@version" (single flight).
    std::unordered_map<std::string, std::shared_future<CachedTile>> m_in_flight;
    // Disk reads and writes share it; adopt() and invalidate() take it exclusively, so no file
    // for an old version is written after they have moved on.
    mutable std::shared_mutex m_disk_mutex;
    std::mutex m_sources_mutex;
    std::set<std::string> m_disk_sources; // sources with files on disk (also in the index)
    // The tile files on disk by what they cost; guarded by m_files_mutex, which is never held
    // during I/O. It may name a few files that are gone (deleted by a trim while being
    // rewritten), never miss one for long: a file is indexed just after it is written.
    mutable std::mutex m_files_mutex;
    detail::CostLru<TileKey, TileKeyHash, std::monostate> m_files;
    // Whether the files on disk may be read and written: false after the index could not be
    // moved to the current version or a file invalidation had to delete stayed, until
    // reset_disk() succeeds at the next version change.
    std::atomic<bool> m_disk_usable{true};
    std::atomic<bool> m_disk_failing{false}; // a spell of failures has been reported
    std::atomic<std::size_t> m_disk_failures{0};
};

} // namespace wangge::tiles

#include "tiles/tile_cache.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>

namespace wangge::tiles {

namespace fs = std::filesystem;

namespace detail {

constexpr std::string_view index_magic = "wangge-tile-cache 1";

std::uint64_t fnv1a(std::string_view bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return h;
}

std::uint64_t mix(std::uint64_t x) noexcept { // splitmix64's finaliser
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// A word-at-a-time hash, independent of FNV-1a, so that together they give 128 bits.
std::uint64_t word_hash(std::string_view bytes) noexcept {
    std::uint64_t h = mix(bytes.size() ^ 0x9e3779b97f4a7c15ull);
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t w = 0;
        std::memcpy(&w, bytes.data() + i, 8);
        h = mix(h ^ mix(w + i));
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, bytes.data() + i, bytes.size() - i);
    return mix(h ^ mix(tail + i));
}

void require_safe_source(std::string_view source) {
    auto bad = [&](const char* why) {
        throw Error(ErrorKind::internal, "invalid_source",
                    "tile cache source '" + std::string(source) + "' " + why);
    };
    if (source.empty()) bad("is empty");
    std::size_t start = 0;
    while (start <= source.size()) {
        std::size_t end = source.find('/', start);
        if (end == std::string_view::npos) end = source.size();
        std::string_view seg = source.substr(start, end - start);
        if (seg.empty() || seg == "." || seg == "..") bad("has an empty, '.' or '..' segment");
        for (char c : seg)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@'))
                bad("may only hold letters, digits, '_', '-', '.', '@' and '/'");
        start = end + 1;
    }
}

std::optional<std::uint32_t> number_of(const fs::path& p) {
    std::string s = p.filename().string();
    std::uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

// What a file of `size` bytes is counted as against disk_bytes.
std::size_t file_cost(std::uintmax_t size) {
    const std::uintmax_t blocks = std::max<std::uintmax_t>(1, (size + TileCache::disk_block - 1) / TileCache::disk_block);
    return static_cast<std::size_t>(blocks * TileCache::disk_block);
}

// Subdirectories (or files) of `dir` named by a number in [lo, hi], with that number. `listed`,
// when given, is cleared if `dir` exists but could not be read to its end.
std::vector<std::pair<std::uint32_t, fs::path>> numbered(const fs::path& dir, std::uint32_t lo, std::uint32_t hi,
                                                         bool* listed = nullptr) {
    std::vector<std::pair<std::uint32_t, fs::path>> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (auto n = number_of(it->path()); n && *n >= lo && *n <= hi) out.emplace_back(*n, it->path());
    if (ec && ec != std::errc::no_such_file_or_directory && listed) *listed = false;
    return out;
}

// Why the last file operation failed, from errno.
std::string last_error() { return errno ? std::strerror(errno) : "unknown error"; }

} // namespace detail

std::size_t TileKeyHash::operator()(const TileKey& key) const noexcept {
    const std::uint64_t tile = (static_cast<std::uint64_t>(key.tile.x) << 32 | key.tile.y) ^
                               static_cast<std::uint64_t>(key.tile.z) << 58;
    return static_cast<std::size_t>(detail::mix(detail::fnv1a(key.source) ^ detail::mix(tile)));
}

std::string etag_of(std::string_view bytes) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "\"%016llx%016llx\"", static_cast<unsigned long long>(detail::fnv1a(bytes)),
                  static_cast<unsigned long long>(detail::word_hash(bytes)));
    return buf;
}

TileCache::TileCache(Options options)
    : m_options(std::move(options)), m_memory(m_options.memory_bytes), m_files(m_options.disk_bytes) {
    // An unbounded disk cache would fill the disk: a limit is always in force.
    if (m_options.disk_bytes == 0)
        throw Error(ErrorKind::bad_request, "invalid_option", "the tile cache's disk_bytes must be at least 1");
    if (!m_options.disk_dir) return;
    const fs::path& dir = *m_options.disk_dir;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(ErrorKind::io, "tile_cache", "cannot create tile cache " + dir.string() + ": " + ec.message());
    // The cache wipes what it cannot vouch for: refuse a directory that is not one of ours.
    if (!fs::exists(dir / "index") && !fs::is_empty(dir))
        throw Error(ErrorKind::io, "tile_cache",
                    dir.string() + " is not empty and holds no tile cache index; give the tile cache a directory "
                                   "of its own");
    read_index(); // the sources whose files scan_disk() counts
    scan_disk();
}

TileCache::~TileCache() = default;

std::optional<CachedTile> TileCache::lookup(const TileKey& key, std::int64_t version) {
    detail::require_safe_source(key.source);
    {
        std::unique_lock lock(m_mutex);
        bool behind = !m_version || version > *m_version;
        lock.unlock();
        if (behind) adopt(version);
    }
    if (auto hit = from_memory(key, version)) return hit;
    if (!m_options.disk_dir || !m_disk_usable) return std::nullopt;
    std::shared_lock disk(m_disk_mutex);
    if (!is_current(version)) return std::nullopt;
    auto bytes = read_file(key);
    if (!bytes) return std::nullopt;
    {
        std::lock_guard files(m_files_mutex);
        m_files.use(key);
    }
    CachedTile t{std::make_shared<const std::string>(std::move(*bytes)), {}};
    t.etag = etag_of(*t.bytes);
    remember(key, t, version);
    std::lock_guard lock(m_mutex);
    ++m_hits;
    return t;
}

CachedTile TileCache::store(const TileKey& key, std::int64_t version, std::string bytes) {
    CachedTile t{std::make_shared<const std::string>(std::move(bytes)), {}};
    t.etag = etag_of(*t.bytes);
    if (m_options.disk_dir) {
        std::shared_lock disk(m_disk_mutex);
        if (is_current(version) && m_disk_usable) write_file(key, *t.bytes, version);
    }
    remember(key, t, version);
    std::lock_guard lock(m_mutex);
    ++m_misses;
    return t;
}

CachedTile TileCache::put(const TileKey& key, std::int64_t version, std::string bytes) {
    detail::require_safe_source(key.source);
    return store(key, version, std::move(bytes));
}

std::optional<CachedTile> TileCache::peek(const TileKey& key, std::int64_t version) { return lookup(key, version); }

CachedTile TileCache::make_once(const TileKey& key, std::int64_t version, const std::function<std::string()>& make) {
    // Single flight: the first miss of a key at a version makes the tile, later ones wait for it.
    const std::string flight = key.source + "/" + to_string(key.tile) + "@" + std::to_string(version);
    std::promise<CachedTile> leader;
    {
        std::unique_lock lock(m_mutex);
        if (auto it = m_in_flight.find(flight); it != m_in_flight.end()) {
            std::shared_future<CachedTile> follow = it->second;
            lock.unlock();
            return follow.get(); // rethrows the leader's error
        }
        m_in_flight.emplace(flight, leader.get_future().share());
    }
    auto land = [&] {
        std::lock_guard lock(m_mutex);
        m_in_flight.erase(flight);
    };
    try {
        CachedTile t = store(key, version, make());
        leader.set_value(t);
        land();
        return t;
    } catch (...) {
        leader.set_exception(std::current_exception());
        land();
        throw;
    }
}

bool TileCache::is_current(std::int64_t version) const {
    std::lock_guard lock(m_mutex);
    return m_version == version;
}

std::optional<CachedTile> TileCache::from_memory(const TileKey& key, std::int64_t version) {
    std::lock_guard lock(m_mutex);
    if (m_version != version) return std::nullopt;
    const CachedTile* tile = m_memory.use(key);
    if (!tile) return std::nullopt;
    ++m_hits;
    return *tile;
}

void TileCache::remember(const TileKey& key, const CachedTile& tile, std::int64_t version) {
    // The source name is held twice, by the LRU's list and by its map.
    const std::size_t cost = tile.bytes->size() + 2 * key.source.size() + memory_entry_overhead;
    std::lock_guard lock(m_mutex);
    // A tile made from an older snapshot may be stale for the current version: not kept.
    if (m_version != version || cost > m_options.memory_bytes) return;
    m_memory.put(key, tile, cost);
}

void TileCache::adopt(std::int64_t version) {
    std::unique_lock disk(m_disk_mutex);
    bool first = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_version && version <= *m_version) return; // another thread got here first
        first = !m_version;
        m_memory.clear();
        m_version = version;
    }
    if (!m_options.disk_dir) return;
    // Files left by an earlier run are kept only when they were made for this very version.
    if (!first || !m_disk_usable || read_index() != version) return reset_disk(version);
    std::lock_guard lock(m_sources_mutex);
    write_index(version); // it names this version already, so a failure leaves it right
}

void TileCache::reset_disk(std::int64_t version) {
    std::lock_guard lock(m_sources_mutex);
    const bool usable = wipe_disk() && write_index(version);
    if (usable && !m_disk_usable) report_disk(std::nullopt);
    m_disk_usable = usable;
}

void TileCache::report_disk(const std::optional<std::string>& problem) {
    if (problem) {
        ++m_disk_failures;
        if (m_disk_failing.exchange(true)) return;
    } else if (!m_disk_failing.load(std::memory_order_relaxed) || !m_disk_failing.exchange(false)) {
        return;
    }
    if (m_options.on_disk_trouble) m_options.on_disk_trouble(problem);
}

bool TileCache::tile_touched(const TileId& t, const std::vector<BBox>& changed) const {
    const BBox bounds = buffered_lonlat_bounds(t, m_options.margin);
    for (const BBox& b : changed)
        if (bounds.intersects(b)) return true;
    return false;
}

void TileCache::invalidate(std::int64_t new_version, const std::vector<BBox>& changed) {
    std::unique_lock disk(m_disk_mutex);
    bool known = false;
    {
        std::lock_guard lock(m_mutex);
        if (m_version && new_version < *m_version) return; // a late call about an older change
        known = m_version.has_value();
        if (known) {
            // In one critical section: a tile of the old version stored between the two would
            // be kept as valid for the new one.
            m_memory.erase_if([&](const TileKey& key) { return tile_touched(key.tile, changed); });
            m_version = new_version;
        }
    }
    if (!known) {
        // Never used yet: what is on disk is kept only if it was made for new_version.
        disk.unlock();
        adopt(new_version);
        return;
    }
    if (!m_options.disk_dir) return;
    if (!m_disk_usable) return reset_disk(new_version); // what the disk holds is unknown: wiped
    std::lock_guard lock(m_sources_mutex);
    // The files go before the index names the new version: a crash in between wipes. A file that
    // stays would be stale for the new version, so the index is then left behind and the disk
    // unused until it is wiped.
    if (!drop_files(changed) || !write_index(new_version)) m_disk_usable = false;
}

TileCache::Stats TileCache::stats() const {
    std::lock_guard lock(m_mutex);
    std::lock_guard files(m_files_mutex);
    return Stats{m_hits,          m_misses,       m_memory.size(), m_memory.cost(),
                 m_files.size(),  m_files.cost(), m_disk_failures.load()};
}

// --- disk ---

fs::path TileCache::file_of(const TileKey& key) const {
    return *m_options.disk_dir / key.source / std::to_string(key.tile.z) / std::to_string(key.tile.x) /
           std::to_string(key.tile.y);
}

std::optional<std::string> TileCache::read_file(const TileKey& key) const {
    std::ifstream in(file_of(key), std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return std::move(bytes).str();
}

void TileCache::write_file(const TileKey& key, const std::string& bytes, std::int64_t version) {
    static std::atomic<std::uint64_t> serial{0};
    if (detail::file_cost(bytes.size()) > m_options.disk_bytes) return; // it would be trimmed at once
    const fs::path path = file_of(key);
    // Written whole under a temporary name, then renamed: a reader sees the old file or the new.
    fs::path tmp = path;
    tmp += ".tmp" + std::to_string(serial++);
    // A full or read-only disk costs a render later, never a wrong tile nor a failed request.
    auto fail = [&](const std::string& why) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        report_disk("cannot write " + path.string() + ": " + why);
    };
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return fail(ec.message());
    {
        errno = 0;
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close(); // a small tile reaches the disk only here, and so does a full disk's error
        if (!out) return fail(detail::last_error());
    }
    fs::rename(tmp, path, ec);
    if (ec) return fail(ec.message());
    {
        // The index lists every source, so that invalidate() finds their files after a restart:
        // a file of a source it does not name would escape invalidation, so it does not stay.
        // The version cannot move while the caller holds the disk lock shared.
        std::lock_guard lock(m_sources_mutex);
        if (m_disk_sources.insert(key.source).second && !write_index(version)) {
            m_disk_sources.erase(key.source);
            fs::remove(path, ec);
            return;
        }
    }
    index_file(key, bytes.size());
    report_disk(std::nullopt);
}

void TileCache::index_file(const TileKey& key, std::uintmax_t size) {
    std::vector<TileKey> trimmed;
    {
        std::lock_guard lock(m_files_mutex);
        trimmed = m_files.put(key, {}, detail::file_cost(size));
    }
    std::error_code ec;
    for (const TileKey& old : trimmed) fs::remove(file_of(old), ec); // gone already is as good
}

void TileCache::scan_disk() {
    struct Found {
        fs::file_time_type written;
        TileKey key;
        std::uintmax_t size;
    };
    std::vector<Found> found;
    for (const std::string& source : m_disk_sources) {
        for (const auto& [z, zdir] : detail::numbered(*m_options.disk_dir / source, 0, max_zoom)) {
            for (const auto& [x, xdir] : detail::numbered(zdir, 0, UINT32_MAX)) {
                std::error_code ec;
                for (fs::directory_iterator it(xdir, ec), end; !ec && it != end; it.increment(ec)) {
                    const auto y = detail::number_of(it->path());
                    std::error_code file_ec;
                    if (!y) {
                        // A temporary file whose rename a crash prevented: nobody reads it.
                        if (it->path().filename().string().find(".tmp") != std::string::npos)
                            fs::remove(it->path(), file_ec);
                        continue;
                    }
                    const std::uintmax_t size = it->file_size(file_ec);
                    const fs::file_time_type written = it->last_write_time(file_ec);
                    if (file_ec) continue;
                    found.push_back({written, TileKey{source, TileId{static_cast<int>(z), x, *y}}, size});
                }
            }
        }
    }
    std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.written < b.written; });
    for (const Found& f : found) index_file(f.key, f.size);
}

bool TileCache::drop_files(const std::vector<BBox>& changed) {
    bool all = true; // every touched file is gone
    for (const std::string& source : m_disk_sources) {
        for (const auto& [z, zdir] : detail::numbered(*m_options.disk_dir / source, 0, max_zoom, &all)) {
            // Columns one tile beyond each box (the margin is less than a tile) are listed; each
            // file found there is then tested exactly.
            std::vector<TileRange> ranges;
            for (const BBox& b : changed)
                if (!b.empty()) ranges.push_back(tile_range(b, static_cast<int>(z)));
            auto near_column = [&](std::uint32_t x) {
                for (const TileRange& r : ranges)
                    if (x + 1 >= r.min_x && x <= r.max_x + 1) return true;
                return false;
            };
            for (const auto& [x, xdir] : detail::numbered(zdir, 0, UINT32_MAX, &all)) {
                if (!near_column(x)) continue;
                for (const auto& [y, file] : detail::numbered(xdir, 0, UINT32_MAX, &all)) {
                    const TileId tile{static_cast<int>(z), x, y};
                    if (!tile_touched(tile, changed)) continue;
                    std::error_code ec;
                    fs::remove(file, ec);
                    if (ec) {
                        all = false;
                        report_disk("cannot delete " + file.string() + ": " + ec.message());
                    }
                    std::lock_guard lock(m_files_mutex);
                    m_files.erase(TileKey{source, tile});
                }
            }
        }
    }
    if (!all) report_disk("cannot list or delete the tiles a change touched under " + m_options.disk_dir->string());
    return all;
}

bool TileCache::wipe_disk() {
    // Everything but the index first: a crash midway leaves the old index, so the next start
    // finds a version mismatch and wipes again.
    const fs::path& dir = *m_options.disk_dir;
    std::error_code ec;
    std::vector<fs::path> entries;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename() != "index") entries.push_back(it->path());
    for (const fs::path& p : entries) {
        std::error_code removed;
        fs::remove_all(p, removed);
        if (removed && !ec) ec = removed;
    }
    if (ec) report_disk("cannot empty " + dir.string() + ": " + ec.message());
    m_disk_sources.clear();
    std::lock_guard lock(m_files_mutex);
    m_files.clear();
    return !ec;
}

bool TileCache::write_index(std::int64_t version) {
    const fs::path& dir = *m_options.disk_dir;
    std::string text = std::string(detail::index_magic) + "\nversion " + std::to_string(version) + "\n";
    for (const std::string& s : m_disk_sources) text += "source " + s + "\n";
    const fs::path tmp = dir / "index.tmp";
    std::error_code ec;
    {
        errno = 0;
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.close();
        if (!out) {
            const std::string why = detail::last_error();
            fs::remove(tmp, ec);
            report_disk("cannot write " + tmp.string() + ": " + why);
            return false;
        }
    }
    fs::rename(tmp, dir / "index", ec);
    if (ec) {
        report_disk("cannot write " + (dir / "index").string() + ": " + ec.message());
        return false;
    }
    return true;
}

std::optional<std::int64_t> TileCache::read_index() {
    std::ifstream in(*m_options.disk_dir / "index");
    std::string line;
    if (!std::getline(in, line) || line != detail::index_magic) return std::nullopt;
    std::optional<std::int64_t> version;
    while (std::getline(in, line)) {
        if (line.rfind("version ", 0) == 0) {
            // A corrupt index reads as no version: the cache is then wiped, never trusted.
            long long v = 0;
            const char* first = line.data() + 8;
            const char* last = line.data() + line.size();
            if (auto [ptr, ec] = std::from_chars(first, last, v); ec == std::errc() && ptr == last) version = v;
        } else if (line.rfind("source ", 0) == 0) m_disk_sources.insert(line.substr(7));
    }
    return version;
}

} // namespace wangge::tiles

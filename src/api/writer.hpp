#pragma once
// The write path of a running server (docs/ARCHITECTURE.md): one writer at a time runs a change
// in its own database transaction, then the next snapshot is loaded, the tiles the change touched
// are invalidated in every tile cache, and only then is the snapshot published, so a reader
// never pairs the new data with a stale cached tile.
//
// The same publication follows changes made by others (a command-line import, rebalance or
// bootstrap, or another server on the same PostgreSQL database): refresh() compares the stored
// data version with the snapshot's and loads the new data when they differ. `serve` calls it when
// PostgreSQL announces a change and every --reload-ms.
//
// A SpatiaLite file can fail under a running server (docs/FAULTS.md): deleted, replaced or moved,
// its connections still open write to a file no one will open again; made read-only, it takes no
// new connection's writes. file_fault() tells which, and guard_writes() refuses writes meanwhile,
// while reads go on from the snapshot.
#include "api/message.hpp"
#include "balance/apply.hpp"
#include "grid/snapshot.hpp"
#include "store/database.hpp"
#include "tiles/tile_cache.hpp"

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace wangge::api {

class Writer {
public:
    // How a snapshot is loaded from the database (tests inject failures here).
    using Loader = std::function<std::shared_ptr<const grid::Snapshot>(store::Database&, grid::Band)>;

    // `db`: a SpatiaLite file or a postgresql:// URL (store::Database::open).
    Writer(std::string db, std::shared_ptr<grid::SnapshotHolder> snapshots,
           std::vector<std::shared_ptr<tiles::TileCache>> caches, bool read_only = false, Loader loader = {});

    // A read-only server (serve --read-only) refuses writes with 403 but still follows the file.
    bool read_only() const noexcept { return m_read_only; }

    using Change = std::function<balance::AppliedChange(store::Database&)>;
    // Runs `change` (which commits its own transaction or throws, writing nothing), then
    // publishes the next snapshot. Serialised: one change at a time. Before the change, a
    // snapshot behind the database is brought up to date, so that a failed load earlier (or a
    // change from the command line) never leaves proposals refused as stale for good. Throws
    // Error(forbidden, "read_only") on a read-only server, the file_fault() when there is one,
    // and Error(unavailable) when the snapshot cannot be brought up to date.
    balance::AppliedChange write(const Change& change);
    // Publishes the stored data when its version differs from the snapshot's; true when it did.
    // Failures are logged and the snapshot kept; the next call tries again.
    bool refresh();
    // Runs a read of the database (e.g. history) on a read-only connection, one of a few kept
    // open between reads (a PostgreSQL connection costs a round trip and more to open). A read
    // that throws drops its connection, so one lost with its server is not handed out again.
    void read(const std::function<void(store::Database&)>& query) const;

    // Why writes must be refused now, or nullopt: the SpatiaLite file opened at start is no longer
    // at its path (deleted, replaced or moved: Error(unavailable, "database_gone"), until the
    // server restarts), or it cannot be written (Error(unavailable, "database_read_only")). One
    // stat() and one access() per call; the call that finds a change logs it, loudly, and the
    // one that finds it over.
    // Always nullopt on PostgreSQL.
    std::optional<Error> file_fault() const;

    // What GET /metrics tells of this writer: snapshots loaded (and how long the last took:
    // reading, comparing with the one before, invalidating tiles), changes written and reads
    // run, with the seconds they took in all.
    struct Stats {
        std::size_t loads = 0;
        double last_load_seconds = 0;
        std::size_t writes = 0;
        double write_seconds = 0;
        std::size_t reads = 0;
        double read_seconds = 0;
    };
    Stats stats() const;

private:
    // With the lock held: loads and publishes the snapshot of `db`'s current data.
    void publish(store::Database& db);

    std::string m_db;
    std::shared_ptr<grid::SnapshotHolder> m_snapshots;
    std::vector<std::shared_ptr<tiles::TileCache>> m_caches;
    bool m_read_only;
    Loader m_loader;
    std::mutex m_mutex;
    std::unique_ptr<store::Database> m_watch; // a long-lived connection for refresh()
    mutable std::mutex m_readers_mutex;
    mutable std::vector<std::unique_ptr<store::Database>> m_readers; // idle connections of read()
    struct FileId {
        unsigned long long device, inode;
    };
    std::optional<FileId> m_file; // the SpatiaLite file as opened at start
    mutable std::atomic<int> m_file_state{0}; // what file_fault() found last (logged on change)
    // One look at the file at a time: two threads that looked before and after a chmod must not
    // publish their findings in the other order (the change would be logged again and again).
    mutable std::mutex m_file_mutex;
    mutable std::mutex m_stats_mutex;
    mutable Stats m_stats;
};

// The server's handler, with `writer`'s file_fault() applied to writes (every method but GET,
// HEAD and OPTIONS): one is refused with the fault's 503 while it holds; and a write answered 2xx
// whose file was deleted or replaced by the time its answer is ready is answered
// "database_gone" instead, for it was committed to a file that the next start will not open.
using Handler = std::function<Response(Request)>;
Handler guard_writes(std::shared_ptr<const Writer> writer, Handler handler);

} // namespace wangge::api

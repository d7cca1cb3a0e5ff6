#pragma once
// The write path of a running server (docs/ARCHITECTURE.md): one writer at a time runs a change
// in its own SQLite transaction, then the next snapshot is loaded, the tiles the change touched
// are invalidated in every tile cache, and only then is the snapshot published, so a reader
// never pairs the new data with a stale cached tile.
#include "balance/apply.hpp"
#include "grid/snapshot.hpp"
#include "store/database.hpp"
#include "tiles/tile_cache.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace wangge::api {

class Writer {
public:
    Writer(std::filesystem::path db, std::shared_ptr<grid::SnapshotHolder> snapshots,
           std::vector<std::shared_ptr<tiles::TileCache>> caches);

    using Change = std::function<balance::AppliedChange(store::Database&)>;
    // Runs `change` (which commits its own transaction or throws, writing nothing), then
    // publishes the next snapshot. Serialised: one change at a time.
    balance::AppliedChange write(const Change& change);
    // Runs a read of the database (e.g. history) on a read-only connection.
    void read(const std::function<void(store::Database&)>& query) const;

private:
    std::filesystem::path m_db;
    std::shared_ptr<grid::SnapshotHolder> m_snapshots;
    std::vector<std::shared_ptr<tiles::TileCache>> m_caches;
    std::mutex m_mutex;
};

} // namespace wangge::api

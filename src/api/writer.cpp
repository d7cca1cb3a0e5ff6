#include "api/writer.hpp"

#include "tiles/changes.hpp"

#include <spdlog/spdlog.h>

namespace wangge::api {

Writer::Writer(std::filesystem::path db, std::shared_ptr<grid::SnapshotHolder> snapshots,
               std::vector<std::shared_ptr<tiles::TileCache>> caches)
    : m_db(std::move(db)), m_snapshots(std::move(snapshots)), m_caches(std::move(caches)) {}

balance::AppliedChange Writer::write(const Change& change) {
    std::lock_guard lock(m_mutex);
    auto db = store::Database::open(m_db, store::OpenMode::read_write);
    balance::AppliedChange done = change(*db);
    const std::shared_ptr<const grid::Snapshot> before = m_snapshots->get();
    std::shared_ptr<const grid::Snapshot> after = grid::Snapshot::load(*db, before->band());
    const std::vector<BBox> changed = tiles::changed_bounds(*before, *after);
    for (const auto& cache : m_caches) cache->invalidate(after->version(), changed);
    spdlog::info("data version {} -> {}: {} changed areas, tiles invalidated", before->version(), after->version(),
                 changed.size());
    m_snapshots->set(std::move(after));
    return done;
}

void Writer::read(const std::function<void(store::Database&)>& query) const {
    auto db = store::Database::open(m_db, store::OpenMode::read_only);
    query(*db);
}

} // namespace wangge::api

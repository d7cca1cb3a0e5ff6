#include "api/writer.hpp"

#include "core/error.hpp"
#include "tiles/changes.hpp"

#include <spdlog/spdlog.h>

namespace wangge::api {

Writer::Writer(std::string db, std::shared_ptr<grid::SnapshotHolder> snapshots,
               std::vector<std::shared_ptr<tiles::TileCache>> caches, bool read_only, Loader loader)
    : m_db(std::move(db)), m_snapshots(std::move(snapshots)), m_caches(std::move(caches)), m_read_only(read_only),
      m_loader(loader ? std::move(loader) : Loader([](store::Database& d, grid::Band band) {
          return std::shared_ptr<const grid::Snapshot>(grid::Snapshot::load(d, band));
      })) {}

void Writer::publish(store::Database& db) {
    const std::shared_ptr<const grid::Snapshot> before = m_snapshots->get();
    std::shared_ptr<const grid::Snapshot> after = m_loader(db, before->band());
    const std::vector<BBox> changed = tiles::changed_bounds(*before, *after);
    for (const auto& cache : m_caches) cache->invalidate(after->version(), changed);
    spdlog::info("data version {} -> {}: {} changed areas, tiles invalidated", before->version(), after->version(),
                 changed.size());
    m_snapshots->set(std::move(after));
}

balance::AppliedChange Writer::write(const Change& change) {
    if (m_read_only) throw Error(ErrorKind::forbidden, "read_only", "this server is read-only (serve --read-only)");
    std::lock_guard lock(m_mutex);
    auto db = store::Database::open(m_db, store::OpenMode::read_write);
    if (db->data_version() != m_snapshots->get()->version()) {
        try {
            publish(*db);
        } catch (const std::exception& e) {
            spdlog::error("cannot load data version {}: {}", db->data_version(), e.what());
            throw Error(ErrorKind::unavailable, "catching_up",
                        "the server has not yet loaded the latest data; try again shortly");
        }
    }
    balance::AppliedChange done = change(*db);
    try {
        publish(*db);
    } catch (const std::exception& e) {
        // The change is committed and durable, so the answer is still a success; the snapshot
        // catches up at the next refresh() or write().
        spdlog::error("data version {} committed but not yet published: {}", done.version, e.what());
    }
    return done;
}

bool Writer::refresh() {
    std::lock_guard lock(m_mutex);
    try {
        std::int64_t stored = 0;
        if (!m_watch) {
            m_watch = store::Database::open(m_db, store::OpenMode::read_only);
            stored = m_watch->data_version();
        } else {
            try {
                stored = m_watch->data_version();
            } catch (const Error& e) {
                // Kept from before its PostgreSQL restarted: a new connection asks again.
                if (e.kind() != ErrorKind::unavailable) throw;
                m_watch = store::Database::open(m_db, store::OpenMode::read_only);
                stored = m_watch->data_version();
            }
        }
        if (stored == m_snapshots->get()->version()) return false;
        spdlog::info("the database is at data version {}: loading it", stored);
        publish(*m_watch);
        return true;
    } catch (const std::exception& e) {
        spdlog::error("refresh from {}: {}", m_watch ? m_watch->name() : std::string("the database"), e.what());
        m_watch.reset(); // reopened next time, in case the file was replaced
        return false;
    }
}

void Writer::read(const std::function<void(store::Database&)>& query) const {
    constexpr std::size_t kept = 8; // idle connections at most; more are opened under load
    std::unique_ptr<store::Database> db;
    {
        std::lock_guard lock(m_readers_mutex);
        if (!m_readers.empty()) {
            db = std::move(m_readers.back());
            m_readers.pop_back();
        }
    }
    if (!db) {
        db = store::Database::open(m_db, store::OpenMode::read_only);
        query(*db); // on a throw the connection is dropped
    } else {
        try {
            query(*db);
        } catch (const Error& e) {
            // A kept connection lost while idle (its PostgreSQL restarted): the read is run again
            // on a new one. Reads change nothing, so running one twice is safe.
            if (e.kind() != ErrorKind::unavailable) throw;
            db = store::Database::open(m_db, store::OpenMode::read_only);
            query(*db);
        }
    }
    std::lock_guard lock(m_readers_mutex);
    if (m_readers.size() < kept) m_readers.push_back(std::move(db));
}

} // namespace wangge::api

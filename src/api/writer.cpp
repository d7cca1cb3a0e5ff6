#include "api/writer.hpp"

#include "core/error.hpp"
#include "tiles/changes.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <chrono>

namespace wangge::api {

Writer::Writer(std::string db, std::shared_ptr<grid::SnapshotHolder> snapshots,
               std::vector<std::shared_ptr<tiles::TileCache>> caches, bool read_only, Loader loader)
    : m_db(std::move(db)), m_snapshots(std::move(snapshots)), m_caches(std::move(caches)), m_read_only(read_only),
      m_loader(loader ? std::move(loader) : Loader([](store::Database& d, grid::Band band) {
          return std::shared_ptr<const grid::Snapshot>(grid::Snapshot::load(d, band));
      })) {
    struct stat file {};
    if (::stat(m_db.c_str(), &file) == 0 && S_ISREG(file.st_mode)) // a SpatiaLite file, not a URL
        m_file = FileId{static_cast<unsigned long long>(file.st_dev), static_cast<unsigned long long>(file.st_ino)};
}

namespace {

enum FileState { file_ok, file_gone, file_read_only };

Error file_error(int state) {
    if (state == file_gone)
        return Error(ErrorKind::unavailable, "database_gone",
                     "the database file was deleted or replaced while the server ran: writes are refused, for they "
                     "would be lost; the operator restores the file and restarts the server")
            .with_retry_after(60);
    return Error(ErrorKind::unavailable, "database_read_only",
                 "the database file is read-only: writes are refused until it can be written again")
        .with_retry_after(30);
}

bool is_write(const Request& req) { return req.method != "GET" && req.method != "HEAD" && req.method != "OPTIONS"; }

} // namespace

std::optional<Error> Writer::file_fault() const {
    if (!m_file) return std::nullopt;
    // For good: connections opened since may have made a new -wal beside the file moved back,
    // which those opened before do not see.
    if (m_file_state.load() == file_gone) return file_error(file_gone);
    std::lock_guard looking(m_file_mutex);
    struct stat now {};
    int state = file_ok;
    int why = 0;
    if (::stat(m_db.c_str(), &now) != 0 || static_cast<unsigned long long>(now.st_dev) != m_file->device ||
        static_cast<unsigned long long>(now.st_ino) != m_file->inode) {
        state = file_gone;
    } else if (::faccessat(AT_FDCWD, m_db.c_str(), W_OK, AT_EACCESS) != 0) {
        state = file_read_only;
        why = errno;
    }
    if (const int before = m_file_state.exchange(state); before != state) {
        if (state == file_gone)
            spdlog::error("the database file {} is no longer the file this server opened (deleted, replaced or moved): "
                          "reads are served from the snapshot, writes are refused (503 database_gone) and /readyz "
                          "answers 503; restore the file (or move it back) and restart the server",
                          m_db);
        else if (state == file_read_only)
            spdlog::error("the database file {} cannot be written ({}): reads are served, writes are refused (503 "
                          "database_read_only) and /readyz answers 503 until it can",
                          m_db, std::strerror(why));
        else
            spdlog::info("the database file {} is the one opened and can be written again: writes are taken", m_db);
    }
    if (state == file_ok) return std::nullopt;
    return file_error(state);
}

Handler guard_writes(std::shared_ptr<const Writer> writer, Handler handler) {
    return [writer = std::move(writer), handler = std::move(handler)](Request req) {
        if (!is_write(req)) return handler(std::move(req));
        if (auto fault = writer->file_fault()) return error_response(*fault);
        // A write committed to a file that is gone by the time it is answered is lost at the next
        // start: not acknowledged. One committed to a file made read-only since is kept, and is.
        auto checked = [writer](Response answer) {
            if (answer.status >= 200 && answer.status < 300)
                if (auto fault = writer->file_fault(); fault && fault->code() == "database_gone")
                    return error_response(*fault);
            return answer;
        };
        Response r = handler(std::move(req));
        if (!r.deferred) return checked(std::move(r));
        r.deferred = [inner = std::move(r.deferred), checked](Completion done) {
            inner([checked, done = std::move(done)](Response answer) { done(checked(std::move(answer))); });
        };
        return r;
    };
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

Writer::Stats Writer::stats() const {
    std::lock_guard lock(m_stats_mutex);
    return m_stats;
}

void Writer::publish(store::Database& db) {
    const auto started = std::chrono::steady_clock::now();
    const std::shared_ptr<const grid::Snapshot> before = m_snapshots->get();
    std::shared_ptr<const grid::Snapshot> after = m_loader(db, before->band());
    const std::vector<BBox> changed = tiles::changed_bounds(*before, *after);
    for (const auto& cache : m_caches) cache->invalidate(after->version(), changed);
    spdlog::info("data version {} -> {}: {} changed areas, tiles invalidated", before->version(), after->version(),
                 changed.size());
    m_snapshots->set(std::move(after));
    std::lock_guard lock(m_stats_mutex);
    ++m_stats.loads;
    m_stats.last_load_seconds = seconds_since(started);
}

balance::AppliedChange Writer::write(const Change& change) {
    if (m_read_only) throw Error(ErrorKind::forbidden, "read_only", "this server is read-only (serve --read-only)");
    if (auto fault = file_fault()) throw *fault;
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
    const auto started = std::chrono::steady_clock::now();
    balance::AppliedChange done = change(*db);
    {
        std::lock_guard stats_lock(m_stats_mutex);
        ++m_stats.writes;
        m_stats.write_seconds += seconds_since(started);
    }
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
    const auto started = std::chrono::steady_clock::now();
    std::unique_ptr<store::Database> db;
    {
        std::lock_guard lock(m_readers_mutex);
        if (!m_readers.empty()) {
            db = std::move(m_readers.back());
            m_readers.pop_back();
        }
    }
    if (!db) {
        try {
            db = store::Database::open(m_db, store::OpenMode::read_only);
        } catch (const Error&) {
            // A file deleted under the server is its fault to answer, not an internal error.
            if (auto fault = file_fault(); fault && fault->code() == "database_gone") throw *fault;
            throw;
        }
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
    {
        std::lock_guard lock(m_stats_mutex);
        ++m_stats.reads;
        m_stats.read_seconds += seconds_since(started);
    }
    std::lock_guard lock(m_readers_mutex);
    if (m_readers.size() < kept) m_readers.push_back(std::move(db));
}

} // namespace wangge::api

#include "store/group_commit.hpp"

#include "core/error.hpp"

#include <chrono>
#include <future>
#include <vector>

namespace wangge::store {

GroupCommit::GroupCommit(std::string db, std::size_t max_batch)
    : m_where(std::move(db)), m_max_batch(std::max<std::size_t>(1, max_batch)), m_committer([this] { commit_loop(); }),
      m_completer([this] { complete_loop(); }) {}

GroupCommit::~GroupCommit() { stop(); }

void GroupCommit::stop() {
    std::lock_guard joining(m_stop_mutex);
    if (!m_completer.joinable()) return; // stopped before
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_ready.notify_all();
    m_committer.join(); // every queued job committed
    {
        std::lock_guard lock(m_mutex);
        m_committer_done = true;
    }
    m_finished_ready.notify_all();
    m_completer.join(); // and every job's `done` run
}

std::size_t GroupCommit::commits() const {
    std::lock_guard lock(m_mutex);
    return m_commits;
}

std::size_t GroupCommit::jobs() const {
    std::lock_guard lock(m_mutex);
    return m_jobs;
}

double GroupCommit::seconds() const {
    std::lock_guard lock(m_mutex);
    return m_seconds;
}

std::size_t GroupCommit::backlog() const {
    std::lock_guard lock(m_mutex);
    return m_queue.size();
}

void GroupCommit::submit(Work work, Done done) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) throw Error(ErrorKind::unavailable, "stopping", "the server is stopping");
        m_queue.push_back({std::move(work), std::move(done)});
    }
    m_ready.notify_one();
}

void GroupCommit::wait_for(Work work) {
    std::promise<void> committed;
    std::future<void> result = committed.get_future();
    submit(std::move(work), [&committed](std::exception_ptr failure) {
        if (failure)
            committed.set_exception(failure);
        else
            committed.set_value();
    });
    result.get(); // rethrows the job's failure, or the commit's
}

void GroupCommit::commit_loop() {
    std::unique_ptr<Database> db;
    for (;;) {
        std::vector<Job> batch;
        {
            std::unique_lock lock(m_mutex);
            m_ready.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_queue.empty()) return; // stopping, and nothing left
            while (!m_queue.empty() && batch.size() < m_max_batch) {
                batch.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            }
        }
        std::vector<std::exception_ptr> failed(batch.size());
        const auto started = std::chrono::steady_clock::now();
        try {
            std::optional<Transaction> tx;
            const bool reused = db != nullptr;
            if (!db) db = Database::open(m_where, OpenMode::read_write);
            try {
                tx.emplace(*db, Bump::none);
            } catch (const Error& e) {
                // A connection lost while idle (its PostgreSQL restarted) has sent nothing of
                // this batch: it is opened again and the batch goes on.
                if (!reused || e.kind() != ErrorKind::unavailable) throw;
                db.reset();
                db = Database::open(m_where, OpenMode::read_write);
                tx.emplace(*db, Bump::none);
            }
            for (std::size_t i = 0; i < batch.size(); ++i) {
                db->exec("SAVEPOINT job");
                try {
                    batch[i].work(*db);
                    db->exec("RELEASE job");
                } catch (...) {
                    failed[i] = std::current_exception();
                    db->exec("ROLLBACK TO job");
                    db->exec("RELEASE job");
                }
            }
            tx->commit();
        } catch (...) {
            // Nothing of this batch was written: every job hears why.
            const auto why = std::current_exception();
            for (auto& f : failed) f = why;
            db.reset(); // reopened for the next batch
        }
        {
            std::lock_guard lock(m_mutex);
            ++m_commits;
            m_jobs += batch.size();
            m_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            for (std::size_t i = 0; i < batch.size(); ++i) m_finished.push_back({std::move(batch[i].done), failed[i]});
        }
        m_finished_ready.notify_one();
    }
}

void GroupCommit::complete_loop() {
    for (;;) {
        std::deque<Finished> finished;
        {
            std::unique_lock lock(m_mutex);
            m_finished_ready.wait(lock, [this] { return m_committer_done || !m_finished.empty(); });
            if (m_finished.empty()) return; // the committer has stopped, and nothing is left
            finished.swap(m_finished);
        }
        for (auto& f : finished) {
            try {
                f.done(f.failure);
            } catch (...) {
                // A completion must not throw (see submit); if one does, the others still run.
            }
        }
    }
}

} // namespace wangge::store

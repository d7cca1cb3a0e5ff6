#include "store/group_commit.hpp"

#include "core/error.hpp"

#include <vector>

namespace wangge::store {

GroupCommit::GroupCommit(std::filesystem::path db, std::size_t max_batch)
    : m_path(std::move(db)), m_max_batch(std::max<std::size_t>(1, max_batch)), m_thread([this] { loop(); }) {}

GroupCommit::~GroupCommit() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_ready.notify_all();
    m_thread.join();
}

std::size_t GroupCommit::commits() const {
    std::lock_guard lock(m_mutex);
    return m_commits;
}

std::size_t GroupCommit::jobs() const {
    std::lock_guard lock(m_mutex);
    return m_jobs;
}

void GroupCommit::submit(std::function<void(Database&)> work) {
    std::future<void> done;
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping) throw Error(ErrorKind::unavailable, "stopping", "the server is stopping");
        m_queue.push_back({std::move(work), {}});
        done = m_queue.back().done.get_future();
    }
    m_ready.notify_one();
    done.get(); // rethrows the job's failure, or the commit's
}

void GroupCommit::loop() {
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
        try {
            if (!db) db = Database::open(m_path, OpenMode::read_write);
            Transaction tx(*db, Bump::none);
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
            tx.commit();
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
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
            if (failed[i])
                batch[i].done.set_exception(failed[i]);
            else
                batch[i].done.set_value();
        }
    }
}

} // namespace wangge::store

#pragma once
// Writes that do not change the map (incident intake, workflow steps) committed together: jobs
// that arrive while a transaction is being written wait and go into the next one, so that one
// fsync serves many requests (group commit). Each job runs in its own savepoint, so a job that
// throws undoes only its own writes; every job returns only after the transaction holding it has
// committed durably (synchronous=FULL), and rethrows what it threw.
#include "store/database.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

namespace wangge::store {

class GroupCommit {
public:
    explicit GroupCommit(std::filesystem::path db, std::size_t max_batch = 512);
    ~GroupCommit(); // finishes the jobs queued, then stops
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    template <typename F>
    auto run(F&& job) -> decltype(job(std::declval<Database&>())) {
        using R = decltype(job(std::declval<Database&>()));
        std::optional<R> result;
        submit([&](Database& db) { result.emplace(job(db)); });
        return std::move(*result);
    }

    // Transactions committed so far, and jobs in them: their ratio is the batching achieved.
    std::size_t commits() const;
    std::size_t jobs() const;

private:
    struct Job {
        std::function<void(Database&)> work;
        std::promise<void> done;
    };
    void submit(std::function<void(Database&)> work);
    void loop();

    std::filesystem::path m_path;
    std::size_t m_max_batch;
    mutable std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<Job> m_queue;
    bool m_stopping = false;
    std::size_t m_commits = 0, m_jobs = 0;
    std::thread m_thread;
};

} // namespace wangge::store

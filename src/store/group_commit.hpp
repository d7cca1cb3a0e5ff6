#pragma once
// Writes that do not change the map (incident intake, workflow steps, the audit log) committed
// together: jobs that arrive while a transaction is being written wait and go into the next one,
// so that one fsync serves many requests (group commit). Each job runs in its own savepoint, so a
// job that throws undoes only its own writes; a job is reported done only after the transaction
// holding it has committed durably (synchronous=FULL).
//
// Two ways in: submit() queues a job and returns at once, its `done` called later on the
// committing thread (an HTTP request then holds no thread while it waits, so a batch can hold as
// many reports as there are clients); run() waits for the commit on the calling thread.
#include "store/database.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace wangge::store {

class GroupCommit {
public:
    using Work = std::function<void(Database&)>;
    // nullptr once the job's transaction has committed; else why its writes are not stored (what
    // the job threw, or the commit's failure, which undoes the whole batch).
    using Done = std::function<void(std::exception_ptr)>;

    // `db` is a SpatiaLite file or a postgresql:// URL (store::Database::open).
    explicit GroupCommit(std::string db, std::size_t max_batch = 512);
    ~GroupCommit(); // stop(), unless it has been called
    // Finishes the jobs queued (committed, their `done` called), then joins its threads; later
    // submits throw. Idempotent. The owner calls it before letting go: a `done` may hold the last
    // reference to something that owns this GroupCommit, and destroying it there, on its own
    // completing thread, could not join that thread.
    void stop();
    GroupCommit(const GroupCommit&) = delete;
    GroupCommit& operator=(const GroupCommit&) = delete;

    // Queues `work`; `done` runs after the commit (or the failure) on the completing thread, in
    // the order the jobs were committed, while the next batch is being written. It must not
    // throw and must not wait for this GroupCommit (it may submit to it). Throws Error(unavailable, "stopping") once the destructor has begun.
    void submit(Work work, Done done);

    // Runs `job` in the next batch and returns its result once committed; rethrows what the job
    // threw, or the commit's failure.
    template <typename F>
    auto run(F&& job) -> decltype(job(std::declval<Database&>())) {
        using R = decltype(job(std::declval<Database&>()));
        std::optional<R> result;
        wait_for([&](Database& db) { result.emplace(job(db)); });
        return std::move(*result);
    }

    // Transactions committed (or failed) so far, and jobs in them: their ratio is the batching
    // achieved.
    std::size_t commits() const;
    std::size_t jobs() const;
    // Seconds spent in those transactions, from opening to commit (the database's time), and
    // jobs queued and not yet taken into a transaction (a backlog that grows: the database is
    // slower than the arrivals).
    double seconds() const;
    std::size_t backlog() const;

private:
    struct Job {
        Work work;
        Done done;
    };
    struct Finished {
        Done done;
        std::exception_ptr failure;
    };
    void wait_for(Work work);
    void commit_loop();
    void complete_loop();

    std::string m_where;
    std::size_t m_max_batch;
    mutable std::mutex m_mutex;
    std::condition_variable m_ready;
    std::deque<Job> m_queue;
    bool m_stopping = false;
    std::size_t m_commits = 0, m_jobs = 0;
    double m_seconds = 0;
    // Jobs committed (or failed) whose `done` has yet to run; the completing thread runs them.
    std::condition_variable m_finished_ready;
    std::deque<Finished> m_finished;
    bool m_committer_done = false;
    std::mutex m_stop_mutex; // one stop() joins
    std::thread m_committer;
    std::thread m_completer;
};

} // namespace wangge::store

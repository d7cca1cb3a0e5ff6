// GroupCommit: jobs that arrive together share a transaction, a job that throws undoes only its
// own writes, a job is reported done only once its transaction is visible to another connection,
// and the destructor finishes what is queued.
#include "core/error.hpp"
#include "store/sqlite_database.hpp"
#include "store/group_commit.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace wangge;

namespace {

std::int64_t count_of(store::Database& db, const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(dynamic_cast<store::SqliteDatabase&>(db).handle(), sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::int64_t n = -1;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

// A file with a table `t(x)`; every job here inserts one row.
struct Fixture {
    test::TempDir dir;
    std::filesystem::path path = dir / "g.sqlite";
    Fixture() { store::SqliteDatabase::open(path, store::OpenMode::create)->exec("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)"); }
    std::int64_t rows(const std::string& where = "1") const {
        auto db = store::SqliteDatabase::open(path, store::OpenMode::read_write);
        return count_of(*db, "SELECT count(*) FROM t WHERE " + where);
    }
};

void insert(store::Database& db, int x) { db.exec("INSERT INTO t (x) VALUES (" + std::to_string(x) + ")"); }

// Holds the committing thread in a job until released, so that the jobs submitted meanwhile
// queue up and go into one transaction together.
class Gate {
public:
    // In the job: waits for open().
    void wait() {
        std::unique_lock lock(m_mutex);
        m_entered = true;
        m_changed.notify_all();
        m_changed.wait(lock, [this] { return m_open; });
    }
    // Returns once the committing thread is in wait(), so that what comes next is queued.
    void wait_entered() {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [this] { return m_entered; });
    }
    void open() {
        {
            std::lock_guard lock(m_mutex);
            m_open = true;
        }
        m_changed.notify_all();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_changed;
    bool m_open = false;
    bool m_entered = false;
};

} // namespace

TEST_CASE("group commit: jobs submitted while a transaction is written share the next one", "[store][group]") {
    Fixture f;
    store::GroupCommit commits(f.path);
    Gate gate;
    std::promise<void> gate_done;
    commits.submit([&](store::Database&) { gate.wait(); }, [&](std::exception_ptr) { gate_done.set_value(); });
    gate.wait_entered();
    constexpr int n = 300;
    std::mutex mutex;
    std::condition_variable all_done;
    int done = 0, failed = 0;
    for (int i = 0; i < n; ++i)
        commits.submit([i](store::Database& db) { insert(db, i); },
                       [&](std::exception_ptr failure) {
                           std::lock_guard lock(mutex);
                           ++done;
                           if (failure) ++failed;
                           all_done.notify_all();
                       });
    gate.open();
    gate_done.get_future().get();
    {
        std::unique_lock lock(mutex);
        REQUIRE(all_done.wait_for(lock, std::chrono::seconds(30), [&] { return done == n; }));
    }
    CHECK(failed == 0);
    CHECK(commits.jobs() == n + 1);
    CHECK(commits.commits() == 2); // the gate alone, then the 300 reports together
    CHECK(f.rows() == n);
}

TEST_CASE("group commit: concurrent blocking callers are batched too", "[store][group]") {
    Fixture f;
    store::GroupCommit commits(f.path);
    Gate gate;
    std::thread held([&] { commits.run([&](store::Database&) { gate.wait(); return 0; }); });
    gate.wait_entered();
    constexpr int threads = 16;
    std::atomic<int> started{0};
    std::vector<std::thread> callers;
    for (int t = 0; t < threads; ++t)
        callers.emplace_back([&, t] {
            ++started;
            for (int i = 0; i < 20; ++i) commits.run([&](store::Database& db) { insert(db, t * 1000 + i); return 0; });
        });
    while (started < threads) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    gate.open();
    for (auto& c : callers) c.join();
    held.join();
    CHECK(f.rows() == threads * 20);
    CHECK(commits.jobs() == threads * 20 + 1);
    // One caller waits for each of its jobs, so a batch holds at most one job per caller: 16
    // callers with 20 jobs each need at least 20 transactions, and far fewer than 320.
    INFO(commits.commits() << " transactions for " << commits.jobs() << " jobs");
    CHECK(commits.commits() < commits.jobs() / 2);
}

TEST_CASE("group commit: a job that throws undoes only its own writes", "[store][group]") {
    Fixture f;
    store::GroupCommit commits(f.path);
    Gate gate;
    std::promise<void> gate_done;
    commits.submit([&](store::Database&) { gate.wait(); }, [&](std::exception_ptr) { gate_done.set_value(); });
    gate.wait_entered();
    std::vector<std::promise<std::exception_ptr>> outcomes(4);
    auto report = [&](int i) { return [&, i](std::exception_ptr e) { outcomes[static_cast<std::size_t>(i)].set_value(e); }; };
    commits.submit([](store::Database& db) { insert(db, 1); }, report(0));
    commits.submit(
        [](store::Database& db) {
            insert(db, 2);
            insert(db, 3);
            throw Error(ErrorKind::conflict, "test", "the second job fails after writing");
        },
        report(1));
    commits.submit([](store::Database& db) { insert(db, 1); }, report(2)); // violates UNIQUE: fails in SQLite
    commits.submit([](store::Database& db) { insert(db, 4); }, report(3));
    gate.open();
    gate_done.get_future().get();
    std::vector<std::exception_ptr> got;
    for (auto& o : outcomes) got.push_back(o.get_future().get());
    CHECK_FALSE(got[0]);
    REQUIRE(got[1]);
    CHECK_THROWS_WITH(std::rethrow_exception(got[1]), Catch::Contains("the second job fails"));
    CHECK(got[2]);
    CHECK_FALSE(got[3]);
    CHECK(commits.commits() == 2); // all four in one transaction
    CHECK(f.rows() == 2);
    CHECK(f.rows("x IN (1, 4)") == 2);
    // run() rethrows what its job threw.
    CHECK_THROWS_AS(commits.run([](store::Database& db) { insert(db, 4); return 0; }), Error);
    CHECK(commits.run([](store::Database& db) { insert(db, 5); return 5; }) == 5);
}

TEST_CASE("group commit: a job is done only once another connection sees its writes", "[store][group]") {
    Fixture f;
    store::GroupCommit commits(f.path);
    auto reader = store::SqliteDatabase::open(f.path, store::OpenMode::read_write);
    constexpr int n = 50;
    std::mutex mutex;
    std::condition_variable all_done;
    int done = 0;
    std::set<int> unseen;
    for (int i = 0; i < n; ++i)
        commits.submit([i](store::Database& db) { insert(db, i); },
                       [&, i](std::exception_ptr failure) {
                           // On the committing thread, after the commit: a second connection sees it.
                           const bool seen =
                               !failure && count_of(*reader, "SELECT count(*) FROM t WHERE x = " + std::to_string(i)) == 1;
                           std::lock_guard lock(mutex);
                           if (!seen) unseen.insert(i);
                           ++done;
                           all_done.notify_all();
                       });
    std::unique_lock lock(mutex);
    REQUIRE(all_done.wait_for(lock, std::chrono::seconds(30), [&] { return done == n; }));
    CHECK(unseen.empty());
}

TEST_CASE("group commit: the destructor commits and completes every queued job", "[store][group]") {
    Fixture f;
    constexpr int n = 200;
    std::atomic<int> committed{0};
    Gate gate;
    std::thread opener;
    {
        store::GroupCommit commits(f.path, 16);
        commits.submit([&](store::Database&) { gate.wait(); }, [](std::exception_ptr) {});
        gate.wait_entered();
        for (int i = 0; i < n; ++i)
            commits.submit([i](store::Database& db) { insert(db, i); },
                           [&](std::exception_ptr failure) {
                               if (!failure) ++committed;
                           });
        // Every job is still queued when the destructor begins; the gate opens while it waits.
        opener = std::thread([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            gate.open();
        });
    }
    opener.join();
    CHECK(committed == n);
    CHECK(f.rows() == n);
}

// PasswordPool: password checks on threads of their own, a bounded queue, refusals past it.
#include "auth/password_pool.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

using namespace wangge;
using namespace std::chrono_literals;

namespace {

// Tasks that wait until the test opens the gate, counting how many run at once.
struct Gate {
    std::mutex mutex;
    std::condition_variable changed;
    bool open = false;
    int running = 0, most = 0, finished = 0;

    std::function<void()> task() {
        return [this] {
            std::unique_lock lock(mutex);
            ++running;
            most = std::max(most, running);
            changed.notify_all();
            changed.wait(lock, [this] { return open; });
            --running;
            ++finished;
            changed.notify_all();
        };
    }
    bool wait_running(int n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 30s, [&] { return running == n; });
    }
    void release() {
        std::lock_guard lock(mutex);
        open = true;
        changed.notify_all();
    }
    bool wait_finished(int n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 30s, [&] { return finished == n; });
    }
};

} // namespace

TEST_CASE("password pool: as many checks at once as it has threads, the rest wait in order", "[auth][pool]") {
    Gate gate;
    auth::PasswordPool pool(2, 16);
    CHECK(pool.threads() == 2);
    for (int i = 0; i < 6; ++i) pool.submit(gate.task());
    REQUIRE(gate.wait_running(2));
    // Both threads are held by the gate: the other four can only be waiting.
    CHECK(pool.waiting() == 4);
    gate.release();
    REQUIRE(gate.wait_finished(6));
    CHECK(gate.most == 2);
    CHECK(pool.waiting() == 0);
}

TEST_CASE("password pool: past the queue's limit a check is refused at once with 503 and Retry-After", "[auth][pool]") {
    Gate gate;
    auth::PasswordPool pool(1, 2);
    pool.submit(gate.task());
    REQUIRE(gate.wait_running(1));
    pool.submit(gate.task());
    pool.submit(gate.task());
    std::optional<Error> refused;
    try {
        pool.submit(gate.task());
    } catch (const Error& e) {
        refused = e;
    }
    REQUIRE(refused);
    CHECK(refused->kind() == ErrorKind::unavailable);
    CHECK(refused->code() == "sign_in_busy");
    CHECK(refused->retry_after_seconds() == 1);
    CHECK(pool.waiting() == 2); // the refused one was not queued
    gate.release();
    REQUIRE(gate.wait_finished(3));
    // Room again: the next is taken and run.
    std::promise<void> ran;
    pool.submit([&] { ran.set_value(); });
    CHECK(ran.get_future().wait_for(30s) == std::future_status::ready);
}

TEST_CASE("password pool: stopping runs every queued check before the threads end", "[auth][pool]") {
    Gate gate;
    std::atomic<int> after{0};
    {
        auth::PasswordPool pool(1, 8);
        pool.submit(gate.task());
        REQUIRE(gate.wait_running(1));
        for (int i = 0; i < 5; ++i) pool.submit([&] { ++after; });
        gate.release();
    } // the destructor waits for all of them
    CHECK(after == 5);
    CHECK(gate.finished == 1);
    CHECK_THROWS_AS(auth::PasswordPool(0, 8), std::invalid_argument);
}

TEST_CASE("password pool: let go last by one of its own tasks, it ends without joining that thread", "[auth][pool]") {
    // A task may hold the last reference to the pool (through what a completion keeps); its
    // destructor then runs on the pool's own thread, which must not join itself.
    std::promise<void> destroyed;
    Gate gate;
    {
        std::shared_ptr<auth::PasswordPool> pool(new auth::PasswordPool(2, 4), [&](auth::PasswordPool* p) {
            delete p;
            destroyed.set_value();
        });
        pool->submit([keep = pool, wait = gate.task()] { wait(); });
        REQUIRE(gate.wait_running(1));
    } // the task holds the only reference now
    gate.release();
    CHECK(destroyed.get_future().wait_for(30s) == std::future_status::ready);
}

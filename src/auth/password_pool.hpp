#pragma once
// Password checks on threads of their own. Each Argon2id check costs a tenth of a second of a
// core and 64 MiB on purpose (src/auth/secrets.cpp); done on the HTTP threads, a burst of
// sign-ins at the start of a shift would hold every thread that answers locate, tiles and
// reports, and take threads x 64 MiB. The pool bounds both: `threads` checks at once, at most
// `queue_limit` waiting behind them, and beyond that a sign-in is refused at once with 503
// (Retry-After) rather than queued for longer than anyone waits.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace wangge::auth {

class PasswordPool {
public:
    // threads >= 1; throws std::invalid_argument for 0.
    PasswordPool(std::size_t threads, std::size_t queue_limit);
    // Runs what is queued, then joins. Let go on one of its own threads (a task holding the last
    // reference), that thread is detached instead of joined and ends after the task.
    ~PasswordPool();
    PasswordPool(const PasswordPool&) = delete;
    PasswordPool& operator=(const PasswordPool&) = delete;
    PasswordPool(PasswordPool&&) = delete;
    PasswordPool& operator=(PasswordPool&&) = delete;

    // Queues `work` for a pool thread; it must not throw. Throws Error(unavailable,
    // "sign_in_busy", Retry-After 1) when queue_limit tasks wait already.
    void submit(std::function<void()> work);

    std::size_t threads() const noexcept { return m_threads.size(); }
    std::size_t waiting() const;

private:
    // Shared with the threads, so that one detached by the destructor outlives the pool safely.
    struct State {
        std::mutex mutex;
        std::condition_variable wake;
        std::deque<std::function<void()>> queue;
        std::size_t queue_limit = 0;
        bool stopping = false;
    };
    static void run(State& state);

    std::shared_ptr<State> m_state;
    std::vector<std::thread> m_threads;
};

} // namespace wangge::auth

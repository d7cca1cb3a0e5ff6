#include "auth/password_pool.hpp"

#include "core/error.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace wangge::auth {

PasswordPool::PasswordPool(std::size_t threads, std::size_t queue_limit)
    : m_state(std::make_shared<State>()) {
    if (threads == 0) throw std::invalid_argument("a password pool needs at least one thread");
    m_state->queue_limit = queue_limit;
    m_threads.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) m_threads.emplace_back([state = m_state] { run(*state); });
}

PasswordPool::~PasswordPool() {
    {
        std::lock_guard lock(m_state->mutex);
        m_state->stopping = true;
    }
    m_state->wake.notify_all();
    for (auto& t : m_threads) {
        if (t.get_id() == std::this_thread::get_id())
            t.detach(); // let go by its own task: the thread holds the state and ends after it
        else
            t.join();
    }
}

void PasswordPool::submit(std::function<void()> work) {
    {
        std::lock_guard lock(m_state->mutex);
        if (m_state->queue.size() >= m_state->queue_limit)
            throw Error(ErrorKind::unavailable, "sign_in_busy",
                        std::to_string(m_state->queue.size()) + " sign-ins are waiting already; try again in a second")
                .with_retry_after(1);
        m_state->queue.push_back(std::move(work));
    }
    m_state->wake.notify_one();
}

std::size_t PasswordPool::waiting() const {
    std::lock_guard lock(m_state->mutex);
    return m_state->queue.size();
}

void PasswordPool::run(State& state) {
    for (;;) {
        std::function<void()> work;
        {
            std::unique_lock lock(state.mutex);
            state.wake.wait(lock, [&] { return state.stopping || !state.queue.empty(); });
            if (state.queue.empty()) return; // stopping, and nothing left to run
            work = std::move(state.queue.front());
            state.queue.pop_front();
        }
        try {
            work();
        } catch (const std::exception& e) { // a task must not throw; one that does ends itself only
            spdlog::error("password pool: a task failed: {}", e.what());
        } catch (...) {
            spdlog::error("password pool: a task failed");
        }
    }
}

} // namespace wangge::auth

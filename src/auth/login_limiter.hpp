#pragma once
// Slows password guessing: failed sign-ins are counted per user name and per client address over
// a window, and past a limit further attempts are refused (429) until the oldest failure leaves
// the window. Counts live in memory: a restart forgives, which a guesser cannot cause.
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace wangge::auth {

class LoginLimiter {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    struct Options {
        std::size_t per_user = 5;     // failures per user name in the window
        std::size_t per_address = 20; // failures per client address in the window
        std::chrono::seconds window{15 * 60};
        std::size_t max_keys = 100000; // memory bound: the oldest keys are forgotten first
    };

    explicit LoginLimiter(Options options, Clock clock = std::chrono::steady_clock::now);

    // How long the caller must wait before trying `user` from `address` again; nullopt: go ahead.
    std::optional<std::chrono::seconds> blocked(const std::string& user, const std::string& address);
    void failed(const std::string& user, const std::string& address);
    // A successful sign-in clears the user's failures (not the address's).
    void succeeded(const std::string& user);

private:
    using Times = std::deque<std::chrono::steady_clock::time_point>;
    std::optional<std::chrono::seconds> wait_for(Times& times, std::size_t limit, std::chrono::steady_clock::time_point now);
    void record(const std::string& key, std::chrono::steady_clock::time_point now);

    Options m_options;
    Clock m_clock;
    std::mutex m_mutex;
    std::unordered_map<std::string, Times> m_failures;
};

} // namespace wangge::auth

#include "auth/login_limiter.hpp"

#include "core/text.hpp"

#include <algorithm>

namespace wangge::auth {

namespace {
std::string user_key(const std::string& user) {
    return "user:" + to_lower(user);
}
std::string address_key(const std::string& address) { return "addr:" + address; }
} // namespace

LoginLimiter::LoginLimiter(Options options, Clock clock) : m_options(options), m_clock(std::move(clock)) {}

std::optional<std::chrono::seconds> LoginLimiter::wait_for(Times& times, std::size_t limit,
                                                           std::chrono::steady_clock::time_point now) {
    while (!times.empty() && now - times.front() >= m_options.window) times.pop_front();
    if (times.size() < limit) return std::nullopt;
    const auto wait = std::chrono::ceil<std::chrono::seconds>(times.front() + m_options.window - now);
    return std::max(wait, std::chrono::seconds(1));
}

std::optional<std::chrono::seconds> LoginLimiter::blocked(const std::string& user, const std::string& address) {
    std::lock_guard lock(m_mutex);
    const auto now = m_clock();
    std::optional<std::chrono::seconds> wait;
    if (auto it = m_failures.find(user_key(user)); it != m_failures.end())
        wait = wait_for(it->second, m_options.per_user, now);
    if (auto it = m_failures.find(address_key(address)); it != m_failures.end())
        if (auto w = wait_for(it->second, m_options.per_address, now); w && (!wait || *w > *wait)) wait = w;
    return wait;
}

void LoginLimiter::record(const std::string& key, std::chrono::steady_clock::time_point now) {
    if (m_failures.size() >= m_options.max_keys && !m_failures.contains(key)) {
        // Forget the key whose last failure is oldest.
        auto oldest = std::min_element(m_failures.begin(), m_failures.end(), [](const auto& a, const auto& b) {
            return a.second.empty() || (!b.second.empty() && a.second.back() < b.second.back());
        });
        m_failures.erase(oldest);
    }
    Times& times = m_failures[key];
    times.push_back(now);
    // Only the failures inside the window matter, and never more than the larger limit.
    while (times.size() > std::max(m_options.per_user, m_options.per_address)) times.pop_front();
}

void LoginLimiter::failed(const std::string& user, const std::string& address) {
    std::lock_guard lock(m_mutex);
    const auto now = m_clock();
    record(user_key(user), now);
    record(address_key(address), now);
}

void LoginLimiter::succeeded(const std::string& user) {
    std::lock_guard lock(m_mutex);
    m_failures.erase(user_key(user));
}

} // namespace wangge::auth

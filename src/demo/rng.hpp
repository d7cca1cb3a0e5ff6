#pragma once
// Deterministic randomness for the demo generator. The output sequence of std::mt19937_64 is
// fixed by the standard, but the std:: distributions are not (libstdc++ and libc++ differ), so
// the helpers here map the raw 64-bit output to ranges themselves: the same seed gives the same
// district with any standard library.
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace wangge::demo::detail {

// SplitMix64's finaliser: turns related inputs (seed, index, attempt) into unrelated seeds, so
// that each community draws from its own stream and a retry in one leaves the others unchanged.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0) noexcept {
    return mix(mix(mix(seed) ^ a) ^ b);
}

class Rng {
public:
    explicit Rng(std::uint64_t seed) : m_engine(seed) {}

    // Uniform in [0, 1), from the top 53 bits.
    double uniform() { return static_cast<double>(m_engine() >> 11) * 0x1.0p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Uniform in [lo, hi], both included. The modulo bias is below 2^-50 for the small spans used.
    int integer(int lo, int hi) {
        auto span = static_cast<std::uint64_t>(static_cast<std::int64_t>(hi) - lo + 1);
        return lo + static_cast<int>(m_engine() % span);
    }
    bool chance(double p) { return uniform() < p; }

    template <typename T>
    void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[m_engine() % i]);
    }

private:
    std::mt19937_64 m_engine;
};

} // namespace wangge::demo::detail

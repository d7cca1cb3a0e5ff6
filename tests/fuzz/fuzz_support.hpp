#pragma once
// What every fuzz target shares: reading the input as a choice byte and the rest, and the rule
// that only wangge::Error may leave the code under test (anything else escaping is a finding,
// which libFuzzer reports when the exception reaches it and aborts).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace wangge::fuzz {

// The input split into a first byte that picks what to do and the bytes after it.
struct Input {
    std::uint8_t choice = 0;
    std::string_view rest;

    Input(const std::uint8_t* data, std::size_t size) {
        if (size > 0) {
            choice = data[0];
            rest = std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1);
        }
    }
};

// Stops the run with a message libFuzzer's crash report shows: a property that must hold did not.
[[noreturn]] inline void fail(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "wangge fuzz: %s: %.*s\n", what, static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()),
                 detail.data());
    std::abort();
}

} // namespace wangge::fuzz

#pragma once
// Whole numbers out of request bodies. nlohmann-json's get<int>() casts whatever number it holds:
// a float beyond the target's range (a "seed" of 1e114) is undefined behaviour, 2.5 becomes 2,
// and a whole number beyond the range wraps (a "rating" of 4294967297 would be 1). These take a
// whole number within T's range, or nothing.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>

namespace wangge::api {

template <typename T>
std::optional<T> whole_number(const nlohmann::json& value) {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    if (value.is_number_unsigned()) {
        const auto u = value.get<std::uint64_t>();
        if (std::in_range<T>(u)) return static_cast<T>(u);
    } else if (value.is_number_integer()) {
        const auto s = value.get<std::int64_t>();
        if (std::in_range<T>(s)) return static_cast<T>(s);
    }
    return std::nullopt;
}

} // namespace wangge::api

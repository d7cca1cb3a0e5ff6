#include "core/codes.hpp"

#include "core/error.hpp"

#include <algorithm>

namespace wangge {

std::string_view to_string(Level level) noexcept {
    switch (level) {
    case Level::street: return "street";
    case Level::community: return "community";
    case Level::grid: return "grid";
    }
    return "grid";
}

std::optional<Level> parse_level(std::string_view text) noexcept {
    if (text == "street" || text == "streets") return Level::street;
    if (text == "community" || text == "communities") return Level::community;
    if (text == "grid" || text == "grids") return Level::grid;
    return std::nullopt;
}

std::size_t code_length(Level level) noexcept {
    switch (level) {
    case Level::street: return 9;
    case Level::community: return 12;
    case Level::grid: return 15;
    }
    return 15;
}

namespace {
bool all_digits(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
} // namespace

std::optional<Level> level_of_code(std::string_view code) noexcept {
    if (!all_digits(code)) return std::nullopt;
    for (Level l : {Level::street, Level::community, Level::grid})
        if (code.size() == code_length(l)) return l;
    return std::nullopt;
}

void require_code(Level level, std::string_view code) {
    if (!all_digits(code) || code.size() != code_length(level))
        throw Error(ErrorKind::unprocessable, "invalid_code",
                    std::string(to_string(level)) + " code '" + std::string(code) + "' must be " +
                        std::to_string(code_length(level)) + " digits");
    // The last three digits are a sequence number within the parent, starting at 001.
    if (code.substr(code.size() - 3) == "000")
        throw Error(ErrorKind::unprocessable, "invalid_code",
                    std::string(to_string(level)) + " code '" + std::string(code) +
                        "' ends in 000; its last three digits number it within its parent from 001");
}

std::string parent_code(Level level, std::string_view code) {
    switch (level) {
    case Level::grid: return std::string(code.substr(0, code_length(Level::community)));
    case Level::community: return std::string(code.substr(0, code_length(Level::street)));
    case Level::street: break;
    }
    throw Error(ErrorKind::internal, "no_parent", "a street office has no parent in the hierarchy");
}

void require_parent(Level level, std::string_view code, std::string_view parent) {
    if (parent_code(level, code) != parent)
        throw Error(ErrorKind::unprocessable, "code_parent_mismatch",
                    std::string(to_string(level)) + " code '" + std::string(code) +
                        "' does not start with its parent's code '" + std::string(parent) + "'");
}

} // namespace wangge

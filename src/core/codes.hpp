#pragma once
// Division codes of the three-level hierarchy, in the formats of the National Bureau of
// Statistics: a street office (街道) has 9 digits (6-digit county + 3), a community (社区)
// 12 digits (street + 3), a responsibility grid (责任网格) 15 digits (community + 3).
#include <optional>
#include <string>
#include <string_view>

namespace wangge {

enum class Level { street, community, grid };

std::string_view to_string(Level level) noexcept;
// "street" | "community" | "grid"; nullopt otherwise.
std::optional<Level> parse_level(std::string_view text) noexcept;
// Number of digits of a code at this level: 9, 12 or 15.
std::size_t code_length(Level level) noexcept;

// The level a code's shape implies (all digits, 9/12/15 long), or nullopt.
std::optional<Level> level_of_code(std::string_view code) noexcept;

// Throws Error(unprocessable, "invalid_code") unless `code` is a well-formed code of `level`.
void require_code(Level level, std::string_view code);

// The code of the parent level encoded in the prefix: a grid's community, a community's street.
// Throws for a street code (its parent, the county, is not part of the hierarchy).
std::string parent_code(Level level, std::string_view code);

// Throws Error(unprocessable, "code_parent_mismatch") unless `code` (at `level`) starts with
// `parent`.
void require_parent(Level level, std::string_view code, std::string_view parent);

} // namespace wangge

#pragma once
// UTF-8 checks for text that reaches JSON: a request's path and query, names read from a file.
// JSON text must be valid UTF-8, so invalid bytes are refused (requests) or replaced (data).
#include <string>
#include <string_view>

namespace wangge {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text) noexcept;
// `text` with each invalid byte sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

} // namespace wangge

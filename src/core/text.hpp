#pragma once
// Small text helpers used across modules (header values, imported fields, user names), in one
// place. ASCII only: case folding of codes, names of formats and HTTP tokens.
#include <string>
#include <string_view>

namespace wangge {

// Without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view s) noexcept;
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b) noexcept;
// Text for an XML attribute or element: & < > " ' escaped, control characters XML 1.0 does not
// allow dropped.
std::string xml_escape(std::string_view text);

} // namespace wangge

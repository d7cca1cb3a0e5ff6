#pragma once
// How both stores keep a user's scopes in one text column: the codes between spaces
// (" 320102002 320102003 "), so that a filter matches whole codes and their prefixes alike.
#include <string>
#include <string_view>
#include <vector>

namespace wangge::store::detail {

inline std::vector<std::string> split_codes(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const auto space = text.find(' ');
        if (space != 0) out.emplace_back(text.substr(0, space));
        if (space == std::string_view::npos) break;
        text.remove_prefix(space + 1);
    }
    return out;
}

inline std::string join_codes(const std::vector<std::string>& codes) {
    std::string out = " ";
    for (const auto& code : codes) out.append(code).append(" ");
    return codes.empty() ? std::string() : out;
}

} // namespace wangge::store::detail

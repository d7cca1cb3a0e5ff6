#include "incident/data_file.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace wangge::incident::detail {

std::string read_data_file(const std::filesystem::path& path, std::string_view description) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, "unreadable_file", "cannot read the " + std::string(description) + " " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

nlohmann::json parse_data_object(std::string_view text, const std::string& code, const std::string& what) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text.begin(), text.end());
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::unprocessable, code, what + ": not JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(ErrorKind::unprocessable, code, what + ": top level: must be an object");
    return j;
}

std::optional<std::string> unknown_key(const nlohmann::json& object, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : object.items()) {
        if (!key.empty() && key[0] == '_') continue; // comments
        if (std::find(known.begin(), known.end(), key) == known.end()) return key;
    }
    return std::nullopt;
}

} // namespace wangge::incident::detail

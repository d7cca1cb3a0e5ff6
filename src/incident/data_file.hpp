#pragma once
// Reading the data files of incident handling (data/categories.json, data/calendar.json) in one
// way: the whole file, JSON with an object at the top, keys starting with '_' as comments, every
// error naming the file.
#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace wangge::incident::detail {

// The file's text; Error(io, "unreadable_file") naming `description` when it cannot be read.
std::string read_data_file(const std::filesystem::path& path, std::string_view description);

// `parse(text of path)`, its errors prefixed with the path.
template <typename T, typename Parse>
T load_data_file(const std::filesystem::path& path, std::string_view description, Parse&& parse) {
    const std::string text = read_data_file(path, description);
    try {
        return parse(text);
    } catch (const Error& e) {
        throw Error(e.kind(), e.code(), path.string() + ": " + e.what());
    }
}

// The JSON object in `text`; Error(unprocessable, code) "<what>: not JSON" or "top level: must be
// an object" otherwise.
nlohmann::json parse_data_object(std::string_view text, const std::string& code, const std::string& what);

// The first key of `object` that is neither in `known` nor a comment (starting with '_').
std::optional<std::string> unknown_key(const nlohmann::json& object, std::initializer_list<std::string_view> known);

} // namespace wangge::incident::detail

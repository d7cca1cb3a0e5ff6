#include "api/header_values.hpp"

#include <charconv>

namespace wangge::api {

std::vector<QualityItem> parse_quality_list(std::string_view header) {
    std::vector<QualityItem> out;
    for (;;) {
        const auto comma = header.find(',');
        const std::string_view element = header.substr(0, comma);
        const auto semi = element.find(';');
        QualityItem item{trim(element.substr(0, semi)), 1.0};
        for (auto at = semi; at != std::string_view::npos;) {
            const auto next = element.find(';', at + 1);
            const std::string_view param = trim(element.substr(at + 1, next == std::string_view::npos ? next : next - at - 1));
            if (param.size() > 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
                double q = 1.0;
                const auto [ptr, ec] = std::from_chars(param.data() + 2, param.data() + param.size(), q);
                item.q = ec == std::errc() && ptr == param.data() + param.size() ? q : 1.0;
                break;
            }
            at = next;
        }
        if (!item.value.empty()) out.push_back(item);
        if (comma == std::string_view::npos) return out;
        header.remove_prefix(comma + 1);
    }
}

std::string media_type_of(std::string_view value) { return to_lower(trim(value.substr(0, value.find(';')))); }

bool is_json_media_type(std::string_view content_type) {
    const std::string type = media_type_of(content_type);
    return type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
}

bool is_form_media_type(std::string_view content_type) {
    return media_type_of(content_type) == "application/x-www-form-urlencoded";
}

bool is_multipart_media_type(std::string_view content_type) {
    return media_type_of(content_type) == "multipart/form-data";
}

std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name) {
    for (;;) {
        const auto semi = header.find(';');
        const std::string_view pair = trim(header.substr(0, semi));
        const auto eq = pair.find('=');
        if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
            std::string_view value = pair.substr(eq + 1);
            if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
            return value;
        }
        if (semi == std::string_view::npos) return std::nullopt;
        header.remove_prefix(semi + 1);
    }
}

} // namespace wangge::api

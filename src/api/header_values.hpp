#pragma once
// The small parsers of header values, in one place for every endpoint family and the access
// check (trimming and case folding come from core/text.hpp): quality lists (Accept, Accept-Encoding), media
// types and cookies.
#include "core/text.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::api {

// One element of a comma-separated list with optional q-values (RFC 9110 12.4.2):
// "gzip;q=0.5" -> {"gzip;q=0.5" without params = "gzip", 0.5}. `value` keeps its other
// parameters stripped; q defaults to 1 and a malformed q counts as 1.
struct QualityItem {
    std::string_view value;
    double q = 1.0;
};
std::vector<QualityItem> parse_quality_list(std::string_view header);

// The media type of a Content-Type or Accept range without parameters, lower-case:
// "Application/JSON; charset=utf-8" -> "application/json".
std::string media_type_of(std::string_view value);
// application/json or any type with the +json suffix.
bool is_json_media_type(std::string_view content_type);
// application/x-www-form-urlencoded, whatever its parameters.
bool is_form_media_type(std::string_view content_type);

// multipart/form-data, whatever its parameters.
bool is_multipart_media_type(std::string_view content_type);

// The value of cookie `name` in a Cookie header ("a=1; wangge_session=xyz"), if present.
std::optional<std::string_view> cookie_value(std::string_view header, std::string_view name);

} // namespace wangge::api

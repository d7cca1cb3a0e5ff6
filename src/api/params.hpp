#pragma once
// Query-parameter parsing shared by the endpoint families; every failure is an
// Error(bad_request) that names the parameter and the value.
#include "api/message.hpp"
#include "core/types.hpp"

#include <optional>
#include <string_view>

namespace wangge::api {

double required_double(const Request& req, std::string_view name);
std::optional<long> optional_long(const Request& req, std::string_view name, long min, long max);
std::optional<BBox> optional_bbox(const Request& req);

} // namespace wangge::api

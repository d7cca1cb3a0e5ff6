#include "api/params.hpp"

#include <charconv>
#include <string>

namespace wangge::api {

double required_double(const Request& req, std::string_view name) {
    auto v = req.param(name);
    if (!v || v->empty())
        throw Error(ErrorKind::bad_request, "missing_parameter",
                    "query parameter '" + std::string(name) + "' is required");
    double d = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), d);
    if (ec != std::errc() || ptr != v->data() + v->size())
        throw Error(ErrorKind::bad_request, "invalid_parameter",
                    "query parameter '" + std::string(name) + "' must be a number, got '" + std::string(*v) + "'");
    return d;
}

std::optional<long> optional_long(const Request& req, std::string_view name, long min, long max) {
    auto v = req.param(name);
    if (!v) return std::nullopt;
    long n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || ptr != v->data() + v->size() || v->empty())
        throw Error(ErrorKind::bad_request, "invalid_parameter",
                    "query parameter '" + std::string(name) + "' must be an integer, got '" + std::string(*v) + "'");
    if (n < min || n > max)
        throw Error(ErrorKind::bad_request, "invalid_parameter",
                    "query parameter '" + std::string(name) + "' must be between " + std::to_string(min) +
                        " and " + std::to_string(max) + ", got " + std::to_string(n));
    return n;
}

std::optional<BBox> optional_bbox(const Request& req) {
    auto v = req.param("bbox");
    if (!v) return std::nullopt;
    return parse_bbox(std::string(*v).c_str());
}

} // namespace wangge::api

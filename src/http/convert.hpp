#pragma once
// The one place where Beast messages meet api values: request translation, the handler call
// with its error boundary, and the wire form of a response.
#include "http/server.hpp"

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <string_view>

namespace wangge::http::detail {

using WireRequest = boost::beast::http::request<boost::beast::http::string_body>;
using WireResponse = boost::beast::http::response<boost::beast::http::string_body>;

inline constexpr std::string_view server_name = "wangge/0.1";

// Copies method, target and headers (names lower-cased) and moves the body out of `wire`;
// HEAD becomes GET. Throws Error(bad_request) for malformed percent-encoding.
api::Request to_api_request(WireRequest& wire);

// Runs `handler` on `wire`; never throws for errors of the request or the handler, which are
// answered with the JSON error envelope instead.
api::Response respond(const Handler& handler, WireRequest& wire);

// Fills `out` (a default-constructed message) from `response` and returns the announced
// Content-Length. A HEAD answer keeps the length but sends no body.
std::size_t to_wire_response(api::Response&& response, WireResponse& out, unsigned version, bool keep_alive,
                             bool head);

} // namespace wangge::http::detail

#pragma once
// HTTP-shaped request and response values. The api module turns a Request into a Response with
// no sockets involved; the http module moves them over the wire.
#include "api/route.hpp"
#include "auth/principal.hpp"
#include "core/error.hpp"

#include <array>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wangge::api {

struct Request {
    std::string method = "GET";
    std::string target;  // as sent: path and query string
    std::string path;    // percent-decoded path without the query
    std::vector<std::pair<std::string, std::string>> query; // decoded, in order
    std::vector<std::pair<std::string, std::string>> headers; // names lower-case
    std::string body;
    // The origin (and path prefix) clients reach this server at, when the server is configured
    // with one (`serve --public-url`): links are built on it instead of the Host header. Set by
    // the HTTP server, which owns the text and outlives its requests.
    std::string_view public_origin;
    // Parsed once with the path (make_request); the access check and the families read it.
    Route route;
    // Who is asking, set by the Service from a bearer token or a session cookie; null when
    // anonymous.
    std::shared_ptr<const auth::Principal> principal;
    // The client's address as the server saw it ("" in tests without sockets).
    std::string remote_address;
    // The id its answer names in X-Request-Id and the log lines of its handling carry (the
    // client's own when it sent a usable one: request_id_for); "" in tests without sockets.
    std::string request_id;

    // The last value of a query parameter, if present.
    std::optional<std::string_view> param(std::string_view name) const;
    std::optional<std::string_view> header(std::string_view lower_name) const;
    // True when If-None-Match names `etag` (weak comparison, RFC 9110 13.1.2) or is "*": the
    // client's copy is current and a 304 answers.
    bool not_modified(std::string_view etag) const;
};

// What a family tells the audit log about a write it answered (the Service writes the line).
struct AuditNote {
    std::string action; // overrides the route's, e.g. "rebalance.apply" rather than "rebalance"
    std::string user;   // for a sign-in: the name tried, when nobody is signed in yet
    std::optional<std::int64_t> base_version;
    std::optional<std::int64_t> data_version;
    std::string detail;
};

struct Response;
// Completes a deferred response; called exactly once, from any thread.
using Completion = std::function<void(Response)>;

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    // The body is `body`, or, when set, `shared_body`: bytes held by a cache (a tile), which the
    // server sends from where they are instead of copying them into each response. bytes()
    // reads whichever it is.
    std::string body;
    std::shared_ptr<const std::string> shared_body;
    std::vector<std::pair<std::string, std::string>> headers; // extra headers
    // Set when the answer is not ready yet (a tile being rendered): the caller hands it a
    // completion and is free to do other work; the response itself is then only a placeholder.
    // The HTTP session answers when the completion runs, holding no thread meanwhile.
    std::function<void(Completion)> deferred;
    std::optional<AuditNote> audit;

    void set_header(std::string name, std::string value);
    std::string_view bytes() const noexcept { return shared_body ? std::string_view(*shared_body) : body; }
};

// The final response: `r` itself, or, when it is deferred, what its completion receives
// (waiting for it on this thread: for tests and other synchronous callers).
Response wait(Response r);

// The base of absolute links back to this server: the configured public origin when there is
// one; otherwise "http://host[:port]" (https behind a proxy that says X-Forwarded-Proto:
// https) from the Host header; empty, so that links stay relative, when the header is missing
// or is not a plain host name or address with an optional port.
std::string request_origin(const Request& req);

// A public URL as `serve --public-url` takes it ("https://maps.example.org/wangge"): http or
// https, a host, an optional port and path, no query, fragment or user; returned without a
// trailing '/'. Throws Error(bad_request, "invalid_public_url") otherwise.
std::string public_origin_of(std::string_view url);

// Splits a request target into the decoded path and query parameters and parses its route;
// throws Error(bad_request) on malformed percent-encoding and on bytes that decode to invalid
// UTF-8.
Request make_request(std::string method, std::string_view target);

std::string percent_decode(std::string_view text, bool plus_is_space);
// `target` for logs and the audit log: the value of a query parameter api_key (Open311's
// credential) replaced by "***", everything else as sent.
std::string loggable_target(std::string_view target);
// The name=value pairs of a query string or an application/x-www-form-urlencoded body, decoded,
// in order; throws Error(bad_request, "bad_encoding") naming `what` when a part is not UTF-8.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view text, std::string_view what);

// The `separator`-separated parts of `text` when there are exactly N of them (empty ones count),
// else nullopt: how endpoints take /tiles/{a}/{z}/{x}/{y} apart without allocating.
template <std::size_t N>
std::optional<std::array<std::string_view, N>> split_exactly(std::string_view text, char separator = '/') {
    std::array<std::string_view, N> parts;
    for (std::size_t i = 0; i < N; ++i) {
        const auto at = text.find(separator);
        parts[i] = text.substr(0, at);
        if (at == std::string_view::npos) return i + 1 == N ? std::optional(parts) : std::nullopt;
        text.remove_prefix(at + 1);
    }
    return std::nullopt; // more than N
}

// The JSON error envelope {"code": ..., "message": ...}: the one place it is made.
Response error_response(int status, std::string_view code, std::string_view message);
// The envelope of `e` with the status of its kind and the header that kind calls for: Allow:
// GET, HEAD for 405 (a family that takes other methods sets its own), Retry-After: 1 for 503,
// WWW-Authenticate: Bearer for 401.
Response error_response(const Error& e);
// The answer to a failure caught at a boundary (a request handler, a render completion):
// wangge::Error as above, anything else a 500 whose detail (SQL, paths, GEOS messages) goes to
// the log under `context` (what failed, e.g. "GET /tiles/..."), never to the client. Errors of
// status 500 and up are logged too.
// The body of a 500 says only "internal error" and a request id, which the log line carries too
// with the detail; it never holds SQL, file paths or library messages.
Response error_response(const std::exception_ptr& error, std::string_view context);
Response json_response(std::string body, int status = 200);

// The id of a request: the X-Request-Id the client (or a proxy before us) `sent` when it is 1 to
// 64 characters of letters, digits and . _ : -, so one id follows a request through every hop;
// else a new one (16 hex digits, unique within the process).
std::string request_id_for(std::optional<std::string_view> sent);

} // namespace wangge::api

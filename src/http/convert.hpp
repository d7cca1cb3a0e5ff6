#pragma once
// The one place where Beast messages meet api values: request translation, the handler call
// with its error boundary, and the wire form of a response.
#include "http/server.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace wangge::http::detail {

using WireRequest = boost::beast::http::request<boost::beast::http::string_body>;

inline constexpr std::string_view server_name = "wangge/0.1";

// A response ready to be written: the status line and header fields serialised into `head`,
// and the body beside it, owned or shared with a cache (a tile is sent from the cache's own
// bytes, never copied). Both go out in one gather write. A queue slot is reused for response
// after response, and `head` keeps its capacity, so serialising allocates nothing once a
// connection has warmed up.
class WireResponse {
public:
    // The buffers to write, in order: the head, then the body (empty for HEAD, 204 and 304).
    std::array<boost::asio::const_buffer, 2> buffers() const noexcept;
    // Whether the connection closes once this response is written.
    bool last() const noexcept { return m_last; }
    // Frees the body (a large one now, rather than when the slot comes round again); keeps the
    // head's capacity.
    void clear() noexcept;

private:
    friend std::size_t to_wire_response(api::Response&& response, WireResponse& out, unsigned version,
                                        bool keep_alive, bool head);
    std::string m_head;
    // The body to send: m_shared when set, else m_owned (both empty when nothing is sent).
    std::string m_owned;
    std::shared_ptr<const std::string> m_shared;
    bool m_last = false;
};

// Copies method, target and headers (names lower-cased) and moves the body out of `wire`;
// HEAD becomes GET; `public_origin` (owned by the caller, outliving the request) and the client's
// address are passed on. Throws Error(bad_request) for malformed percent-encoding.
api::Request to_api_request(WireRequest& wire, std::string_view public_origin = {}, std::string remote_address = {},
                            std::string request_id = {});

// Runs `handler` on `wire`; never throws for errors of the request or the handler, which are
// answered with the JSON error envelope instead.
api::Response respond(const Handler& handler, WireRequest& wire, std::string_view public_origin = {},
                      std::string remote_address = {}, std::string request_id = {});

// Makes `out` the wire form of `response` for a request of HTTP `version` (10 or 11) and
// returns the announced Content-Length. The server owns the framing: Server, Content-Type
// (from Response::content_type), Content-Length and Connection are its own, and a header of
// the handler that names one of them or holds CR, LF or NUL is dropped. A HEAD answer keeps
// the length but sends no body; 204 and 304 have neither (RFC 9110 §8.6).
std::size_t to_wire_response(api::Response&& response, WireResponse& out, unsigned version, bool keep_alive,
                             bool head);

} // namespace wangge::http::detail

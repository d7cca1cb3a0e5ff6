#include "http/convert.hpp"

#include "core/text.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <iterator>
#include <stdexcept>
#include <string>

namespace wangge::http::detail {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace wire = boost::beast::http;

namespace {

// Boost 1.74's beast::string_view is boost::string_view, not std::string_view.
std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

// RFC 9110 §5.6.2: a field name is a token.
bool is_token(std::string_view name) {
    constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
    return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               extra.find(c) != std::string_view::npos;
    });
}

// A CR or LF in a value would let a handler inject a response of its own.
bool is_safe_value(std::string_view value) {
    return std::none_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// Framing headers belong to the server: a handler setting them could desynchronise the
// connection. Content-Type comes from Response::content_type, so a second one would contradict it.
bool may_copy_header(std::string_view name, std::string_view value) {
    if (!is_token(name) || !is_safe_value(value)) return false;
    for (std::string_view owned : {"content-length", "transfer-encoding", "connection", "content-type", "server"})
        if (iequals(name, owned))
            return false;
    return true;
}

void append_field(std::string& head, std::string_view name, std::string_view value) {
    head.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& head, std::size_t n) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    head.append(digits, end);
}

} // namespace

api::Request to_api_request(WireRequest& wire, std::string_view public_origin, std::string remote_address,
                            std::string request_id) {
    const bool head = wire.method() == wire::verb::head;
    api::Request request = api::make_request(head ? std::string("GET") : std::string(to_std(wire.method_string())),
                                             to_std(wire.target()));
    request.headers.reserve(static_cast<std::size_t>(std::distance(wire.begin(), wire.end())));
    for (const auto& field : wire)
        request.headers.emplace_back(to_lower(to_std(field.name_string())), std::string(to_std(field.value())));
    request.body = std::move(wire.body());
    request.public_origin = public_origin;
    request.remote_address = std::move(remote_address);
    request.request_id = std::move(request_id);
    return request;
}

api::Response respond(const Handler& handler, WireRequest& wire, std::string_view public_origin,
                      std::string remote_address, std::string request_id) {
    try {
        return handler(to_api_request(wire, public_origin, std::move(remote_address), std::move(request_id)));
    } catch (...) {
        std::string context(to_std(wire.method_string()));
        context.append(" ").append(to_std(wire.target()));
        return api::error_response(std::current_exception(), context);
    }
}

std::array<net::const_buffer, 2> WireResponse::buffers() const noexcept {
    return {net::buffer(m_head), net::buffer(m_shared ? *m_shared : m_owned)};
}

void WireResponse::clear() noexcept {
    m_head.clear();
    m_owned = std::string();
    m_shared.reset();
    m_last = false;
}

std::size_t to_wire_response(api::Response&& response, WireResponse& out, unsigned version, bool keep_alive,
                             bool head) {
    if (response.status < 200 || response.status > 599)
        response = api::error_response(
            std::make_exception_ptr(std::logic_error("invalid HTTP status " + std::to_string(response.status))),
            "a handler's response");
    const auto status = static_cast<unsigned>(response.status);
    out.clear();
    std::string& h = out.m_head;
    h.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(h, status);
    h.append(" ").append(to_std(wire::obsolete_reason(wire::int_to_status(status)))).append("\r\n");
    append_field(h, "Server", server_name);
    if (!response.content_type.empty()) {
        if (is_safe_value(response.content_type))
            append_field(h, "Content-Type", response.content_type);
        else
            spdlog::warn("dropped a response Content-Type holding CR, LF or NUL");
    }
    for (const auto& [name, value] : response.headers) {
        if (may_copy_header(name, value))
            append_field(h, name, value);
        else
            spdlog::warn("dropped response header '{}' set by the handler", name);
    }
    // HTTP/1.1 connections persist unless closed, HTTP/1.0 ones close unless kept alive.
    if (!keep_alive && version != 10) append_field(h, "Connection", "close");
    if (keep_alive && version == 10) append_field(h, "Connection", "keep-alive");
    out.m_last = !keep_alive;

    std::size_t length = 0;
    // RFC 9110 §8.6: 204 and 304 carry neither a body nor (for 204) a Content-Length.
    if (status != 204 && status != 304) {
        length = response.bytes().size();
        h.append("Content-Length: ");
        append_number(h, length);
        h.append("\r\n");
        if (!head) {
            if (response.shared_body)
                out.m_shared = std::move(response.shared_body);
            else
                out.m_owned = std::move(response.body);
        }
    }
    h.append("\r\n");
    return length;
}

} // namespace wangge::http::detail

#include "http/convert.hpp"

#include <boost/beast/core/string.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace wangge::http::detail {

namespace beast = boost::beast;
namespace wire = boost::beast::http;

namespace {

// Boost 1.74's beast::string_view is boost::string_view, not std::string_view.
std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

std::string lower_case(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

api::Response internal_error() { return api::error_response(500, "internal", "internal server error"); }

// Framing headers belong to the server: a handler setting them could desynchronise the
// connection, and a CR or LF in a header would let it inject a response of its own.
// Content-Type comes from Response::content_type, so a second one would contradict it.
bool may_copy_header(std::string_view name, std::string_view value) {
    auto unsafe = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
    if (name.empty() || std::any_of(name.begin(), name.end(), unsafe) ||
        std::any_of(value.begin(), value.end(), unsafe))
        return false;
    for (std::string_view owned : {"content-length", "transfer-encoding", "connection", "content-type", "server"})
        if (beast::iequals(beast::string_view(name.data(), name.size()), beast::string_view(owned.data(), owned.size())))
            return false;
    return true;
}

} // namespace

api::Request to_api_request(WireRequest& wire) {
    const bool head = wire.method() == wire::verb::head;
    api::Request request = api::make_request(head ? std::string("GET") : std::string(to_std(wire.method_string())),
                                             to_std(wire.target()));
    for (const auto& field : wire)
        request.headers.emplace_back(lower_case(to_std(field.name_string())), std::string(to_std(field.value())));
    request.body = std::move(wire.body());
    return request;
}

api::Response respond(const Handler& handler, WireRequest& wire) {
    try {
        return handler(to_api_request(wire));
    } catch (const Error& e) {
        api::Response response = api::error_response(e);
        if (response.status >= 500)
            spdlog::error("{} {}: {} ({})", to_std(wire.method_string()),
                          to_std(wire.target()), e.what(), e.code());
        return response;
    } catch (const std::exception& e) {
        // The client learns only that it failed; the reason may name files or SQL.
        spdlog::error("{} {}: unhandled exception: {}",
                      to_std(wire.method_string()),
                      to_std(wire.target()), e.what());
        return internal_error();
    } catch (...) {
        spdlog::error("{} {}: unhandled non-standard exception",
                      to_std(wire.method_string()),
                      to_std(wire.target()));
        return internal_error();
    }
}

std::size_t to_wire_response(api::Response&& response, WireResponse& out, unsigned version, bool keep_alive,
                             bool head) {
    if (response.status < 200 || response.status > 599) {
        spdlog::error("handler returned invalid HTTP status {}", response.status);
        response = internal_error();
    }
    out.version(version);
    out.result(static_cast<unsigned>(response.status));
    out.set(wire::field::server, beast::string_view(server_name.data(), server_name.size()));
    if (!response.content_type.empty()) out.set(wire::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) {
        if (may_copy_header(name, value))
            out.insert(name, value);
        else
            spdlog::warn("dropped response header '{}' set by the handler", name);
    }
    out.keep_alive(keep_alive);
    // RFC 9110 §8.6: 204 and 304 carry neither a body nor (for 204) a Content-Length.
    if (response.status == 204 || response.status == 304) return 0;
    const std::size_t length = response.body.size();
    out.content_length(length);
    if (!head) out.body() = std::move(response.body);
    return length;
}

} // namespace wangge::http::detail

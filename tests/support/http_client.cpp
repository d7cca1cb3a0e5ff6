#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <stdexcept>

namespace wangge::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace wire = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

std::string lower_case(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Errors that mean a kept-alive connection was closed by the server while idle: the request
// is sent again on a new connection, as browsers do.
bool is_stale_connection(const beast::error_code& ec) {
    return ec == wire::error::end_of_stream || ec == net::error::connection_reset || ec == net::error::broken_pipe ||
           ec == net::error::eof;
}

} // namespace

std::string HttpResponse::header(std::string_view name) const {
    const std::string lower = lower_case(name);
    for (const auto& [k, v] : headers)
        if (k == lower) return v;
    return {};
}

bool HttpResponse::has_header(std::string_view name) const {
    const std::string lower = lower_case(name);
    for (const auto& [k, v] : headers)
        if (k == lower) return true;
    return false;
}

namespace {

HttpResponse to_response(wire::response<wire::string_body>& message) {
    HttpResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message)
        response.headers.emplace_back(lower_case(to_std(field.name_string())), std::string(to_std(field.value())));
    response.body = std::move(message.body());
    return response;
}

} // namespace

std::vector<HttpResponse> parse_responses(std::string_view bytes) {
    std::vector<HttpResponse> responses;
    while (!bytes.empty()) {
        wire::response_parser<wire::string_body> parser;
        parser.eager(true);
        parser.body_limit(boost::none);
        beast::error_code ec;
        while (!parser.is_done()) {
            bytes.remove_prefix(parser.put(net::buffer(bytes.data(), bytes.size()), ec));
            if (ec == wire::error::need_more) {
                // All bytes were offered, so this is the end of the input.
                parser.put_eof(ec);
                if (ec) throw std::runtime_error("truncated HTTP response: " + ec.message());
                break;
            }
            if (ec) throw std::runtime_error("malformed HTTP response: " + ec.message());
        }
        responses.push_back(to_response(parser.get()));
    }
    return responses;
}

// Asynchronous operations with the stream's timeout, each run to completion on a private
// io_context: Beast's blocking calls have no timeout, and a hanging test is worse than a
// failing one.
struct HttpClient::Impl {
    net::io_context io{1};
    beast::tcp_stream stream{io};
    beast::flat_buffer buffer;
    tcp::endpoint endpoint;
    std::chrono::milliseconds timeout;
    int connections = 0;
    bool raw_closed = false;

    Impl(unsigned short port, std::chrono::milliseconds t)
        : endpoint(net::ip::make_address_v4("127.0.0.1"), port), timeout(t) {}

    struct Outcome {
        beast::error_code ec;
        std::size_t bytes = 0;
    };

    template <class Start>
    Outcome run_op(Start start) {
        Outcome outcome{net::error::would_block, 0};
        start([&outcome](beast::error_code ec, auto... transferred) {
            outcome.ec = ec;
            ((outcome.bytes = static_cast<std::size_t>(transferred)), ...);
        });
        io.restart();
        io.run();
        return outcome;
    }

    template <class Start>
    beast::error_code run(Start start) {
        return run_op(start).ec;
    }

    bool is_open() const { return stream.socket().is_open(); }

    void close() {
        beast::error_code ec;
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        stream.close();
        buffer.clear();
    }

    // True when a new connection was opened.
    bool ensure_connected() {
        if (is_open()) return false;
        buffer.clear();
        stream.expires_after(timeout);
        auto ec = run([&](auto handler) { stream.async_connect(endpoint, handler); });
        if (ec)
            throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(endpoint.port()) + ": " +
                                     ec.message());
        ++connections;
        return true;
    }

    beast::error_code exchange(wire::request<wire::string_body>& request,
                               wire::response_parser<wire::string_body>& parser) {
        stream.expires_after(timeout);
        auto ec = run([&](auto handler) { wire::async_write(stream, request, handler); });
        if (ec) return ec;
        stream.expires_after(timeout);
        return run([&](auto handler) { wire::async_read(stream, buffer, parser, handler); });
    }
};

HttpClient::HttpClient(unsigned short port, std::chrono::milliseconds timeout)
    : m_impl(std::make_unique<Impl>(port, timeout)) {}

HttpClient::~HttpClient() { m_impl->close(); }

HttpResponse HttpClient::get(std::string_view target) { return request("GET", target); }

HttpResponse HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                                 const HttpHeaders& headers) {
    wire::request<wire::string_body> request;
    request.version(11);
    request.method_string(beast::string_view(method.data(), method.size()));
    request.target(beast::string_view(target.data(), target.size()));
    request.set(wire::field::host, "127.0.0.1:" + std::to_string(m_impl->endpoint.port()));
    // A Host given by the test replaces the client's own; other headers are added as given.
    for (const auto& [name, value] : headers)
        if (beast::iequals(name, "host"))
            request.set(wire::field::host, value);
        else
            request.insert(name, value);
    request.body() = std::string(body);
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") request.prepare_payload();

    for (int attempt = 0;; ++attempt) {
        const bool fresh = m_impl->ensure_connected();
        wire::response_parser<wire::string_body> parser;
        parser.body_limit(256 * 1024 * 1024);
        parser.skip(method == "HEAD"); // a HEAD answer announces a length it does not send
        const auto ec = m_impl->exchange(request, parser);
        if (!ec) {
            if (!parser.get().keep_alive()) m_impl->close();
            return to_response(parser.get());
        }
        m_impl->close();
        if (fresh || attempt > 0 || !is_stale_connection(ec))
            throw std::runtime_error(std::string(method) + " " + std::string(target) + " failed: " + ec.message());
    }
}

std::string HttpClient::raw(std::string_view bytes) {
    send(bytes);
    return receive();
}

void HttpClient::send(std::string_view bytes) {
    m_impl->ensure_connected();
    auto& stream = m_impl->stream;
    stream.expires_after(m_impl->timeout);
    auto ec = m_impl->run([&](auto handler) { net::async_write(stream, net::buffer(bytes.data(), bytes.size()), handler); });
    // The server may answer and close before reading everything (a 400 on the first line).
    if (ec && !is_stale_connection(ec)) {
        m_impl->close();
        throw std::runtime_error("raw write failed: " + ec.message());
    }
}

std::string HttpClient::receive() {
    auto& stream = m_impl->stream;
    auto& buffer = m_impl->buffer;
    beast::error_code ec;
    stream.expires_after(m_impl->timeout);
    do {
        const auto outcome =
            m_impl->run_op([&](auto handler) { stream.async_read_some(buffer.prepare(64 * 1024), handler); });
        buffer.commit(outcome.bytes);
        ec = outcome.ec;
    } while (!ec);
    std::string received = beast::buffers_to_string(buffer.data());
    m_impl->raw_closed = ec != beast::error::timeout;
    m_impl->close();
    return received;
}

bool HttpClient::last_raw_closed_by_server() const { return m_impl->raw_closed; }

void HttpClient::set_timeout(std::chrono::milliseconds timeout) { m_impl->timeout = timeout; }

int HttpClient::connections() const { return m_impl->connections; }

void HttpClient::close() { m_impl->close(); }

} // namespace wangge::test

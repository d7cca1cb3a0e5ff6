#include "http/session.hpp"

#include "api/header_values.hpp"
#include "core/log.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/range/iterator_range_core.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>

namespace wangge::http::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace wire = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// After the last response of a connection we read and discard what the client still sends
// for a moment before closing: closing with unread input makes the kernel send RST, and the
// client would then lose the 413/431/400 it has not read yet.
constexpr std::chrono::milliseconds max_linger{1000};
constexpr std::size_t max_drain_bytes = 1024 * 1024;
constexpr std::size_t drain_chunk = 16 * 1024;

bool is_parse_error(const beast::error_code& ec) {
    return ec.category() == wire::make_error_code(wire::error::end_of_stream).category();
}

std::string_view to_std(beast::string_view text) { return {text.data(), text.size()}; }

} // namespace

SessionRegistry::Admission SessionRegistry::add(const std::shared_ptr<Session>& session) {
    std::lock_guard lock(m_mutex);
    if (m_closing) return Admission::closed;
    const bool serving = m_serving < m_max_serving;
    m_sessions.emplace(session.get(), Entry{session, serving});
    if (!serving) return Admission::refuse;
    ++m_serving;
    return Admission::serve;
}

void SessionRegistry::remove(const Session* session) noexcept {
    std::lock_guard lock(m_mutex);
    const auto it = m_sessions.find(session);
    if (it == m_sessions.end()) return; // never added: the server was stopping
    if (it->second.serving) --m_serving;
    m_sessions.erase(it);
}

void SessionRegistry::close_all() {
    // Collected under the lock but closed and released outside it: dropping what may be the
    // last reference runs ~Session, which takes the lock to unregister itself.
    std::vector<std::shared_ptr<Session>> open;
    {
        std::lock_guard lock(m_mutex);
        m_closing = true;
        open.reserve(m_sessions.size());
        for (auto& [raw, entry] : m_sessions)
            if (auto session = entry.session.lock()) open.push_back(std::move(session));
    }
    for (auto& session : open) session->close();
}

WireResponse& ResponseQueue::push() {
    WireResponse& slot = m_slots[(m_head + m_size) % m_slots.size()];
    ++m_size;
    return slot;
}

void ResponseQueue::pop() {
    // A large body is freed now rather than when the ring comes round; the head's buffer stays.
    m_slots[m_head].clear();
    m_head = (m_head + 1) % m_slots.size();
    --m_size;
}

Session::Session(Socket&& socket, ServerContext& context)
    : m_context(context), m_stream(std::move(socket)), m_executor(m_stream.get_executor()),
      m_queue(context.options.max_pipelined) {
    beast::error_code ec;
    const auto endpoint = m_stream.socket().remote_endpoint(ec);
    if (!ec) m_peer = endpoint.address();
}

Session::~Session() { m_context.registry.remove(this); }

void Session::start() {
    switch (m_context.registry.add(shared_from_this())) {
    case SessionRegistry::Admission::serve:
        net::dispatch(m_executor, [self = shared_from_this()] { self->do_read(); });
        return;
    case SessionRegistry::Admission::refuse:
        // Answered rather than left in the accept queue or reset, so that a client (or a
        // load balancer) learns at once to come back later. The Error overload of
        // error_response adds the Retry-After that every 503 carries.
        net::dispatch(m_executor, [self = shared_from_this()] {
            self->reject(api::error_response(Error(ErrorKind::unavailable, "too_many_connections",
                                                   "too many connections are open; retry in a moment")));
        });
        return;
    case SessionRegistry::Admission::closed:
        return; // the server is stopping: the connection is dropped with the session
    }
}

void Session::close() {
    net::post(m_executor, [self = shared_from_this()] {
        // A request being answered off the I/O threads (a report waiting for its commit) has
        // been accepted: it is answered, with Connection: close, before the connection closes.
        if (!self->m_deferred) return self->do_close();
        self->m_reading_done = true;
        self->m_closing = true;
    });
}

void Session::do_read() {
    if (m_closed) return;
    const auto& options = m_context.options;
    m_parser.emplace(); // a fresh parser per message, so no state leaks between requests
    m_parser->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options.header_limit, std::numeric_limits<std::uint32_t>::max())));
    // With uploads, the parser starts at the upload limit (Beast checks a Content-Length against
    // the limit as soon as the header is parsed) and on_header lowers it for other requests.
    m_parser->body_limit(static_cast<std::uint64_t>(std::max(options.body_limit, options.upload_limit)));
    m_stream.expires_after(options.request_timeout);
    if (options.upload_limit > options.body_limit) // the header first: it decides the body's limit
        wire::async_read_header(m_stream, m_buffer, *m_parser,
                                beast::bind_front_handler(&Session::on_header, shared_from_this()));
    else
        wire::async_read(m_stream, m_buffer, *m_parser, beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_header(beast::error_code ec, std::size_t bytes) {
    if (m_closed) return;
    if (ec) return on_read(ec, bytes);
    const auto& request = m_parser->get();
    const auto type = request[wire::field::content_type];
    const bool upload = request.method() == wire::verb::post &&
                        api::is_multipart_media_type(std::string_view(type.data(), type.size()));
    if (!upload) {
        const auto limit = static_cast<std::uint64_t>(m_context.options.body_limit);
        if (const auto length = m_parser->content_length(); length && *length > limit)
            return on_read(wire::error::body_limit, bytes);
        m_parser->body_limit(limit); // a chunked body is counted as it comes
    }
    if (m_parser->is_done()) return on_read(ec, bytes);
    wire::async_read(m_stream, m_buffer, *m_parser, beast::bind_front_handler(&Session::on_read, shared_from_this()));
}

void Session::on_read(beast::error_code ec, std::size_t /*bytes*/) {
    if (m_closed) return;
    if (ec == wire::error::end_of_stream) {
        // The client is done sending; finish the answers it is still owed.
        m_reading_done = true;
        if (m_queue.empty()) linger();
        return;
    }
    if (ec == wire::error::header_limit)
        return reject(api::error_response(431, "header_too_large", "request header too large"));
    if (ec == wire::error::body_limit)
        return reject(api::error_response(413, "payload_too_large", "request body too large"));
    if (is_parse_error(ec))
        return reject(api::error_response(400, "bad_request", "malformed HTTP request: " + ec.message()));
    if (ec) {
        // Timeout (the stream has closed the socket already), reset or abort: nobody to answer.
        do_close();
        return;
    }
    answer_request();
}

std::string Session::client_address(const WireRequest& request) const {
    if (!m_peer) return {};
    const auto& proxies = m_context.proxies;
    if (proxies.empty() || !proxies.contains(*m_peer)) return proxies.client_address(*m_peer, {});
    std::string forwarded;
    for (const auto& field : boost::make_iterator_range(request.equal_range("X-Forwarded-For"))) {
        if (!forwarded.empty()) forwarded += ',';
        forwarded.append(field.value().data(), field.value().size());
    }
    return proxies.client_address(*m_peer, forwarded);
}

void Session::answer_request() {
    const bool log = m_context.options.access_log;
    WireRequest& request = m_parser->get();
    Answering a;
    a.started = log ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    if (log) {
        a.method = to_std(request.method_string());
        a.target = api::loggable_target(to_std(request.target()));
    }
    const auto sent_id = request["X-Request-Id"];
    a.request_id = api::request_id_for(sent_id.empty() ? std::nullopt
                                                       : std::optional(std::string_view(sent_id.data(), sent_id.size())));
    // Lines logged while the request is handled on this thread carry its id.
    const log::RequestScope scope(a.request_id);
    a.client = client_address(request);
    a.version = request.version();
    a.keep_alive = request.keep_alive();
    a.head = request.method() == wire::verb::head;

    api::Response response =
        respond(m_context.handler, request, m_context.options.public_origin, a.client, a.request_id);
    if (!response.deferred) return send_answer(a, std::move(response));
    // Answered later, on this session's strand; responses stay in request order because nothing
    // more is read until then. The work guard keeps the I/O threads running until then, so that
    // Server::stop() returns only once every accepted request has been answered.
    m_deferred = true;
    auto deferred = std::move(response.deferred);
    deferred([self = shared_from_this(), a, work = net::make_work_guard(m_executor)](api::Response ready) mutable {
        net::post(self->m_executor, [self, a = std::move(a), ready = std::move(ready)]() mutable {
            self->m_deferred = false;
            if (self->m_closed) return;
            self->send_answer(a, std::move(ready));
        });
    });
}

void Session::send_answer(const Answering& a, api::Response response) {
    if (response.deferred) // a completion must hand over a final response
        response = api::error_response(
            std::make_exception_ptr(std::logic_error("completed with another deferred response")),
            "a deferred response");
    const int status = response.status;
    response.set_header("X-Request-Id", a.request_id);
    const bool keep_alive = a.keep_alive && !m_closing;
    const std::size_t bytes = to_wire_response(std::move(response), m_queue.push(), a.version, keep_alive, a.head);
    if (m_context.options.access_log) {
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - a.started);
        log::access({a.request_id, a.method, a.target, a.client, status, bytes, micros.count()});
    }

    if (!keep_alive) m_reading_done = true;
    if (m_queue.size() == 1) do_write();
    if (m_reading_done) return;
    if (m_queue.full())
        m_read_paused = true; // back-pressure: a client that pipelines without reading waits
    else
        do_read();
}

void Session::reject(api::Response refusal) {
    m_reading_done = true;
    if (m_context.options.access_log) spdlog::info("- - {} {}", refusal.status, refusal.body);
    // A read is only started while the queue has room (and a refused connection has read
    // nothing), so there is a slot for the refusal.
    to_wire_response(std::move(refusal), m_queue.push(), 11, false, false);
    if (m_queue.size() == 1) do_write();
}

void Session::do_write() {
    // Also bounds how long a client that does not read its responses can hold the connection.
    m_stream.expires_after(m_context.options.request_timeout);
    net::async_write(m_stream, m_queue.front().buffers(),
                     beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(beast::error_code ec, std::size_t /*bytes*/) {
    if (m_closed) return;
    if (ec) {
        do_close();
        return;
    }
    const bool last = m_queue.front().last();
    m_queue.pop();
    if (last) {
        // Reading stopped when this response was queued, so nothing follows it.
        linger();
        return;
    }
    if (!m_queue.empty()) do_write();
    if (m_read_paused) {
        m_read_paused = false;
        do_read();
    } else if (m_reading_done && m_queue.empty() && !m_deferred) {
        linger();
    }
}

void Session::linger() {
    if (m_closed) return;
    beast::error_code ec;
    m_stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return do_close();
    m_buffer.clear();
    m_stream.expires_after(std::min<std::chrono::milliseconds>(max_linger, m_context.options.request_timeout));
    m_stream.async_read_some(m_buffer.prepare(drain_chunk),
                             beast::bind_front_handler(&Session::on_linger, shared_from_this()));
}

void Session::on_linger(beast::error_code ec, std::size_t bytes) {
    if (m_closed) return;
    m_drained += bytes;
    if (ec || m_drained > max_drain_bytes) return do_close();
    // The deadline set in linger() still holds, so the whole drain is bounded in time.
    m_stream.async_read_some(m_buffer.prepare(drain_chunk),
                             beast::bind_front_handler(&Session::on_linger, shared_from_this()));
}

void Session::do_close() {
    if (m_closed) return;
    m_closed = true;
    beast::error_code ec;
    m_stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    m_stream.close(); // cancels pending operations and their timers
}

} // namespace wangge::http::detail

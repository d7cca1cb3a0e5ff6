#pragma once
// One TCP connection: reads requests with a fresh parser each, answers them in order through a
// capped queue, and enforces the limits and timeouts of ServerOptions. Modelled on Beast's
// example/advanced/server http_session.
#include "http/convert.hpp"
#include "http/forwarded.hpp"
#include "http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace wangge::http::detail {

class Session;

// Each connection runs on a strand of the server's io_context. The concrete executor type (not
// Beast's tcp_stream, whose type-erased executor allocates and counts references on every
// operation) keeps the per-request cost of Asio small.
using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;
using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Strand>;
using Stream = boost::beast::basic_stream<boost::asio::ip::tcp, Strand>;

// The open sessions, so that stop() can close idle keep-alive connections that would
// otherwise keep the io_context running, and the count of those that serve, which
// ServerOptions::max_connections bounds. Locked only when a connection opens or closes.
class SessionRegistry {
public:
    explicit SessionRegistry(std::size_t max_serving) : m_max_serving(max_serving) {}

    enum class Admission {
        serve,  // counted against the limit until it is removed
        refuse, // over the limit: registered (so that close_all() reaches it) but not counted
        closed, // close_all() has run: the caller drops the connection
    };
    Admission add(const std::shared_ptr<Session>& session);
    void remove(const Session* session) noexcept;
    // Refuses new sessions and asks every open one to close.
    void close_all();

private:
    struct Entry {
        std::weak_ptr<Session> session;
        bool serving = false;
    };
    std::mutex m_mutex;
    std::unordered_map<const Session*, Entry> m_sessions;
    const std::size_t m_max_serving;
    std::size_t m_serving = 0;
    bool m_closing = false;
};

// What every session shares; owned by the server and outliving all sessions.
struct ServerContext {
    ServerOptions options;
    TrustedProxies proxies; // options.trusted_proxies, read once
    Handler handler;
    SessionRegistry registry;
};

// Responses waiting to be written, oldest first, in a ring that is allocated once per
// connection. Slots keep their address while queued, as async_write requires.
class ResponseQueue {
public:
    explicit ResponseQueue(std::size_t capacity) : m_slots(capacity == 0 ? 1 : capacity) {}

    bool empty() const noexcept { return m_size == 0; }
    bool full() const noexcept { return m_size == m_slots.size(); }
    std::size_t size() const noexcept { return m_size; }
    WireResponse& front() noexcept { return m_slots[m_head]; }
    // A fresh message at the back; the queue must not be full.
    WireResponse& push();
    void pop();

private:
    std::vector<WireResponse> m_slots;
    std::size_t m_head = 0;
    std::size_t m_size = 0;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    // The session's handlers rely on the socket's strand for ordering.
    Session(Socket&& socket, ServerContext& context);
    ~Session();

    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    Session(Session&&) = delete;
    Session& operator=(Session&&) = delete;

    void start();
    // Thread-safe: aborts whatever the session is doing, except a deferred answer: that is sent
    // (as the connection's last) before the connection closes.
    void close();

private:
    void do_read();
    void on_read(boost::beast::error_code ec, std::size_t bytes);
    void on_header(boost::beast::error_code ec, std::size_t bytes);
    void answer_request();
    // What answering needs of the request once its response is ready (perhaps later, deferred).
    struct Answering {
        std::string method, target; // for the access log
        std::string request_id;     // sent back in X-Request-Id, named in its log lines
        std::string client;         // the client's address (the peer, or X-Forwarded-For's from a trusted proxy)
        std::chrono::steady_clock::time_point started;
        unsigned version = 11;
        bool keep_alive = true;
        bool head = false;
    };
    void send_answer(const Answering& a, api::Response response);
    std::string client_address(const WireRequest& request) const;
    // Answers with the error envelope `refusal` and closes; nothing more is read.
    void reject(api::Response refusal);
    void do_write();
    void on_write(boost::beast::error_code ec, std::size_t bytes);
    void linger();
    void on_linger(boost::beast::error_code ec, std::size_t bytes);
    void do_close();

    ServerContext& m_context;
    Stream m_stream;
    Strand m_executor; // copied so that close() can post to it
    boost::beast::flat_buffer m_buffer;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> m_parser;
    ResponseQueue m_queue;
    std::size_t m_drained = 0;
    bool m_reading_done = false; // no further request will be read
    bool m_read_paused = false;  // the queue was full; the next write resumes reading
    bool m_closed = false;
    bool m_deferred = false; // a response is being made off the I/O threads; nothing is read meanwhile
    bool m_closing = false;  // close() came while m_deferred: that answer is the last
    // The TCP peer; the client's address is this one unless it is a trusted proxy
    // (TrustedProxies::client_address), for sign-in limits, the audit log and the access log.
    std::optional<boost::asio::ip::address> m_peer;
};

} // namespace wangge::http::detail

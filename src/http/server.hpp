#pragma once
// The HTTP/1.1 server: moves api::Request / api::Response values over TCP. Everything Beast
// lives behind this header so that modules above `http` never compile Beast.
#include "api/message.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace wangge::http {

struct ServerOptions {
    std::string address = "127.0.0.1";
    unsigned short port = 8080;          // 0 = let the OS pick a free port
    int threads = 0;                     // 0 = std::thread::hardware_concurrency()
    std::size_t header_limit = 8 * 1024; // bytes -> 431 with JSON envelope when exceeded
    std::size_t body_limit = 1024 * 1024; // bytes -> 413 with JSON envelope when exceeded
    // The body limit of a POST with Content-Type multipart/form-data (reports with photos),
    // decided once its header has arrived; 0: body_limit as for every other request.
    std::size_t upload_limit = 0;
    // A request must arrive completely within this; idle keep-alive connections are closed
    // after it, and so are clients that stop reading their responses for this long.
    std::chrono::milliseconds request_timeout{30000};
    // Responses queued per connection (answered, not yet written). A client that pipelines
    // more requests without reading its answers is not read from until one has been written,
    // so a connection holds at most this many responses in memory. 0 counts as 1.
    std::size_t max_pipelined = 16;
    // Connections served at once. Each holds a socket, its buffers and up to max_pipelined
    // responses; beyond this a new connection is answered at once with 503
    // too_many_connections (Retry-After: 1) and closed, rather than left unanswered in the
    // accept queue. A connection counts until it is closed, including while idle in keep-alive
    // (up to request_timeout). A refused one does not count; it lives only while its answer
    // is written and at most a second after, while what the client still sends is drained.
    // The Server constructor throws Error(bad_request, "invalid_option") for 0.
    std::size_t max_connections = 1024;
    bool access_log = false;        // spdlog info line per request: method target status bytes µs
    // Where clients reach this server (api::public_origin_of), handed to every request as
    // api::Request::public_origin; empty: links follow the Host header.
    std::string public_origin;
    // Reverse proxies whose X-Forwarded-For names the client (addresses or networks such as
    // "10.0.0.0/8"; TrustedProxies). Empty: the client is the TCP peer and the header is ignored.
    // The Server constructor throws Error(bad_request, "invalid_option") for one it cannot read.
    std::vector<std::string> trusted_proxies;
};

// Called concurrently from the server's threads; it must be thread-safe. HEAD requests reach
// it as GET (the server drops the body), so routes need not know about HEAD. Exceptions are
// answered with the JSON error envelope: wangge::Error by its kind, anything else as 500.
using Handler = std::function<api::Response(api::Request)>;

class Server {
public:
    Server(ServerOptions options, Handler handler);
    ~Server(); // stops and joins

    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    Server(Server&&) = delete;
    Server& operator=(Server&&) = delete;

    // Binds and listens, then runs one io_context on `threads` threads. Throws
    // Error(ErrorKind::io, "listen", ...) naming address:port when the socket cannot be bound.
    // A server starts once; a stopped server cannot be restarted.
    void start();

    // The bound port (the OS's choice when options.port was 0); 0 before start().
    unsigned short port() const;

    // Closes the acceptor and every connection, then joins the threads. A request whose
    // response is deferred (api::Response::deferred) has been accepted: it is answered, and its
    // connection closed after the answer, before the threads finish; so stop() waits for every
    // deferred completion, and whatever completes them must still run. Idempotent and safe
    // from any thread, including from inside the handler (the join is then left to wait() or
    // the destructor). Not async-signal-safe: from a signal, call it via a signal-waiting
    // thread or boost::asio::signal_set.
    void stop();

    // Blocks until stop() has been called and the threads have finished.
    void wait();

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace wangge::http

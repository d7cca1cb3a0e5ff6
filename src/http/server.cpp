#include "http/server.hpp"

#include "http/session.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace wangge::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

class Server::Impl {
public:
    Impl(ServerOptions options, Handler handler)
        : m_context{options, TrustedProxies(options.trusted_proxies), std::move(handler),
                    detail::SessionRegistry(checked_max_connections(options))},
          m_io(thread_count(m_context.options.threads)),
          m_accept_strand(net::make_strand(m_io)), m_acceptor(m_accept_strand), m_backoff(m_accept_strand) {}

    void start();
    void stop();
    void wait();
    unsigned short port() const noexcept { return m_port.load(); }

private:
    static std::size_t checked_max_connections(const ServerOptions& options) {
        // 0 would make a server that refuses every connection: a configuration mistake.
        if (options.max_connections == 0)
            throw Error(ErrorKind::bad_request, "invalid_option", "max_connections must be at least 1");
        return options.max_connections;
    }

    static int thread_count(int requested) {
        if (requested > 0) return requested;
        return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    }

    void listen();
    void do_accept();
    void on_accept(const error_code& ec, detail::Socket socket);
    void run_worker();
    void join();

    // Declared first so that it outlives the io_context: sessions destroyed with it
    // unregister themselves from the context's registry.
    detail::ServerContext m_context;
    net::io_context m_io;
    net::strand<net::io_context::executor_type> m_accept_strand;
    tcp::acceptor m_acceptor;
    net::steady_timer m_backoff;
    std::vector<std::thread> m_threads;
    std::atomic<unsigned short> m_port{0};

    std::mutex m_state_mutex;
    std::condition_variable m_state_changed;
    bool m_started = false;
    bool m_stopping = false;
    std::mutex m_join_mutex;
};

void Server::Impl::start() {
    {
        std::lock_guard lock(m_state_mutex);
        if (m_started || m_stopping)
            throw Error(ErrorKind::internal, "server_state", "an HTTP server starts once and cannot be restarted after stop()");
        m_started = true;
    }
    listen();
    do_accept();
    const int threads = thread_count(m_context.options.threads);
    {
        // A handler may call stop() before the last worker exists; join() must not see the
        // vector half-built.
        std::lock_guard lock(m_join_mutex);
        m_threads.reserve(static_cast<std::size_t>(threads));
        for (int i = 0; i < threads; ++i) m_threads.emplace_back([this] { run_worker(); });
    }
    spdlog::info("listening on {}:{} with {} threads", m_context.options.address, port(), threads);
}

void Server::Impl::listen() {
    const auto& options = m_context.options;
    auto fail = [&](const error_code& ec, unsigned short port) {
        throw Error(ErrorKind::io, "listen",
                    "cannot listen on " + options.address + ":" + std::to_string(port) + ": " + ec.message());
    };
    error_code ec;
    const auto address = net::ip::make_address(options.address, ec);
    if (ec) fail(ec, options.port);
    const tcp::endpoint endpoint(address, options.port);
    if (m_acceptor.open(endpoint.protocol(), ec); ec) fail(ec, options.port);
    // Lets a restarted server bind while old connections sit in TIME_WAIT.
    if (m_acceptor.set_option(net::socket_base::reuse_address(true), ec); ec) fail(ec, options.port);
    if (m_acceptor.bind(endpoint, ec); ec) fail(ec, options.port);
    if (m_acceptor.listen(net::socket_base::max_listen_connections, ec); ec) fail(ec, options.port);
    m_port = m_acceptor.local_endpoint().port();
}

void Server::Impl::do_accept() {
    // Each connection gets its own strand, so its handlers never run concurrently.
    m_acceptor.async_accept(net::make_strand(m_io),
                            [this](const error_code& ec, detail::Socket socket) { on_accept(ec, std::move(socket)); });
}

void Server::Impl::on_accept(const error_code& ec, detail::Socket socket) {
    if (!m_acceptor.is_open()) return; // stopped
    if (ec) {
        // Out of file descriptors and similar: accepting again at once would spin.
        spdlog::warn("accept failed: {}", ec.message());
        m_backoff.expires_after(std::chrono::milliseconds(50));
        m_backoff.async_wait([this](const error_code& wait_ec) {
            if (!wait_ec && m_acceptor.is_open()) do_accept();
        });
        return;
    }
    error_code option_ec;
    socket.set_option(tcp::no_delay(true), option_ec); // small responses must not wait for Nagle
    std::make_shared<detail::Session>(std::move(socket), m_context)->start();
    do_accept();
}

void Server::Impl::run_worker() {
    // A handler that throws past its own boundary must not take the process down; the
    // io_context can be resumed after an exception.
    for (;;) {
        try {
            m_io.run();
            return;
        } catch (const std::exception& e) {
            spdlog::error("HTTP worker: {}", e.what());
        } catch (...) {
            spdlog::error("HTTP worker: non-standard exception");
        }
    }
}

void Server::Impl::stop() {
    bool first = false;
    {
        std::lock_guard lock(m_state_mutex);
        first = !m_stopping;
        m_stopping = true;
    }
    if (first) {
        net::post(m_accept_strand, [this] {
            error_code ec;
            m_acceptor.close(ec);
            m_backoff.cancel();
        });
        // With the acceptor and every connection closed the io_context runs out of work and
        // the workers return; no io_context::stop(), so handlers already running finish.
        m_context.registry.close_all();
        m_state_changed.notify_all();
    }
    join();
}

void Server::Impl::wait() {
    {
        std::unique_lock lock(m_state_mutex);
        m_state_changed.wait(lock, [this] { return m_stopping; });
    }
    join();
}

void Server::Impl::join() {
    // A worker cannot join itself; a stop() from inside a handler leaves the join to wait()
    // or the destructor.
    if (m_io.get_executor().running_in_this_thread()) return;
    std::lock_guard lock(m_join_mutex);
    for (auto& thread : m_threads)
        if (thread.joinable()) thread.join();
}

Server::Server(ServerOptions options, Handler handler)
    : m_impl(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

Server::~Server() { m_impl->stop(); }

void Server::start() { m_impl->start(); }
unsigned short Server::port() const { return m_impl->port(); }
void Server::stop() { m_impl->stop(); }
void Server::wait() { m_impl->wait(); }

} // namespace wangge::http

#pragma once
// A small blocking HTTP/1.1 client for tests of any module that serves over a real socket.
// It keeps one keep-alive connection and reconnects when the server has closed it.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wangge::test {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
    int status = 0;
    std::string body;
    HttpHeaders headers; // names lower-case, in order received

    // The first value of a header (name in any case), or "" when absent.
    std::string header(std::string_view name) const;
    bool has_header(std::string_view name) const;
};

// Splits bytes received by HttpClient::raw() into responses; throws std::runtime_error on a
// malformed or truncated one.
std::vector<HttpResponse> parse_responses(std::string_view bytes);

class HttpClient {
public:
    // Every operation fails with std::runtime_error after `timeout`.
    explicit HttpClient(unsigned short port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    ~HttpClient();

    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    HttpClient(HttpClient&&) = delete;
    HttpClient& operator=(HttpClient&&) = delete;

    HttpResponse get(std::string_view target);
    HttpResponse request(std::string_view method, std::string_view target, std::string_view body = {},
                         const HttpHeaders& headers = {});

    // Sends `bytes` as they are and returns everything received until the server closes the
    // connection or the timeout passes; the connection is closed afterwards.
    std::string raw(std::string_view bytes);
    // raw() in two halves, for a client that sends and only later reads (or never does):
    // send() writes `bytes` and reads nothing; receive() returns everything received until the
    // server closes the connection or the timeout passes, then closes it.
    void send(std::string_view bytes);
    std::string receive();
    // Whether the last raw() or receive() ended because the server closed the connection (not
    // by timeout).
    bool last_raw_closed_by_server() const;

    // For the operations that follow, e.g. a tiny one to hang up on a response mid-way.
    void set_timeout(std::chrono::milliseconds timeout);

    // TCP connections opened so far: 1 after any number of keep-alive requests.
    int connections() const;
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace wangge::test

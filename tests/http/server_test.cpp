// The HTTP server over real sockets on 127.0.0.1 with OS-chosen ports.
#include "http/server.hpp"
#include "support/http_client.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using wangge::Error;
using wangge::ErrorKind;
using wangge::api::Request;
using wangge::api::Response;
using wangge::http::Server;
using wangge::http::ServerOptions;
using wangge::test::HttpClient;
using wangge::test::HttpResponse;
using wangge::test::parse_responses;

constexpr std::size_t big_body_size = 256 * 1024;
constexpr std::size_t huge_body_size = 8 * 1024 * 1024; // more than loopback socket buffers hold
// More than loopback socket buffers can hold even where they grow to 32 MiB (net.core.rmem_max).
constexpr std::size_t giant_body_size = 64 * 1024 * 1024;

ServerOptions test_options() {
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    return options;
}

// What /shared answers with, held like a cache holds a tile: one string for every response.
const std::shared_ptr<const std::string>& shared_bytes() {
    static const auto bytes = [] {
        auto s = std::make_shared<std::string>(big_body_size, '\0');
        for (std::size_t i = 0; i < s->size(); ++i) (*s)[i] = static_cast<char>('a' + i * 7 % 26);
        return std::shared_ptr<const std::string>(std::move(s));
    }();
    return bytes;
}

// What /giant answers with: shared, so that many requests cost one allocation.
const std::shared_ptr<const std::string>& giant_bytes() {
    static const auto bytes = std::make_shared<const std::string>(giant_body_size, 'g');
    return bytes;
}

// Deferred answers to /gated wait for this.
std::atomic<bool> gate_open{false};
std::atomic<bool> gated_waiting{false};

// A few fixed paths exercise the error boundary and response shapes; every other request is
// echoed as method|path|query|body|x-test so tests can see what the handler was given.
Response test_handler(const Request& request) {
    if (request.path == "/missing") throw Error(ErrorKind::not_found, "no_such_grid", "grid 110101001001999 not found");
    if (request.path == "/invalid")
        throw Error(ErrorKind::unprocessable, "bad_geometry", "ring self-intersects at 116.39,39.91");
    if (request.path == "/boom") throw std::runtime_error("database /secret/wangge.sqlite is locked");
    Response response;
    response.content_type = "text/plain; charset=utf-8";
    if (request.path == "/later" || request.path == "/gated") {
        // Answered from another thread, after ms milliseconds or once the gate opens.
        const int ms = std::stoi(std::string(request.param("ms").value_or("0")));
        const bool gated = request.path == "/gated";
        const std::string target = request.target;
        if (gated) gated_waiting = true;
        response.deferred = [ms, gated, target](wangge::api::Completion done) {
            std::thread([ms, gated, target, done = std::move(done)] {
                std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                while (gated && !gate_open) std::this_thread::sleep_for(1ms);
                Response ready;
                ready.content_type = "text/plain";
                ready.body = "later " + target;
                ready.set_header("X-Target", target);
                done(std::move(ready));
            }).detach();
        };
        return response;
    }
    if (request.path == "/origin") {
        response.body = wangge::api::request_origin(request);
    } else if (request.path == "/client") {
        response.body = request.remote_address;
    } else if (request.path == "/shared") {
        response.shared_body = shared_bytes();
    } else if (request.path == "/giant") {
        response.shared_body = giant_bytes();
    } else if (request.path == "/big") {
        response.body.assign(big_body_size, 'x');
    } else if (request.path == "/huge") {
        response.body.assign(huge_body_size, 'x');
    } else if (request.path == "/empty") {
        response.status = 204;
    } else if (request.path == "/framing") {
        response.body = "four";
        response.set_header("Content-Length", "999");
        response.set_header("Connection", "close");
        response.set_header("X-Evil", "a\r\nSet-Cookie: injected=1");
    } else {
        std::string query;
        for (const auto& [key, value] : request.query) query += (query.empty() ? "" : ",") + key + "=" + value;
        response.body = request.method + "|" + request.path + "|" + query + "|" + request.body + "|" +
                        std::string(request.header("x-test").value_or(""));
    }
    response.set_header("X-Target", request.target);
    return response;
}

struct RunningServer {
    explicit RunningServer(ServerOptions options = test_options()) : server(std::move(options), test_handler) {
        server.start();
    }
    unsigned short port() const { return server.port(); }
    Server server;
};

nlohmann::json envelope(const HttpResponse& response) { return nlohmann::json::parse(response.body); }

std::string echo(const std::string& method, const std::string& path, const std::string& query = "",
                 const std::string& body = "", const std::string& x_test = "") {
    return method + "|" + path + "|" + query + "|" + body + "|" + x_test;
}

} // namespace

TEST_CASE("the handler sees method, decoded path, query, lower-case headers and body", "[http]") {
    auto options = test_options();
    options.access_log = true;
    RunningServer running(options);
    HttpClient client(running.port());

    auto r = client.request("POST", "/grids/a%20b?x=1&name=%E7%BD%91%E6%A0%BC+1", "payload", {{"X-Test", "Value"}});
    CHECK(r.status == 200);
    CHECK(r.body == echo("POST", "/grids/a b", "x=1,name=网格 1", "payload", "Value"));
    CHECK(r.header("content-type") == "text/plain; charset=utf-8");
    CHECK(r.header("server") == "wangge/0.1");
    CHECK(r.header("content-length") == std::to_string(r.body.size()));
    CHECK(r.header("x-target") == "/grids/a%20b?x=1&name=%E7%BD%91%E6%A0%BC+1");

    auto put = client.request("PUT", "/w", "");
    CHECK(put.body == echo("PUT", "/w"));
    CHECK(put.header("content-length") == std::to_string(put.body.size()));
}

TEST_CASE("keep-alive: 50 requests on one connection are answered in order", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    int matched = 0;
    for (int i = 0; i < 50; ++i) {
        auto r = client.get("/n/" + std::to_string(i));
        if (r.status == 200 && r.body == echo("GET", "/n/" + std::to_string(i))) ++matched;
    }
    CHECK(matched == 50);
    CHECK(client.connections() == 1);
}

TEST_CASE("pipelined requests are answered in order, also when the queue is full", "[http]") {
    auto options = test_options();
    options.max_pipelined = 2;
    RunningServer running(options);
    HttpClient client(running.port());

    // 20 large responses fill the socket buffers, so the server must pause reading and resume.
    std::string requests;
    for (int i = 0; i < 20; ++i)
        requests += "GET /big?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n" + (i == 19 ? "Connection: close\r\n" : "") +
                    "\r\n";
    auto responses = parse_responses(client.raw(requests));
    REQUIRE(responses.size() == 20);
    int in_order = 0;
    for (int i = 0; i < 20; ++i)
        if (responses[static_cast<std::size_t>(i)].status == 200 &&
            responses[static_cast<std::size_t>(i)].header("x-target") == "/big?i=" + std::to_string(i) &&
            responses[static_cast<std::size_t>(i)].body.size() == big_body_size)
            ++in_order;
    CHECK(in_order == 20);
    CHECK(responses.back().header("connection") == "close");
    CHECK(client.last_raw_closed_by_server());
}

TEST_CASE("a client that pipelines without reading holds at most max_pipelined responses", "[http]") {
    const ServerOptions options = test_options(); // max_pipelined at its default
    std::atomic<std::size_t> answered{0};
    Server server(options, [&answered](const Request& request) {
        ++answered;
        return test_handler(request);
    });
    server.start();
    HttpClient client(server.port());

    // The first answer is larger than the socket buffers, so while the client reads nothing it
    // stays unwritten and every later answer queues behind it.
    constexpr std::size_t requests = 200;
    std::string pipelined = "GET /giant HTTP/1.1\r\nHost: t\r\n\r\n";
    for (std::size_t i = 1; i < requests; ++i)
        pipelined += "GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n" +
                     (i + 1 == requests ? "Connection: close\r\n" : "") + "\r\n";
    client.send(pipelined);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (answered < options.max_pipelined && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(300ms); // ample time to answer all 200, were reading not paused
    CHECK(answered == options.max_pipelined);

    // Once the client reads, the rest are answered, all in order.
    auto responses = parse_responses(client.receive());
    REQUIRE(responses.size() == requests);
    CHECK(responses[0].body.size() == giant_body_size);
    std::size_t in_order = 0;
    for (std::size_t i = 1; i < requests; ++i)
        if (responses[i].status == 200 && responses[i].body == echo("GET", "/n/" + std::to_string(i))) ++in_order;
    CHECK(in_order == requests - 1);
    CHECK(answered == requests);
}

TEST_CASE("deferred responses keep pipelined requests in order", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    const std::vector<std::string> targets{"/later?ms=80", "/now", "/later?ms=5", "/later?ms=30", "/again"};
    std::string requests;
    for (std::size_t i = 0; i < targets.size(); ++i)
        requests += "GET " + targets[i] + " HTTP/1.1\r\nHost: t\r\n" + (i + 1 == targets.size() ? "Connection: close\r\n" : "") + "\r\n";
    auto responses = parse_responses(client.raw(requests));
    REQUIRE(responses.size() == targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) {
        CHECK(responses[i].status == 200);
        CHECK(responses[i].header("x-target") == targets[i]);
    }
    CHECK(responses[0].body == "later /later?ms=80");
    CHECK(responses[1].body == echo("GET", "/now"));
    // A deferred answer on a closing connection is still sent before the close.
    HttpClient closing(running.port());
    auto last = parse_responses(closing.raw("GET /later?ms=20 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"));
    REQUIRE(last.size() == 1);
    CHECK(last[0].body == "later /later?ms=20");
}

TEST_CASE("a deferred response holds no server thread", "[http]") {
    auto options = test_options();
    options.threads = 1;
    RunningServer running(options);
    gate_open = false;
    gated_waiting = false;
    HttpResponse gated;
    std::thread waiting([&] {
        HttpClient client(running.port());
        gated = client.get("/gated");
    });
    while (!gated_waiting) std::this_thread::sleep_for(1ms);
    // The one server thread still answers others while /gated waits.
    HttpClient other(running.port());
    for (int i = 0; i < 20; ++i) CHECK(other.get("/n/" + std::to_string(i)).status == 200);
    CHECK(gated.status == 0);
    gate_open = true;
    waiting.join();
    CHECK(gated.status == 200);
    CHECK(gated.body == "later /gated");
}

TEST_CASE("HEAD announces the GET length and sends no body", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    auto get = client.get("/hello");
    auto head = client.request("HEAD", "/hello");
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.header("content-length") == std::to_string(get.body.size()));
    CHECK(head.header("content-type") == "text/plain; charset=utf-8");
    // Had a body been sent, it would now be misread as the next response.
    auto again = client.get("/after");
    CHECK(again.body == echo("GET", "/after"));
    CHECK(client.connections() == 1);

    auto raw = client.raw("HEAD /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    CHECK(raw.substr(raw.size() - 4) == "\r\n\r\n"); // headers only
}

TEST_CASE("a shared body is sent whole, and kept alive while it is being written", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    const long owners = shared_bytes().use_count();
    auto r = client.get("/shared");
    CHECK(r.status == 200);
    CHECK(r.body == *shared_bytes());
    CHECK(r.header("content-length") == std::to_string(big_body_size));
    auto head = client.request("HEAD", "/shared");
    CHECK(head.body.empty());
    CHECK(head.header("content-length") == std::to_string(big_body_size));

    // Pipelined: every response shares the one string, each arrives complete, in order.
    std::string requests;
    for (int i = 0; i < 6; ++i)
        requests += "GET /shared?i=" + std::to_string(i) + " HTTP/1.1\r\nHost: t\r\n" +
                    (i == 5 ? "Connection: close\r\n" : "") + "\r\n";
    auto responses = parse_responses(client.raw(requests));
    REQUIRE(responses.size() == 6);
    int whole = 0;
    for (int i = 0; i < 6; ++i) {
        const auto& p = responses[static_cast<std::size_t>(i)];
        if (p.header("x-target") == "/shared?i=" + std::to_string(i) && p.body == *shared_bytes()) ++whole;
    }
    CHECK(whole == 6);
    // Written responses let go of the bytes.
    CHECK(shared_bytes().use_count() == owners);
}

TEST_CASE("HTTP/1.0 requests are answered in kind", "[http]") {
    RunningServer running;
    HttpClient client(running.port());

    auto one = client.raw("GET /one HTTP/1.0\r\n\r\n");
    CHECK(one.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    CHECK(client.last_raw_closed_by_server());
    auto parsed = parse_responses(one);
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0].body == echo("GET", "/one"));
    CHECK(parsed[0].header("content-length") == std::to_string(parsed[0].body.size()));

    auto two = parse_responses(
        client.raw("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n"));
    REQUIRE(two.size() == 2);
    CHECK(two[0].header("connection") == "keep-alive");
    CHECK(two[0].body == echo("GET", "/a"));
    CHECK(two[1].body == echo("GET", "/b"));
    CHECK(client.last_raw_closed_by_server());
}

TEST_CASE("a body over body_limit is refused with 413 and the connection closed", "[http]") {
    auto options = test_options();
    options.body_limit = 1024;
    RunningServer running(options);
    HttpClient client(running.port());

    auto at_limit = client.request("POST", "/upload", std::string(1024, 'b'));
    CHECK(at_limit.status == 200);

    auto over = client.request("POST", "/upload", std::string(1025, 'b'));
    CHECK(over.status == 413);
    CHECK(over.header("content-type") == "application/json");
    CHECK(over.header("connection") == "close");
    CHECK(envelope(over)["code"] == "payload_too_large");

    // The refusal still arrives when far more is on its way: the server drains before closing.
    auto much_more = client.request("POST", "/upload", std::string(200 * 1024, 'b'));
    CHECK(much_more.status == 413);

    std::string chunk(2048, 'c');
    auto chunked = parse_responses(client.raw("POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" +
                                              chunk + "\r\n0\r\n\r\n"));
    REQUIRE(chunked.size() == 1);
    CHECK(chunked[0].status == 413);
}

TEST_CASE("oversized headers are refused with 431", "[http]") {
    auto options = test_options();
    options.header_limit = 1024;
    RunningServer running(options);
    HttpClient client(running.port());

    CHECK(client.request("GET", "/h", "", {{"X-Test", std::string(500, 'a')}}).status == 200);
    auto r = client.request("GET", "/h", "", {{"X-Test", std::string(2000, 'a')}});
    CHECK(r.status == 431);
    CHECK(envelope(r)["code"] == "header_too_large");
    CHECK(r.header("connection") == "close");
}

TEST_CASE("garbage bytes are refused with 400 and the connection closed", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    auto responses = parse_responses(client.raw(std::string("\x16\x03\x01\x02 not http\r\n\r\n")));
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status == 400);
    CHECK(envelope(responses[0])["code"] == "bad_request");
    CHECK(client.last_raw_closed_by_server());

    auto bad_version = parse_responses(client.raw("GET / HTTP/9.9\r\nHost: t\r\n\r\n"));
    REQUIRE(bad_version.size() == 1);
    CHECK(bad_version[0].status == 400);

    // The server is unharmed.
    CHECK(client.get("/still").status == 200);
}

TEST_CASE("bad percent-encoding in the target is a 400 envelope", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    auto r = client.get("/grids/%zz");
    CHECK(r.status == 400);
    CHECK(envelope(r)["code"] == "bad_encoding");
    auto q = client.get("/grids?name=%E7%BD%91");
    CHECK(q.status == 200);
    // Well-formed escapes of bytes that are not UTF-8 are refused by the same parser.
    auto incomplete = client.get("/grids?name=%E7%BD");
    CHECK(incomplete.status == 400);
    CHECK(envelope(incomplete)["code"] == "bad_encoding");
    auto truncated = client.get("/grids?name=%4");
    CHECK(truncated.status == 400);
    CHECK(client.connections() == 1); // a refused target does not cost the connection
}

TEST_CASE("wangge::Error from the handler comes back as the JSON envelope", "[http]") {
    RunningServer running;
    HttpClient client(running.port());

    auto missing = client.get("/missing");
    CHECK(missing.status == 404);
    CHECK(missing.header("content-type") == "application/json");
    auto body = envelope(missing);
    CHECK(body["code"] == "no_such_grid");
    CHECK(body["message"] == "grid 110101001001999 not found");

    auto invalid = client.get("/invalid");
    CHECK(invalid.status == 422);
    CHECK(envelope(invalid)["code"] == "bad_geometry");
    CHECK(client.connections() == 1);
}

TEST_CASE("any other exception becomes a generic 500 with code internal", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    auto r = client.get("/boom");
    CHECK(r.status == 500);
    auto body = envelope(r);
    CHECK(body["code"] == "internal");
    CHECK(body["message"].get<std::string>().find("secret") == std::string::npos);
    CHECK(client.get("/after").status == 200);
}

TEST_CASE("the server owns framing headers, and 204 has neither body nor length", "[http]") {
    RunningServer running;
    HttpClient client(running.port());
    auto framing = client.get("/framing");
    CHECK(framing.body == "four");
    CHECK(framing.header("content-length") == "4");
    CHECK_FALSE(framing.has_header("x-evil"));
    CHECK_FALSE(framing.has_header("set-cookie"));
    CHECK(framing.header("x-target") == "/framing");

    auto empty = client.get("/empty");
    CHECK(empty.status == 204);
    CHECK(empty.body.empty());
    CHECK_FALSE(empty.has_header("content-length"));
    CHECK(client.get("/after").status == 200);
    CHECK(client.connections() == 1);
}

TEST_CASE("a half-sent request is cut off after request_timeout", "[http]") {
    auto options = test_options();
    options.request_timeout = 300ms;
    RunningServer running(options);
    HttpClient client(running.port(), 3s);

    const auto started = std::chrono::steady_clock::now();
    auto reply = client.raw("GET /slow HTTP/1.1\r\nHost: t\r\n");
    const auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(reply.empty());
    CHECK(client.last_raw_closed_by_server());
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 2s);
}

TEST_CASE("an idle keep-alive connection is closed after request_timeout", "[http]") {
    auto options = test_options();
    options.request_timeout = 300ms;
    RunningServer running(options);
    HttpClient client(running.port(), 3s);

    CHECK(client.get("/first").status == 200);
    std::this_thread::sleep_for(100ms);
    CHECK(client.get("/soon").status == 200);
    CHECK(client.connections() == 1);
    std::this_thread::sleep_for(700ms);
    CHECK(client.get("/later").status == 200);
    CHECK(client.connections() == 2);
}

TEST_CASE("8 client threads x 200 requests all succeed", "[http]") {
    RunningServer running;
    constexpr int clients = 8;
    constexpr int per_client = 200;
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            // Catch2 assertions are not thread-safe: count here, check on the main thread.
            try {
                HttpClient client(running.port());
                for (int i = 0; i < per_client; ++i) {
                    // Appended rather than "b" + std::to_string(i): GCC 12 at -O3 reports a
                    // false -Wrestrict for a literal plus a temporary string.
                    const std::string n = std::to_string(i);
                    const std::string path = std::string("/c/").append(std::to_string(c)).append("/").append(n);
                    const std::string body = std::string("b").append(n);
                    auto r = client.request("POST", path + "?k=" + n, body);
                    if (r.status == 200 && r.body == echo("POST", path, std::string("k=").append(n), body))
                        ++ok;
                    else
                        ++failed;
                }
            } catch (const std::exception&) {
                ++failed;
            }
        });
    for (auto& t : threads) t.join();
    CHECK(ok == clients * per_client);
    CHECK(failed == 0);
}

TEST_CASE("beyond max_connections a connection is answered 503 at once and closed", "[http]") {
    auto options = test_options();
    options.max_connections = 3;
    RunningServer running(options);
    std::vector<std::unique_ptr<HttpClient>> open;
    for (int i = 0; i < 3; ++i) {
        open.push_back(std::make_unique<HttpClient>(running.port()));
        REQUIRE(open.back()->get("/open").status == 200);
    }

    // The three are idle in keep-alive, and still count.
    HttpClient fourth(running.port());
    auto refused = fourth.get("/more");
    CHECK(refused.status == 503);
    CHECK(refused.header("retry-after") == "1");
    CHECK(refused.header("connection") == "close");
    CHECK(refused.header("content-type") == "application/json");
    CHECK(envelope(refused)["code"] == "too_many_connections");

    // The refusal does not wait for a request, and the server closes the connection after it.
    HttpClient silent(running.port(), 3s);
    silent.send("");
    auto unasked = parse_responses(silent.receive());
    REQUIRE(unasked.size() == 1);
    CHECK(unasked[0].status == 503);
    CHECK(silent.last_raw_closed_by_server());

    // Refused connections take no place: the three are served as before.
    for (auto& client : open) CHECK(client->get("/again").status == 200);
    for (auto& client : open) CHECK(client->connections() == 1);

    // Once one closes, its place is free again (its session ends a moment after the close).
    open.back()->close();
    HttpResponse after;
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    do {
        after = HttpClient(running.port()).get("/after-close");
    } while (after.status == 503 && std::chrono::steady_clock::now() < deadline);
    CHECK(after.status == 200);
    CHECK(after.body == echo("GET", "/after-close"));
}

TEST_CASE("max_connections 0 is refused", "[http]") {
    auto options = test_options();
    options.max_connections = 0;
    CHECK_THROWS_AS(Server(options, test_handler), Error);
}

TEST_CASE("stop() with open connections returns promptly", "[http]") {
    RunningServer running; // 30 s request timeout: stop must not wait for it
    std::vector<std::unique_ptr<HttpClient>> idle;
    for (int i = 0; i < 4; ++i) {
        idle.push_back(std::make_unique<HttpClient>(running.port()));
        REQUIRE(idle.back()->get("/open").status == 200);
    }
    HttpClient half(running.port(), 5s);
    std::string half_reply = "unset";
    std::thread sender([&] { half_reply = half.raw("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc"); });
    std::this_thread::sleep_for(200ms);

    const auto started = std::chrono::steady_clock::now();
    running.server.stop();
    const auto elapsed = std::chrono::steady_clock::now() - started;
    sender.join();
    CHECK(elapsed < 1s);
    CHECK(half_reply.empty());
    CHECK(half.last_raw_closed_by_server());
    CHECK_THROWS_AS(idle.front()->get("/gone"), std::runtime_error);

    running.server.stop(); // idempotent
    running.server.wait(); // returns at once after stop
}

TEST_CASE("stop() from inside the handler ends wait()", "[http]") {
    Server* self = nullptr;
    Server server(test_options(), [&self](const Request&) {
        self->stop();
        return Response{};
    });
    self = &server;
    server.start();
    std::thread waiter([&] { server.wait(); });
    HttpClient client(server.port(), 2s);
    try {
        client.get("/stop");
    } catch (const std::runtime_error&) {
        // Closing may overtake the answer; what matters is that wait() returns.
    }
    waiter.join();
    CHECK_THROWS_AS(HttpClient(server.port(), 1s).get("/gone"), std::runtime_error);
}

TEST_CASE("a client that vanishes mid-response does not take the server down", "[http]") {
    RunningServer running;
    {
        // Ask for more than the socket buffers hold, then hang up with it unread: the server's
        // writes fail with EPIPE/ECONNRESET, which must not raise SIGPIPE (its default
        // action, which Catch2 leaves alone, would end this test binary).
        HttpClient quitter(running.port());
        REQUIRE(quitter.get("/connect").status == 200);
        quitter.set_timeout(1ms);
        std::string requests;
        for (int i = 0; i < 4; ++i) requests += "GET /huge HTTP/1.1\r\nHost: t\r\n\r\n";
        quitter.raw(requests);
        CHECK_FALSE(quitter.last_raw_closed_by_server());
    }
    std::this_thread::sleep_for(100ms);
    HttpClient client(running.port());
    CHECK(client.get("/alive").body == echo("GET", "/alive"));
}

TEST_CASE("start() on a taken port throws Error(io) naming address and port", "[http]") {
    RunningServer first;
    auto options = test_options();
    options.port = first.port();
    Server second(options, test_handler);
    try {
        second.start();
        FAIL("start() succeeded on a taken port");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::io);
        CHECK(e.code() == "listen");
        CHECK(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
    }

    options.address = "not-an-address";
    Server third(options, test_handler);
    CHECK_THROWS_AS(third.start(), Error);
}

TEST_CASE("a configured public origin reaches every request and wins over Host", "[http]") {
    RunningServer plain;
    HttpClient client(plain.port());
    auto by_host = client.get("/origin");
    REQUIRE(by_host.status == 200);
    CHECK(by_host.body == "http://127.0.0.1:" + std::to_string(plain.port()));

    ServerOptions options = test_options();
    options.public_origin = "https://maps.example.org/wangge";
    RunningServer behind_proxy(options);
    HttpClient proxied(behind_proxy.port());
    for (int i = 0; i < 3; ++i) { // the same text on every request of a keep-alive connection
        auto r = proxied.request("GET", "/origin", "", {{"Host", "internal-host:9000"}});
        REQUIRE(r.status == 200);
        CHECK(r.body == "https://maps.example.org/wangge");
    }
}

TEST_CASE("the client's address is the peer's unless the peer is a trusted proxy", "[http][forwarded]") {
    const std::vector<std::pair<std::string, std::string>> forwarded{{"X-Forwarded-For", "198.51.100.9, 203.0.113.7"}};
    SECTION("no trusted proxy: X-Forwarded-For is ignored") {
        RunningServer running;
        HttpClient client(running.port());
        CHECK(client.request("GET", "/client", "", forwarded).body == "127.0.0.1");
        CHECK(client.get("/client").body == "127.0.0.1");
    }
    SECTION("loopback trusted: the right-most address of the header, every field of it read") {
        auto options = test_options();
        options.trusted_proxies = {"127.0.0.0/8"};
        options.access_log = true;
        RunningServer running(options);
        HttpClient client(running.port());
        CHECK(client.request("GET", "/client", "", forwarded).body == "203.0.113.7");
        // Every field, in order: the last one is the proxy's, the first may be the client's own lie.
        CHECK(client.request("GET", "/client", "", {{"X-Forwarded-For", "198.51.100.9"}, {"X-Forwarded-For", "203.0.113.7"}})
                  .body == "203.0.113.7");
        CHECK(client.request("GET", "/client", "", {{"X-Forwarded-For", "198.51.100.9"}, {"X-Forwarded-For", "127.0.0.5"}})
                  .body == "198.51.100.9"); // 127.0.0.5 is a proxy too: the walk goes on
        CHECK(client.request("GET", "/client", "", {{"X-Forwarded-For", "not-an-address"}}).body == "127.0.0.1");
        CHECK(client.get("/client").body == "127.0.0.1"); // no header: the proxy itself
    }
    SECTION("another proxy trusted: the loopback peer is a client, its header a lie") {
        auto options = test_options();
        options.trusted_proxies = {"10.0.0.0/8", "fd00::/8"};
        RunningServer running(options);
        HttpClient client(running.port());
        CHECK(client.request("GET", "/client", "", forwarded).body == "127.0.0.1");
    }
    SECTION("an address the server cannot read is refused when the server is made") {
        auto options = test_options();
        options.trusted_proxies = {"10.0.0.0/33"};
        try {
            Server refused(options, test_handler);
            FAIL("a server was made with an unreadable trusted proxy");
        } catch (const Error& e) {
            CHECK(e.code() == "invalid_option");
            CHECK_THAT(e.what(), Catch::Contains("10.0.0.0/33"));
        }
    }
}

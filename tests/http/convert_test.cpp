// The wire form of a response, without sockets: the serialised head, framing owned by the
// server, and a shared body written from its owner's bytes.
#include "http/convert.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace {

using wangge::http::detail::to_wire_response;
using wangge::http::detail::WireResponse;

std::string_view head_of(const WireResponse& w) {
    const auto b = w.buffers()[0];
    return {static_cast<const char*>(b.data()), b.size()};
}

std::string_view body_of(const WireResponse& w) {
    const auto b = w.buffers()[1];
    return {static_cast<const char*>(b.data()), b.size()};
}

} // namespace

TEST_CASE("wire response: status line, the server's fields, the handler's, then the length", "[http]") {
    wangge::api::Response r;
    r.content_type = "text/plain";
    r.body = "hello";
    r.set_header("ETag", "\"abc\"");
    WireResponse w;
    CHECK(to_wire_response(std::move(r), w, 11, true, false) == 5);
    CHECK(head_of(w) ==
          "HTTP/1.1 200 OK\r\nServer: wangge/0.1\r\nContent-Type: text/plain\r\nETag: \"abc\"\r\n"
          "Content-Length: 5\r\n\r\n");
    CHECK(body_of(w) == "hello");
    CHECK_FALSE(w.last());

    // HTTP/1.0 kept alive says so; HTTP/1.1 closing says so; each is the last when closing.
    WireResponse one;
    to_wire_response(wangge::api::error_response(404, "not_found", "no tile"), one, 10, true, false);
    CHECK(head_of(one).substr(0, 24) == "HTTP/1.0 404 Not Found\r\n");
    CHECK(head_of(one).find("Connection: keep-alive\r\n") != std::string_view::npos);
    CHECK(body_of(one) == R"({"code":"not_found","message":"no tile"})");
    WireResponse closing;
    to_wire_response(wangge::api::json_response("{}"), closing, 11, false, false);
    CHECK(head_of(closing).find("Connection: close\r\n") != std::string_view::npos);
    CHECK(closing.last());
}

TEST_CASE("wire response: a shared body is written from its owner's bytes, not a copy", "[http]") {
    const auto tile = std::make_shared<const std::string>(std::string(70000, 't'));
    wangge::api::Response r;
    r.shared_body = tile;
    WireResponse w;
    CHECK(to_wire_response(std::move(r), w, 11, true, false) == tile->size());
    CHECK(w.buffers()[1].data() == tile->data());
    CHECK(w.buffers()[1].size() == tile->size());
    CHECK(tile.use_count() == 2); // the slot keeps the bytes alive until written
    w.clear();
    CHECK(tile.use_count() == 1);
    CHECK(w.buffers()[1].size() == 0);

    // HEAD: the length of the body, none of its bytes, and no hold on them.
    wangge::api::Response head;
    head.shared_body = tile;
    CHECK(to_wire_response(std::move(head), w, 11, true, true) == tile->size());
    CHECK(head_of(w).find("Content-Length: 70000\r\n") != std::string_view::npos);
    CHECK(w.buffers()[1].size() == 0);
}

TEST_CASE("wire response: framing and unsafe headers of the handler are dropped", "[http]") {
    wangge::api::Response r;
    r.body = "four";
    r.set_header("Content-Length", "999");
    r.set_header("transfer-encoding", "chunked");
    r.set_header("Connection", "close");
    r.set_header("Server", "other");
    r.set_header("Content-Type", "text/html");
    r.set_header("X-Evil", "a\r\nSet-Cookie: injected=1");
    r.set_header("Bad Name", "v");
    r.set_header("X-Fine", "yes");
    WireResponse w;
    to_wire_response(std::move(r), w, 11, true, false);
    CHECK(head_of(w) ==
          "HTTP/1.1 200 OK\r\nServer: wangge/0.1\r\nContent-Type: application/json\r\nX-Fine: yes\r\n"
          "Content-Length: 4\r\n\r\n");

    // 204 and 304 carry no body and no length; an invalid status becomes a 500 envelope.
    wangge::api::Response none;
    none.status = 304;
    none.body = "ignored";
    CHECK(to_wire_response(std::move(none), w, 11, true, false) == 0);
    CHECK(head_of(w).find("Content-Length") == std::string_view::npos);
    CHECK(body_of(w).empty());
    wangge::api::Response odd;
    odd.status = 42;
    to_wire_response(std::move(odd), w, 11, true, false);
    CHECK(head_of(w).substr(0, 36) == "HTTP/1.1 500 Internal Server Error\r\n");
    CHECK(body_of(w).find("\"code\":\"internal\"") != std::string_view::npos);
}

#include "api/message.hpp"

#include <catch2/catch.hpp>

using namespace wangge;

TEST_CASE("api: request targets are split and decoded", "[api]") {
    auto r = api::make_request("GET", "/api/v1/grids?parent=320102002001&bbox=1%2C2%2C3%2C4&name=%E7%BD%91+%E6%A0%BC&flag");
    CHECK(r.path == "/api/v1/grids");
    CHECK(r.param("parent") == "320102002001");
    CHECK(r.param("bbox") == "1,2,3,4");
    CHECK(r.param("name") == "网 格");
    CHECK(r.param("flag") == "");
    CHECK_FALSE(r.param("absent"));
    CHECK(api::make_request("GET", "/a%20b").path == "/a b");
    CHECK_THROWS_AS(api::make_request("GET", "/x?y=%zz"), Error);
    CHECK_THROWS_AS(api::make_request("GET", "/x?y=%4"), Error);
}

TEST_CASE("api: the error envelope carries code and message", "[api]") {
    auto r = api::error_response(Error(ErrorKind::unprocessable, "invalid_code", "grid code 'x' must be 15 digits"));
    CHECK(r.status == 422);
    CHECK(r.content_type == "application/json");
    CHECK(r.body == R"({"code":"invalid_code","message":"grid code 'x' must be 15 digits"})");
}

TEST_CASE("request origin: from a plain Host header only", "[api]") {
    auto with = [](std::vector<std::pair<std::string, std::string>> headers) {
        auto req = api::make_request("GET", "/tiles/grids.json");
        req.headers = std::move(headers);
        return api::request_origin(req);
    };
    CHECK(with({{"host", "maps.example.cn:8080"}}) == "http://maps.example.cn:8080");
    CHECK(with({{"host", "127.0.0.1:18080"}}) == "http://127.0.0.1:18080");
    CHECK(with({{"host", "[::1]:8080"}}) == "http://[::1]:8080");
    CHECK(with({{"host", "maps.example.cn"}, {"x-forwarded-proto", "HTTPS"}}) == "https://maps.example.cn");
    CHECK(with({{"host", "maps.example.cn"}, {"x-forwarded-proto", "hxxxs"}}) == "http://maps.example.cn");
    // Anything else leaves links relative rather than echoing it into JSON and HTML.
    CHECK(with({}).empty());
    CHECK(with({{"host", ""}}).empty());
    CHECK(with({{"host", "evil.example/\"><script>"}}).empty());
    CHECK(with({{"host", "a b"}}).empty());
    CHECK(with({{"host", "user@host"}}).empty());
    CHECK(with({{"host", std::string(300, 'a')}}).empty());
}

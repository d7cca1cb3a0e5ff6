#include "api/json_values.hpp"
#include "api/message.hpp"
#include "core/log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

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

TEST_CASE("api: split_exactly takes a path apart only when it has that many parts", "[api]") {
    const auto four = api::split_exactly<4>("grids/14/13598/6650");
    REQUIRE(four);
    CHECK((*four)[0] == "grids");
    CHECK((*four)[3] == "6650");
    CHECK_FALSE(api::split_exactly<4>("grids/14/13598"));
    CHECK_FALSE(api::split_exactly<4>("grids/14/13598/6650/1"));
    const auto empty_parts = api::split_exactly<3>("a//");
    REQUIRE(empty_parts);
    CHECK((*empty_parts)[1].empty());
    CHECK((*empty_parts)[2].empty());
    CHECK(api::split_exactly<1>("") == std::optional(std::array<std::string_view, 1>{""}));
    CHECK(api::split_exactly<2>("gzip;q=0.5", ';').value()[1] == "q=0.5");
}

TEST_CASE("api: the error envelope carries code and message", "[api]") {
    auto r = api::error_response(Error(ErrorKind::unprocessable, "invalid_code", "grid code 'x' must be 15 digits"));
    CHECK(r.status == 422);
    CHECK(r.content_type == "application/json");
    CHECK(r.body == R"({"code":"invalid_code","message":"grid code 'x' must be 15 digits"})");
}

TEST_CASE("api: each error kind brings the header it calls for", "[api]") {
    auto header = [](const api::Response& r, std::string_view name) {
        std::string found;
        for (const auto& [k, v] : r.headers)
            if (k == name) found = v;
        return found;
    };
    const auto method = api::error_response(Error(ErrorKind::method_not_allowed, "method_not_allowed", "use GET"));
    CHECK(method.status == 405);
    CHECK(header(method, "Allow") == "GET, HEAD");
    const auto busy = api::error_response(Error(ErrorKind::unavailable, "render_busy", "retry"));
    CHECK(busy.status == 503);
    CHECK(header(busy, "Retry-After") == "1");
    const auto auth = api::error_response(Error(ErrorKind::unauthorized, "unauthorized", "token"));
    CHECK(auth.status == 401);
    CHECK(header(auth, "WWW-Authenticate") == "Bearer realm=\"wangge\"");
    const auto limited =
        api::error_response(Error(ErrorKind::too_many_requests, "too_many_attempts", "wait").with_retry_after(600));
    CHECK(limited.status == 429);
    CHECK(header(limited, "Retry-After") == "600");
    CHECK(api::error_response(Error(ErrorKind::unsupported_media_type, "unsupported_media_type", "json")).status == 415);
    CHECK(api::error_response(Error(ErrorKind::not_found, "not_found", "no grid")).headers.empty());
}

TEST_CASE("api: a caught failure becomes the envelope, its detail kept from the client", "[api]") {
    const auto known = api::error_response(
        std::make_exception_ptr(Error(ErrorKind::not_found, "no_such_grid", "grid 320102002001001 not found")),
        "GET /api/v1/grids/320102002001001");
    CHECK(known.status == 404);
    CHECK(known.body == R"({"code":"no_such_grid","message":"grid 320102002001001 not found"})");

    const auto unknown = api::error_response(
        std::make_exception_ptr(std::runtime_error("database /srv/wangge/secret.sqlite is locked")), "GET /x");
    CHECK(unknown.status == 500);
    CHECK(unknown.content_type == "application/json");
    CHECK(unknown.body.find("\"code\":\"internal\"") != std::string::npos);
    CHECK(unknown.body.find("secret") == std::string::npos);

    // Each 500 has its own request id, which the log line carries with the detail.
    const auto odd = api::error_response(std::make_exception_ptr(42), "GET /y");
    CHECK(odd.status == 500);
    const auto id_of = [](const api::Response& r) { return nlohmann::json::parse(r.body).at("request_id").get<std::string>(); };
    CHECK(id_of(odd) != id_of(unknown));
    CHECK(odd.body.substr(0, 30) == unknown.body.substr(0, 30));

    // An io error below the api (a database, a file) is as internal as any other.
    const auto io = api::error_response(
        std::make_exception_ptr(Error(ErrorKind::io, "database", "executing 'SELECT code FROM grids': disk I/O error")),
        "GET /z");
    CHECK(io.status == 500);
    CHECK(io.body.find("SELECT") == std::string::npos);
    CHECK(io.body.find("database") == std::string::npos);
}

TEST_CASE("api: a response body is owned or shared, and bytes() reads either", "[api]") {
    api::Response owned = api::json_response("{}");
    CHECK(owned.bytes() == "{}");
    api::Response shared;
    shared.shared_body = std::make_shared<const std::string>("tile bytes");
    CHECK(shared.bytes() == "tile bytes");
    CHECK(shared.bytes().data() == shared.shared_body->data());
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

TEST_CASE("request origin: a configured public origin wins over Host and X-Forwarded-Proto", "[api]") {
    auto req = api::make_request("GET", "/ogc/collections");
    req.headers = {{"host", "internal:9000"}, {"x-forwarded-proto", "http"}};
    req.public_origin = "https://maps.example.org/wangge";
    CHECK(api::request_origin(req) == "https://maps.example.org/wangge");
}

TEST_CASE("public URL: http or https, a host, optional port and path, no trailing slash", "[api]") {
    CHECK(api::public_origin_of("https://maps.example.org") == "https://maps.example.org");
    CHECK(api::public_origin_of("https://maps.example.org/") == "https://maps.example.org");
    CHECK(api::public_origin_of("http://10.0.0.5:8080/wangge/") == "http://10.0.0.5:8080/wangge");
    CHECK(api::public_origin_of("http://[::1]:8080") == "http://[::1]:8080");
    auto refused = [](std::string_view url) {
        try {
            api::public_origin_of(url);
        } catch (const Error& e) {
            return e.kind() == ErrorKind::bad_request && e.code() == "invalid_public_url";
        }
        return false;
    };
    CHECK(refused("maps.example.org"));
    CHECK(refused("ftp://maps.example.org"));
    CHECK(refused("https://"));
    CHECK(refused("https:///wangge"));
    CHECK(refused("https://user@maps.example.org"));
    CHECK(refused("https://maps.example.org/a?b=1"));
    CHECK(refused("https://maps.example.org/#top"));
    CHECK(refused("https://maps.example.org/a b"));
    CHECK(refused("https://maps.example.org/\"><script>"));
}

TEST_CASE("message: logged targets never show an api_key", "[api]") {
    CHECK(api::loggable_target("/open311/v2/requests.json?api_key=s3cret&status=open") ==
          "/open311/v2/requests.json?api_key=***&status=open");
    CHECK(api::loggable_target("/open311/v2/requests.json?status=open&api_key=s3cret") ==
          "/open311/v2/requests.json?status=open&api_key=***");
    CHECK(api::loggable_target("/x?my_api_key=1&api_key=&api_key=2") == "/x?my_api_key=1&api_key=***&api_key=***");
    CHECK(api::loggable_target("/api_key=1") == "/api_key=1");
}

TEST_CASE("request id: a client's usable X-Request-Id is kept, anything else replaced by a new id", "[api]") {
    CHECK(api::request_id_for(std::string_view("trace-7.a_b:c")) == "trace-7.a_b:c");
    const std::string made = api::request_id_for(std::nullopt);
    CHECK(made.size() == 16);
    CHECK(made.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(api::request_id_for(std::nullopt) != made); // unique within the process
    for (std::string_view bad : {std::string_view(""), std::string_view("two words"), std::string_view("a\r\nSet-Cookie: x"),
                                 std::string_view("<script>"), std::string_view("\xe7\xbd\x91")}) {
        const std::string id = api::request_id_for(bad);
        CHECK(id != bad);
        CHECK(id.size() == 16);
    }
    const std::string long_id(65, 'a');
    CHECK(api::request_id_for(std::string_view(long_id)) != long_id);
    CHECK(api::request_id_for(std::string_view(long_id).substr(0, 64)) == long_id.substr(0, 64));
}

TEST_CASE("request id: a 500 answered while a request is handled names that request's id", "[api]") {
    const log::RequestScope scope("client-trace-1");
    const auto r = api::error_response(std::make_exception_ptr(std::runtime_error("SELECT secret FROM x")), "GET /x");
    REQUIRE(r.status == 500);
    CHECK(nlohmann::json::parse(r.body)["request_id"] == "client-trace-1");
    CHECK(r.body.find("secret") == std::string::npos);
}

TEST_CASE("whole numbers from bodies: in range or nothing, never cast", "[api][json]") {
    using nlohmann::json;
    CHECK(api::whole_number<int>(json::parse("5")) == 5);
    CHECK(api::whole_number<int>(json::parse("-5")) == -5);
    CHECK(api::whole_number<int>(json::parse("2147483647")) == 2147483647);
    CHECK_FALSE(api::whole_number<int>(json::parse("2147483648")));
    CHECK_FALSE(api::whole_number<int>(json::parse("4294967297"))); // would wrap to 1
    CHECK_FALSE(api::whole_number<int>(json::parse("2.5")));
    CHECK_FALSE(api::whole_number<int>(json::parse("1e114")));
    CHECK_FALSE(api::whole_number<int>(json::parse("\"5\"")));
    CHECK_FALSE(api::whole_number<int>(json::parse("true")));
    CHECK_FALSE(api::whole_number<int>(json::parse("null")));
    CHECK(api::whole_number<std::uint64_t>(json::parse("18446744073709551615")) == UINT64_MAX);
    CHECK_FALSE(api::whole_number<std::uint64_t>(json::parse("-1")));
    CHECK(api::whole_number<std::int64_t>(json::parse("-9223372036854775808")) == INT64_MIN);
    CHECK_FALSE(api::whole_number<std::int64_t>(json::parse("9223372036854775808")));
}

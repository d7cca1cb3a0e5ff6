// multipart/form-data bodies as browsers, curl and Open311 clients send them.
#include "api/multipart.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

using namespace wangge;

namespace {

std::string invalid_reason(std::string_view type, std::string_view body, std::size_t max_parts = 10) {
    try {
        api::parse_multipart(type, body, max_parts);
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::bad_request);
        CHECK(e.code() == "invalid_multipart");
        return e.what();
    }
    return "";
}

} // namespace

TEST_CASE("multipart: fields and files, with a preamble, binary content and an epilogue", "[api][multipart]") {
    const std::string binary("\xFF\xD8\r\n--not-the-boundary\r\n\0\x01", 26);
    const std::string body = "preamble to ignore\r\n"
                             "--XyZ\r\n"
                             "Content-Disposition: form-data; name=\"report\"\r\n"
                             "Content-Type: application/json\r\n"
                             "\r\n"
                             "{\"category\":\"0101\"}\r\n"
                             "--XyZ\r\n"
                             "content-disposition: form-data; name=\"photo\"; filename=\"a \\\"b\\\".jpg\"\r\n"
                             "Content-Type: image/jpeg\r\n"
                             "\r\n" +
                             binary +
                             "\r\n"
                             "--XyZ\r\n"
                             "Content-Disposition: form-data; name=empty\r\n"
                             "\r\n"
                             "\r\n"
                             "--XyZ--\r\n"
                             "epilogue";
    const auto parts = api::parse_multipart("multipart/form-data; charset=utf-8; boundary=\"XyZ\"", body, 10);
    REQUIRE(parts.size() == 3);
    CHECK(parts[0].name == "report");
    CHECK(parts[0].filename.empty());
    CHECK(parts[0].content_type == "application/json");
    CHECK(parts[0].body == "{\"category\":\"0101\"}");
    CHECK(parts[1].name == "photo");
    CHECK(parts[1].filename == "a \"b\".jpg");
    CHECK(parts[1].content_type == "image/jpeg");
    CHECK(parts[1].body == binary);
    CHECK(parts[2].name == "empty");
    CHECK(parts[2].body.empty());
}

TEST_CASE("multipart: malformed bodies and too many parts are 400s", "[api][multipart]") {
    const std::string type = "multipart/form-data; boundary=b";
    CHECK(invalid_reason("multipart/form-data", "--b\r\n\r\nx\r\n--b--").find("boundary") != std::string::npos);
    CHECK(invalid_reason(type, "no delimiter at all").find("no part") != std::string::npos);
    CHECK(invalid_reason(type, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunfinished")
              .find("closing boundary") != std::string::npos);
    CHECK(invalid_reason(type, "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--").find("form-data") != std::string::npos);
    CHECK(invalid_reason(type, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\nbroken header\r\n\r\nx\r\n--b--")
              .find("colon") != std::string::npos);
    CHECK(invalid_reason(type, "--bjunk\r\n").find("CRLF") != std::string::npos);
    std::string many;
    for (int i = 0; i < 4; ++i) many += "--b\r\nContent-Disposition: form-data; name=\"p\"\r\n\r\nx\r\n";
    many += "--b--";
    CHECK(api::parse_multipart(type, many, 4).size() == 4);
    CHECK(invalid_reason(type, many, 3).find("more than 3 parts") != std::string::npos);
}

#include "core/codes.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

using namespace wangge;

TEST_CASE("codes: levels follow from length and digits", "[codes]") {
    CHECK(level_of_code("320102002") == Level::street);
    CHECK(level_of_code("320102002001") == Level::community);
    CHECK(level_of_code("320102002001003") == Level::grid);
    CHECK_FALSE(level_of_code("32010200200"));
    CHECK_FALSE(level_of_code("32010200200a"));
    CHECK_FALSE(level_of_code(""));
}

TEST_CASE("codes: require_code rejects wrong shapes with the level in the message", "[codes]") {
    CHECK_NOTHROW(require_code(Level::grid, "320102002001003"));
    try {
        require_code(Level::community, "3201020020");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::unprocessable);
        CHECK(e.code() == "invalid_code");
        CHECK(std::string(e.what()).find("community code '3201020020' must be 12 digits") != std::string::npos);
    }
    CHECK_THROWS_AS(require_code(Level::grid, "320102002001000"), Error); // sequence starts at 001
    CHECK_THROWS_AS(require_code(Level::street, "32010200x"), Error);
}

TEST_CASE("codes: parents are the code prefixes", "[codes]") {
    CHECK(parent_code(Level::grid, "320102002001003") == "320102002001");
    CHECK(parent_code(Level::community, "320102002001") == "320102002");
    CHECK_THROWS_AS(parent_code(Level::street, "320102002"), Error);
    CHECK_NOTHROW(require_parent(Level::grid, "320102002001003", "320102002001"));
    try {
        require_parent(Level::grid, "320102002001003", "320102002002");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == "code_parent_mismatch");
    }
}

TEST_CASE("codes: level names parse singular and plural", "[codes]") {
    CHECK(parse_level("grids") == Level::grid);
    CHECK(parse_level("community") == Level::community);
    CHECK_FALSE(parse_level("district"));
    CHECK(to_string(Level::street) == "street");
}

TEST_CASE("errors map to HTTP statuses", "[error]") {
    CHECK(http_status(ErrorKind::bad_request) == 400);
    CHECK(http_status(ErrorKind::not_found) == 404);
    CHECK(http_status(ErrorKind::method_not_allowed) == 405);
    CHECK(http_status(ErrorKind::conflict) == 409);
    CHECK(http_status(ErrorKind::payload_too_large) == 413);
    CHECK(http_status(ErrorKind::unprocessable) == 422);
    CHECK(http_status(ErrorKind::internal) == 500);
}

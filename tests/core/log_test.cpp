// The process's log: JSON lines a collector can parse, with the request's id on the lines of its
// handling and the access line's fields; text lines for a terminal.
#include "core/log.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sstream>
#include <string>
#include <vector>

using namespace wangge;
using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

} // namespace

TEST_CASE("log: JSON lines carry time, level, message, and the request's id within its scope", "[log]") {
    std::ostringstream out;
    log::setup(log::Format::json, &out);
    spdlog::info("before {}", 1);
    {
        const log::RequestScope outer("req-outer");
        spdlog::warn("inside");
        {
            const log::RequestScope inner("req-inner");
            CHECK(log::current_request_id() == "req-inner");
            spdlog::error("nested");
        }
        CHECK(log::current_request_id() == "req-outer");
        spdlog::info("outer again");
    }
    CHECK(log::current_request_id().empty());
    spdlog::info("after \"quoted\"\n second line \xff bytes");

    const auto lines = lines_of(out.str());
    REQUIRE(lines.size() == 5); // one object per line, a newline in a message escaped
    std::vector<json> parsed;
    for (const auto& line : lines) parsed.push_back(json::parse(line)); // throws if any is not JSON
    CHECK(parsed[0]["msg"] == "before 1");
    CHECK(parsed[0]["level"] == "info");
    CHECK_FALSE(parsed[0].contains("request_id"));
    CHECK(parsed[1]["request_id"] == "req-outer");
    CHECK(parsed[1]["level"] == "warning");
    CHECK(parsed[2]["request_id"] == "req-inner");
    CHECK(parsed[3]["request_id"] == "req-outer");
    CHECK_FALSE(parsed[4].contains("request_id"));
    CHECK(parsed[4]["msg"].get<std::string>().starts_with("after \"quoted\"\n second line "));
    CHECK(parsed[4]["msg"].get<std::string>().find("\xef\xbf\xbd") != std::string::npos); // U+FFFD for the bad byte
    const std::string time = parsed[0]["time"];
    // 2026-12-06T01:02:03.456789Z
    REQUIRE(time.size() == 27);
    CHECK(time[4] == '-');
    CHECK(time[10] == 'T');
    CHECK(time[19] == '.');
    CHECK(time.back() == 'Z');
    log::setup(log::Format::text); // standard error again for the tests that follow
}

TEST_CASE("log: the access line is one JSON object with the request's figures as fields", "[log]") {
    std::ostringstream out;
    log::setup(log::Format::json, &out);
    {
        const log::RequestScope scope("abc123");
        log::access({"abc123", "POST", "/api/v1/incidents?x=1", "127.0.0.1", 201, 345, 1234});
    }
    const auto lines = lines_of(out.str());
    REQUIRE(lines.size() == 1);
    const json line = json::parse(lines[0]);
    CHECK(line["msg"] == "request");
    CHECK(line["request_id"] == "abc123");
    CHECK(line["method"] == "POST");
    CHECK(line["target"] == "/api/v1/incidents?x=1");
    CHECK(line["remote"] == "127.0.0.1");
    CHECK(line["status"] == 201);
    CHECK(line["bytes"] == 345);
    CHECK(line["duration_us"] == 1234);
    log::setup(log::Format::text); // standard error again for the tests that follow
}

TEST_CASE("log: text lines name the request they were written for", "[log]") {
    std::ostringstream out;
    log::setup(log::Format::text, &out);
    spdlog::info("plain");
    {
        const log::RequestScope scope("r-42");
        spdlog::info("handled");
        log::access({"r-42", "GET", "/healthz", "::1", 200, 2, 17});
    }
    const auto lines = lines_of(out.str());
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].ends_with("] plain"));
    CHECK(lines[1].ends_with("] handled [request r-42]"));
    CHECK(lines[2].find("GET /healthz 200 2 17 id=r-42") != std::string::npos);
    CHECK(lines[2].find("[request") == std::string::npos); // the id once, as a field of the line
    log::setup(log::Format::text); // standard error again for the tests that follow
}

TEST_CASE("log: the format is text or json and nothing else", "[log]") {
    CHECK(log::parse_format("json") == log::Format::json);
    CHECK(log::parse_format("text") == log::Format::text);
    CHECK_THROWS(log::parse_format("xml"));
}

// What an operator sees of a running server (docs/OPERATIONS.md, "Monitor"): every answer names
// its request id (the client's own when usable), the JSON log has one parseable object per line
// with that id, and /metrics counts the reports filed, the workflow steps taken, the open cases by
// traffic light, the time spent in the database and the snapshot's load.
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;

namespace {

std::vector<json> json_lines(const std::filesystem::path& file) {
    std::ifstream in(file);
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) {
        INFO(line);
        out.push_back(json::parse(line)); // every line is one JSON object, or the test fails
    }
    return out;
}

// The value of the series `name_and_labels` in the exposition text, or -1 when it is absent.
double series(const std::string& text, const std::string& name_and_labels) {
    const auto at = text.find("\n" + name_and_labels + " ");
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + name_and_labels.size() + 2));
}

} // namespace

TEST_CASE("observability: request ids, JSON logs and the metrics of cases and the database", "[cli][http][metrics]") {
    test::TempDir dir;
    const auto db = dir / "o.sqlite";
    const auto made = wangge_cli({"demo", db.string(), "--households", "5000", "--seed", "3"});
    INFO(made.err);
    REQUIRE(made.exit_code == 0);
    const std::string admin = test::cli_token(db, "admin", "admin");
    const auto log_file = dir / "serve.log";
    test::Background server({"/bin/bash", "-c", "exec \"$0\" \"$@\" 2>\"" + log_file.string() + "\"", WANGGE_BINARY,
                             "serve", "--db", db.string(), "--port", "0", "--threads", "2", "--log-format", "json",
                             "--access-log"});
    std::smatch m;
    const std::string line = server.read_line(60000);
    REQUIRE(std::regex_search(line, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")));
    test::HttpClient client(static_cast<unsigned short>(std::stoi(m[1])));
    const test::HttpHeaders auth{{"Authorization", "Bearer " + admin}, {"Content-Type", "application/json"}};

    SECTION("an answer names the client's usable id, or a new one") {
        const auto traced = client.request("GET", "/healthz", {}, {{"X-Request-Id", "lb-trace-0042"}});
        CHECK(traced.header("x-request-id") == "lb-trace-0042");
        const auto fresh = client.request("GET", "/healthz");
        const std::string id = fresh.header("x-request-id");
        CHECK(std::regex_match(id, std::regex("[0-9a-f]{16}")));
        CHECK(client.request("GET", "/healthz").header("x-request-id") != id);
        const auto refused = client.request("GET", "/healthz", {}, {{"X-Request-Id", "has spaces and <tags>"}});
        CHECK(std::regex_match(refused.header("x-request-id"), std::regex("[0-9a-f]{16}")));
        // An error answer too.
        const auto missing = client.request("GET", "/no/such/page", {}, {{"X-Request-Id", "t-404"}});
        CHECK(missing.status == 404);
        CHECK(missing.header("x-request-id") == "t-404");

        server.stop(SIGTERM);
        const auto lines = json_lines(log_file);
        bool found = false;
        for (const auto& l : lines) {
            CHECK(l.contains("time"));
            CHECK(l.contains("level"));
            if (l.value("msg", "") == "request" && l.value("request_id", "") == "lb-trace-0042") {
                found = true;
                CHECK(l["method"] == "GET");
                CHECK(l["target"] == "/healthz");
                CHECK(l["status"] == 200);
                CHECK(l["remote"] == "127.0.0.1");
                CHECK(l["duration_us"].get<long>() >= 0);
            }
        }
        CHECK(found);
    }

    SECTION("metrics count reports, steps, open cases and the database's time") {
        std::vector<long> ids;
        for (int i = 0; i < 3; ++i) {
            const json report{{"category", "0101"}, {"description", "暴露垃圾 " + std::to_string(i)}, {"building", 1 + i}};
            auto h = auth;
            h.emplace_back("Idempotency-Key", "obs-" + std::to_string(i));
            const auto r = client.request("POST", "/api/v1/incidents", report.dump(), h);
            INFO(r.body);
            REQUIRE(r.status == 201);
            ids.push_back(json::parse(r.body)["id"].get<long>());
        }
        { // the same key again: a replay, counted as one
            auto h = auth;
            h.emplace_back("Idempotency-Key", "obs-0");
            const json report{{"category", "0101"}, {"description", "暴露垃圾 0"}, {"building", 1}};
            REQUIRE(client.request("POST", "/api/v1/incidents", report.dump(), h).status == 200);
        }
        const auto step = client.request("POST", "/api/v1/incidents/" + std::to_string(ids[0]) + "/transitions",
                                         json{{"action", "invalidate"}, {"note", "a duplicate"}}.dump(), auth);
        INFO(step.body);
        REQUIRE(step.status == 200);

        const auto scraped = client.request("GET", "/metrics", {}, auth);
        REQUIRE(scraped.status == 200);
        const std::string text = "\n" + scraped.body;
        INFO(text);
        CHECK(series(text, R"(wangge_incidents_filed_total{channel="api",outcome="filed"})") == 3);
        CHECK(series(text, R"(wangge_incidents_filed_total{channel="api",outcome="replayed"})") == 1);
        CHECK(series(text, R"(wangge_incident_steps_total{action="invalidate",to="invalid"})") == 1);
        // Three filed, one invalidated: two open, just reported, in time.
        CHECK(series(text, R"(wangge_incidents_open{light="green"})") == 2);
        CHECK(series(text, R"(wangge_incidents_open{light="yellow"})") == 0);
        CHECK(series(text, R"(wangge_incidents_open{light="red"})") == 0);
        // Four reports and a step through the group commit (and audit lines): at least one
        // transaction, and time spent in it.
        CHECK(series(text, R"(wangge_db_transactions_total{work="group_commit"})") >= 1);
        CHECK(series(text, R"(wangge_db_seconds_total{work="group_commit"})") > 0);
        CHECK(series(text, R"(wangge_db_transactions_total{work="read"})") >= 1); // the open cases were counted
        CHECK(series(text, "wangge_group_commit_backlog") == 0);
        CHECK(series(text, "wangge_sign_in_backlog") == 0);
        CHECK(series(text, "wangge_snapshot_load_seconds") > 0);
        CHECK(series(text, "wangge_snapshot_loads_total") == 0); // nothing changed the map since the start
        server.stop(SIGTERM);
    }
}

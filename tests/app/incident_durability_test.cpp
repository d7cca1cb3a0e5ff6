// Reports acknowledged are kept, and none is filed twice: `wangge serve` is killed with SIGKILL
// in the middle of a burst of reports from several clients; a new server holds every report that
// was answered 201, and clients that retry the unanswered ones with the same Idempotency-Key end
// with each report filed exactly once.
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;

TEST_CASE("incident durability: SIGKILL during a burst of reports loses no acknowledged report and files none twice",
          "[cli][http][incident][durability]") {
    test::TempDir dir;
    const auto db = dir / "d.sqlite";
    REQUIRE(wangge_cli({"demo", db.string(), "--households", "20000", "--seed", "5"}).exit_code == 0);
    const std::string token = test::cli_token(db, "hotline", "admin");
    auto report = [&](test::HttpClient& client, const std::string& key, int i) {
        const json body{{"category", "0101"},
                        {"description", "burst " + key},
                        {"source", "hotline"},
                        {"location", {{"lon", 118.80 + (i % 50) * 4e-4}, {"lat", 31.96 + (i % 37) * 3e-4}}}};
        return client.request("POST", "/api/v1/incidents", body.dump(),
                              {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token},
                               {"Idempotency-Key", key}});
    };

    std::mutex mutex;
    std::map<std::string, std::int64_t> acknowledged; // key -> id answered 201
    std::set<std::string> sent;
    {
        test::WanggeServer server(db);
        std::atomic<bool> stop{false};
        std::vector<std::thread> clients;
        for (int c = 0; c < 4; ++c)
            clients.emplace_back([&, c] {
                test::HttpClient client(server.port, std::chrono::seconds(5));
                for (int i = 0; !stop && i < 2000; ++i) {
                    const std::string key = "c" + std::to_string(c) + "-" + std::to_string(i);
                    {
                        std::lock_guard lock(mutex);
                        sent.insert(key);
                    }
                    try {
                        const auto r = report(client, key, i);
                        if (r.status == 201) {
                            std::lock_guard lock(mutex);
                            acknowledged[key] = json::parse(r.body)["id"].get<std::int64_t>();
                        }
                    } catch (const std::exception&) {
                        return; // the server is gone
                    }
                }
            });
        // Let the burst run, then kill the server in the middle of it.
        for (int i = 0; i < 100; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            std::lock_guard lock(mutex);
            if (acknowledged.size() >= 100) break;
        }
        CHECK(server.process.stop(SIGKILL) == 128 + SIGKILL);
        stop = true;
        for (auto& t : clients) t.join();
    }
    REQUIRE(acknowledged.size() >= 20);

    test::WanggeServer server(db);
    test::HttpClient client(server.port);
    auto stored = [&] {
        const auto r = client.request("GET", "/api/v1/incidents?limit=1000", {}, {{"Authorization", "Bearer " + token}});
        REQUIRE(r.status == 200);
        std::map<std::string, std::vector<std::int64_t>> by_key; // the description names the key
        const json page = json::parse(r.body);
        for (const auto& i : page["incidents"])
            by_key[i["description"].get<std::string>().substr(6)].push_back(i["id"].get<std::int64_t>());
        return by_key;
    };
    const auto after_crash = stored();
    for (const auto& [key, id] : acknowledged) {
        INFO(key << " of " << acknowledged.size() << " acknowledged, " << after_crash.size() << " stored, "
                  << sent.size() << " sent");
        REQUIRE(after_crash.contains(key));
        CHECK(after_crash.at(key) == std::vector<std::int64_t>{id});
    }
    // Clients retry what was never answered; each report ends filed exactly once.
    for (const auto& key : sent)
        if (!acknowledged.contains(key)) {
            const int i = std::stoi(key.substr(key.find('-') + 1));
            const auto r = report(client, key, i);
            CHECK((r.status == 201 || r.status == 200));
        }
    const auto final = stored();
    CHECK(final.size() == sent.size());
    for (const auto& [key, ids] : final) {
        INFO(key);
        CHECK(ids.size() == 1);
    }
    CHECK(server.process.stop(SIGTERM) == 0);
}

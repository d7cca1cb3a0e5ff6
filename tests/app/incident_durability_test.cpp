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

TEST_CASE("incident durability: SIGTERM during a burst answers every report it has committed before exiting",
          "[cli][http][incident][durability]") {
    test::TempDir dir;
    const auto db = dir / "d.sqlite";
    REQUIRE(wangge_cli({"demo", db.string(), "--households", "20000", "--seed", "5"}).exit_code == 0);
    const std::string token = test::cli_token(db, "hotline", "admin");
    std::mutex mutex;
    std::set<std::string> acknowledged; // keys answered 201
    int answered = 0;
    {
        test::WanggeServer server(db);
        std::vector<std::thread> clients;
        for (int c = 0; c < 16; ++c)
            clients.emplace_back([&, c] {
                test::HttpClient client(server.port, std::chrono::seconds(10));
                for (int i = 0; i < 5000; ++i) {
                    const std::string key = "t" + std::to_string(c) + "-" + std::to_string(i);
                    const json body{{"category", "0101"},
                                    {"description", "burst " + key},
                                    {"source", "hotline"},
                                    {"location", {{"lon", 118.80 + (i % 50) * 4e-4}, {"lat", 31.96 + (i % 37) * 3e-4}}}};
                    try {
                        const auto r = client.request("POST", "/api/v1/incidents", body.dump(),
                                                      {{"Content-Type", "application/json"},
                                                       {"Authorization", "Bearer " + token},
                                                       {"Idempotency-Key", key}});
                        std::lock_guard lock(mutex);
                        ++answered;
                        if (r.status == 201) acknowledged.insert(key);
                    } catch (const std::exception&) {
                        return; // the server has closed the connection, or is gone
                    }
                }
            });
        for (int i = 0; i < 250; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            std::lock_guard lock(mutex);
            if (acknowledged.size() >= 200) break;
        }
        // Reports are queued for their commit at this moment: they are committed and answered,
        // and the server exits cleanly.
        CHECK(server.process.stop(SIGTERM) == 0);
        for (auto& t : clients) t.join();
    }
    REQUIRE(acknowledged.size() >= 200);

    test::WanggeServer server(db);
    test::HttpClient client(server.port);
    std::set<std::string> stored;
    for (int offset = 0;; offset += 1000) {
        const auto r = client.request("GET", "/api/v1/incidents?limit=1000&offset=" + std::to_string(offset), {},
                                      {{"Authorization", "Bearer " + token}});
        REQUIRE(r.status == 200);
        const json page = json::parse(r.body)["incidents"];
        for (const auto& i : page) stored.insert(i["description"].get<std::string>().substr(6));
        if (page.size() < 1000) break;
    }
    // Nothing committed went unanswered, and nothing answered is missing.
    INFO(acknowledged.size() << " answered 201 of " << answered << " answered, " << stored.size() << " stored");
    CHECK(stored == acknowledged);
    CHECK(server.process.stop(SIGTERM) == 0);
}

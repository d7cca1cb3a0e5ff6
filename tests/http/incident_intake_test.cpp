// Reports over real sockets: each answered 201 only after its commit, from the committing thread,
// so that one transaction holds the reports of more clients than the server has threads; every
// report stored exactly once; and a server that stops answers the reports it has accepted.
#include "api/incident_endpoints.hpp"
#include "api/service.hpp"
#include "http/server.hpp"
#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/incident_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace wangge;
using nlohmann::json;

namespace {

constexpr int server_threads = 2;

struct IntakeServer {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    std::shared_ptr<store::GroupCommit> commits;
    std::shared_ptr<api::Service> service;
    std::string token;
    std::atomic<int> handled{0}; // requests Service::handle has returned from
    std::unique_ptr<http::Server> server;

    IntakeServer() {
        test::write_incident_district(path);
        std::shared_ptr<grid::SnapshotHolder> holder;
        {
            auto db = store::Database::open(path, store::OpenMode::read_write);
            holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db));
        }
        test::TestAccounts accounts(path);
        token = accounts.token_for("hotline", auth::Role::admin);
        commits = std::make_shared<store::GroupCommit>(path);
        api::IncidentOptions o;
        o.rules = test::two_category_rules();
        auto writer = std::make_shared<api::Writer>(path, holder, std::vector<std::shared_ptr<tiles::TileCache>>{});
        service = std::make_shared<api::Service>(
            holder,
            std::vector<std::shared_ptr<const api::Endpoints>>{
                std::make_shared<api::IncidentEndpoints>(commits, writer, std::move(o))},
            api::ServiceOptions{accounts.accounts, {}, {}});
        http::ServerOptions so;
        so.port = 0;
        so.threads = server_threads;
        server = std::make_unique<http::Server>(so, [this](api::Request req) {
            auto r = service->handle(std::move(req));
            ++handled;
            return r;
        });
        server->start();
        // The token's first use is recorded now, not while a test holds the committing thread
        // (and with it the database's write lock).
        REQUIRE(stored().empty());
        // That read is not one of the reports a test waits for: counting it would let a test go
        // on with one report not yet handled (and stop the server before its client connected).
        handled = 0;
    }

    test::HttpResponse report(test::HttpClient& client, const std::string& key, int i) const {
        const json body{{"category", "0101"},
                        {"description", "intake " + key},
                        {"source", "hotline"},
                        {"location", {{"lon", 118.8015 + (i % 10) * 1e-4}, {"lat", 32.0065 + (i % 7) * 1e-4}}}};
        return client.request("POST", "/api/v1/incidents", body.dump(),
                              {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token},
                               {"Idempotency-Key", key}});
    }

    // Holds the committing thread until `open()` is true (or 20 s have passed); the future tells
    // whether it was.
    std::future<bool> hold_commits_until(std::function<bool()> open) {
        auto result = std::make_shared<std::promise<bool>>();
        auto answer = result->get_future();
        auto opened = std::make_shared<bool>(false);
        commits->submit(
            [open = std::move(open), opened](store::Database&) {
                const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
                while (!(*opened = open()) && std::chrono::steady_clock::now() < until)
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
            },
            [result, opened](std::exception_ptr) { result->set_value(*opened); });
        return answer;
    }

    // key -> ids of the stored cases whose description names the key.
    std::map<std::string, std::vector<std::int64_t>> stored() const {
        test::HttpClient client(server->port());
        std::map<std::string, std::vector<std::int64_t>> by_key;
        for (int offset = 0;; offset += 1000) {
            const auto r = client.request("GET", "/api/v1/incidents?limit=1000&offset=" + std::to_string(offset), {},
                                          {{"Authorization", "Bearer " + token}});
            REQUIRE(r.status == 200);
            const json page = json::parse(r.body)["incidents"];
            for (const auto& i : page)
                by_key[i["description"].get<std::string>().substr(7)].push_back(i["id"].get<std::int64_t>());
            if (page.size() < 1000) return by_key;
        }
    }
};

} // namespace

TEST_CASE("intake over HTTP: concurrent reports share commits beyond the server's threads and are each stored once",
          "[http][incident][intake]") {
    IntakeServer s;
    constexpr int clients = 64, per_client = 10;
    // No commit can happen until every client's first report has been handled: with a thread
    // parked per report, only `server_threads` of them ever would be.
    auto first_batch = s.hold_commits_until([&s] { return s.handled >= clients; });
    std::mutex mutex;
    std::map<std::string, std::int64_t> created; // key -> id answered 201
    std::vector<std::string> problems;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            try {
                test::HttpClient client(s.server->port(), std::chrono::seconds(60));
                for (int i = 0; i < per_client; ++i) {
                    const std::string key = std::to_string(c) + "-" + std::to_string(i);
                    const auto r = s.report(client, key, c * per_client + i);
                    std::lock_guard lock(mutex);
                    if (r.status == 201)
                        created[key] = json::parse(r.body)["id"].get<std::int64_t>();
                    else
                        problems.push_back(key + ": " + std::to_string(r.status) + " " + r.body);
                }
            } catch (const std::exception& e) {
                std::lock_guard lock(mutex);
                problems.push_back(e.what());
            }
        });
    for (auto& t : threads) t.join();
    CHECK(first_batch.get()); // the first reports of all clients were handled before any commit
    INFO((problems.empty() ? std::string() : problems.front()));
    CHECK(problems.empty());
    REQUIRE(created.size() == static_cast<std::size_t>(clients * per_client));
    std::set<std::int64_t> ids;
    for (const auto& [key, id] : created) ids.insert(id);
    CHECK(ids.size() == created.size());

    const auto stored = s.stored();
    CHECK(stored.size() == created.size());
    for (const auto& [key, id] : created) {
        INFO(key);
        REQUIRE(stored.contains(key));
        CHECK(stored.at(key) == std::vector<std::int64_t>{id});
    }
    // The gate, one transaction for the 64 first reports, and the rest batched as they came.
    INFO(s.commits->commits() << " transactions for " << s.commits->jobs() << " jobs");
    CHECK(s.commits->jobs() == static_cast<std::size_t>(clients * per_client + 1));
    CHECK(s.commits->commits() * server_threads < s.commits->jobs());
}

TEST_CASE("intake over HTTP: a stopping server answers every report it has accepted before it closes",
          "[http][incident][intake]") {
    IntakeServer s;
    constexpr int clients = 16;
    std::atomic<bool> release{false};
    auto held = s.hold_commits_until([&release] { return release.load(); });
    std::mutex mutex;
    std::vector<int> statuses;
    std::vector<std::string> connection_headers;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
        threads.emplace_back([&, c] {
            test::HttpClient client(s.server->port(), std::chrono::seconds(30));
            try {
                const auto r = s.report(client, "stop-" + std::to_string(c), c);
                std::lock_guard lock(mutex);
                statuses.push_back(r.status);
                connection_headers.push_back(r.header("Connection"));
            } catch (const std::exception&) {
                std::lock_guard lock(mutex);
                statuses.push_back(0);
            }
        });
    // Every report has been handled and waits for its commit; the server is told to stop now.
    while (s.handled < clients) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::thread stopper([&] { s.server->stop(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200)); // stop() has closed what it may
    release = true;
    for (auto& t : threads) t.join();
    stopper.join();
    CHECK(held.get());
    REQUIRE(statuses.size() == static_cast<std::size_t>(clients));
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        CHECK(statuses[i] == 201);
        CHECK(connection_headers[i] == "close");
    }
    // The server is gone; the file holds every report that was answered.
    auto db = store::Database::open(s.path, store::OpenMode::read_write);
    int found = 0;
    for (int c = 0; c < clients; ++c)
        if (db->find_incident_by_key("stop-" + std::to_string(c))) ++found;
    CHECK(found == clients);
}

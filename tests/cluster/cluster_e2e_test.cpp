// Many servers, one truth (docs/SCALING.md): three `wangge serve` processes on one PostgreSQL +
// PostGIS database, behind HAProxy, with a cluster of the test's own so that it can be restarted.
// A rebalance applied through one server is seen by the other two within a second (NOTIFY; the
// periodic check is set to a minute so that it cannot be what they hear), a proposal made before
// it is refused on every server, a report filed twice at once with one key through two servers is
// stored once, a server killed with SIGKILL under load loses no acknowledged report, and when
// PostgreSQL stops the servers answer reads from their snapshots, refuse writes with 503, and
// recover when it returns.
#include "store/pg/connection.hpp"
#include "cluster/private_cluster.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_config.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;
using Clock = std::chrono::steady_clock;

namespace {

using test::PrivateCluster;

unsigned short free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

// HAProxy in the foreground, round robin over `ports`, health-checked every 200 ms on /healthz;
// a request whose server refuses the connection goes to another (retries, redispatch).
struct Balancer {
    unsigned short port = free_port();
    std::unique_ptr<test::Background> process;

    Balancer(const std::filesystem::path& dir, const std::vector<unsigned short>& ports) {
        const auto config = dir / "haproxy.cfg";
        std::ofstream out(config);
        out << "global\n  maxconn 2000\n"
            << "defaults\n  mode http\n  timeout connect 1s\n  timeout client 30s\n  timeout server 30s\n"
            << "  retries 3\n  option redispatch\n"
            << "frontend in\n  bind 127.0.0.1:" << port << "\n  default_backend wangge\n"
            << "backend wangge\n  balance roundrobin\n  option httpchk GET /healthz\n"
            << "  default-server inter 200ms fall 2 rise 2\n";
        for (std::size_t i = 0; i < ports.size(); ++i)
            out << "  server s" << i << " 127.0.0.1:" << ports[i] << " check\n";
        out.close();
        process = std::make_unique<test::Background>(std::vector<std::string>{"/usr/sbin/haproxy", "-db", "-f", config.string()});
        const auto until = Clock::now() + std::chrono::seconds(10);
        for (;;) {
            try {
                test::HttpClient probe(port, std::chrono::seconds(2));
                if (probe.get("/healthz").status == 200) break;
            } catch (const std::exception&) {
            }
            REQUIRE(Clock::now() < until);
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
};

std::int64_t version_of(unsigned short port) {
    test::HttpClient client(port, std::chrono::seconds(5));
    const auto r = client.get("/healthz");
    REQUIRE(r.status == 200);
    return json::parse(r.body)["version"].get<std::int64_t>();
}

// How long until every server in `ports` serves data version `version`; fails after 10 s.
std::chrono::milliseconds until_all_serve(const std::vector<unsigned short>& ports, std::int64_t version,
                                         Clock::time_point since) {
    for (;;) {
        bool all = true;
        for (const auto port : ports) all = all && version_of(port) >= version;
        if (all) return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since);
        REQUIRE(Clock::now() - since < std::chrono::seconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

} // namespace

TEST_CASE("cluster: three servers on one PostgreSQL behind HAProxy stay one truth through a kill and a restart",
          "[cli][http][cluster][postgresql]") {
    PrivateCluster cluster;
    {
        auto admin = store::PgConnection::connect(cluster.url());
        admin.exec("CREATE DATABASE district");
    }
    const std::string db = cluster.url().substr(0, cluster.url().rfind('/')) + "/district";
    test::TempDir dir;
    const auto photos = dir / "photos"; // shared by the servers, as an NFS mount would be
    // Five years on, households have drifted and some communities need rebalancing.
    const auto made = wangge_cli({"demo", db, "--households", "30000", "--seed", "11", "--years-later", "5"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    const std::string token = test::cli_token(db, "centre", "admin");
    const test::HttpHeaders json_write{{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};
    const std::vector<std::string> options{"--photo-dir", photos.string(), "--reload-ms", "60000"};

    std::vector<std::unique_ptr<test::WanggeServer>> servers;
    for (int i = 0; i < 3; ++i) servers.push_back(std::make_unique<test::WanggeServer>(db, options));
    std::vector<unsigned short> ports;
    for (const auto& s : servers) ports.push_back(s->port);
    Balancer balancer(dir.path(), ports);

    // --- a rebalance through one server, seen by the others within a second ---
    test::HttpClient a(ports[0]);
    std::string community;
    json proposal;
    {
        const auto list = a.get("/api/v1/communities?limit=1000");
        REQUIRE(list.status == 200);
        const json communities = json::parse(list.body); // alive while iterated
        for (const auto& c : communities["features"]) {
            const std::string code = c["properties"]["code"].get<std::string>();
            const auto p = a.request("POST", "/api/v1/communities/" + code + "/rebalance", "{}", json_write);
            REQUIRE(p.status == 200);
            json j = json::parse(p.body);
            if (j["changes"] == true) {
                community = code;
                proposal = std::move(j);
                break;
            }
        }
    }
    REQUIRE_FALSE(community.empty());
    const std::int64_t base = proposal["base_version"].get<std::int64_t>();
    CHECK(version_of(ports[1]) == base);
    CHECK(version_of(ports[2]) == base);
    const std::string rebalance = "/api/v1/communities/" + community + "/rebalance";
    const json apply{{"apply", true}, {"base_version", base}};
    const auto applied = a.request("POST", rebalance, apply.dump(), json_write);
    INFO(applied.body);
    REQUIRE(applied.status == 200);
    const auto applied_at = Clock::now();
    const std::int64_t after = json::parse(applied.body)["applied"]["version"].get<std::int64_t>();
    CHECK(after == base + 1);
    const auto heard_in = until_all_serve({ports[1], ports[2]}, after, applied_at);
    INFO("the other servers served version " << after << " after " << heard_in.count() << " ms");
    CHECK(heard_in < std::chrono::milliseconds(1000));
    // Each has the new grids: the proposal's, as the server that applied it has them.
    const auto grids_of = [&](unsigned short port) {
        test::HttpClient c(port);
        const auto r = c.get("/api/v1/grids?parent=" + community + "&limit=1000");
        REQUIRE(r.status == 200);
        std::map<std::string, long> out;
        const json page = json::parse(r.body);
        for (const auto& f : page["features"])
            out[f["properties"]["code"].get<std::string>()] = f["properties"]["households"].get<long>();
        return out;
    };
    CHECK(grids_of(ports[1]) == grids_of(ports[0]));
    CHECK(grids_of(ports[2]) == grids_of(ports[0]));
    // The proposal was made on older data: applying it again is refused on every server.
    for (const auto port : ports) {
        test::HttpClient c(port);
        const auto again = c.request("POST", rebalance, apply.dump(), json_write);
        CHECK(again.status == 409);
        CHECK(json::parse(again.body)["code"] == "stale_proposal");
    }

    // --- one report, sent at once through two servers with one key, is stored once ---
    auto report_body = [](const std::string& key, int i) {
        return json{{"category", "0101"},
                    {"description", "cluster " + key},
                    {"source", "hotline"},
                    {"location", {{"lon", 118.80 + (i % 50) * 4e-4}, {"lat", 31.96 + (i % 37) * 3e-4}}}}
            .dump();
    };
    auto report = [&](test::HttpClient& client, const std::string& key, int i) {
        test::HttpHeaders headers = json_write;
        headers.emplace_back("Idempotency-Key", key);
        return client.request("POST", "/api/v1/incidents", report_body(key, i), headers);
    };
    for (int i = 0; i < 10; ++i) {
        const std::string key = "twice-" + std::to_string(i);
        test::HttpResponse first, second;
        std::thread t1([&] {
            test::HttpClient c(ports[1]);
            first = report(c, key, i);
        });
        std::thread t2([&] {
            test::HttpClient c(ports[2]);
            second = report(c, key, i);
        });
        t1.join();
        t2.join();
        INFO(key << ": " << first.body << " / " << second.body);
        REQUIRE((first.status == 201 || first.status == 200));
        REQUIRE((second.status == 201 || second.status == 200));
        CHECK(json::parse(first.body)["id"] == json::parse(second.body)["id"]);
        CHECK((first.status == 201) != (second.status == 201)); // one filed it, the other replayed it
    }
    auto stored = [&](unsigned short port) {
        test::HttpClient c(port);
        const auto r = c.request("GET", "/api/v1/incidents?limit=1000", {}, {{"Authorization", "Bearer " + token}});
        REQUIRE(r.status == 200);
        std::map<std::string, std::vector<std::int64_t>> by_key; // the description names the key
        const json page = json::parse(r.body);
        for (const auto& i : page["incidents"])
            by_key[i["description"].get<std::string>().substr(8)].push_back(i["id"].get<std::int64_t>());
        return by_key;
    };
    {
        const auto twice = stored(ports[0]);
        CHECK(twice.size() == 10);
        for (const auto& [key, ids] : twice) CHECK(ids.size() == 1);
    }

    // --- SIGKILL of one server under load through the balancer loses no acknowledged report ---
    std::mutex mutex;
    std::map<std::string, std::int64_t> acknowledged; // key -> id answered 201 (or 200 on a retry)
    std::set<std::string> sent;
    int retries = 0;
    {
        std::vector<std::thread> clients;
        for (int c = 0; c < 4; ++c)
            clients.emplace_back([&, c] {
                auto client = std::make_unique<test::HttpClient>(balancer.port, std::chrono::seconds(10));
                for (int i = 0; i < 60; ++i) {
                    const std::string key = "load-" + std::to_string(c) + "-" + std::to_string(i);
                    {
                        std::lock_guard lock(mutex);
                        sent.insert(key);
                    }
                    // A client retries with the same key until it has an answer: what the killed
                    // server committed is then answered as a replay by another.
                    for (int attempt = 0; attempt < 100; ++attempt) {
                        try {
                            const auto r = report(*client, key, i);
                            if (r.status == 201 || r.status == 200) {
                                std::lock_guard lock(mutex);
                                acknowledged[key] = json::parse(r.body)["id"].get<std::int64_t>();
                                break;
                            }
                        } catch (const std::exception&) {
                            client = std::make_unique<test::HttpClient>(balancer.port, std::chrono::seconds(10));
                        }
                        {
                            std::lock_guard lock(mutex);
                            ++retries;
                        }
                        std::this_thread::sleep_for(std::chrono::milliseconds(50));
                    }
                }
            });
        for (int i = 0; i < 500; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::lock_guard lock(mutex);
            if (acknowledged.size() >= 60) break;
        }
        CHECK(servers[2]->process.stop(SIGKILL) == 128 + SIGKILL);
        for (auto& t : clients) t.join();
    }
    INFO(acknowledged.size() << " acknowledged of " << sent.size() << " sent, " << retries << " retries");
    CHECK(acknowledged.size() == sent.size());
    {
        const auto after_kill = stored(ports[0]);
        for (const auto& [key, id] : acknowledged) {
            INFO(key);
            REQUIRE(after_kill.contains(key));
            CHECK(after_kill.at(key) == std::vector<std::int64_t>{id});
        }
    }

    // --- PostgreSQL stops: reads from the snapshot, writes refused with 503; it returns ---
    cluster.stop();
    {
        test::HttpClient c(ports[0]);
        const auto located = c.get("/api/v1/locate?lon=118.81&lat=31.97");
        CHECK(located.status == 200);
        CHECK(c.get("/healthz").status == 200);
        CHECK(c.get("/readyz").status == 503);
        CHECK(c.get("/api/v1/grids?parent=" + community + "&limit=1000").status == 200);
        const auto refused = report(c, "while-down", 1);
        CHECK(refused.status == 503);
        CHECK(refused.has_header("Retry-After"));
        // The answer says the database is away, not where it is.
        CHECK(refused.body.find("127.0.0.1") == std::string::npos);
        CHECK(refused.body.find("postgres") == std::string::npos);
    }
    cluster.start();
    {
        test::HttpClient probe(ports[0]);
        CHECK(probe.get("/readyz").status == 200);
        // Each remaining server takes writes again, on connections of its own made anew.
        for (const auto port : {ports[0], ports[1]}) {
            test::HttpClient c(port);
            const std::string key = "after-restart-" + std::to_string(port);
            int status = 0;
            const auto until = Clock::now() + std::chrono::seconds(15);
            while (Clock::now() < until) {
                status = report(c, key, 3).status;
                if (status == 201) break;
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            CHECK(status == 201);
        }
        // And they hear of each other's changes again: the undo through one is served by the
        // other within a second.
        const auto undone = a.request("POST", rebalance + "/undo", "", json_write);
        INFO(undone.body);
        REQUIRE(undone.status == 200);
        const auto undone_at = Clock::now();
        const std::int64_t now_version = version_of(ports[0]);
        CHECK(now_version == after + 1);
        const auto heard_again = until_all_serve({ports[1]}, now_version, undone_at);
        INFO("after the restart, heard in " << heard_again.count() << " ms");
        CHECK(heard_again < std::chrono::milliseconds(1000));
    }
    const auto final = stored(ports[1]);
    for (const auto& [key, ids] : final) {
        INFO(key);
        CHECK(ids.size() == 1);
    }
    CHECK(final.size() == 10 + sent.size() + 2);
    CHECK(servers[0]->process.stop(SIGTERM) == 0);
    CHECK(servers[1]->process.stop(SIGTERM) == 0);
}

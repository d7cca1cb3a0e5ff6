// PostgreSQL killed with SIGKILL under `wangge serve` and the CLI (docs/FAULTS.md), on a cluster
// of the test's own (it is killed, so never the shared one of WANGGE_TEST_PG_URL): the
// postmaster and every backend die at once, as in a crash of the machine's database, and the
// cluster starts again with crash recovery. A burst of reports loses no acknowledged report and
// files none twice once clients retry with their keys; a rebalance and an import killed in the
// middle of their transactions are absent, and applied again whole afterwards; `wangge validate`
// accepts each.
#include "store/pg/connection.hpp"
#include "cluster/private_cluster.hpp"
#include "support/buildings_file.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_config.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

using test::PrivateCluster;

std::string database_of(const PrivateCluster& cluster) {
    auto admin = store::PgConnection::connect(cluster.url());
    admin.exec("CREATE DATABASE district");
    return cluster.url().substr(0, cluster.url().rfind('/')) + "/district";
}

std::string one_value(store::PgConnection& c, const std::string& sql) {
    const auto r = c.exec(sql);
    REQUIRE(r.rows() == 1);
    return std::string(r.text(0, 0));
}

// A CLI command that writes in one transaction (a rebalance, an import), killed with the cluster
// in the middle of it: the test holds `lock` (a LOCK TABLE) in a transaction of its own, so the
// command waits for it in its statement starting with `held_at`, having written `written` (its
// RowExclusiveLock in pg_locks). Then the cluster is killed: the command fails, `state` is as
// before, `wangge validate` accepts the database, and the cluster runs again.
void kill_while_held(PrivateCluster& cluster, const std::string& db, const std::string& lock, const std::string& held_at,
                     const std::string& written, const std::vector<std::string>& argv,
                     const std::function<std::vector<std::string>()>& state) {
    const auto before = state();
    auto conn = std::make_unique<store::PgConnection>(store::PgConnection::connect(db));
    conn->exec("BEGIN");
    conn->exec(lock);
    test::Background command(argv);
    {
        auto watch = store::PgConnection::connect(db);
        const auto until = Clock::now() + std::chrono::seconds(60);
        for (;;) {
            const auto waiting = watch.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                            "AND query LIKE '" + held_at + "%'");
            if (waiting.text(0, 0) == "1") break;
            REQUIRE(Clock::now() < until);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        // Its transaction has written: seen from its own backend's locks.
        const auto locks = watch.exec("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                                      "WHERE a.query LIKE '" + held_at + "%' AND l.mode = 'RowExclusiveLock' "
                                      "AND l.relation = '" + written + "'::regclass");
        CHECK(locks.text(0, 0) == "1");
    }
    cluster.kill9();
    // The CLI loses its connection: it fails, saying so, and nothing of its change is committed.
    CHECK(command.stop(0) == 1);
    conn.reset(); // its connection died with the cluster
    cluster.start();
    CHECK(state() == before);
    const auto valid = wangge_cli({"validate", "--db", db});
    INFO(valid.out << valid.err);
    CHECK(valid.exit_code == 0);
}

} // namespace

TEST_CASE("postgres kill -9: a burst of reports loses no acknowledged report and files none twice",
          "[cli][http][cluster][postgresql][faults]") {
    PrivateCluster cluster("pgkill");
    const std::string db = database_of(cluster);
    const auto made = wangge_cli({"demo", db, "--households", "20000", "--seed", "5"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    const std::string token = test::cli_token(db, "hotline", "admin");
    test::TempDir dir;
    test::WanggeServer server(db, {"--photo-dir", (dir / "photos").string(), "--reload-ms", "1000"});

    std::mutex mutex;
    std::map<std::string, std::int64_t> acknowledged; // key -> id answered 201, or 200 on a retry
    std::map<int, int> statuses;                      // every answer, by status
    std::atomic<int> count{0};
    std::atomic<bool> give_up{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c)
        clients.emplace_back([&, c] {
            auto client = std::make_unique<test::HttpClient>(server.port, std::chrono::seconds(15));
            for (int i = 0; i < 60 && !give_up; ++i) {
                const std::string key = "kill-" + std::to_string(c) + "-" + std::to_string(i);
                const json body{{"category", "0101"},
                                {"description", "burst " + key},
                                {"source", "hotline"},
                                {"location", {{"lon", 118.80 + (i % 50) * 4e-4}, {"lat", 31.96 + (i % 37) * 3e-4}}}};
                // Until answered: a 503 while PostgreSQL is down is retried with the same key.
                while (!give_up) {
                    try {
                        const auto r = client->request("POST", "/api/v1/incidents", body.dump(),
                                                       {{"Content-Type", "application/json"},
                                                        {"Authorization", "Bearer " + token},
                                                        {"Idempotency-Key", key}});
                        std::lock_guard lock(mutex);
                        ++statuses[r.status];
                        if (r.status == 201 || r.status == 200) {
                            acknowledged[key] = json::parse(r.body)["id"].get<std::int64_t>();
                            ++count;
                            break;
                        }
                    } catch (const std::exception&) {
                        client = std::make_unique<test::HttpClient>(server.port, std::chrono::seconds(15));
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
                }
            }
        });
    const auto watchdog = Clock::now() + std::chrono::seconds(40);
    while (count < 60 && Clock::now() < watchdog) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const int before_kill = count;
    cluster.kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(500)); // clients meet a dead database
    cluster.start();
    while (count < 240 && Clock::now() < watchdog) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    give_up = true;
    for (auto& t : clients) t.join();

    INFO(before_kill << " acknowledged before the kill; answers: " << statuses[201] << " 201, " << statuses[200]
                     << " 200, " << statuses[503] << " 503, " << statuses[500] << " 500");
    CHECK(before_kill >= 60);
    CHECK(statuses[503] >= 1); // the kill was met
    // While PostgreSQL replays its WAL it refuses connections ("not yet accepting connections",
    // SQLSTATE 57P03): the store tells that as unavailable (db_not_ready), a 503, never a 500.
    CHECK(statuses[500] == 0);
    REQUIRE(acknowledged.size() == 240);
    auto conn = store::PgConnection::connect(db);
    std::map<std::string, std::vector<std::int64_t>> stored;
    {
        const auto rows = conn.exec("SELECT idempotency_key, id FROM incidents WHERE idempotency_key LIKE 'kill-%'");
        for (int r = 0; r < rows.rows(); ++r) stored[std::string(rows.text(r, 0))].push_back(rows.int64(r, 1));
    }
    CHECK(stored.size() == 240);
    for (const auto& [key, id] : acknowledged) {
        INFO(key);
        REQUIRE(stored.contains(key));
        CHECK(stored.at(key) == std::vector<std::int64_t>{id});
    }
    // Nothing half-applied: every case has the event that files it, and every event its case.
    CHECK(one_value(conn, "SELECT count(*) FROM incidents i WHERE NOT EXISTS "
                          "(SELECT 1 FROM incident_events e WHERE e.incident_id = i.id)") == "0");
    CHECK(server.process.stop(SIGTERM) == 0);
    std::printf("pgkill: report intake: killed after %d of 240 acknowledged; answers %d 201, %d 200 (replays of "
                "retried keys), %d 503 while down, %d 500; %zu stored, each once under the id answered\n",
                before_kill, statuses[201], statuses[200], statuses[503], statuses[500], stored.size());
}

TEST_CASE("postgres kill -9: a rebalance killed inside its transaction is absent, then applies whole",
          "[cli][cluster][postgresql][faults]") {
    PrivateCluster cluster("pgkill");
    const std::string db = database_of(cluster);
    // Five years on, some communities need rebalancing.
    const auto made = wangge_cli({"demo", db, "--households", "30000", "--seed", "11", "--years-later", "5"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    auto conn = std::make_unique<store::PgConnection>(store::PgConnection::connect(db));
    std::string community;
    json proposal;
    {
        const auto codes = conn->exec("SELECT code FROM communities ORDER BY code");
        for (int r = 0; r < codes.rows() && community.empty(); ++r) {
            const std::string code(codes.text(r, 0));
            const auto dry = wangge_cli({"rebalance", "--db", db, "--community", code, "--dry-run", "--json"});
            REQUIRE(dry.exit_code == 0);
            json j = json::parse(dry.out);
            if (j["changes"] == true) {
                community = code;
                proposal = std::move(j);
            }
        }
    }
    REQUIRE_FALSE(community.empty());
    // What the map holds: the community's grids with their shapes, every building's grid, the
    // data version and the recorded changes.
    const auto state = [&] {
        auto c = store::PgConnection::connect(db);
        return std::vector<std::string>{
            one_value(c, "SELECT string_agg(code || ':' || md5(ST_AsBinary(geom)), ',' ORDER BY code) FROM grids "
                         "WHERE community_code = '" + community + "'"),
            one_value(c, "SELECT md5(string_agg(id || ':' || coalesce(grid_code, '-'), ',' ORDER BY id)) FROM buildings"),
            one_value(c, "SELECT value FROM meta WHERE key = 'data_version'"),
            one_value(c, "SELECT count(*) FROM grid_changes")};
    };
    const auto before = state();
    std::set<std::string> proposed;
    for (const auto& g : proposal["grids"]) proposed.insert(g["code"].get<std::string>());
    conn.reset();

    // The apply is held just before its last statement (the record of the change), its grids and
    // buildings written and not committed.
    kill_while_held(cluster, db, "LOCK TABLE grid_changes IN EXCLUSIVE MODE", "INSERT INTO grid_changes", "grids",
                    {WANGGE_BINARY, "rebalance", "--db", db, "--community", community}, state);

    // Applied again, undisturbed: whole, as proposed.
    const auto again = wangge_cli({"rebalance", "--db", db, "--community", community});
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    const auto after = state();
    CHECK(std::stoll(after[2]) == std::stoll(before[2]) + 1);
    CHECK(std::stoll(after[3]) == std::stoll(before[3]) + 1);
    std::set<std::string> now;
    {
        auto c = store::PgConnection::connect(db);
        const auto rows = c.exec("SELECT code FROM grids WHERE community_code = '" + community + "'");
        for (int r = 0; r < rows.rows(); ++r) now.insert(std::string(rows.text(r, 0)));
    }
    CHECK(now == proposed);
    const auto valid_after = wangge_cli({"validate", "--db", db});
    INFO(valid_after.out << valid_after.err);
    CHECK(valid_after.exit_code == 0);
    std::printf("pgkill: rebalance apply of %s killed inside its transaction: absent after recovery, "
                "applied whole by a rerun (%zu grids, as proposed)\n",
                community.c_str(), now.size());
}

TEST_CASE("postgres kill -9: an import killed inside its transaction is absent, then imports whole",
          "[cli][cluster][postgresql][faults]") {
    PrivateCluster cluster("pgkill");
    const std::string db = database_of(cluster);
    const auto made = wangge_cli({"demo", db, "--households", "20000", "--seed", "5"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    // 400 buildings over the district, each placed in a grid in the import's transaction.
    test::TempDir dir;
    const auto file = dir / "buildings.geojson";
    test::write_buildings_geojson(file, 400);
    const auto state = [&] {
        auto c = store::PgConnection::connect(db);
        return std::vector<std::string>{
            one_value(c, "SELECT count(*) FROM buildings"),
            one_value(c, "SELECT md5(string_agg(id || ':' || coalesce(grid_code, '-'), ',' ORDER BY id)) FROM buildings"),
            one_value(c, "SELECT value FROM meta WHERE key = 'data_version'")};
    };
    const auto before = state();
    // The import is held at its first reassignment of buildings to grids, every building inserted
    // and not committed, by a trigger the test adds for the while: it checks that all 400 are
    // there (in the import's own transaction) and waits for an advisory lock the test holds. (A
    // lock on a table would hold the import before its transaction: it reads every table's extent
    // first, and locks the data version's row at its start.)
    {
        auto c = store::PgConnection::connect(db);
        c.exec("CREATE FUNCTION hold_import() RETURNS trigger LANGUAGE plpgsql AS "
               "$$BEGIN IF (SELECT count(*) FROM buildings) <> " + std::to_string(std::stoll(before[0]) + 400) +
               " THEN RAISE EXCEPTION 'held before every building was inserted'; END IF; "
               "PERFORM pg_advisory_xact_lock_shared(4711); RETURN NULL; END$$");
        c.exec("CREATE TRIGGER hold_import BEFORE UPDATE ON buildings FOR EACH STATEMENT EXECUTE FUNCTION hold_import()");
    }
    kill_while_held(cluster, db, "SELECT pg_advisory_xact_lock(4711)", "UPDATE buildings SET grid_code", "buildings",
                    {WANGGE_BINARY, "import", "buildings", file.string(), "--db", db}, state);
    {
        auto c = store::PgConnection::connect(db);
        c.exec("DROP TRIGGER hold_import ON buildings");
        c.exec("DROP FUNCTION hold_import()");
    }

    // Imported again, undisturbed: all 400, in grids, one data version later.
    const auto again = wangge_cli({"import", "buildings", file.string(), "--db", db});
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    const auto after = state();
    CHECK(std::stoll(after[0]) == std::stoll(before[0]) + 400);
    CHECK(std::stoll(after[2]) == std::stoll(before[2]) + 1);
    const auto valid_after = wangge_cli({"validate", "--db", db});
    INFO(valid_after.out << valid_after.err);
    CHECK(valid_after.exit_code == 0);
    std::printf("pgkill: import of 400 buildings killed inside its transaction: absent after recovery "
                "(%s buildings, as before), stored whole by a rerun (%s)\n",
                before[0].c_str(), after[0].c_str());
}

// Power loss and a full disk under the real wangge binary (docs/DURABILITY.md). SIGKILL cannot
// tell synchronous=FULL from OFF (the OS keeps what was written); here a VFS preloaded into
// `wangge` holds every write until it is synced and cuts the power at chosen moments, so what
// was not synced is really lost. After each cut a process that never had the shim opens the
// file: it must be intact, hold every write that was acknowledged, and show no change half
// made. The same harness run with synchronous=OFF must lose acknowledged reports: it can tell.
#include "powercut_harness.hpp"
#include "support/buildings_file.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace wangge;
using namespace wangge::test::powercut;
using nlohmann::json;
using test::wangge_cli;
namespace fs = std::filesystem;

namespace {

// A demo district with an admin's token, closed cleanly: each run starts from a copy.
std::string make_district(const fs::path& db, const std::string& seed = "5", const std::string& years_later = "0") {
    const auto made =
        wangge_cli({"demo", db.string(), "--households", "20000", "--seed", seed, "--years-later", years_later});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    return test::cli_token(db, "hotline", "admin");
}

test::HttpResponse file_report(test::HttpClient& client, const std::string& token, const std::string& key, int i) {
    const json body{{"category", "0101"},
                    {"description", "report " + key},
                    {"source", "hotline"},
                    {"location", {{"lon", 118.80 + (i % 50) * 4e-4}, {"lat", 31.96 + (i % 37) * 3e-4}}}};
    return client.request("POST", "/api/v1/incidents", body.dump(),
                          {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token},
                           {"Idempotency-Key", key}});
}

// idempotency key -> id of every report stored.
std::map<std::string, std::int64_t> stored_reports(Sqlite& db) {
    std::map<std::string, std::int64_t> out;
    for (const auto& row : db.rows("SELECT idempotency_key, id FROM incidents WHERE idempotency_key IS NOT NULL"))
        out[row[0]] = std::stoll(row[1]);
    return out;
}

struct BurstResult {
    std::map<std::string, std::int64_t> acknowledged; // key -> id answered 201 (or 200)
    std::map<std::string, std::int64_t> stored;       // what a fresh process finds after the cut
    std::set<std::string> sent;
    std::size_t missing = 0; // acknowledged but not stored, or stored under another id
    std::string integrity;
    Stats stats;
    int exit_code = -1;
};

// Four clients file reports with Idempotency-Keys against a server with the shim; once
// `before_trigger` are acknowledged the trigger file arms the cut, which comes at the moment
// `cut` names. Then a fresh connection looks at what is stored.
BurstResult burst_until_cut(const fs::path& db, const std::string& token, Cut cut, std::size_t before_trigger) {
    cut.arm_file = db.parent_path() / "cut-now";
    cut.stats_file = db.parent_path() / "stats";
    fs::remove(cut.arm_file);
    fs::remove(cut.stats_file);
    BurstResult result;
    std::mutex mutex;
    {
        Server server(cut, db);
        std::vector<std::thread> clients;
        for (int c = 0; c < 4; ++c)
            clients.emplace_back([&, c] {
                test::HttpClient client(server.port, std::chrono::seconds(5));
                for (int i = 0; i < 3000; ++i) {
                    const std::string key = "c" + std::to_string(c) + "-" + std::to_string(i);
                    {
                        std::lock_guard lock(mutex);
                        result.sent.insert(key);
                    }
                    try {
                        const auto r = file_report(client, token, key, i);
                        if (r.status == 201 || r.status == 200) {
                            const json answer = json::parse(r.body);
                            std::lock_guard lock(mutex);
                            result.acknowledged[key] = answer["id"].get<std::int64_t>();
                        }
                    } catch (const std::exception&) {
                        return; // the power is gone
                    }
                }
            });
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            std::lock_guard lock(mutex);
            if (result.acknowledged.size() >= before_trigger) break;
        }
        std::ofstream(cut.arm_file) << "now\n";
        for (auto& t : clients) t.join();
        // The cut has ended the process by now; SIGKILL only if it never came (then it fails).
        result.exit_code = server.process.stop(SIGKILL);
    }
    result.stats = read_stats(cut.stats_file);
    Sqlite fresh(db);
    result.integrity = integrity(fresh);
    result.stored = stored_reports(fresh);
    for (const auto& [key, id] : result.acknowledged) {
        const auto it = result.stored.find(key);
        if (it == result.stored.end() || it->second != id) ++result.missing;
    }
    return result;
}

// After a cut, clients retry every report they sent and never heard back about, with the same
// key, against a server without the shim: each is answered, and each report ends stored once
// (the acknowledged ones under the id they were given). Returns how many were retried.
std::size_t retry_unanswered(const fs::path& db, const std::string& token, const BurstResult& cut) {
    std::size_t retried = 0;
    {
        test::WanggeServer server(db);
        test::HttpClient client(server.port);
        for (const auto& key : cut.sent) {
            if (cut.acknowledged.contains(key)) continue;
            const auto r = file_report(client, token, key, std::stoi(key.substr(key.find('-') + 1)));
            INFO(key << ": " << r.body);
            CHECK((r.status == 201 || r.status == 200));
            ++retried;
        }
        // An answered report is durable by itself; a clean stop is incident_durability_test's
        // subject, not this one's.
        CHECK(server.process.stop(SIGKILL) == 128 + SIGKILL);
    }
    Sqlite fresh(db);
    const auto stored = stored_reports(fresh);
    std::set<std::string> keys;
    for (const auto& [key, id] : stored) keys.insert(key);
    CHECK(keys == cut.sent);
    for (const auto& [key, id] : cut.acknowledged) CHECK(stored.at(key) == id);
    return retried;
}

// Where an operation that writes once (an import, a rebalance apply) is cut: before each sync,
// clean and torn, and in the middle of the writes between syncs, torn (unsynced checkpoint
// writes to the database file partly landing).
std::vector<Cut> cut_moments(const Stats& reference) {
    std::vector<Cut> moments;
    long previous = 0, k = 0;
    for (long at : reference.sync_at_write) {
        ++k;
        moments.push_back(Cut{.at_sync = k});
        moments.push_back(Cut{.at_sync = k, .torn_seed = static_cast<int>(k)});
        if (at - previous >= 2) moments.push_back(Cut{.at_write = (previous + at) / 2 + 1, .torn_seed = static_cast<int>(100 + k)});
        previous = at;
    }
    if (reference.writes - previous >= 2)
        moments.push_back(Cut{.at_write = (previous + reference.writes) / 2 + 1, .torn_seed = 200});
    return moments;
}

struct CliFigures {
    std::size_t cuts = 0, applied = 0, absent = 0;
    long syncs = 0, writes = 0;
};

// Runs `command(db)` on copies of `base`, cut at every moment of cut_moments(); after each cut a
// fresh process finds the database valid and either exactly as before or exactly as a complete
// run leaves it; where the change is absent, running it again makes it.
CliFigures cut_everywhere(const fs::path& dir, const fs::path& base,
                          const std::function<std::vector<std::string>(const fs::path&)>& command) {
    Fingerprint before;
    {
        Sqlite db(base);
        before = fingerprint(db);
    }
    const auto reference = dir / "reference.sqlite";
    copy_database(base, reference);
    Cut counting{.stats_file = dir / "reference.stats"};
    const auto complete = run_cli(counting, command(reference));
    INFO(complete.out << complete.err);
    REQUIRE(complete.exit_code == 0);
    const Stats stats = read_stats(counting.stats_file);
    REQUIRE(stats.syncs >= 2); // the commit and the checkpoint: synchronous=FULL syncs
    REQUIRE(stats.cut.empty());
    Fingerprint after;
    {
        Sqlite db(reference);
        after = fingerprint(db);
    }
    REQUIRE(after != before);

    CliFigures figures{.syncs = stats.syncs, .writes = stats.writes};
    const auto db = dir / "cut.sqlite";
    for (Cut cut : cut_moments(stats)) {
        INFO("cut at " << cut.describe());
        copy_database(base, db);
        cut.stats_file = dir / "cut.stats";
        fs::remove(cut.stats_file);
        const auto cut_run = run_cli(cut, command(db));
        INFO(cut_run.out << cut_run.err);
        REQUIRE(cut_run.exit_code == cut_exit_code);
        CHECK_FALSE(read_stats(cut.stats_file).cut.empty());
        ++figures.cuts;

        const auto valid = wangge_cli({"validate", "--db", db.string()});
        INFO(valid.out << valid.err);
        CHECK(valid.exit_code == 0);
        Fingerprint found;
        {
            Sqlite fresh(db);
            CHECK(integrity(fresh) == "ok");
            found = fingerprint(fresh);
        }
        if (found == after) {
            ++figures.applied;
        } else {
            CHECK(found == before); // all or nothing
            ++figures.absent;
            const auto again = wangge_cli(command(db));
            INFO(again.out << again.err);
            CHECK(again.exit_code == 0);
            Sqlite fresh(db);
            CHECK(fingerprint(fresh) == after);
        }
    }
    // The moments straddle the commit: some cuts lose the change, some keep it.
    CHECK(figures.applied > 0);
    CHECK(figures.absent > 0);
    return figures;
}

} // namespace

TEST_CASE("power loss: cuts in the middle of a burst of reports lose no acknowledged report",
          "[durability][power-loss][http]") {
    test::TempDir dir;
    const auto base = dir / "base.sqlite";
    const std::string token = make_district(base);
    const auto db = dir / "d.sqlite";
    // Right after the trigger (the batch being written is lost), at the first, third and sixth
    // sync after it (batches after the trigger are durable), and torn at writes and syncs (a
    // random half of the unsynced sectors lands, as a disk may write them in any order).
    const std::vector<Cut> cuts{Cut{.at_write = 1},
                                Cut{.at_sync = 1},
                                Cut{.at_sync = 3},
                                Cut{.at_sync = 6},
                                Cut{.at_write = 25, .torn_seed = 1},
                                Cut{.at_write = 90, .torn_seed = 3},
                                Cut{.at_sync = 1, .torn_seed = 4},
                                Cut{.at_sync = 2, .torn_seed = 2}};
    std::size_t acknowledged = 0, unanswered_but_stored = 0, retried = 0;
    for (const Cut& cut : cuts) {
        INFO("cut at " << cut.describe());
        copy_database(base, db);
        const BurstResult r = burst_until_cut(db, token, cut, 80);
        INFO(r.acknowledged.size() << " acknowledged of " << r.sent.size() << " sent, " << r.stored.size()
                                   << " stored; the shim: " << r.stats.syncs << " syncs, cut at " << r.stats.cut);
        CHECK(r.exit_code == cut_exit_code);
        CHECK_FALSE(r.stats.cut.empty());
        CHECK(r.stats.syncs > 0);
        REQUIRE(r.acknowledged.size() >= 80);
        CHECK(r.integrity == "ok");
        CHECK(r.missing == 0);
        acknowledged += r.acknowledged.size();
        unanswered_but_stored += r.stored.size() - (r.acknowledged.size() - r.missing);
        retried += retry_unanswered(db, token, r);
    }
    std::printf("powercut: report intake: %zu cuts, %zu acknowledged reports checked, 0 lost; %zu stored but never "
                "answered; %zu unanswered retried with their key, each report stored once\n",
                cuts.size(), acknowledged, unanswered_but_stored, retried);
}

TEST_CASE("power loss: the negative controls with synchronous=OFF and NORMAL lose acknowledged reports",
          "[durability][power-loss][http]") {
    test::TempDir dir;
    const auto base = dir / "base.sqlite";
    const std::string token = make_district(base);
    const auto db = dir / "d.sqlite";
    // OFF never syncs. NORMAL syncs the WAL only when it checkpoints it into the database, so
    // commits since the last checkpoint are not yet durable when they are answered.
    for (const std::string level : {"off", "normal"}) {
        INFO("synchronous=" << level);
        copy_database(base, db);
        const BurstResult r = burst_until_cut(db, token, Cut{.at_write = 1, .synchronous = level}, 80);
        INFO(r.acknowledged.size() << " acknowledged, " << r.stored.size() << " stored, the shim: " << r.stats.syncs
                                   << " syncs, cut at " << r.stats.cut);
        CHECK(r.exit_code == cut_exit_code);
        REQUIRE(r.acknowledged.size() >= 80);
        if (level == "off") CHECK(r.stats.syncs == 0); // synchronous=OFF really ran: SQLite never synced
        // The harness sees the difference: acknowledged reports are gone.
        CHECK(r.missing > 0);
        std::printf("powercut: control (synchronous=%s): %zu acknowledged, %zu lost after the cut (integrity: %s)\n",
                    level.c_str(), r.acknowledged.size(), r.missing, r.integrity.c_str());
    }
}

TEST_CASE("power loss: a rebalance apply cut at every sync is applied entirely or not at all",
          "[durability][power-loss][cli]") {
    test::TempDir dir;
    const auto base = dir / "base.sqlite";
    make_district(base, "11", "5");
    // The first community whose grids five years of drift have pushed out of the band.
    std::string community;
    const auto listed = wangge_cli({"list", "communities", "--db", base.string(), "--json"});
    REQUIRE(listed.exit_code == 0);
    const json communities = json::parse(listed.out);
    for (const auto& c : communities) {
        const std::string code = c["code"].get<std::string>();
        const auto proposal = wangge_cli({"rebalance", "--community", code, "--dry-run", "--json", "--db", base.string()});
        REQUIRE(proposal.exit_code == 0);
        if (json::parse(proposal.out)["changes"] == true) {
            community = code;
            break;
        }
    }
    REQUIRE_FALSE(community.empty());
    const CliFigures f = cut_everywhere(dir.path(), base, [&](const fs::path& db) {
        return std::vector<std::string>{"rebalance", "--community", community, "--db", db.string()};
    });
    std::printf("powercut: rebalance apply (%ld writes, %ld syncs): %zu cuts, %zu found applied, %zu found untouched "
                "(and applied by a rerun), none half-applied\n",
                f.writes, f.syncs, f.cuts, f.applied, f.absent);
}

TEST_CASE("power loss: an import cut at every sync is stored entirely or not at all",
          "[durability][power-loss][cli]") {
    test::TempDir dir;
    const auto base = dir / "base.sqlite";
    make_district(base);
    // 400 buildings over the district, each reassigned to a grid in the import's transaction.
    const auto file = dir / "buildings.geojson";
    test::write_buildings_geojson(file, 400);
    const CliFigures f = cut_everywhere(dir.path(), base, [&](const fs::path& db) {
        return std::vector<std::string>{"import", "buildings", file.string(), "--db", db.string()};
    });
    std::printf("powercut: import of 400 buildings (%ld writes, %ld syncs): %zu cuts, %zu found stored, %zu found "
                "absent (and stored by a rerun), none half-stored\n",
                f.writes, f.syncs, f.cuts, f.applied, f.absent);
}

TEST_CASE("disk full: reports are refused with 503 disk_full while reads go on, and filed once space returns",
          "[durability][disk-full][http]") {
    test::TempDir dir;
    const auto db = dir / "d.sqlite";
    const std::string token = make_district(db);
    const Cut shim{.full_file = dir / "disk-full", .stats_file = dir / "stats"};
    std::map<std::string, std::int64_t> acknowledged;
    std::vector<std::string> refused;
    std::size_t accepted_while_filling = 0;
    {
        Server server(shim, db);
        test::HttpClient client(server.port);
        auto acknowledge = [&](const std::string& key, const test::HttpResponse& r) {
            INFO(key << ": " << r.status << " " << r.body);
            REQUIRE((r.status == 201 || r.status == 200));
            const json answer = json::parse(r.body);
            acknowledged[key] = answer["id"].get<std::int64_t>();
        };
        for (int i = 0; i < 10; ++i) acknowledge("before-" + std::to_string(i), file_report(client, token, "before-" + std::to_string(i), i));

        // The disk fills up: about 60 kB more, then every write is refused.
        std::ofstream(shim.full_file) << "60000\n";
        for (int i = 0; i < 300 && refused.size() < 10; ++i) {
            const std::string key = "full-" + std::to_string(i);
            const auto r = file_report(client, token, key, i);
            if (r.status == 201) {
                acknowledge(key, r);
                ++accepted_while_filling;
                continue;
            }
            INFO(r.body);
            REQUIRE(r.status == 503);
            const json answer = json::parse(r.body);
            CHECK(answer["code"] == "disk_full");
            const std::string message = answer["message"].get<std::string>();
            CHECK(message.find("SQL") == std::string::npos); // no statement, file or path
            CHECK(message.find("sqlite") == std::string::npos);
            CHECK(message.find(dir.path().string()) == std::string::npos);
            CHECK(r.header("Retry-After") == "30");
            refused.push_back(key);
        }
        REQUIRE(refused.size() == 10);

        // Reads are served from memory and the database's reads, untouched by the full disk.
        for (int i = 0; i < 5; ++i) {
            const auto grids = client.get("/api/v1/grids?limit=5");
            CHECK(grids.status == 200);
            const auto located = client.get("/api/v1/locate?lon=118.805&lat=31.965");
            INFO(located.body);
            CHECK(located.status == 200);
            const auto listed = client.request("GET", "/api/v1/incidents?limit=5", {}, {{"Authorization", "Bearer " + token}});
            CHECK(listed.status == 200);
        }
        CHECK(file_report(client, token, refused.front(), 0).status == 503); // still full

        // Space returns: without a restart, the refused reports are filed with their keys.
        fs::remove(shim.full_file);
        for (const auto& key : refused) acknowledge(key, file_report(client, token, key, 0));
        for (int i = 0; i < 5; ++i) acknowledge("after-" + std::to_string(i), file_report(client, token, "after-" + std::to_string(i), i));
        // A clean stop after the disk filled and emptied again: the server ends with status 0
        // (an operator's restart must not look like a crash), closing the database file normally.
        CHECK(server.process.stop(SIGTERM) == 0);
    }
    const Stats stats = read_stats(shim.stats_file);
    CHECK(stats.full_refusals > 0);
    Sqlite fresh(db);
    CHECK(integrity(fresh) == "ok");
    const auto stored = stored_reports(fresh);
    CHECK(stored == acknowledged); // every acknowledged report, each once, and nothing else
    std::printf("powercut: disk full: %zu refused with 503 disk_full (%ld writes refused by the disk), %zu accepted "
                "while it filled, %zu acknowledged in all and all stored\n",
                refused.size(), stats.full_refusals, accepted_while_filling, acknowledged.size());
}

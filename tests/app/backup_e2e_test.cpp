// `wangge backup` while `wangge serve` takes writes, and `wangge restore` of what it wrote
// (docs/OPERATIONS.md, "Back up and restore"): the copy is one moment of the database, taken
// without stopping the server, and holds every report acknowledged before the backup began. The
// restored file is checked by SQLite's own shell (Debian's sqlite3), not by Wangge's code.
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;

namespace {

const std::filesystem::path sqlite_shell = "/usr/bin/sqlite3"; // scripts/install-deps.sh installs it

// Lines printed by `sqlite3 DB SQL`.
std::vector<std::string> sqlite_lines(const std::filesystem::path& db, const std::string& sql) {
    const auto r = test::run({sqlite_shell.string(), db.string(), sql});
    INFO(sql << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string bytes_of(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

TEST_CASE("backup while serving a burst of reports: the restored copy is whole and holds every report acknowledged before it began",
          "[cli][http][backup]") {
    REQUIRE(std::filesystem::exists(sqlite_shell)); // Debian package sqlite3
    test::TempDir dir;
    const auto live = dir / "live.sqlite";
    // About 20 MB: more than one step of the online backup (4096 pages), so that commits land
    // between its steps.
    REQUIRE(wangge_cli({"demo", live.string(), "--households", "2000000", "--seed", "5"}).exit_code == 0);
    const std::string token = test::cli_token(live, "hotline", "admin");

    std::mutex mutex;
    std::set<std::string> sent, acknowledged; // keys; a report's description is "burst KEY"
    const auto acknowledged_now = [&] {
        std::lock_guard lock(mutex);
        return acknowledged;
    };
    const auto copy = dir / "copy.sqlite";
    std::set<std::string> before_backup, after_backup;
    test::RunResult backup;
    {
        test::WanggeServer server(live);
        std::atomic<bool> stop{false};
        std::vector<std::thread> clients;
        for (int c = 0; c < 4; ++c)
            clients.emplace_back([&, c] {
                test::HttpClient client(server.port, std::chrono::seconds(10));
                for (int i = 0; !stop; ++i) {
                    const std::string key = "b" + std::to_string(c) + "-" + std::to_string(i);
                    const json body{{"category", "0101"},
                                    {"description", "burst " + key},
                                    {"source", "hotline"},
                                    {"location", {{"lon", 118.80 + (i % 50) * 4e-4}, {"lat", 31.96 + (i % 37) * 3e-4}}}};
                    {
                        std::lock_guard lock(mutex);
                        sent.insert(key);
                    }
                    const auto r = client.request("POST", "/api/v1/incidents", body.dump(),
                                                  {{"Content-Type", "application/json"},
                                                   {"Authorization", "Bearer " + token},
                                                   {"Idempotency-Key", key}});
                    if (r.status == 201) {
                        std::lock_guard lock(mutex);
                        acknowledged.insert(key);
                    }
                }
            });
        // Reports flowing, then the backup in the middle of them.
        for (int i = 0; i < 500 && acknowledged_now().size() < 100; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        before_backup = acknowledged_now();
        backup = wangge_cli({"backup", copy.string(), "--db", live.string()});
        after_backup = acknowledged_now();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        stop = true;
        for (auto& t : clients) t.join();
        CHECK(server.process.stop(SIGTERM) == 0);
    }
    INFO(backup.out << backup.err);
    REQUIRE(backup.exit_code == 0);
    CHECK_THAT(backup.out, Catch::Contains("integrity ok"));
    REQUIRE(before_backup.size() >= 100);
    // The server went on answering reports while the backup ran.
    CHECK(after_backup.size() > before_backup.size());
    // Nothing is left beside the copy but the copy (and its photos' directory).
    for (const char* suffix : {".part", ".part-wal", ".part-shm", "-wal", "-shm"}) {
        INFO(suffix);
        CHECK_FALSE(std::filesystem::exists(copy.string() + suffix));
    }

    const auto restored = dir / "restored.sqlite";
    const std::string copy_bytes = bytes_of(copy);
    const auto restore = wangge_cli({"restore", copy.string(), "--db", restored.string()});
    INFO(restore.out << restore.err);
    REQUIRE(restore.exit_code == 0);
    CHECK(bytes_of(copy) == copy_bytes); // the backup stays as it was

    // Whole, by SQLite's own checks.
    CHECK(sqlite_lines(restored, "PRAGMA integrity_check") == std::vector<std::string>{"ok"});
    CHECK(sqlite_lines(restored, "PRAGMA foreign_key_check").empty());
    // Every report acknowledged before the backup began, and none that was never sent.
    std::set<std::string> in_copy;
    for (const auto& d : sqlite_lines(restored, "SELECT description FROM incidents")) in_copy.insert(d.substr(6));
    std::size_t missing = 0;
    for (const auto& key : before_backup) missing += in_copy.contains(key) ? 0 : 1;
    INFO(before_backup.size() << " acknowledged before, " << after_backup.size() << " by its end, " << in_copy.size()
                              << " in the copy");
    CHECK(missing == 0);
    for (const auto& key : in_copy) CHECK(sent.contains(key));
    // One moment: ids without holes, and every case with the events committed with it.
    CHECK(sqlite_lines(restored, "SELECT count(*) = max(id) AND min(id) = 1 FROM incidents") ==
          std::vector<std::string>{"1"});
    CHECK(sqlite_lines(restored, "SELECT count(*) FROM incidents WHERE id NOT IN "
                                 "(SELECT incident_id FROM incident_events)") == std::vector<std::string>{"0"});
    // The live database kept every acknowledged report too.
    std::set<std::string> in_live;
    for (const auto& d : sqlite_lines(live, "SELECT description FROM incidents")) in_live.insert(d.substr(6));
    for (const auto& key : acknowledged_now()) CHECK(in_live.contains(key));
    CHECK(in_live.size() >= in_copy.size());

    // The restored file serves, with its reports.
    test::WanggeServer server(restored);
    test::HttpClient client(server.port);
    CHECK(client.get("/readyz").status == 200);
    const auto one = client.request("GET", "/api/v1/incidents?limit=1", {}, {{"Authorization", "Bearer " + token}});
    REQUIRE(one.status == 200);
    const json page = json::parse(one.body);
    REQUIRE(page["incidents"].size() == 1);
    CHECK(in_copy.contains(page["incidents"][0]["description"].get<std::string>().substr(6)));
    CHECK(server.process.stop(SIGTERM) == 0);
}

TEST_CASE("backup: refused over its own database, photos copied whole and private, temporary files skipped",
          "[cli][backup]") {
    test::TempDir dir;
    const auto live = dir / "live.sqlite";
    REQUIRE(wangge_cli({"demo", live.string(), "--households", "20000", "--seed", "3"}).exit_code == 0);
    const std::string live_bytes = bytes_of(live);

    // Over its own database, --force or not, by any name of it: refused, the database untouched.
    for (const auto& out : {live.string(), (dir / "." / "live.sqlite").string()}) {
        const auto r = wangge_cli({"backup", out, "--db", live.string(), "--force"});
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("the same file"));
    }
    CHECK(bytes_of(live) == live_bytes);
    CHECK(wangge_cli({"validate", "--db", live.string()}).exit_code == 0);
    const auto self_restore = wangge_cli({"restore", live.string(), "--db", live.string(), "--force"});
    CHECK(self_restore.exit_code == 1);
    CHECK(bytes_of(live) == live_bytes);

    // Photos as the server keeps them, and a photo being written under a temporary name.
    const std::string hash_a(64, 'a'), hash_b(64, 'b');
    const auto photos = dir / "live.sqlite.photos";
    std::filesystem::create_directories(photos / "aa");
    std::filesystem::create_directories(photos / "bb");
    std::ofstream(photos / "aa" / hash_a) << "photo a";
    std::ofstream(photos / "bb" / hash_b) << "photo b, a little longer";
    std::ofstream(photos / "bb" / (hash_b + ".tmp.123.0")) << "half a photo";
    const auto copy = dir / "copy.sqlite";
    auto r = wangge_cli({"backup", copy.string(), "--db", live.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("2 photos copied"));
    const auto copied = dir / "copy.sqlite.photos";
    CHECK(bytes_of(copied / "aa" / hash_a) == "photo a");
    CHECK_FALSE(std::filesystem::exists(copied / "bb" / (hash_b + ".tmp.123.0")));
    for (const auto& d : {copied, copied / "aa", copied / "bb"}) {
        INFO(d);
        CHECK((std::filesystem::status(d).permissions() & std::filesystem::perms::all) ==
              std::filesystem::perms::owner_all);
    }
    // A photo cut short in an earlier backup (a crash while copying) is copied again; whole ones
    // are skipped.
    std::ofstream(copied / "bb" / hash_b, std::ios::trunc) << "photo b";
    r = wangge_cli({"backup", copy.string(), "--db", live.string(), "--force"});
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("1 photos copied"));
    CHECK(bytes_of(copied / "bb" / hash_b) == "photo b, a little longer");
}

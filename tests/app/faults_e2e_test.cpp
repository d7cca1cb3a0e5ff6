// Faults of the SpatiaLite file and the tile cache's disk under a running `wangge serve`
// (docs/FAULTS.md): a file made read-only while serving or before the start, a read-only
// directory, the database deleted while serving, a tile cache directory that cannot be written.
// Reads go on; writes are refused with a 503 that names no path, and none is acknowledged that
// the next start would not find; the log says it once.
//
// Tests run as root in CI, and root writes a file whatever its mode (CAP_DAC_OVERRIDE). So as
// root the server is started by setpriv with CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH dropped
// from its bounding set: it keeps uid 0, and file modes bind it as they bind any owner.
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;
namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// How many lines of `text` contain `needle`.
std::size_t lines_with(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// `wangge serve` with its log (standard error) in a file, unable to override file modes.
struct Server {
    fs::path log;
    std::unique_ptr<test::Background> process;
    unsigned short port = 0;

    Server(const fs::path& db, const fs::path& log_file, const std::vector<std::string>& extra = {}) : log(log_file) {
        std::string command = "exec ";
        if (::geteuid() == 0) command += "/usr/bin/setpriv --bounding-set=-dac_override,-dac_read_search -- ";
        command += quoted(WANGGE_BINARY) + " serve --db " + quoted(db.string()) +
                   " --port 0 --threads 2 --reload-ms 200";
        for (const auto& e : extra) command += " " + quoted(e);
        command += " 2>>" + quoted(log.string());
        process = std::make_unique<test::Background>(std::vector<std::string>{"/bin/sh", "-c", command});
        std::string line;
        try {
            line = process->read_line(60000);
        } catch (const std::exception& e) {
            FAIL("the server did not start: " << e.what() << "\n" << read_all(log));
        }
        std::smatch m;
        REQUIRE(std::regex_search(line, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")));
        port = static_cast<unsigned short>(std::stoi(m[1]));
    }
    std::string log_text() const { return read_all(log); }
    int stop() { return process->stop(SIGTERM); }
};

struct District {
    test::TempDir dir;
    fs::path db = dir / "d.sqlite";
    std::string token;
    District() {
        REQUIRE(wangge_cli({"demo", db.string(), "--households", "5000", "--seed", "5"}).exit_code == 0);
        token = test::cli_token(db, "hotline", "admin");
    }
    test::HttpResponse report(test::HttpClient& client, const std::string& key, int i = 0) const {
        const json body{{"category", "0101"},
                        {"description", "fault " + key},
                        {"source", "hotline"},
                        {"location", {{"lon", 118.80 + (i % 50) * 4e-4}, {"lat", 31.96 + (i % 37) * 3e-4}}}};
        return client.request("POST", "/api/v1/incidents", body.dump(),
                              {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token},
                               {"Idempotency-Key", key}});
    }
    // The reports stored, by key (the description names it), read through the server.
    std::map<std::string, std::vector<std::int64_t>> stored(test::HttpClient& client) const {
        const auto r = client.request("GET", "/api/v1/incidents?limit=1000", {}, {{"Authorization", "Bearer " + token}});
        REQUIRE(r.status == 200);
        std::map<std::string, std::vector<std::int64_t>> by_key;
        const json page = json::parse(r.body);
        for (const auto& i : page["incidents"])
            by_key[i["description"].get<std::string>().substr(6)].push_back(i["id"].get<std::int64_t>());
        return by_key;
    }
};

// A refused write: 503 with the code, Retry-After, and neither the file's name nor SQL.
void check_refused(const test::HttpResponse& r, const std::string& code) {
    INFO(r.body);
    CHECK(r.status == 503);
    CHECK(r.has_header("Retry-After"));
    const json body = json::parse(r.body);
    CHECK(body["code"] == code);
    CHECK(r.body.find("d.sqlite") == std::string::npos);
    CHECK(r.body.find("SQL") == std::string::npos);
}

// Reads that need no write: served from the snapshot.
void check_reads(unsigned short port) {
    test::HttpClient c(port);
    CHECK(c.get("/healthz").status == 200);
    const auto located = c.get("/api/v1/locate?lon=118.81&lat=31.97");
    CHECK(located.status == 200);
    CHECK(c.get("/api/v1/grids?limit=5").status == 200);
}

} // namespace

TEST_CASE("faults: a database file made read-only while serving refuses writes with 503 and takes them again after",
          "[cli][http][faults]") {
    District d;
    test::TempDir logs;
    std::string log;
    {
        Server server(d.db, logs / "serve.log");
        test::HttpClient client(server.port);
        REQUIRE(d.report(client, "before").status == 201);
        fs::permissions(d.db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
        for (int i = 0; i < 5; ++i) check_refused(d.report(client, "while-" + std::to_string(i)), "database_read_only");
        const auto ready = client.get("/readyz");
        CHECK(ready.status == 503);
        CHECK(json::parse(ready.body)["code"] == "not_ready");
        CHECK(ready.body.find("read-only") != std::string::npos);
        check_reads(server.port);
        CHECK(d.stored(client).size() == 1); // the case list still reads the file
        // Writable again: the refused reports are filed once each, retried with their keys. The
        // first write may meet a connection SQLite opened read-only meanwhile, which is then
        // opened again: at most one failure, and no 2xx before the commit.
        fs::permissions(d.db, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                  fs::perms::others_read);
        CHECK(client.get("/readyz").status == 200);
        int failures = 0;
        for (int i = 0; i < 5; ++i) {
            const std::string key = "while-" + std::to_string(i);
            auto r = d.report(client, key);
            if (r.status != 201) {
                ++failures;
                r = d.report(client, key);
            }
            CHECK(r.status == 201);
        }
        CHECK(failures <= 1);
        CHECK(server.stop() == 0);
        log = server.log_text();
    }
    // Said once each way, however many writes were refused.
    CHECK(lines_with(log, "cannot be written (Permission denied)") == 1);
    CHECK(lines_with(log, "can be written again") == 1);
    Server again(d.db, logs / "again.log");
    test::HttpClient client(again.port);
    const auto stored = d.stored(client);
    CHECK(stored.size() == 6);
    for (const auto& [key, ids] : stored) {
        INFO(key);
        CHECK(ids.size() == 1);
    }
    CHECK(again.stop() == 0);
}

TEST_CASE("faults: a server started on a read-only file serves reads, refuses writes and changes no byte of it",
          "[cli][http][faults]") {
    District d;
    test::TempDir logs;
    fs::permissions(d.db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
    const std::string before = read_all(d.db);
    {
        Server server(d.db, logs / "serve.log");
        test::HttpClient client(server.port);
        check_reads(server.port);
        CHECK(d.stored(client).empty());
        check_refused(d.report(client, "ro-1"), "database_read_only");
        // A rebalance is refused the same way, before any work.
        const auto rebalance = client.request("POST", "/api/v1/communities/320199001001/rebalance",
                                              json{{"apply", true}, {"base_version", 1}}.dump(),
                                              {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + d.token}});
        check_refused(rebalance, "database_read_only");
        CHECK(client.get("/readyz").status == 503);
        CHECK(server.stop() == 0);
    }
    CHECK(read_all(d.db) == before);
}

TEST_CASE("faults: a read-only directory keeps acknowledged writes through the WAL, and a start there says why it fails",
          "[cli][http][faults]") {
    District d;
    test::TempDir logs;
    const fs::path dir = d.db.parent_path();
    const auto read_only_dir = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                               fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec;
    std::set<std::string> acknowledged;
    {
        Server server(d.db, logs / "serve.log");
        test::HttpClient client(server.port);
        REQUIRE(d.report(client, "open").status == 201); // the -wal and -shm files exist now
        fs::permissions(dir, read_only_dir);
        // SQLite writes into files that exist: nothing needs a new file, so writes go on.
        for (int i = 0; i < 10; ++i) {
            const std::string key = "rodir-" + std::to_string(i);
            const auto r = d.report(client, key, i);
            INFO(r.body);
            CHECK(r.status == 201);
            if (r.status == 201) acknowledged.insert(key);
        }
        CHECK(client.get("/readyz").status == 200);
        CHECK(server.stop() == 0); // the last close cannot remove the -wal: it stays, with the commits
    }
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                             fs::perms::others_exec);
    {
        Server server(d.db, logs / "after.log");
        test::HttpClient client(server.port);
        const auto stored = d.stored(client);
        for (const auto& key : acknowledged) {
            INFO(key);
            CHECK(stored.contains(key));
        }
        CHECK(stored.size() == acknowledged.size() + 1);
        CHECK(server.stop() == 0); // a clean stop removes the -wal and -shm files
    }
    REQUIRE_FALSE(fs::exists(dir / "d.sqlite-wal"));
    // Without its -wal and -shm files SQLite cannot open the file in a directory it cannot write:
    // the start fails with a message, not a crash.
    fs::permissions(dir, read_only_dir);
    const std::string command = std::string(::geteuid() == 0 ? "exec /usr/bin/setpriv --bounding-set=-dac_override,-dac_read_search -- " : "exec ") +
                                quoted(WANGGE_BINARY) + " serve --db " + quoted(d.db.string()) + " --port 0";
    const auto started = test::run({"/bin/sh", "-c", command});
    fs::permissions(dir, fs::perms::owner_all);
    INFO(started.err);
    CHECK(started.exit_code == 1);
    CHECK(started.err.find("wangge: error:") != std::string::npos);
    CHECK(started.err.find("readonly database") != std::string::npos);
}

TEST_CASE("faults: a database deleted under a running server acknowledges no write after it and keeps serving reads",
          "[cli][http][faults]") {
    District d;
    test::TempDir logs;
    Server server(d.db, logs / "serve.log");
    // Four clients file reports; the file and its -wal and -shm are deleted in the middle.
    std::mutex mutex;
    std::map<std::string, int> answers; // key -> status
    std::map<int, int> statuses;
    std::atomic<bool> deleted{false};
    std::set<std::string> sent_after; // sent once the deletion had returned
    std::atomic<int> acknowledged{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c)
        clients.emplace_back([&, c] {
            test::HttpClient client(server.port, std::chrono::seconds(10));
            for (int i = 0; i < 60; ++i) {
                const std::string key = "del-" + std::to_string(c) + "-" + std::to_string(i);
                const bool after = deleted;
                const auto r = d.report(client, key, i);
                std::lock_guard lock(mutex);
                answers[key] = r.status;
                ++statuses[r.status];
                if (after) sent_after.insert(key);
                if (r.status == 201) ++acknowledged;
            }
        });
    while (acknowledged < 40) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(d.db.string() + suffix);
    deleted = true;
    for (auto& t : clients) t.join();

    INFO(statuses[201] << " acknowledged, " << statuses[503] << " refused, " << sent_after.size() << " sent after");
    // Every answer is an acknowledgement or the refusal: no 500.
    CHECK(statuses[201] + statuses[503] == 240);
    REQUIRE(sent_after.size() >= 20);
    for (const auto& key : sent_after) {
        INFO(key);
        CHECK(answers.at(key) == 503);
    }
    test::HttpClient client(server.port);
    check_refused(d.report(client, "late"), "database_gone");
    const auto ready = client.get("/readyz");
    CHECK(ready.status == 503);
    CHECK(ready.body.find("deleted or replaced") != std::string::npos);
    check_reads(server.port);
    CHECK(client.get("/tiles/grids/14/13598/6650.mvt").status / 100 == 2);
    // A read that would open the file anew is the same 503, not an internal error.
    const auto cases = client.request("GET", "/api/v1/incidents?limit=5", {}, {{"Authorization", "Bearer " + d.token}});
    CHECK((cases.status == 200 || cases.status == 503));
    // Even a file put back at the path is not written to: a restart is what takes it again.
    { std::ofstream(d.db) << "not the same file"; }
    check_refused(d.report(client, "later"), "database_gone");
    CHECK(server.stop() == 0);
    const std::string log = server.log_text();
    CHECK(lines_with(log, "is no longer the file this server opened") == 1);
    CHECK(lines_with(log, "[error] request") == 0); // no internal error was answered
}

TEST_CASE("faults: a tile cache directory that cannot be written serves every tile and says so once",
          "[cli][http][faults][tiles]") {
    District d;
    test::TempDir logs;
    test::TempDir cache;
    Server server(d.db, logs / "serve.log", {"--tile-cache", cache.path().string()});
    // The cache made its directories at the start; from now on nothing can be written there.
    for (const auto& entry : fs::recursive_directory_iterator(cache.path()))
        if (entry.is_directory()) fs::permissions(entry.path(), fs::perms::owner_read | fs::perms::owner_exec);
    fs::permissions(cache.path(), fs::perms::owner_read | fs::perms::owner_exec);
    test::HttpClient client(server.port);
    int tiles = 0, with_content = 0;
    for (int z = 11; z <= 15; ++z) {
        const int n = 1 << z;
        const int x = static_cast<int>((118.81 + 180.0) / 360.0 * n);
        const double lat = 31.97 * M_PI / 180.0;
        const int y = static_cast<int>((1.0 - std::log(std::tan(lat) + 1.0 / std::cos(lat)) / M_PI) / 2.0 * n);
        for (int dx = -1; dx <= 1; ++dx)
            for (int dy = -1; dy <= 1; ++dy) {
                const std::string path = "/tiles/grids/" + std::to_string(z) + "/" + std::to_string(x + dx) + "/" +
                                         std::to_string(y + dy) + ".mvt";
                for (int twice = 0; twice < 2; ++twice) {
                    const auto r = client.get(path);
                    INFO(path << ": " << r.body);
                    CHECK((r.status == 200 || r.status == 204));
                    ++tiles;
                    with_content += r.status == 200;
                }
            }
    }
    CHECK(tiles == 90);
    CHECK(with_content >= 10);
    const auto png = client.get("/tiles/default/14/13598/6650.png");
    CHECK(png.status == 200);
    fs::permissions(cache.path(), fs::perms::owner_all);
    CHECK(server.stop() == 0);
    const std::string log = server.log_text();
    INFO(log);
    // One line for each cache (vector and rendered tiles), not one per tile.
    CHECK(lines_with(log, "[warning] tile cache:") >= 1);
    CHECK(lines_with(log, "[warning] tile cache:") <= 2);
    CHECK(lines_with(log, "[error]") == 0);
    // Nothing was written under the directory.
    std::size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(cache.path())) files += entry.is_regular_file();
    CHECK(files == 0);
}

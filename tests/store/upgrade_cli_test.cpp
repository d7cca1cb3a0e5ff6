// An upgrade as an operator runs it (docs/OPERATIONS.md, "Upgrade"), through the built binary: a
// file of every earlier schema version is refused by the commands that only read (validate),
// unchanged; `wangge serve` migrates it on open and serves it; `validate` accepts it afterwards;
// and `wangge restore` takes a backup of every earlier version, leaving the backup as it was.
#include "old_schema.hpp"

#include "store/sqlite_database.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>

using namespace wangge;
using test::wangge_cli;

TEST_CASE("upgrade through the command line: serve migrates a file of every earlier version, validate then accepts it",
          "[cli][upgrade]") {
    const int latest = store::SqliteDatabase::latest_schema_version();
    test::TempDir dir;
    for (int k = 1; k < latest; ++k) {
        CAPTURE(k);
        const auto path = dir / ("v" + std::to_string(k) + ".sqlite");
        test::make_old_file(path, k);
        const std::string bytes = test::file_bytes(path);

        // Commands that only read never migrate: they say what to do, and change nothing.
        const auto refused = wangge_cli({"validate", "--db", path.string()});
        CHECK(refused.exit_code == 1);
        CHECK_THAT(refused.err, Catch::Contains("schema version " + std::to_string(k)) &&
                                    Catch::Contains("open it read-write once"));
        CHECK(test::file_bytes(path) == bytes);

        {
            test::WanggeServer server(path);
            test::HttpClient client(server.port);
            const auto health = client.get("/healthz");
            REQUIRE(health.status == 200);
            const auto body = nlohmann::json::parse(health.body);
            CHECK(body["streets"] == 1);
            CHECK(body["communities"] == 2);
            CHECK(body["grids"] == 3);
            CHECK(body["version"] == 3);
            const auto grid = client.get("/api/v1/grids/320102002001002");
            CHECK(grid.status == 200);
            CHECK(server.process.stop(SIGTERM) == 0);
        }
        {
            test::RawFile f(path);
            CHECK(f.user_version() == latest);
        }
        const auto valid = wangge_cli({"validate", "--db", path.string()});
        INFO(valid.out << valid.err);
        CHECK(valid.exit_code == 0);
        CHECK_THAT(valid.out, Catch::Contains("checked 1 streets, 2 communities, 3 grids (data version 3)"));
    }
}

TEST_CASE("upgrade through the command line: restore takes a backup of every earlier version and migrates the copy",
          "[cli][upgrade][backup]") {
    const int latest = store::SqliteDatabase::latest_schema_version();
    test::TempDir dir;
    for (int k = 1; k < latest; ++k) {
        CAPTURE(k);
        const auto backup = dir / ("backup-v" + std::to_string(k) + ".sqlite");
        test::make_old_file(backup, k);
        const std::string bytes = test::file_bytes(backup);
        const auto restored = dir / ("restored-v" + std::to_string(k) + ".sqlite");
        const auto r = wangge_cli({"restore", backup.string(), "--db", restored.string()});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK_THAT(r.out, Catch::Contains("data version 3, schema version " + std::to_string(k) + " migrated to " +
                                          std::to_string(latest)));
        CHECK(test::file_bytes(backup) == bytes);
        CHECK_FALSE(std::filesystem::exists(restored.string() + ".restoring"));
        CHECK_FALSE(std::filesystem::exists(restored.string() + "-wal"));
        test::RawFile f(restored);
        CHECK(f.user_version() == latest);
        CHECK(f.value("PRAGMA integrity_check") == "ok");
        CHECK(f.value("SELECT group_concat(code) FROM (SELECT code FROM grids ORDER BY code)") ==
              "320102002001001,320102002001002,320102002002001");
        CHECK(wangge_cli({"validate", "--db", restored.string()}).exit_code == 0);
    }
    // A backup newer than this build is refused and nothing is put in place.
    const auto newer = dir / "newer.sqlite";
    test::make_old_file(newer, latest);
    {
        test::RawFile f(newer);
        f.exec("PRAGMA user_version = " + std::to_string(latest + 1));
    }
    const auto target = dir / "target.sqlite";
    const auto r = wangge_cli({"restore", newer.string(), "--db", target.string()});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("newer than this Wangge"));
    CHECK_FALSE(std::filesystem::exists(target));
    CHECK_FALSE(std::filesystem::exists(target.string() + ".restoring"));
    // Neither is an empty file (a failed transfer), nor a SQLite file that is not Wangge's.
    std::ofstream(dir / "empty.sqlite");
    const auto empty = wangge_cli({"restore", (dir / "empty.sqlite").string(), "--db", target.string()});
    CHECK(empty.exit_code == 1);
    CHECK_THAT(empty.err, Catch::Contains("is not a SQLite database"));
    {
        test::RawFile other(dir / "other.sqlite");
        other.exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)");
    }
    const auto other = wangge_cli({"restore", (dir / "other.sqlite").string(), "--db", target.string()});
    CHECK(other.exit_code == 1);
    CHECK_THAT(other.err, Catch::Contains("not a Wangge one"));
    CHECK_FALSE(std::filesystem::exists(target));
}

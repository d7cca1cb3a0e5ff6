// `wangge copy` end to end (docs/CLI.md): the built binary copies a demo district to PostgreSQL
// and back, prints a line per table and a summary, refuses a destination with data unless
// --replace, and `wangge info` says the same of the copy as of the original.
#include "pg_cluster.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>

using namespace wangge;

TEST_CASE("wangge copy: a demo district to PostgreSQL and back", "[pg][copy][cli]") {
    test::TempDir dir;
    test::TestPgDatabase pg;
    const std::string original = (dir / "demo.sqlite").string(), back = (dir / "back.sqlite").string();
    REQUIRE(test::wangge_cli({"demo", original, "--households", "20000"}).exit_code == 0);

    const test::RunResult there = test::wangge_cli({"copy", "--from", original, "--to", pg.url()});
    INFO(there.out << there.err);
    REQUIRE(there.exit_code == 0);
    CHECK_THAT(there.out, Catch::Contains("copied  buildings") && Catch::Contains("checking the copy") &&
                              Catch::Contains("every row and column equal"));

    const test::RunResult again = test::wangge_cli({"copy", "--from", original, "--to", pg.url()});
    CHECK(again.exit_code == 1);
    CHECK_THAT(again.err, Catch::Contains("holds data") && Catch::Contains("--replace"));
    CHECK(test::wangge_cli({"copy", "--from", original, "--to", pg.url(), "--replace"}).exit_code == 0);

    const test::RunResult home = test::wangge_cli({"copy", "--from", pg.url(), "--to", back});
    INFO(home.out << home.err);
    REQUIRE(home.exit_code == 0);
    CHECK_THAT(home.out, Catch::Contains("(created)"));
    const test::RunResult info_original = test::wangge_cli({"info", "--db", original});
    const test::RunResult info_back = test::wangge_cli({"info", "--db", back});
    REQUIRE(info_original.exit_code == 0);
    // The same but for the first line's path.
    const auto body = [](const std::string& out) { return out.substr(out.find(':')); };
    CHECK(body(info_back.out) == body(info_original.out));

    const test::RunResult bad = test::wangge_cli({"copy", "--from", original, "--to", "postgresql://[::1/x"});
    CHECK(bad.exit_code == 1);
    CHECK_THAT(bad.err, Catch::Contains("malformed database URL"));
}

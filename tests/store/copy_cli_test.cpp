// `wangge copy` end to end (docs/CLI.md): the built binary copies a demo district to PostgreSQL
// and back, prints a line per table and a summary, refuses a destination with data unless
// --replace, and `wangge info` says the same of the copy as of the original.
#include "pg_cluster.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>

#include <fstream>

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

TEST_CASE("info, validate, locate and list read the map from PostgreSQL as from the file", "[pg][cli]") {
    test::TempDir dir;
    test::TestPgDatabase pg;
    const std::string file = (dir / "demo.sqlite").string();
    // Five years on: grids out of the band, so validate's and info's counts are not all zeros.
    REQUIRE(test::wangge_cli({"demo", file, "--households", "20000", "--seed", "7", "--years-later", "5"}).exit_code == 0);
    REQUIRE(test::wangge_cli({"copy", "--from", file, "--to", pg.url()}).exit_code == 0);
    // Every line after the first, which names the database.
    const auto after_first = [](const std::string& out) { return out.substr(out.find('\n')); };
    const auto both = [&](std::vector<std::string> args) {
        std::vector<std::string> on_file = args, on_pg = args;
        on_file.insert(on_file.end(), {"--db", file});
        on_pg.insert(on_pg.end(), {"--db", pg.url()});
        return std::pair{test::wangge_cli(on_file), test::wangge_cli(on_pg)};
    };

    auto [info_file, info_pg] = both({"info"});
    INFO(info_pg.out << info_pg.err);
    REQUIRE(info_pg.exit_code == 0);
    CHECK(info_pg.out.find("postgresql://") == 0);
    CHECK(after_first(info_pg.out) == after_first(info_file.out));
    CHECK(info_pg.out.find("above") != std::string::npos);

    auto [validate_file, validate_pg] = both({"validate", "--json"});
    CHECK(validate_pg.exit_code == validate_file.exit_code);
    CHECK(validate_pg.out == validate_file.out);

    for (const auto& [lon, lat] : {std::pair{"118.83", "31.97"}, std::pair{"118.835", "31.968"}, std::pair{"0", "0"}}) {
        auto [locate_file, locate_pg] = both({"locate", lon, lat});
        REQUIRE(locate_pg.exit_code == 0);
        CHECK(locate_pg.out == locate_file.out);
    }
    for (const char* what : {"streets", "communities", "grids"}) {
        auto [list_file, list_pg] = both({"list", what, "--json"});
        REQUIRE(list_pg.exit_code == 0);
        CHECK(list_pg.out == list_file.out);
        CHECK(list_pg.out.size() > 20);
    }
    // Vector and rendered tiles from PostgreSQL are the file's: as many, as many written, as large.
    const auto tiles_of = [&](const std::string& db, const std::string& out, const std::string& layer = "grids",
                              const std::string& minzoom = "11", const std::string& maxzoom = "14") {
        auto r = test::wangge_cli({"export-tiles", "--layer", layer, "--minzoom", minzoom, "--maxzoom", maxzoom, "--db",
                                   db, (dir / out).string()});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        const auto from = r.out.find("tiles visited");
        REQUIRE(from != std::string::npos);
        return r.out.substr(r.out.rfind(':', from)); // ": N tiles visited, M written, X MiB"
    };
    CHECK(tiles_of(pg.url(), "pg.mbtiles") == tiles_of(file, "file.mbtiles"));
    CHECK(tiles_of(pg.url(), "pg-png.mbtiles", "png:default", "12", "13") ==
          tiles_of(file, "file-png.mbtiles", "png:default", "12", "13"));

    // A database that is not there: the clear error of the store, not a crash.
    auto unreachable = test::wangge_cli({"info", "--db", "postgresql://postgres@127.0.0.1:1/none"});
    CHECK(unreachable.exit_code == 1);
    CHECK(unreachable.err.find("127.0.0.1") != std::string::npos);
}

TEST_CASE("import writes to PostgreSQL as to a file: layers, a refused duplicate, an update", "[pg][cli]") {
    test::TempDir dir;
    test::TestPgDatabase pg;
    const std::string file = (dir / "demo.sqlite").string();
    REQUIRE(test::wangge_cli({"demo", file, "--households", "20000", "--seed", "3"}).exit_code == 0);
    // The demo's own layers, read by GDAL from the SpatiaLite file, imported into PostgreSQL.
    for (const char* layer : {"streets", "communities", "grids", "buildings", "roads"}) {
        auto r = test::wangge_cli({"import", layer, file, "--layer", layer, "--db", pg.url()});
        INFO(layer << ": " << r.out << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("0 skipped") != std::string::npos);
    }
    const auto after_first = [](const std::string& out) { return out.substr(out.find('\n')); };
    auto info_pg = test::wangge_cli({"info", "--db", pg.url()});
    auto info_file = test::wangge_cli({"info", "--db", file});
    REQUIRE(info_pg.exit_code == 0);
    CHECK(after_first(info_pg.out) == after_first(info_file.out)); // every building in the same grid
    CHECK(info_pg.out.find("data version 5") != std::string::npos); // one per import
    CHECK(test::wangge_cli({"validate", "--db", pg.url()}).exit_code == 0);

    // A street already stored: the import fails and writes nothing.
    auto again = test::wangge_cli({"import", "streets", file, "--layer", "streets", "--db", pg.url()});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("already stored") != std::string::npos);
    CHECK(test::wangge_cli({"info", "--db", pg.url()}).out.find("data version 5") != std::string::npos);

    // One building's households by Wangge's id.
    std::ofstream(dir / "one.csv") << "id,households\n1,999\n";
    auto update = test::wangge_cli({"import", "buildings", (dir / "one.csv").string(), "--update", "--key", "id", "--db",
                                    pg.url()});
    INFO(update.out << update.err);
    REQUIRE(update.exit_code == 0);
    CHECK(update.out.find("1 updated") != std::string::npos);
    CHECK(update.out.find(", 999 after") != std::string::npos);
}

TEST_CASE("commands on PostgreSQL: demo into an empty database only, serve names its photo directory, backup points "
          "to PostgreSQL's tools",
          "[pg][cli]") {
    test::TestPgDatabase pg;
    auto made = test::wangge_cli({"demo", pg.url(), "--households", "8000"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    CHECK(made.out.find("demo district written to " + pg.url()) != std::string::npos);
    auto again = test::wangge_cli({"demo", pg.url(), "--households", "8000"});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("holds a district already") != std::string::npos);
    auto info = test::wangge_cli({"info", "--db", pg.url()});
    CHECK(info.out.find("data version 1") != std::string::npos); // the second demo wrote nothing

    auto serve = test::wangge_cli({"serve", "--db", pg.url(), "--port", "0"});
    CHECK(serve.exit_code == 1);
    CHECK(serve.err.find("--photo-dir") != std::string::npos);

    test::TempDir dir;
    auto backup = test::wangge_cli({"backup", "--db", pg.url(), (dir / "b.sqlite").string()});
    CHECK(backup.exit_code == 1);
    CHECK(backup.err.find("pg_dump") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "b.sqlite"));
}

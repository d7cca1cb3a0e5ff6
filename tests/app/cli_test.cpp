#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_config.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <regex>

using namespace wangge;
using nlohmann::json;

namespace {

using test::wangge_cli;

// A demo district shared by the tests of this file (generated once).
const std::filesystem::path& demo_db() {
    static test::TempDir dir;
    static std::filesystem::path path = [] {
        auto p = dir / "demo.sqlite";
        auto r = wangge_cli({"demo", p.string(), "--households", "30000", "--seed", "11"});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        return p;
    }();
    return path;
}

} // namespace

TEST_CASE("cli: demo writes a valid district and says what it wrote", "[cli]") {
    test::TempDir dir;
    auto r = wangge_cli({"demo", (dir / "d.sqlite").string(), "--households", "30000", "--seed", "11"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex(R"((\d+) streets, (\d+) communities, (\d+) grids)")));
    CHECK(std::stoi(m[1]) >= 2);
    CHECK(std::stoi(m[2]) >= 10);
    CHECK(std::stoi(m[3]) >= 60);
    CHECK(r.out.find("warning") == std::string::npos); // every building is in its own grid

    auto v = wangge_cli({"validate", "--db", (dir / "d.sqlite").string()});
    INFO(v.out);
    CHECK(v.exit_code == 0);
    CHECK(v.out.find("valid: no gaps, overlaps or orphans") != std::string::npos);

    auto again = wangge_cli({"demo", (dir / "d.sqlite").string()});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("--force") != std::string::npos);
}

TEST_CASE("cli: --version names the version", "[cli]") {
    auto r = wangge_cli({"--version"});
    CHECK(r.exit_code == 0);
    CHECK(std::regex_search(r.out, std::regex(R"(^wangge \d+\.\d+\.\d+)")));
}

TEST_CASE("cli: info and locate read the demo district", "[cli]") {
    auto info = wangge_cli({"info", "--db", demo_db().string()});
    REQUIRE(info.exit_code == 0);
    CHECK(info.out.find("0 below, 0 above") != std::string::npos);
    auto out = wangge_cli({"locate", "0", "0", "--db", demo_db().string()});
    REQUIRE(out.exit_code == 0);
    CHECK(out.out.find("not_covered") != std::string::npos);
    CHECK(out.out.find("nearest") != std::string::npos);
    auto bad = wangge_cli({"locate", "200", "0", "--db", demo_db().string()});
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("longitude") != std::string::npos);
}

TEST_CASE("cli: bad input gets a clear error and a non-zero exit", "[cli]") {
    test::TempDir dir;
    auto missing = wangge_cli({"serve", "--db", (dir / "nope.sqlite").string()});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("does not exist") != std::string::npos);
    auto target = wangge_cli({"import", "districts", "x.geojson", "--db", (dir / "a.sqlite").string()});
    CHECK(target.exit_code == 1);
    CHECK(target.err.find("unknown import target 'districts'") != std::string::npos);
    std::ofstream(dir / "broken.geojson") << "{\"type\": \"FeatureCollection\", \"features\": [";
    auto broken = wangge_cli({"import", "grids", (dir / "broken.geojson").string(), "--db", (dir / "a.sqlite").string()});
    CHECK(broken.exit_code == 1);
    CHECK(broken.err.find("broken.geojson") != std::string::npos);
    auto map = wangge_cli({"import", "grids", "x.geojson", "--map", "code", "--db", (dir / "a.sqlite").string()});
    CHECK(map.exit_code == 1);
    CHECK(map.err.find("field=column") != std::string::npos);
}

TEST_CASE("cli: serve answers over real HTTP and stops on SIGTERM", "[cli][http]") {
    // The validation report is not among the default anonymous reads; this server allows it.
    test::WanggeServer server(demo_db(), {"--anonymous-read", "map,tiles,ogc,locate,validate"});
    test::HttpClient client(server.port);

    auto health = client.get("/healthz");
    REQUIRE(health.status == 200);
    auto h = json::parse(health.body);
    CHECK(h["status"] == "ok");
    CHECK(h["grids"].get<int>() >= 60);

    // A building's footprint centre lies in the building's own grid.
    auto b = client.get("/api/v1/buildings?limit=1&offset=7");
    REQUIRE(b.status == 200);
    CHECK(b.header("content-type") == "application/geo+json");
    auto feature = json::parse(b.body)["features"][0];
    const auto& ring = feature["geometry"]["coordinates"][0][0];
    double lon = 0, lat = 0;
    for (int i = 0; i < 4; ++i) {
        lon += ring[i][0].get<double>() / 4;
        lat += ring[i][1].get<double>() / 4;
    }
    auto loc = client.get("/api/v1/locate?lon=" + std::to_string(lon) + "&lat=" + std::to_string(lat));
    REQUIRE(loc.status == 200);
    auto l = json::parse(loc.body);
    CHECK(l["status"] == "grid");
    CHECK(l["grid"]["code"] == feature["properties"]["grid_code"]);

    auto detail = client.get("/api/v1/grids/" + feature["properties"]["grid_code"].get<std::string>());
    REQUIRE(detail.status == 200);
    auto d = json::parse(detail.body);
    CHECK(d["properties"]["households"].get<int>() >= 250);
    CHECK(d["properties"]["parents"].size() == 2);

    auto validate = client.get("/api/v1/validate");
    REQUIRE(validate.status == 200);
    CHECK(json::parse(validate.body)["ok"] == true);

    auto bad = client.get("/api/v1/locate?lon=x&lat=1");
    CHECK(bad.status == 400);
    CHECK(json::parse(bad.body)["code"] == "invalid_parameter");
    CHECK(client.get("/api/v1/grids/320199999999999").status == 404);
    CHECK(client.request("DELETE", "/api/v1/grids").status == 405);
    CHECK(client.connections() == 1); // all of it over one keep-alive connection

    CHECK(server.process.stop(SIGTERM) == 0);
}

TEST_CASE("cli: the real Nanjing buildings and roads import with estimated households", "[cli][real-data]") {
    if (!test::shared_data_available()) return;
    test::TempDir dir;
    auto db = (dir / "nanjing.sqlite").string();
    auto data = test::shared_data_dir / "nanjing-central";
    auto b = wangge_cli({"import", "buildings", (data / "buildings.geojson").string(), "--db", db});
    INFO(b.out << b.err);
    REQUIRE(b.exit_code == 0);
    CHECK(b.out.find("1277 read, 1277 stored") != std::string::npos);
    CHECK(b.out.find("1277 buildings estimated") != std::string::npos);
    auto r = wangge_cli({"import", "roads", (data / "roads.geojson").string(), "--db", db});
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("383 read, 383 stored") != std::string::npos);
    auto info = wangge_cli({"info", "--db", db});
    CHECK(info.out.find("buildings    1277 (1277 with estimated households)") != std::string::npos);
    CHECK(info.out.find("roads        383") != std::string::npos);
    // No grids yet: every point is outside everything, and nothing crashes.
    auto loc = wangge_cli({"locate", "118.79", "32.05", "--db", db});
    CHECK(loc.exit_code == 0);
    CHECK(loc.out.find("not_covered") != std::string::npos);
}

TEST_CASE("cli: serve --public-url makes the links and a malformed one is refused before serving", "[cli][http]") {
    auto bad = wangge_cli({"serve", "--db", demo_db().string(), "--port", "0", "--public-url", "ftp://maps.example.org"});
    CHECK(bad.exit_code == 1);
    CHECK(bad.err.find("http or https") != std::string::npos);

    test::WanggeServer server(demo_db(), {"--public-url", "https://maps.example.org/wangge/"});
    test::HttpClient client(server.port);
    auto landing = client.get("/ogc");
    REQUIRE(landing.status == 200);
    const json page = json::parse(landing.body);
    REQUIRE_FALSE(page["links"].empty());
    for (const auto& link : page["links"]) {
        INFO(link.dump());
        CHECK(link["href"].get<std::string>().rfind("https://maps.example.org/wangge/ogc", 0) == 0);
    }
    auto tilejson = client.get("/tiles/grids.json");
    REQUIRE(tilejson.status == 200);
    CHECK(json::parse(tilejson.body)["tiles"][0].get<std::string>().rfind("https://maps.example.org/wangge/tiles/", 0) == 0);
    CHECK(server.process.stop(SIGTERM) == 0);
}

TEST_CASE("cli: list finds codes, an unknown community is an error that names list, undo asks before a bootstrap",
          "[cli]") {
    test::TempDir dir;
    const std::string db = (dir / "d.sqlite").string();
    REQUIRE(wangge_cli({"demo", db, "--households", "20000", "--seed", "3"}).exit_code == 0);

    auto streets = wangge_cli({"list", "streets", "--db", db, "--json"});
    REQUIRE(streets.exit_code == 0);
    const json s = json::parse(streets.out);
    REQUIRE(s.size() >= 1);
    const std::string street = s[0]["code"];
    auto communities = wangge_cli({"list", "communities", "--parent", street, "--db", db, "--json"});
    REQUIRE(communities.exit_code == 0);
    const json c = json::parse(communities.out);
    REQUIRE(c.size() == s[0]["communities"].get<std::size_t>());
    for (const auto& row : c) CHECK(row["parent"] == street);
    auto grids_text = wangge_cli({"list", "grids", "--parent", c[0]["code"].get<std::string>(), "--db", db});
    REQUIRE(grids_text.exit_code == 0);
    CHECK(grids_text.out.find(c[0]["code"].get<std::string>() + "001") != std::string::npos);
    CHECK(wangge_cli({"list", "grids", "--parent", "32", "--db", db}).exit_code == 1);

    // An unknown community: an error naming `wangge list`, for history as for rebalance.
    for (const auto& args : {std::vector<std::string>{"history", "--community", "320199009099", "--db", db},
                             std::vector<std::string>{"rebalance", "--community", "320199009099", "--db", db}}) {
        auto r = wangge_cli(args);
        INFO(r.err);
        CHECK(r.exit_code == 1);
        CHECK(r.err.find("no community 320199009099") != std::string::npos);
        CHECK(r.err.find("wangge list communities") != std::string::npos);
    }

    // Bootstrap the street anew, then undo: the undo of a bootstrap says what it would do and
    // needs --force; with it, the community is left without grids.
    REQUIRE(wangge_cli({"bootstrap", "--street", street, "--replace", "--db", db}).exit_code == 0);
    const json after = json::parse(wangge_cli({"list", "communities", "--parent", street, "--db", db, "--json"}).out);
    REQUIRE(after.size() >= 1);
    const std::string community = after[0]["code"];
    const std::size_t demo_grids = c[0]["code"] == community ? c[0]["grids"].get<std::size_t>() : 0;
    auto refused = wangge_cli({"rebalance", "--community", community, "--undo", "--db", db});
    INFO(refused.out << refused.err);
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.find("(bootstrap) of community " + community) != std::string::npos);
    CHECK(refused.err.find("--force") != std::string::npos);
    CHECK(json::parse(wangge_cli({"list", "grids", "--parent", community, "--db", db, "--json"}).out).size() ==
          after[0]["grids"].get<std::size_t>());
    auto forced = wangge_cli({"rebalance", "--community", community, "--undo", "--force", "--db", db});
    INFO(forced.out << forced.err);
    CHECK(forced.exit_code == 0);
    if (demo_grids > 0) // the demo's grids, as they were before the bootstrap
        CHECK(json::parse(wangge_cli({"list", "grids", "--parent", community, "--db", db, "--json"}).out).size() == demo_grids);
    // Its history records the bootstrap with a summary, and its undo.
    const json history = json::parse(wangge_cli({"history", "--community", community, "--db", db, "--json"}).out);
    REQUIRE(history.size() == 2);
    CHECK(history[1]["action"] == "bootstrap");
    CHECK(history[1]["summary"]["grids_after"] == after[0]["grids"]);
    CHECK(history[0]["action"] == "undo");

    // A street divided from nothing: undoing its bootstrap would leave the community without
    // grids, and says so.
    std::string features;
    for (int k = 0; k < 12; ++k) {
        const double x = 118.80 + 0.001 * (k % 4), y = 32.00 + 0.001 * (k / 4);
        features += std::string(k ? "," : "") + R"({"type":"Feature","properties":{"households":60},"geometry":)" +
                    R"({"type":"Polygon","coordinates":[[[)" + std::to_string(x) + "," + std::to_string(y) + "],[" +
                    std::to_string(x + 0.0003) + "," + std::to_string(y) + "],[" + std::to_string(x + 0.0003) + "," +
                    std::to_string(y + 0.0003) + "],[" + std::to_string(x) + "," + std::to_string(y + 0.0003) + "],[" +
                    std::to_string(x) + "," + std::to_string(y) + "]]]}}";
    }
    std::ofstream(dir / "b.geojson") << R"({"type":"FeatureCollection","features":[)" << features << "]}";
    const std::string fresh = (dir / "fresh.sqlite").string();
    REQUIRE(wangge_cli({"import", "buildings", (dir / "b.geojson").string(), "--db", fresh}).exit_code == 0);
    auto boot = wangge_cli({"bootstrap", "--street", "320102003", "--db", fresh});
    REQUIRE(boot.exit_code == 0);
    CHECK(boot.out.find("no boundary given: using the outline of 12 buildings") != std::string::npos);
    CHECK(boot.out.find("--boundary FILE") != std::string::npos);
    std::smatch counts; // what bootstrap reports is what `info` counts
    REQUIRE(std::regex_search(boot.out, counts, std::regex(R"((\d+) grids \((\d+) in band 250-500, (\d+) below, (\d+) above)")));
    auto info = wangge_cli({"info", "--db", fresh});
    CHECK(info.out.find(counts[1].str() + " (" + counts[2].str() + " in band 250-500, " + counts[3].str() + " below, " +
                        counts[4].str() + " above") != std::string::npos);
    auto alone = wangge_cli({"rebalance", "--community", "320102003001", "--undo", "--db", fresh});
    INFO(alone.out << alone.err);
    CHECK(alone.exit_code == 1);
    CHECK(alone.out.find("left without grids") != std::string::npos);
    CHECK(alone.out.find("codes once used never return") != std::string::npos);
    auto dry = wangge_cli({"rebalance", "--community", "320102003001", "--undo", "--force", "--dry-run", "--db", fresh});
    CHECK(dry.exit_code == 0);
    CHECK_FALSE(json::parse(wangge_cli({"list", "grids", "--db", fresh, "--json"}).out).empty());
    CHECK(wangge_cli({"rebalance", "--community", "320102003001", "--undo", "--force", "--db", fresh}).exit_code == 0);
    CHECK(json::parse(wangge_cli({"list", "grids", "--db", fresh, "--json"}).out).empty());
}

TEST_CASE("cli: import prints its extent, warns when it lands apart, and a failed first import leaves no file",
          "[cli]") {
    test::TempDir dir;
    const auto db = (dir / "w.sqlite").string();
    auto square = [](double lon, double lat) {
        char ring[256];
        std::snprintf(ring, sizeof ring, "[[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f],[%.4f,%.4f]]", lon, lat,
                      lon + 0.0004, lat, lon + 0.0004, lat + 0.0003, lon, lat + 0.0003, lon, lat);
        return std::string(R"({"type":"Feature","properties":{"households":10},"geometry":{"type":"Polygon","coordinates":[)") +
               ring + "]}}";
    };
    std::ofstream(dir / "here.geojson") << R"({"type":"FeatureCollection","features":[)" << square(118.78, 32.04) << "]}";
    // The same buildings 3 degrees west, as a wrong Gauss-Kruger zone puts them.
    std::ofstream(dir / "west.geojson") << R"({"type":"FeatureCollection","features":[)" << square(115.78, 32.04) << "]}";

    auto first = wangge_cli({"import", "buildings", (dir / "here.geojson").string(), "--db", db});
    INFO(first.out << first.err);
    REQUIRE(first.exit_code == 0);
    CHECK(first.out.find("extent: longitude 118.78000 to 118.78040, latitude 32.04000 to 32.04030") != std::string::npos);
    CHECK(first.out.find("warning") == std::string::npos);
    auto again = wangge_cli({"import", "buildings", (dir / "here.geojson").string(), "--db", db});
    CHECK(again.out.find("warning") == std::string::npos);
    auto west = wangge_cli({"import", "buildings", (dir / "west.geojson").string(), "--db", db});
    INFO(west.out);
    REQUIRE(west.exit_code == 0);
    CHECK(west.out.find("warning: this lies apart from what the database already held") != std::string::npos);
    CHECK(west.out.find("is --crs right?") != std::string::npos);

    // A first import that fails leaves nothing; a failed import into a database keeps it.
    std::ofstream(dir / "broken.geojson") << "{\"type\": \"FeatureCollection\", \"features\": [";
    const auto fresh = dir / "fresh.sqlite";
    auto failed = wangge_cli({"import", "buildings", (dir / "broken.geojson").string(), "--db", fresh.string()});
    CHECK(failed.exit_code == 1);
    CHECK_FALSE(std::filesystem::exists(fresh));
    CHECK_FALSE(std::filesystem::exists(fresh.string() + "-wal"));
    auto failed_again = wangge_cli({"import", "buildings", (dir / "broken.geojson").string(), "--db", db});
    CHECK(failed_again.exit_code == 1);
    CHECK(std::filesystem::exists(db));

    // --update: only households, by source id; a row that matches nothing is listed.
    std::ofstream(dir / "ids.geojson") << R"({"type":"FeatureCollection","features":[)"
                                        << R"({"type":"Feature","properties":{"source_id":"b1","households":40},"geometry":{"type":"Polygon","coordinates":[[[118.79,32.04],[118.7904,32.04],[118.7904,32.0403],[118.79,32.0403],[118.79,32.04]]]}}]})";
    REQUIRE(wangge_cli({"import", "buildings", (dir / "ids.geojson").string(), "--db", db}).exit_code == 0);
    std::ofstream(dir / "households.csv") << "source_id,households\nb1,55\nnope,3\n";
    auto update = wangge_cli({"import", "buildings", (dir / "households.csv").string(), "--db", db, "--update"});
    INFO(update.out << update.err);
    REQUIRE(update.exit_code == 0);
    CHECK(update.out.find("updated buildings from") != std::string::npos);
    CHECK(update.out.find("2 read, 1 updated") != std::string::npos);
    CHECK(update.out.find("households of the updated buildings: 40 before, 55 after") != std::string::npos);
    CHECK(update.out.find("no stored building has source id nope") != std::string::npos);
    auto wrong_key = wangge_cli({"import", "buildings", (dir / "households.csv").string(), "--db", db, "--update", "--key", "osm"});
    CHECK(wrong_key.exit_code != 0);
}

TEST_CASE("cli: backup while serving gives a checked copy with the photos, restore puts it back", "[cli][http]") {
    test::TempDir dir;
    const auto live = dir / "live.sqlite";
    REQUIRE(wangge_cli({"demo", live.string(), "--households", "20000", "--seed", "3"}).exit_code == 0);
    // A photo of a case as the server keeps them: a file named by its hash beside the database.
    const auto photo = dir / "live.sqlite.photos" / "ab" / std::string(64, 'a');
    std::filesystem::create_directories(photo.parent_path());
    std::ofstream(photo) << "not really a jpeg";
    const auto info_of = [](const std::filesystem::path& db) {
        auto r = wangge_cli({"info", "--db", db.string()});
        REQUIRE(r.exit_code == 0);
        return r.out.substr(r.out.find('\n')); // without the first line, which names the file
    };
    const std::string before = info_of(live);

    const auto copy = dir / "copy.sqlite";
    {
        test::WanggeServer server(live);
        test::HttpClient client(server.port);
        REQUIRE(client.get("/healthz").status == 200);
        auto r = wangge_cli({"backup", copy.string(), "--db", live.string()});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        CHECK(r.out.find("integrity ok; 1 photos copied") != std::string::npos);
        CHECK(client.get("/healthz").status == 200); // still serving
        server.process.stop(SIGTERM);
    }
    CHECK_FALSE(std::filesystem::exists(copy.string() + ".part"));
    CHECK(info_of(copy) == before);
    CHECK(wangge_cli({"validate", "--db", copy.string()}).exit_code == 0);
    CHECK(std::filesystem::exists(dir / "copy.sqlite.photos" / "ab" / std::string(64, 'a')));
    auto again = wangge_cli({"backup", copy.string(), "--db", live.string()});
    CHECK(again.exit_code == 1);
    CHECK(again.err.find("--force") != std::string::npos);

    // Restore: refused over a database without --force, and a file that is no database changes nothing.
    auto refused = wangge_cli({"restore", copy.string(), "--db", live.string()});
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.find("--force") != std::string::npos);
    std::ofstream(dir / "junk.sqlite") << "this is not a database, just some text that is long enough to be read";
    auto junk = wangge_cli({"restore", (dir / "junk.sqlite").string(), "--db", live.string(), "--force"});
    CHECK(junk.exit_code != 0);
    CHECK(info_of(live) == before);
    const auto restored = dir / "restored.sqlite";
    auto r = wangge_cli({"restore", copy.string(), "--db", restored.string()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(info_of(restored) == before);
    CHECK(std::filesystem::exists(dir / "restored.sqlite.photos" / "ab" / std::string(64, 'a')));
}

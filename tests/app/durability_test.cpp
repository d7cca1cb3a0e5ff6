// An acknowledged write survives a crash: `wangge serve` is killed with SIGKILL the moment it has
// answered a write, and the database, opened again by a new process, holds exactly what the
// answer said was written.
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <optional>
#include <string>

using namespace wangge;
using nlohmann::json;

namespace {

using test::wangge_cli;
using Server = test::WanggeServer;

// code -> households of the community's grids, as the server lists them.
std::map<std::string, long> grids_of(test::HttpClient& client, const std::string& community) {
    auto r = client.get("/api/v1/grids?parent=" + community + "&limit=1000");
    REQUIRE(r.status == 200);
    std::map<std::string, long> out;
    const json page = json::parse(r.body);
    for (const auto& f : page["features"])
        out[f["properties"]["code"].get<std::string>()] = f["properties"]["households"].get<long>();
    return out;
}

} // namespace

TEST_CASE("durability: an applied rebalance and its undo survive SIGKILL right after the answer",
          "[cli][http][durability]") {
    test::TempDir dir;
    const auto db = dir / "later.sqlite";
    // Five years on, households have drifted and some grids have left the band.
    auto made = wangge_cli({"demo", db.string(), "--households", "30000", "--seed", "11", "--years-later", "5"});
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    const std::string token = test::cli_token(db, "planner", "admin");
    const test::HttpHeaders json_write{{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}};

    std::string community;
    json proposal;
    std::map<std::string, long> before;
    {
        Server server(db);
        test::HttpClient client(server.port);
        auto list = client.get("/api/v1/communities?limit=1000");
        REQUIRE(list.status == 200);
        const json communities = json::parse(list.body);
        for (const auto& c : communities["features"]) {
            std::string code = c["properties"]["code"].get<std::string>();
            auto p = client.request("POST", "/api/v1/communities/" + code + "/rebalance", "{}",
                                    json_write);
            INFO(p.body);
            REQUIRE(p.status == 200);
            json j = json::parse(p.body);
            if (j["changes"] == true) {
                community = code;
                proposal = j;
                break;
            }
        }
        REQUIRE_FALSE(community.empty()); // five years of drift leave some community to rebalance
        before = grids_of(client, community);

        json body{{"apply", true}, {"base_version", proposal["base_version"]}};
        auto applied = client.request("POST", "/api/v1/communities/" + community + "/rebalance", body.dump(),
                                      json_write);
        REQUIRE(applied.status == 200);
        // Killed at once: nothing after the answer may be needed for the write to last.
        CHECK(server.process.stop(SIGKILL) == 128 + SIGKILL);
    }

    std::map<std::string, long> proposed;
    for (const auto& g : proposal["grids"]) proposed[g["code"].get<std::string>()] = g["households"].get<long>();
    REQUIRE(proposed != before);

    {
        // A new process finds the proposal's grids, and a valid hierarchy.
        auto valid = wangge_cli({"validate", "--db", db.string()});
        INFO(valid.out << valid.err);
        CHECK(valid.exit_code == 0);
        auto history = wangge_cli({"history", "--community", community, "--db", db.string(), "--json"});
        INFO(history.out << history.err);
        REQUIRE(history.exit_code == 0);
        auto changes = json::parse(history.out); // newest first
        REQUIRE(changes.size() == 1);
        CHECK(changes[0]["action"] == "rebalance");

        Server server(db);
        test::HttpClient client(server.port);
        CHECK(grids_of(client, community) == proposed);

        auto undone = client.request("POST", "/api/v1/communities/" + community + "/rebalance/undo", "",
                                     json_write);
        REQUIRE(undone.status == 200);
        CHECK(server.process.stop(SIGKILL) == 128 + SIGKILL);
    }
    {
        Server server(db);
        test::HttpClient client(server.port);
        CHECK(grids_of(client, community) == before);
        CHECK(server.process.stop(SIGTERM) == 0);
    }
}

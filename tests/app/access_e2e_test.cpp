// Access over real HTTP against the wangge binary (docs/SECURITY.md): every role against every
// endpoint family, in and out of its scope; browser sessions with their cross-site defences; the
// bad input of signing in; the audit log; and a server that follows changes the command line
// makes to its file.
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/wangge_cli.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <map>
#include <set>
#include <thread>

using namespace wangge;
using nlohmann::json;
using test::wangge_cli;

namespace {

struct District {
    test::TempDir dir;
    std::filesystem::path db = dir / "d.sqlite";
    std::string a;        // the community the community staff and workers serve
    std::string neighbour; // another community of a's street
    std::string elsewhere; // a community of another street
    std::string grid;     // a grid of a
    std::string neighbour_grid, elsewhere_grid; // a grid of each of the others

    District() {
        auto made = wangge_cli({"demo", db.string(), "--households", "20000", "--seed", "5"});
        INFO(made.out << made.err);
        REQUIRE(made.exit_code == 0);
        test::WanggeServer server(db);
        test::HttpClient client(server.port);
        const json communities = json::parse(client.get("/api/v1/communities?limit=100").body);
        std::vector<std::string> codes;
        for (const auto& c : communities["features"]) codes.push_back(c["properties"]["code"]);
        REQUIRE(codes.size() >= 3);
        a = codes[0];
        for (const auto& c : codes) {
            if (c != a && c.substr(0, 9) == a.substr(0, 9) && neighbour.empty()) neighbour = c;
            if (c.substr(0, 9) != a.substr(0, 9) && elsewhere.empty()) elsewhere = c;
        }
        REQUIRE_FALSE(neighbour.empty());
        REQUIRE_FALSE(elsewhere.empty());
        const json grids = json::parse(client.get("/api/v1/grids?parent=" + a + "&limit=1").body);
        grid = grids["features"][0]["properties"]["code"];
        auto first_grid = [&](const std::string& community) -> std::string {
            return json::parse(client.get("/api/v1/grids?parent=" + community + "&limit=1").body)["features"][0]
                ["properties"]["code"];
        };
        neighbour_grid = first_grid(neighbour);
        elsewhere_grid = first_grid(elsewhere);
        server.process.stop(SIGTERM);
    }
};

test::HttpHeaders bearer(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
}

test::HttpHeaders json_write(const std::string& token) {
    auto h = bearer(token);
    h.emplace_back("Content-Type", "application/json");
    return h;
}

std::string code_of(const test::HttpResponse& r) { return json::parse(r.body).value("code", ""); }

} // namespace

TEST_CASE("access e2e: every role against every endpoint family, in and out of scope", "[cli][http][access]") {
    District d;
    std::map<std::string, std::string> token{
        {"anonymous", ""},
        {"admin", test::cli_token(d.db, "admin", "admin")},
        {"street", test::cli_token(d.db, "street", "street", {d.a.substr(0, 9)})},
        {"community", test::cli_token(d.db, "community", "community", {d.a})},
        {"worker", test::cli_token(d.db, "worker", "worker", {d.grid})},
        {"viewer", test::cli_token(d.db, "viewer", "viewer", {d.a})},
    };
    test::WanggeServer server(d.db);
    test::HttpClient client(server.port);

    const std::string ok = "200", anon = "401", denied = "403";
    struct Row {
        std::string what, method, target;
        std::map<std::string, std::string> expect; // role -> status
    };
    auto all = [](const std::string& s) {
        return std::map<std::string, std::string>{{"anonymous", s}, {"admin", s},  {"street", s},
                                                  {"community", s}, {"worker", s}, {"viewer", s}};
    };
    auto signed_in = [&](const std::string& s) {
        auto m = all(s);
        m["anonymous"] = anon;
        return m;
    };
    const std::string propose = "/api/v1/communities/";
    const std::vector<Row> rows{
        {"map layers", "GET", "/api/v1/grids?parent=" + d.a, all(ok)},
        {"one area", "GET", "/api/v1/communities/" + d.elsewhere, all(ok)},
        {"vector tiles", "GET", "/tiles/grids.json", all(ok)},
        {"OGC API", "GET", "/ogc/collections", all(ok)},
        {"locate", "GET", "/api/v1/locate?lon=118.83&lat=31.97", all(ok)},
        {"web map", "GET", "/healthz", all(ok)},
        {"readiness", "GET", "/readyz", all(ok)},
        {"metrics", "GET", "/metrics",
         {{"anonymous", anon}, {"admin", ok}, {"street", denied}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        {"session", "GET", "/api/v1/session", all(ok)},
        {"validate", "GET", "/api/v1/validate", signed_in(ok)},
        {"history in scope", "GET", "/api/v1/communities/" + d.a + "/history", signed_in(ok)},
        {"history of the neighbour", "GET", "/api/v1/communities/" + d.neighbour + "/history",
         {{"anonymous", anon}, {"admin", ok}, {"street", ok}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        {"history elsewhere", "GET", "/api/v1/communities/" + d.elsewhere + "/history",
         {{"anonymous", anon}, {"admin", ok}, {"street", denied}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        {"proposal in scope", "POST", propose + d.a + "/rebalance",
         {{"anonymous", anon}, {"admin", ok}, {"street", ok}, {"community", ok}, {"worker", denied}, {"viewer", denied}}},
        {"proposal for the neighbour", "POST", propose + d.neighbour + "/rebalance",
         {{"anonymous", anon}, {"admin", ok}, {"street", ok}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        {"proposal elsewhere", "POST", propose + d.elsewhere + "/rebalance",
         {{"anonymous", anon}, {"admin", ok}, {"street", denied}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        // Nothing was applied, so those allowed to undo hear that there is nothing to undo.
        {"undo in scope", "POST", propose + d.a + "/rebalance/undo",
         {{"anonymous", anon}, {"admin", "404"}, {"street", "404"}, {"community", "404"}, {"worker", denied}, {"viewer", denied}}},
        {"audit log", "GET", "/api/v1/audit",
         {{"anonymous", anon}, {"admin", ok}, {"street", denied}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        {"report a case", "POST", "/api/v1/incidents", signed_in("201")},
        {"categories", "GET", "/api/v1/categories", all(ok)},
        {"cases of the community", "GET", "/api/v1/incidents?code=" + d.a,
         {{"anonymous", anon}, {"admin", ok}, {"street", ok}, {"community", ok}, {"worker", denied}, {"viewer", ok}}},
        {"cases of the worker's grid", "GET", "/api/v1/incidents?code=" + d.grid, signed_in(ok)},
        {"cases elsewhere", "GET", "/api/v1/incidents?code=" + d.elsewhere,
         {{"anonymous", anon}, {"admin", ok}, {"street", denied}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        {"supervision list", "GET", "/api/v1/supervision?code=" + d.a,
         {{"anonymous", anon}, {"admin", ok}, {"street", ok}, {"community", ok}, {"worker", denied}, {"viewer", ok}}},
        {"indicators", "GET", "/api/v1/stats?code=" + d.a,
         {{"anonymous", anon}, {"admin", ok}, {"street", ok}, {"community", ok}, {"worker", denied}, {"viewer", ok}}},
        // The layer answers everyone signed in, with the cases each may see (none out at sea).
        {"incidents layer", "GET", "/tiles/incidents/16/0/0.mvt", signed_in("204")},
        {"workers of the worker's grid", "GET", "/api/v1/grids/" + d.grid + "/workers", signed_in(ok)},
        {"workers of a grid of the neighbour", "GET", "/api/v1/grids/" + d.neighbour_grid + "/workers",
         {{"anonymous", anon}, {"admin", ok}, {"street", ok}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
        {"workers of a grid elsewhere", "GET", "/api/v1/grids/" + d.elsewhere_grid + "/workers",
         {{"anonymous", anon}, {"admin", ok}, {"street", denied}, {"community", denied}, {"worker", denied}, {"viewer", denied}}},
    };
    // A report at the worker's grid, which every signed-in role may file.
    const json report{{"category", "0101"}, {"description", "暴露垃圾"}, {"building", 1}};
    for (const auto& row : rows)
        for (const auto& [role, expected] : row.expect) {
            INFO(role << ": " << row.what << " (" << row.method << " " << row.target << ")");
            const std::string body = row.target == "/api/v1/incidents" ? report.dump() : "{}";
            const auto r = row.method == "GET" ? client.request("GET", row.target, {}, bearer(token[role]))
                                               : client.request(row.method, row.target, body, json_write(token[role]));
            INFO(r.body.substr(0, 300));
            CHECK(std::to_string(r.status) == expected);
            if (r.status == 401) {
                CHECK(r.header("www-authenticate").starts_with("Bearer"));
            }
            if (r.status == 403) {
                // The message says who asked and what was needed.
                CHECK(json::parse(r.body)["message"].get<std::string>().find("'" + role + "'") != std::string::npos);
            }
        }

    // Denied and answered writes alike are in the audit log, with who and which area.
    const auto audit = client.request("GET", "/api/v1/audit?code=" + d.elsewhere + "&limit=1000", {}, bearer(token["admin"]));
    REQUIRE(audit.status == 200);
    std::map<std::string, std::set<std::string>> outcomes; // user -> outcomes for proposals elsewhere
    const json entries = json::parse(audit.body)["entries"];
    REQUIRE(entries.size() == 6); // one proposal elsewhere per role; reads are not audited
    for (const auto& e : entries) {
        CHECK(e["codes"][0] == d.elsewhere);
        outcomes[e["user"].get<std::string>()].insert(e["outcome"].get<std::string>());
    }
    CHECK(outcomes["admin"] == std::set<std::string>{"ok"});
    CHECK(outcomes["community"] == std::set<std::string>{"denied"});
    CHECK(outcomes[""] == std::set<std::string>{"denied"}); // anonymous
    CHECK(server.process.stop(SIGTERM) == 0);
}

TEST_CASE("access e2e: a browser session rebalances its own community only, and survives a restart",
          "[cli][http][access]") {
    District d;
    auto added = wangge_cli({"user", "add", "wang", "--role", "community", "--scope", d.a, "--display-name", "王芳",
                             "--password-stdin", "--db", d.db.string()},
                            "a long password\n");
    INFO(added.out << added.err);
    REQUIRE(added.exit_code == 0);
    std::string cookie;
    std::int64_t version = 0;
    {
        test::WanggeServer server(d.db);
        test::HttpClient client(server.port);
        const std::string origin = "http://127.0.0.1:" + std::to_string(server.port);
        const test::HttpHeaders page{{"Content-Type", "application/json"}, {"Origin", origin}};

        auto wrong = client.request("POST", "/api/v1/session", R"({"user": "wang", "password": "wrong"})", page);
        CHECK(wrong.status == 401);
        CHECK(code_of(wrong) == "invalid_credentials");
        CHECK_FALSE(wrong.has_header("set-cookie"));
        auto login = client.request("POST", "/api/v1/session", R"({"user": "wang", "password": "a long password"})", page);
        REQUIRE(login.status == 200);
        const std::string set_cookie = login.header("set-cookie");
        CHECK(set_cookie.find("HttpOnly") != std::string::npos);
        CHECK(set_cookie.find("SameSite=Strict") != std::string::npos);
        CHECK(set_cookie.find("Secure") == std::string::npos); // plain http here
        cookie = set_cookie.substr(0, set_cookie.find(';'));
        REQUIRE(cookie.starts_with("wangge_session="));
        CHECK(json::parse(login.body)["user"]["display_name"] == "王芳");

        auto with = [&](test::HttpHeaders h) {
            h.emplace_back("Cookie", cookie);
            return h;
        };
        version = json::parse(client.get("/healthz").body)["version"];
        // An anonymous cross-site form post (no preflight) changes nothing.
        const std::string apply = R"({"apply": true, "from_scratch": true, "base_version": )" + std::to_string(version) + "}";
        auto forged = client.request("POST", "/api/v1/communities/" + d.a + "/rebalance", apply,
                                     {{"Content-Type", "text/plain"}, {"Origin", "http://attacker.example"}});
        CHECK(forged.status == 415);
        // ... nor with the victim's cookie, in JSON or not, from another origin or none.
        CHECK(client.request("POST", "/api/v1/communities/" + d.a + "/rebalance", apply,
                             with({{"Content-Type", "text/plain"}, {"Origin", "http://attacker.example"}}))
                  .status == 415);
        auto cross = client.request("POST", "/api/v1/communities/" + d.a + "/rebalance", apply,
                                    with({{"Content-Type", "application/json"}, {"Origin", "http://attacker.example"}}));
        CHECK(cross.status == 403);
        CHECK(code_of(cross) == "cross_origin");
        auto no_origin = client.request("POST", "/api/v1/communities/" + d.a + "/rebalance", apply,
                                        with({{"Content-Type", "application/json"}}));
        CHECK(no_origin.status == 403);
        CHECK(code_of(no_origin) == "origin_required");
        auto other_cookie = client.request("POST", "/api/v1/communities/" + d.a + "/rebalance", apply,
                                           {{"Content-Type", "application/json"}, {"Origin", origin},
                                            {"Cookie", "wangge_session=from-another-server"}});
        CHECK(other_cookie.status == 401);
        CHECK(json::parse(client.get("/healthz").body)["version"] == version); // nothing written

        // From its own page: the neighbour is refused, its own community changes.
        auto neighbour = client.request("POST", "/api/v1/communities/" + d.neighbour + "/rebalance", "{}", with(page));
        CHECK(neighbour.status == 403);
        auto applied = client.request("POST", "/api/v1/communities/" + d.a + "/rebalance", apply, with(page));
        INFO(applied.body.substr(0, 300));
        REQUIRE(applied.status == 200);
        CHECK(json::parse(applied.body)["applied"]["version"] == version + 1);
        // A Referer of its own page stands in for a missing Origin.
        auto undone = client.request("POST", "/api/v1/communities/" + d.a + "/rebalance/undo", "{}",
                                     with({{"Content-Type", "application/json"}, {"Referer", origin + "/index.html"}}));
        CHECK(undone.status == 200);
        CHECK(server.process.stop(SIGTERM) == 0);
    }
    {
        // The session is stored, so a restarted server knows it; signing out ends it.
        test::WanggeServer server(d.db);
        test::HttpClient client(server.port);
        const std::string origin = "http://127.0.0.1:" + std::to_string(server.port);
        auto session = client.request("GET", "/api/v1/session", {}, {{"Cookie", cookie}});
        REQUIRE(session.status == 200);
        CHECK(json::parse(session.body)["authenticated"] == true);
        CHECK(json::parse(session.body)["user"]["scopes"][0] == d.a);
        auto out = client.request("DELETE", "/api/v1/session", {}, {{"Cookie", cookie}, {"Origin", origin}});
        CHECK(out.status == 204);
        CHECK(out.header("set-cookie").find("Max-Age=0") != std::string::npos);
        CHECK(json::parse(client.request("GET", "/api/v1/session", {}, {{"Cookie", cookie}}).body)["authenticated"] == false);
        CHECK(server.process.stop(SIGTERM) == 0);
    }
    // Sign-ins, the writes and the refusals are in the audit log, with the address they came from.
    auto audit = wangge_cli({"audit", "--db", d.db.string(), "--json", "--limit", "1000"});
    REQUIRE(audit.exit_code == 0);
    std::multiset<std::string> seen;
    for (const auto& e : json::parse(audit.out)) {
        seen.insert(e["action"].get<std::string>() + " " + e["outcome"].get<std::string>());
        if (e["action"] != "user.add") {
            CHECK(e["address"] == "127.0.0.1");
        }
    }
    CHECK(seen.count("session.sign_in denied") == 1);
    CHECK(seen.count("session.sign_in ok") == 1);
    CHECK(seen.count("rebalance.apply ok") == 1);
    CHECK(seen.count("rebalance.undo ok") == 1);
    CHECK(seen.count("rebalance denied") >= 6);
    CHECK(seen.count("session.sign_out ok") == 1);
}

TEST_CASE("access e2e: bad credentials get clear answers and are limited", "[cli][http][access]") {
    District d;
    const std::string token = test::cli_token(d.db, "app", "street", {d.a.substr(0, 9)});
    auto added = wangge_cli({"user", "add", "li", "--role", "viewer", "--scope", d.a, "--password-stdin", "--db",
                             d.db.string()},
                            "li's password\n");
    REQUIRE(added.exit_code == 0);
    // A scope that names no stored area is refused, and nothing is added.
    auto unknown = wangge_cli({"user", "add", "zhao", "--role", "community", "--scope", d.a.substr(0, 9) + "999",
                               "--no-password", "--db", d.db.string()});
    CHECK(unknown.exit_code != 0);
    CHECK(unknown.err.find("names no stored community") != std::string::npos);

    test::WanggeServer server(d.db);
    test::HttpClient client(server.port);
    const std::string origin = "http://127.0.0.1:" + std::to_string(server.port);
    const test::HttpHeaders page{{"Content-Type", "application/json"}, {"Origin", origin}};
    const std::string target = "/api/v1/communities/" + d.a + "/rebalance";
    CHECK(client.request("POST", target, "{}", json_write(token)).status == 200);

    // Revoked or disabled take effect at once on a running server.
    auto list = wangge_cli({"token", "list", "--json", "--db", d.db.string()});
    const auto id = json::parse(list.out)[0]["id"].get<std::int64_t>();
    CHECK(json::parse(list.out)[0]["last_used_at"] != "");
    REQUIRE(wangge_cli({"user", "disable", "app", "--db", d.db.string()}).exit_code == 0);
    auto disabled = client.request("POST", target, "{}", json_write(token));
    CHECK(disabled.status == 401);
    CHECK(code_of(disabled) == "invalid_token");
    REQUIRE(wangge_cli({"user", "enable", "app", "--db", d.db.string()}).exit_code == 0);
    CHECK(client.request("POST", target, "{}", json_write(token)).status == 200);
    REQUIRE(wangge_cli({"token", "revoke", std::to_string(id), "--db", d.db.string()}).exit_code == 0);
    CHECK(client.request("POST", target, "{}", json_write(token)).status == 401);
    CHECK(client.request("GET", "/api/v1/grids?limit=1", {}, bearer(token)).status == 401); // a bad token is never anonymous
    CHECK(client.request("GET", "/api/v1/grids?limit=1", {}, {{"Authorization", "Basic bGk6eA=="}}).status == 401);

    // An oversized sign-in body, a malformed one, then too many wrong passwords.
    const std::string huge = R"({"user": "li", "password": ")" + std::string(5000, 'x') + "\"}";
    CHECK(client.request("POST", "/api/v1/session", huge, page).status == 413);
    CHECK(client.request("POST", "/api/v1/session", R"({"user": 1})", page).status == 400);
    CHECK(client.request("POST", "/api/v1/session", R"({"user": "li", "password": "x"})",
                         {{"Content-Type", "text/plain"}, {"Origin", origin}})
              .status == 415);
    for (int i = 0; i < 5; ++i)
        CHECK(client.request("POST", "/api/v1/session", R"({"user": "li", "password": "wrong"})", page).status == 401);
    auto limited = client.request("POST", "/api/v1/session", R"({"user": "li", "password": "li's password"})", page);
    CHECK(limited.status == 429);
    CHECK(code_of(limited) == "too_many_attempts");
    CHECK(std::stoi(limited.header("retry-after")) > 0);
    // Another user from the same address is not locked out by li's failures.
    CHECK(server.process.stop(SIGTERM) == 0);
}

TEST_CASE("access e2e: anonymous reads are configurable and hosts a page could rebind are refused", "[cli][http][access]") {
    District d;
    test::WanggeServer server(d.db, {"--anonymous-read", "tiles", "--allowed-host", "grid.example.org"});
    test::HttpClient client(server.port);
    CHECK(client.get("/tiles/grids.json").status == 200);
    CHECK(client.get("/api/v1/grids?limit=1").status == 401);
    CHECK(client.get("/ogc/collections").status == 401);
    CHECK(client.get("/").status == 200); // the map page itself, to sign in from
    const auto session = json::parse(client.get("/api/v1/session").body);
    CHECK(session["authenticated"] == false);
    CHECK(session["anonymous_read"] == json::array({"tiles"}));
    CHECK(client.request("GET", "/healthz", {}, {{"Host", "grid.example.org:443"}}).status == 200);
    auto rebound = client.request("GET", "/healthz", {}, {{"Host", "attacker.example"}});
    CHECK(rebound.status == 400);
    CHECK(code_of(rebound) == "unknown_host");
    CHECK(client.get("/api/v1/grids/%ff").status == 400);
    CHECK(server.process.stop(SIGTERM) == 0);

    auto bad = wangge_cli({"serve", "--db", d.db.string(), "--port", "0", "--anonymous-read", "map,secrets"});
    CHECK(bad.exit_code != 0);
    CHECK(bad.err.find("--anonymous-read") != std::string::npos);
}

TEST_CASE("access e2e: the server follows changes the command line makes to its file", "[cli][http][access]") {
    test::TempDir dir;
    const auto db = dir / "later.sqlite";
    REQUIRE(wangge_cli({"demo", db.string(), "--households", "20000", "--seed", "7", "--years-later", "5"}).exit_code == 0);
    test::WanggeServer server(db, {"--reload-ms", "200"});
    test::HttpClient client(server.port);
    const auto version = json::parse(client.get("/healthz").body)["version"].get<std::int64_t>();
    // Any community whose grids left the band: the command line applies a new division.
    const json communities = json::parse(client.get("/api/v1/communities?limit=100").body);
    bool applied = false;
    for (const auto& c : communities["features"]) {
        auto r = wangge_cli({"rebalance", "--community", c["properties"]["code"], "--db", db.string()});
        if (r.exit_code == 0 && r.out.find("applied:") != std::string::npos) {
            applied = true;
            break;
        }
    }
    REQUIRE(applied);
    std::int64_t seen = version;
    for (int i = 0; i < 50 && seen == version; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        seen = json::parse(client.get("/healthz").body)["version"];
    }
    CHECK(seen == version + 1);
    CHECK(server.process.stop(SIGTERM) == 0);
}

// Filing reports through the Service on the small district: located and dispatched to the
// grid's worker (or to the community or street that answers when there is none), in WGS84,
// GCJ-02 and BD-09; the same Idempotency-Key filed once; likely duplicates named, never merged;
// bad reports refused with nothing written; cases read within scope only; and group commit
// putting concurrent reports into shared transactions.
#include "api/incident_endpoints.hpp"
#include "api/service.hpp"
#include "geo/chinese_crs.hpp"
#include "grid/assign.hpp"
#include "support/accounts.hpp"
#include "support/incident_district.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <thread>

using namespace wangge;
using nlohmann::json;

namespace {

const SystemTime now = *parse_utc("2026-12-04T02:00:00Z"); // 10:00 in China

struct Fixture {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    std::shared_ptr<grid::SnapshotHolder> holder;
    std::shared_ptr<store::GroupCommit> commits;
    std::unique_ptr<api::Service> service;
    std::string admin, worker_token, other_community, viewer, west;
    std::int64_t wang = 0, li = 0;
    SystemTime clock = now; // what the endpoints take as now; tests move it

    Fixture() {
        const test::IncidentDistrict district = test::write_incident_district(path);
        wang = district.wang;
        li = district.li;
        {
            auto db = store::Database::open(path, store::OpenMode::read_write);
            holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db));
        }
        test::TestAccounts accounts(path);
        admin = accounts.token_for("admin", auth::Role::admin);
        worker_token = accounts.token_for("wang", auth::Role::worker, {"320102002001001"});
        other_community = accounts.token_for("east", auth::Role::community, {"320102002002"});
        viewer = accounts.token_for("view", auth::Role::viewer, {"320102002"});
        west = accounts.token_for("west", auth::Role::community, {"320102002001"});
        commits = std::make_shared<store::GroupCommit>(path);
        api::IncidentOptions o;
        o.rules = test::two_category_rules();
        o.clock = [this] { return clock; };
        auto writer = std::make_shared<api::Writer>(path, holder, std::vector<std::shared_ptr<tiles::TileCache>>{});
        api::ServiceOptions so{accounts.accounts, {}, {}};
        so.incident_areas = api::incident_areas_from(writer);
        service = std::make_unique<api::Service>(
            holder,
            std::vector<std::shared_ptr<const api::Endpoints>>{
                std::make_shared<api::IncidentEndpoints>(commits, writer, std::move(o))},
            std::move(so));
    }

    api::Response report(const json& body, const std::string& token, const std::string& key = "") const {
        auto req = test::json_post("/api/v1/incidents", body.dump(), token);
        if (!key.empty()) req.headers.emplace_back("idempotency-key", key);
        return api::wait(service->handle(std::move(req)));
    }
    api::Response get(const std::string& target, const std::string& token) const {
        auto req = api::make_request("GET", target);
        if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
        return api::wait(service->handle(std::move(req)));
    }
};

json at(double lon, double lat, const std::string& crs = "wgs84") { return {{"lon", lon}, {"lat", lat}, {"crs", crs}}; }

json body_of(const api::Response& r) { return json::parse(r.body); }

} // namespace

TEST_CASE("incidents: a report reaches the grid's first-responsible worker with its due time", "[incident][api]") {
    Fixture f;
    const auto r = f.report({{"category", "0101"}, {"description", "暴露垃圾"}, {"location", at(118.802, 32.007)},
                             {"reporter", {{"name", "张三"}, {"phone", "13912345678"}}}},
                            f.viewer);
    INFO(r.body);
    REQUIRE(r.status == 201);
    const json j = body_of(r);
    CHECK(j["state"] == "dispatched");
    CHECK(j["place"]["grid"] == "320102002001001");
    CHECK(j["assignment"]["level"] == "grid");
    CHECK(j["assignment"]["worker"]["name"] == "王芳");
    CHECK(j["reported_at"] == "2026-12-04T02:00:00Z");
    CHECK(j["due_at"] == "2026-12-04T06:00:00Z");
    CHECK(j["source"] == "resident");
    CHECK(j["reporter"]["phone"] == "139****5678"); // a viewer sees it masked
    CHECK(j["likely_duplicates"].empty());
    bool located = false;
    for (const auto& [k, v] : r.headers) located = located || (k == "Location" && v == "/api/v1/incidents/" + std::to_string(j["id"].get<int>()));
    CHECK(located);

    // The worker reads the case with its events and the reporter's phone.
    const auto one = f.get("/api/v1/incidents/" + std::to_string(j["id"].get<int>()), f.worker_token);
    REQUIRE(one.status == 200);
    const json c = body_of(one);
    CHECK(c["reporter"]["phone"] == "13912345678");
    REQUIRE(c["events"].size() == 3);
    CHECK(c["events"][0]["action"] == "report");
    CHECK(c["events"][0]["actor"] == "view");
    CHECK(c["events"][2]["to"] == "dispatched");
    CHECK(c["events"][2]["assignee"] == "王芳");
    // Staff of another community may not read it; nobody anonymous may.
    CHECK(f.get("/api/v1/incidents/" + std::to_string(j["id"].get<int>()), f.other_community).status == 403);
    CHECK(f.get("/api/v1/incidents/" + std::to_string(j["id"].get<int>()), "").status == 401);
    CHECK(f.get("/api/v1/incidents/999", f.admin).status == 404);
}

TEST_CASE("incidents: GCJ-02 and BD-09 positions are converted and places without a worker fall to the community",
          "[incident][api]") {
    Fixture f;
    const LonLat wgs{118.8025, 32.0075};
    const LonLat gcj = geo::wgs84_to_gcj02(wgs);
    const LonLat bd = geo::gcj02_to_bd09(gcj);
    for (const auto& [p, crs] : std::vector<std::pair<LonLat, std::string>>{{gcj, "gcj02"}, {bd, "bd09"}}) {
        INFO(crs);
        const auto r = f.report({{"category", "0101"}, {"description", "d"}, {"location", at(p.lon, p.lat, crs)}}, f.admin);
        REQUIRE(r.status == 201);
        const json j = body_of(r);
        CHECK(j["place"]["grid"] == "320102002001001");
        CHECK(std::abs(j["location"]["lon"].get<double>() - wgs.lon) < 2e-5);
        CHECK(std::abs(j["location"]["lat"].get<double>() - wgs.lat) < 2e-5);
        CHECK(j["location"]["reported_crs"] == crs);
    }
    // Grid 001002 has no worker: its community answers. The gap of 东社区: the community too.
    auto j = body_of(f.report({{"category", "0101"}, {"description", "d"}, {"location", at(118.805, 32.002)}}, f.admin));
    CHECK(j["assignment"]["level"] == "community");
    CHECK(j["assignment"]["code"] == "320102002001");
    CHECK(j["assignment"]["reason"].get<std::string>().find("no worker") != std::string::npos);
    j = body_of(f.report({{"category", "0101"}, {"description", "d"}, {"location", at(118.8175, 32.0025)}}, f.admin));
    CHECK(j["place"]["status"] == "no_grid");
    CHECK(j["assignment"]["code"] == "320102002002");
    // A community-level category skips the grid's worker.
    j = body_of(f.report({{"category", "1101"}, {"description", "d"}, {"location", at(118.802, 32.007)}}, f.admin));
    CHECK(j["assignment"]["level"] == "community");
    // Far outside everything: the nearest grid's street, never nobody.
    j = body_of(f.report({{"category", "0101"}, {"description", "d"}, {"location", at(118.70, 32.007)}}, f.admin));
    CHECK(j["place"]["status"] == "not_covered");
    CHECK(j["assignment"]["level"] == "street");
    CHECK(j["assignment"]["code"] == "320102002");
    // On the shared edge of the two grids of 西社区: the smaller code, as locate answers.
    j = body_of(f.report({{"category", "0101"}, {"description", "d"}, {"location", at(118.805, 32.005)}}, f.admin));
    CHECK(j["place"]["grid"] == "320102002001001");
}

TEST_CASE("incidents: one Idempotency-Key files one case and duplicates nearby are named, not merged", "[incident][api]") {
    Fixture f;
    const json report{{"category", "0101"}, {"description", "垃圾"}, {"location", at(118.802, 32.007)}};
    const auto first = f.report(report, f.admin, "phone-42-0001");
    REQUIRE(first.status == 201);
    const auto retry = f.report(report, f.admin, "phone-42-0001");
    REQUIRE(retry.status == 200);
    CHECK(body_of(retry)["id"] == body_of(first)["id"]);
    CHECK(body_of(retry)["replayed"] == true);
    const auto clash = f.report({{"category", "0101"}, {"description", "另一件事"}, {"location", at(118.802, 32.007)}},
                                f.admin, "phone-42-0001");
    CHECK(clash.status == 409);
    CHECK(body_of(clash)["code"] == "idempotency_key_reused");

    // 20 m away, same category: named as a likely duplicate; another category is not.
    const auto near = body_of(f.report({{"category", "0101"}, {"description", "又见垃圾"}, {"location", at(118.8022, 32.007)}}, f.admin));
    REQUIRE(near["likely_duplicates"].size() == 1);
    CHECK(near["likely_duplicates"][0]["id"] == body_of(first)["id"]);
    CHECK(near["likely_duplicates"][0]["distance_m"].get<double>() < 50);
    CHECK(near["id"] != body_of(first)["id"]);
    CHECK(body_of(f.report({{"category", "1101"}, {"description", "x"}, {"location", at(118.8022, 32.007)}}, f.admin))
              ["likely_duplicates"].empty());

    const auto listed = f.get("/api/v1/incidents?code=320102002001001", f.worker_token);
    REQUIRE(listed.status == 200);
    CHECK(body_of(listed)["incidents"].size() == 3);
    CHECK(f.get("/api/v1/incidents", f.worker_token).status == 403); // name an area
    CHECK(f.get("/api/v1/incidents?code=320102002002", f.worker_token).status == 403);
    CHECK(body_of(f.get("/api/v1/incidents", f.admin))["incidents"].size() == 3);
}

TEST_CASE("incidents: bad reports are refused and write nothing", "[incident][api]") {
    Fixture f;
    auto code = [&](const json& body) { return body_of(f.report(body, f.admin))["code"].get<std::string>(); };
    CHECK(code({{"category", "9999"}, {"description", "d"}, {"location", at(118.802, 32.007)}}) == "unknown_category");
    CHECK(code({{"category", "0101"}, {"description", "d"}}) == "invalid_body");
    CHECK(code({{"category", "0101"}, {"description", "d"}, {"location", at(118.802, 32.007)}, {"building", 1}}) == "invalid_body");
    CHECK(code({{"category", "0101"}, {"description", "d"}, {"location", at(218.0, 32.0)}}) == "out_of_range");
    CHECK(code({{"category", "0101"}, {"description", "d"}, {"location", at(118.8, 32.0, "mars")}}) == "invalid_crs");
    CHECK(code({{"category", "0101"}, {"description", std::string(3000, 'x')}, {"location", at(118.802, 32.007)}}) == "too_long");
    CHECK(code({{"category", "0101"}, {"description", "d"}, {"building", 99999}}) == "unknown_building");
    CHECK(code({{"category", "0101"}, {"description", "d"}, {"urgency", "soon"}, {"location", at(118.802, 32.007)}}) == "invalid_body");
    CHECK(f.report({{"category", "0101"}, {"description", "d"}, {"location", at(118.802, 32.007)}}, "").status == 401);
    CHECK(body_of(f.get("/api/v1/incidents", f.admin))["incidents"].empty());
    // A building's report lands where the building is.
    const auto b = f.report({{"category", "0101"}, {"description", "d"}, {"building", 1}, {"urgency", "紧急"}}, f.admin);
    REQUIRE(b.status == 201);
    CHECK(body_of(b)["place"]["grid"] == "320102002001001");
    CHECK(body_of(b)["due_at"] == "2026-12-04T03:00:00Z");
}

TEST_CASE("incidents: concurrent reports share transactions, each answered once committed", "[incident][api]") {
    Fixture f;
    constexpr int threads = 8, each = 25;
    std::vector<std::thread> pool;
    std::atomic<int> created{0};
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            for (int i = 0; i < each; ++i)
                if (f.report({{"category", "0101"}, {"description", "d"}, {"location", at(118.802 + t * 1e-3, 32.007)}},
                             f.admin, "k-" + std::to_string(t) + "-" + std::to_string(i))
                        .status == 201)
                    ++created;
        });
    for (auto& t : pool) t.join();
    CHECK(created == threads * each);
    CHECK(f.commits->jobs() == threads * each);
    CHECK(f.commits->commits() < f.commits->jobs()); // some commits carried several reports
    auto db = store::Database::open(f.path, store::OpenMode::read_only);
    store::Database::IncidentFilter all;
    all.limit = 1000;
    CHECK(db->list_incidents(all).size() == threads * each);
}

TEST_CASE("incidents: the workflow over HTTP, each step by whom the table allows, logged", "[incident][api]") {
    Fixture f;
    const auto filed = f.report({{"category", "0101"}, {"description", "垃圾"}, {"location", at(118.802, 32.007)}}, f.viewer);
    REQUIRE(filed.status == 201);
    const std::string id = std::to_string(body_of(filed)["id"].get<int>());
    auto step = [&](const json& body, const std::string& token) {
        auto req = test::json_post("/api/v1/incidents/" + id + "/transitions", body.dump(), token);
        return api::wait(f.service->handle(std::move(req)));
    };
    // The handler (王芳's account) sees its next step.
    const json seen = body_of(f.get("/api/v1/incidents/" + id, f.worker_token));
    CHECK(std::find(seen["next_steps"].begin(), seen["next_steps"].end(), "start") != seen["next_steps"].end());

    CHECK(step({{"action", "start"}}, f.viewer).status == 403);
    CHECK(step({{"action", "start"}}, f.other_community).status == 403);
    CHECK(step({{"action", "start"}}, "").status == 401);
    CHECK(step({{"action", "close"}}, f.west).status == 409); // not from dispatched
    CHECK(body_of(step({{"action", "suspend"}, {"note", "无法处理"}}, f.admin))["code"] == "illegal_transition");
    CHECK(step({{"action", "fly"}}, f.west).status == 400);

    auto r = step({{"action", "start"}}, f.worker_token);
    INFO(r.body);
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["state"] == "in_progress");
    r = step({{"action", "extend"}, {"due_at", "2026-12-04T05:00:00Z"}, {"note", "需协调"}}, f.west);
    CHECK(body_of(r)["code"] == "due_at_not_later");
    r = step({{"action", "extend"}, {"due_at", "2026-12-07T09:00:00Z"}, {"note", "需协调物业"}}, f.west);
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["due_at"] == "2026-12-07T09:00:00Z");
    r = step({{"action", "reassign"}, {"worker", f.li}}, f.west);
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["assignment"]["worker"] == f.li);
    CHECK(body_of(r)["event"]["assignee"] == "李强");
    // 王芳 is no longer the handler; community staff act on 李强's behalf.
    CHECK(step({{"action", "start"}}, f.worker_token).status == 403);
    REQUIRE(step({{"action", "start"}}, f.west).status == 200);
    REQUIRE(step({{"action", "feedback"}, {"note", "已清理"}}, f.west).status == 200);
    r = step({{"action", "rework"}, {"note", "仍有残留"}}, f.west);
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["state"] == "in_progress");
    REQUIRE(step({{"action", "feedback"}, {"note", "已清理干净"}}, f.west).status == 200);
    REQUIRE(step({{"action", "verify"}}, f.west).status == 200);
    CHECK(body_of(step({{"action", "close"}, {"rating", 9}}, f.west))["code"] == "invalid_rating");
    // A rating that would wrap to 1 in an int is refused, not taken as 1.
    CHECK(step({{"action", "close"}, {"rating", 4294967297LL}}, f.west).status == 400);
    r = step({{"action", "close"}, {"rating", 5}}, f.west);
    REQUIRE(r.status == 200);
    CHECK(body_of(r)["state"] == "closed");
    CHECK(body_of(r)["closed_at"] == "2026-12-04T02:00:00Z");
    CHECK(body_of(r)["next_steps"].empty());

    const json c = body_of(f.get("/api/v1/incidents/" + id, f.admin));
    std::vector<std::string> actions;
    for (const auto& e : c["events"]) actions.push_back(e["action"]);
    CHECK(actions == std::vector<std::string>{"report", "accept", "dispatch", "start", "extend", "reassign", "start",
                                              "feedback", "rework", "feedback", "verify", "close"});
    CHECK(c["events"][4]["note"] == "需协调物业");
    CHECK(c["events"][4]["actor"] == "west");
    auto db = store::Database::open(f.path, store::OpenMode::read_write);
    CHECK_THROWS_WITH(db->exec("DELETE FROM incident_events"), Catch::Contains("append-only"));
    CHECK(db->find_incident(std::stoll(id))->reworks == 1);
    CHECK(db->find_incident(std::stoll(id))->rating == 5);
}

TEST_CASE("incidents: traffic lights in working time, stepped escalation, the supervision list and the indicators",
          "[incident][api]") {
    Fixture f;
    // Filed at 10:00 China time, due 4 hours later by the clock (14:00): the default calendar's
    // working time in between is 10:00-12:00 and 13:30-14:00, 150 minutes.
    const auto a = body_of(f.report({{"category", "0101"}, {"description", "a"}, {"location", at(118.802, 32.007)}}, f.admin));
    const auto b = body_of(f.report({{"category", "0101"}, {"description", "b"}, {"location", at(118.803, 32.007)}}, f.admin));
    const std::string ida = std::to_string(a["id"].get<int>()), idb = std::to_string(b["id"].get<int>());
    CHECK(body_of(f.get("/api/v1/incidents/" + ida, f.admin))["light"] == "green");
    CHECK(body_of(f.get("/api/v1/supervision?code=320102002001", f.west))["cases"].empty());

    // Case a is handled and closed at 11:00, on time.
    f.clock = *parse_utc("2026-12-04T03:00:00Z");
    for (const json& step : {json{{"action", "start"}}, json{{"action", "feedback"}, {"note", "ok"}}, json{{"action", "verify"}},
                             json{{"action", "close"}, {"rating", 4}}})
        REQUIRE(api::wait(f.service->handle(test::json_post("/api/v1/incidents/" + ida + "/transitions", step.dump(), f.west))).status == 200);

    f.clock = *parse_utc("2026-12-04T05:50:00Z"); // 13:50: 140 of 150 working minutes used
    json one = body_of(f.get("/api/v1/incidents/" + idb, f.admin));
    CHECK(one["light"] == "yellow");
    CHECK(one["escalation"] == "grid_leader");
    CHECK_FALSE(body_of(f.get("/api/v1/incidents/" + ida, f.admin)).contains("light")); // closed
    f.clock = *parse_utc("2026-12-04T06:30:00Z"); // 14:30: overdue by 30 working minutes
    one = body_of(f.get("/api/v1/incidents/" + idb, f.admin));
    CHECK(one["light"] == "red");
    CHECK(one["escalation"] == "community");
    f.clock = *parse_utc("2026-12-05T02:00:00Z"); // the next morning: overdue by more than its limit
    one = body_of(f.get("/api/v1/incidents/" + idb, f.admin));
    CHECK(one["escalation"] == "street");
    const json watch = body_of(f.get("/api/v1/supervision?code=320102002001", f.west));
    REQUIRE(watch["cases"].size() == 1);
    CHECK(watch["cases"][0]["id"] == b["id"]);
    CHECK(f.get("/api/v1/supervision?code=320102002002", f.west).status == 403);

    // Both cases count in December: a closed on time, b open past its due time.
    const auto stats = f.get("/api/v1/stats?code=320102002001&from=2026-12-01&to=2026-12-10&by=grid", f.west);
    REQUIRE(stats.status == 200);
    const json s = body_of(stats);
    CHECK(s["total"]["due"] == 2);
    CHECK(s["total"]["closed"] == 1);
    CHECK(s["total"]["closed_on_time"] == 1);
    CHECK(s["total"]["closing_rate"] == 0.5);
    CHECK(s["total"]["on_time_rate"] == 0.5);
    CHECK(s["total"]["satisfaction_rate"] == 1.0);
    CHECK(s["total"]["mean_handling_hours"] == 1.0); // accepted 10:00, closed 11:00
    REQUIRE(s["groups"].size() == 1);
    CHECK(s["groups"][0]["key"] == "320102002001001");
    const auto csv = f.get("/api/v1/stats?code=320102002001&from=2026-12-01&to=2026-12-10&by=grid&format=csv", f.west);
    REQUIRE(csv.status == 200);
    CHECK(csv.content_type == "text/csv; charset=utf-8");
    CHECK(csv.body.starts_with("grid,due,closed,closed_on_time,closing_rate,on_time_rate"));
    CHECK(csv.body.find("\"total\",2,1,1,0.5,0.5") != std::string::npos);
    CHECK(f.get("/api/v1/stats?code=320102002001&by=galaxy", f.west).status == 400);
    CHECK(f.get("/api/v1/stats?code=320102002002", f.west).status == 403);
}

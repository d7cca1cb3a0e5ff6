// What the web map shows of cases, through the Service on the small district: the incidents
// layer (signed in only; each user's tile holds exactly the cases the one scope rule lets that
// user see; open cases unless closed=true; lights; clusters), a grid's workers in rank order
// with phones masked for viewers, and the store's notion of an open case.
#include "api/incident_endpoints.hpp"
#include "api/incident_map_endpoints.hpp"
#include "api/service.hpp"
#include "incident/types.hpp"
#include "support/accounts.hpp"
#include "support/incident_district.hpp"
#include "support/temp_dir.hpp"
#include "tiles/mvt_decoder.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

using namespace wangge;
using nlohmann::json;
namespace dec = test::mvt;

namespace {

const SystemTime now = *parse_utc("2026-12-04T02:00:00Z"); // 10:00 in China, a Friday

// Case A lies in grid 320102002001001 (王芳's), B in grid 320102002001002 (no workers: the west
// community answers), C in the gap of the east community (no grid: that community answers).
constexpr LonLat at_a{118.802, 32.007}, at_b{118.802, 32.002}, at_c{118.817, 32.002};

struct Fixture {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    std::shared_ptr<store::GroupCommit> commits;
    std::unique_ptr<api::Service> service;
    // wang: worker of A's grid; zhao: worker of B's grid; west, east: community staff; viewer:
    // a viewer of the street; admin.
    std::map<std::string, std::string> token;
    std::int64_t a = 0, b = 0, c = 0;
    SystemTime clock = now;

    Fixture() {
        const test::IncidentDistrict district = test::write_incident_district(path);
        std::shared_ptr<grid::SnapshotHolder> holder;
        {
            auto db = store::Database::open(path, store::OpenMode::read_write);
            holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db));
            store::Transaction tx(*db);
            auto wang = *db->find_worker(district.wang);
            wang.phone = "13912345678";
            wang.role = "grid_leader";
            db->update_worker(wang);
            auto li = *db->find_worker(district.li);
            li.phone = "13800001111";
            li.on_duty = false;
            db->update_worker(li);
            tx.commit();
        }
        test::TestAccounts accounts(path);
        token["admin"] = accounts.token_for("admin", auth::Role::admin);
        token["wang"] = accounts.token_for("wang", auth::Role::worker, {"320102002001001"});
        token["zhao"] = accounts.token_for("zhao", auth::Role::worker, {"320102002001002"});
        token["west"] = accounts.token_for("west", auth::Role::community, {"320102002001"});
        token["east"] = accounts.token_for("east", auth::Role::community, {"320102002002"});
        token["viewer"] = accounts.token_for("viewer", auth::Role::viewer, {"320102002"});
        commits = std::make_shared<store::GroupCommit>(path);
        api::IncidentOptions o;
        o.rules = test::two_category_rules();
        o.clock = [this] { return clock; };
        auto writer = std::make_shared<api::Writer>(path, holder, std::vector<std::shared_ptr<tiles::TileCache>>{});
        api::ServiceOptions so{accounts.accounts, {}, {}};
        so.incident_areas = api::incident_areas_from(writer);
        service = std::make_unique<api::Service>(
            holder,
            std::vector<std::shared_ptr<const api::Endpoints>>{std::make_shared<api::IncidentEndpoints>(commits, writer, o),
                                                              std::make_shared<api::IncidentMapEndpoints>(writer, o)},
            std::move(so));
        a = report(at_a);
        b = report(at_b);
        c = report(at_c);
    }

    std::int64_t report(LonLat p) const {
        const json body{{"category", "0101"},
                        {"description", "暴露垃圾"},
                        {"location", {{"lon", p.lon}, {"lat", p.lat}}},
                        {"reporter", {{"name", "张三"}, {"phone", "13712345678"}}}};
        const auto r = api::wait(service->handle(test::json_post("/api/v1/incidents", body.dump(), token.at("admin"))));
        INFO(r.body);
        REQUIRE(r.status == 201);
        return json::parse(r.body)["id"].get<std::int64_t>();
    }
    api::Response get(const std::string& target, const std::string& who) const {
        auto req = api::make_request("GET", target);
        if (!who.empty()) req.headers.emplace_back("authorization", "Bearer " + token.at(who));
        return api::wait(service->handle(std::move(req)));
    }
    void step(std::int64_t id, const json& body, const std::string& who) const {
        const auto r = api::wait(service->handle(
            test::json_post("/api/v1/incidents/" + std::to_string(id) + "/transitions", body.dump(), token.at(who))));
        INFO(r.body);
        REQUIRE(r.status == 200);
    }
};

std::string tile_path(const tiles::TileId& t) { return "/tiles/incidents/" + tiles::to_string(t) + ".mvt"; }

std::string header_of(const api::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "";
}

// The features of an incidents tile (none for a 204).
std::vector<dec::Feature> features_of(const api::Response& r) {
    INFO(r.body);
    REQUIRE((r.status == 200 || r.status == 204));
    if (r.status == 204) return {};
    CHECK(r.content_type == "application/vnd.mapbox-vector-tile");
    const auto layers = dec::decode(r.body);
    REQUIRE(layers.size() == 1);
    REQUIRE(layers[0].name == "incidents");
    return layers[0].features;
}

// The cases a tile shows: ids of single cases, and how many in clusters.
struct Seen {
    std::set<std::int64_t> ids;
    std::int64_t clustered = 0;
    std::int64_t total() const { return static_cast<std::int64_t>(ids.size()) + clustered; }
};
Seen seen_in(const api::Response& r) {
    Seen s;
    for (const auto& f : features_of(r)) {
        if (f.has("count")) s.clustered += f.integer("count");
        else s.ids.insert(f.integer("id"));
    }
    return s;
}

} // namespace

TEST_CASE("incident map: the incidents tile needs a signed-in user, is 204 when empty, 400 when malformed",
          "[incident][api][tiles]") {
    Fixture f;
    const tiles::TileId near_a = tiles::tile_at(at_a, 16);
    const auto anonymous = f.get(tile_path(near_a), "");
    CHECK(anonymous.status == 401);
    CHECK(json::parse(anonymous.body)["code"] == "unauthorized");

    const auto empty = f.get("/tiles/incidents/16/0/0.mvt", "admin");
    CHECK(empty.status == 204);
    CHECK(empty.body.empty());
    CHECK(header_of(empty, "Cache-Control") == "private, no-store");
    const auto full = f.get(tile_path(near_a), "admin");
    REQUIRE(full.status == 200);
    CHECK(header_of(full, "Cache-Control") == "private, no-store");

    for (const std::string bad : {"/tiles/incidents/16/1.mvt", "/tiles/incidents/21/0/0.mvt", "/tiles/incidents/3/9/0.mvt",
                                  "/tiles/incidents/a/b/c.mvt", "/tiles/incidents/1/0/0.png",
                                  "/tiles/incidents/16/0/0.mvt?closed=maybe"}) {
        INFO(bad);
        const auto r = f.get(bad, "admin");
        CHECK(r.status == 400);
    }
    auto post = test::json_post(tile_path(near_a), "{}", f.token.at("admin"));
    CHECK(api::wait(f.service->handle(std::move(post))).status == 405);
}

TEST_CASE("incident map: each user's tile holds exactly the cases that user may see", "[incident][api][tiles]") {
    Fixture f;
    // One z12 tile holds all three cases, clustered; a z16 tile holds case A alone.
    const tiles::TileId district = tiles::tile_at(at_a, 12);
    REQUIRE(tiles::tile_at(at_b, 12) == district);
    REQUIRE(tiles::tile_at(at_c, 12) == district);
    const std::map<std::string, std::int64_t> expected{{"admin", 3}, {"viewer", 3}, {"west", 2},
                                                       {"east", 1},  {"wang", 1},   {"zhao", 1}};
    for (const auto& [who, count] : expected) {
        INFO(who);
        CHECK(seen_in(f.get(tile_path(district), who)).total() == count);
    }
    // Alone in their cells, single cases show as themselves: the worker of another grid sees its
    // own grid's case and nothing of A's grid.
    CHECK(seen_in(f.get(tile_path(district), "wang")).ids == std::set<std::int64_t>{f.a});
    CHECK(seen_in(f.get(tile_path(district), "zhao")).ids == std::set<std::int64_t>{f.b});
    CHECK(seen_in(f.get(tile_path(district), "east")).ids == std::set<std::int64_t>{f.c});

    const tiles::TileId near_a = tiles::tile_at(at_a, 16);
    CHECK(f.get(tile_path(near_a), "zhao").status == 204);
    CHECK(f.get(tile_path(near_a), "east").status == 204);
    const auto mine = features_of(f.get(tile_path(near_a), "wang"));
    REQUIRE(mine.size() == 1);
    CHECK(mine[0].id == static_cast<std::uint64_t>(f.a));
    CHECK(mine[0].text("category") == "0101");
    CHECK(mine[0].text("state") == "dispatched");
    CHECK(mine[0].text("light") == "green");
    CHECK(mine[0].text("due") == "2026-12-04T06:00:00Z");

    // Past its due time (14:00 China time) the case is red on the map, as in the API.
    f.clock = *parse_utc("2026-12-04T07:00:00Z");
    CHECK(features_of(f.get(tile_path(near_a), "wang"))[0].text("light") == "red");
    const auto cluster = features_of(f.get(tile_path(district), "west"));
    for (const auto& feature : cluster) CHECK(feature.text("light") == "red");
}

TEST_CASE("incident map: closed cases leave the layer unless closed=true, and the open list", "[incident][api][tiles]") {
    Fixture f;
    const tiles::TileId near_a = tiles::tile_at(at_a, 16);
    for (const json& step : {json{{"action", "start"}}, json{{"action", "feedback"}, {"note", "已清理"}},
                             json{{"action", "verify"}}, json{{"action", "close"}}})
        f.step(f.a, step, "west");
    CHECK(f.get(tile_path(near_a), "wang").status == 204);
    CHECK(f.get(tile_path(near_a) + "?closed=false", "wang").status == 204);
    const auto closed = features_of(f.get(tile_path(near_a) + "?closed=true", "wang"));
    REQUIRE(closed.size() == 1);
    CHECK(closed[0].id == static_cast<std::uint64_t>(f.a));
    CHECK(closed[0].text("state") == "closed");
    CHECK_FALSE(closed[0].has("light"));
    // The closed filter keeps to the user's scope too.
    CHECK(f.get(tile_path(near_a) + "?closed=true", "zhao").status == 204);

    // The grid panel's list of open cases.
    const auto open = json::parse(f.get("/api/v1/incidents?code=320102002001&open=true", "west").body);
    REQUIRE(open["incidents"].size() == 1);
    CHECK(open["incidents"][0]["id"] == f.b);
    CHECK(json::parse(f.get("/api/v1/incidents?code=320102002001", "west").body)["incidents"].size() == 2);
    CHECK(f.get("/api/v1/incidents?code=320102002001&open=yes", "west").status == 400);
}

TEST_CASE("incident map: a grid's workers in rank order, phones masked for viewers", "[incident][api]") {
    Fixture f;
    const std::string target = "/api/v1/grids/320102002001001/workers";
    const auto r = f.get(target, "wang");
    INFO(r.body);
    REQUIRE(r.status == 200);
    const json j = json::parse(r.body);
    CHECK(j["grid"] == "320102002001001");
    REQUIRE(j["workers"].size() == 2);
    const json& first = j["workers"][0];
    CHECK(first["name"] == "王芳");
    CHECK(first["rank"] == 1);
    CHECK(first["first_responsible"] == true);
    CHECK(first["role"] == "grid_leader");
    CHECK(first["on_duty"] == true);
    CHECK(first["phone"] == "13912345678");
    const json& second = j["workers"][1];
    CHECK(second["name"] == "李强");
    CHECK(second["rank"] == 2);
    CHECK(second["first_responsible"] == false);
    CHECK(second["on_duty"] == false);
    CHECK(second["phone"] == "13800001111");

    // A viewer sees who they are, not how to call them; so with the reporters of cases.
    const json masked = json::parse(f.get(target, "viewer").body);
    CHECK(masked["workers"][0]["phone"] == "139****5678");
    CHECK(masked["workers"][1]["phone"] == "138****1111");
    CHECK(json::parse(f.get("/api/v1/incidents/" + std::to_string(f.a), "viewer").body)["reporter"]["phone"] ==
          "137****5678");
    CHECK(json::parse(f.get("/api/v1/incidents/" + std::to_string(f.a), "west").body)["reporter"]["phone"] ==
          "13712345678");

    // Who may: as for the grid's cases.
    CHECK(f.get(target, "").status == 401);
    CHECK(f.get(target, "admin").status == 200);
    CHECK(f.get(target, "west").status == 200);
    CHECK(f.get(target, "zhao").status == 403);
    CHECK(f.get(target, "east").status == 403);
    CHECK(json::parse(f.get("/api/v1/grids/320102002001002/workers", "zhao").body)["workers"].empty());
    CHECK(f.get("/api/v1/grids/320102002001009/workers", "admin").status == 404);
    CHECK(f.get("/api/v1/grids/320102002001/workers", "admin").status == 422);
}

TEST_CASE("incident map: the store's open cases are the workflow's open states", "[incident][api][store]") {
    Fixture f;
    auto db = store::Database::open(f.path, store::OpenMode::read_write);
    std::set<std::int64_t> open{f.a, f.b, f.c}, all{f.a, f.b, f.c};
    {
        store::Transaction tx(*db);
        auto row = *db->find_incident(f.a);
        for (auto s : {incident::State::reported, incident::State::accepted, incident::State::dispatched,
                       incident::State::in_progress, incident::State::handled, incident::State::verified,
                       incident::State::closed, incident::State::invalid, incident::State::suspended}) {
            row.state = std::string(incident::to_string(s));
            row.idempotency_key.reset();
            const std::int64_t id = db->insert_incident(row);
            all.insert(id);
            if (incident::is_open(s)) open.insert(id);
        }
        tx.commit();
    }
    const BBox street{118.80, 32.00, 118.82, 32.01};
    std::set<std::int64_t> got;
    for (const auto& r : db->incidents_in(street, false)) got.insert(r.id);
    CHECK(got == open);
    got.clear();
    for (const auto& r : db->incidents_in(street, true)) got.insert(r.id);
    CHECK(got == all);
    store::Database::IncidentFilter filter;
    filter.open_only = true;
    filter.limit = 1000;
    got.clear();
    for (const auto& r : db->list_incidents(filter)) got.insert(r.id);
    CHECK(got == open);
    // The box is a box: nothing of the west community's cases east of it.
    got.clear();
    for (const auto& r : db->incidents_in({118.81, 32.00, 118.82, 32.01}, true)) got.insert(r.id);
    CHECK(got == std::set<std::int64_t>{f.c});
}

TEST_CASE("incident map: a case's next steps for the signed-in user and what each needs", "[incident][api]") {
    Fixture f;
    const std::string target = "/api/v1/incidents/" + std::to_string(f.a);
    // The handler (王芳's account) starts or sends back; sending back needs a reason.
    const json handler = json::parse(f.get(target, "wang").body);
    CHECK(handler["next_steps"] == json::array({"start", "send_back"}));
    CHECK(handler["step_needs"] == json{{"start", json::array()}, {"send_back", json::array({"note"})}});
    // Community staff in scope: also reassign (to a worker), extend (a reason and a due time), void.
    const json staff = json::parse(f.get(target, "west").body);
    CHECK(staff["step_needs"]["reassign"] == json::array({"worker"}));
    CHECK(staff["step_needs"]["extend"] == json::array({"note", "due_at"}));
    CHECK(staff["step_needs"]["invalidate"] == json::array({"note"}));
    CHECK(staff["next_steps"].size() == staff["step_needs"].size());
    // A viewer reads the case and may take no step.
    const json viewer = json::parse(f.get(target, "viewer").body);
    CHECK(viewer["next_steps"].empty());
    CHECK(viewer["step_needs"].empty());
    // A step's answer carries the next ones.
    auto r = api::wait(f.service->handle(test::json_post(target + "/transitions", json{{"action", "start"}}.dump(), f.token.at("wang"))));
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body)["next_steps"] == json::array({"feedback", "send_back"}));
}

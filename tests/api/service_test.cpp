#include "api/rest.hpp"
#include "api/service.hpp"
#include "grid/assign.hpp"
#include "support/small_service.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <thread>

using namespace wangge;
using nlohmann::json;

namespace {
struct Fixture : test::SmallService {
    Fixture() : SmallService({std::make_shared<api::RestEndpoints>()}) {}
    api::Response get(const std::string& target, const std::string& method = "GET") const {
        auto req = api::make_request(method, target);
        req.headers.emplace_back("host", "example.test");
        return service->handle(req);
    }
    json get_json(const std::string& target, int expected_status = 200) const {
        auto r = get(target);
        INFO(target << " -> " << r.body);
        REQUIRE(r.status == expected_status);
        return json::parse(r.body);
    }
};
} // namespace

TEST_CASE("api: healthz reports the snapshot", "[api]") {
    Fixture f;
    auto j = f.get_json("/healthz");
    CHECK(j["status"] == "ok");
    CHECK(j["grids"] == 3);
    CHECK(j["version"] == 2);
}

TEST_CASE("api: readyz is ready while the database answers, 503 with the reason when it does not", "[api]") {
    Fixture ready;
    auto j = ready.get_json("/readyz");
    CHECK(j["status"] == "ready");
    CHECK(j["version"] == 2);

    bool answers = false;
    test::SmallService probed({std::make_shared<api::RestEndpoints>([&answers]() -> std::optional<std::string> {
        if (answers) return std::nullopt;
        return std::string("the database does not answer");
    })});
    auto req = api::make_request("GET", "/readyz");
    req.headers.emplace_back("host", "example.test");
    auto r = probed.service->handle(req);
    CHECK(r.status == 503);
    CHECK(json::parse(r.body)["code"] == "not_ready");
    CHECK(json::parse(r.body)["message"] == "the database does not answer");
    CHECK(std::find(r.headers.begin(), r.headers.end(), std::pair<std::string, std::string>{"Retry-After", "1"}) !=
          r.headers.end());
    req = api::make_request("GET", "/healthz"); // the map is still served
    req.headers.emplace_back("host", "example.test");
    CHECK(probed.service->handle(req).status == 200);
    answers = true;
    req = api::make_request("GET", "/readyz");
    req.headers.emplace_back("host", "example.test");
    CHECK(probed.service->handle(req).status == 200);
}

TEST_CASE("api: locate answers with street, community and grid", "[api]") {
    Fixture f;
    auto j = f.get_json("/api/v1/locate?lon=118.802&lat=32.008");
    CHECK(j["status"] == "grid");
    CHECK(j["grid"]["code"] == "320102002001001");
    CHECK(j["grid"]["kind"] == "residential");
    CHECK(j["community"]["name"] == "西社区");
    CHECK(j["street"]["code"] == "320102002");
    auto gap = f.get_json("/api/v1/locate?lon=118.818&lat=32.005");
    CHECK(gap["status"] == "no_grid");
    CHECK(gap["grid"].is_null());
    CHECK(gap["community"]["code"] == "320102002002");
    auto out = f.get_json("/api/v1/locate?lon=118.805&lat=31.99");
    CHECK(out["status"] == "not_covered");
    CHECK(out["nearest_grid"]["code"] == "320102002001002");
    CHECK(out["nearest_grid"]["distance_m"].get<double>() == Approx(1109).epsilon(0.003));
}

TEST_CASE("api: locate converts GCJ-02 input before looking up", "[api]") {
    Fixture f;
    // The GCJ-02 position of WGS84 (118.802, 32.008) is about 500 m east-south-east of it.
    auto j = f.get_json("/api/v1/locate?lon=118.80722&lat=32.00601&crs=gcj02");
    CHECK(j["input"]["crs"] == "gcj02");
    CHECK(j["point"]["lon"].get<double>() == Approx(118.802).margin(0.0003));
    CHECK(j["point"]["lat"].get<double>() == Approx(32.008).margin(0.0003));
    CHECK(j["grid"]["code"] == "320102002001001");
}

TEST_CASE("api: locate rejects bad coordinates clearly", "[api]") {
    Fixture f;
    CHECK(f.get_json("/api/v1/locate?lon=118.8", 400)["code"] == "missing_parameter");
    CHECK(f.get_json("/api/v1/locate?lon=abc&lat=32", 400)["code"] == "invalid_parameter");
    auto j = f.get_json("/api/v1/locate?lon=190&lat=32", 400);
    CHECK(j["code"] == "out_of_range");
    CHECK(j["message"].get<std::string>().find("longitude") != std::string::npos);
    CHECK(f.get_json("/api/v1/locate?lon=118&lat=32&crs=utm", 400)["code"] == "invalid_parameter");
}

TEST_CASE("api: collections are GeoJSON FeatureCollections with filters and paging", "[api]") {
    Fixture f;
    auto r = f.get("/api/v1/grids");
    CHECK(r.content_type == "application/geo+json");
    auto all = json::parse(r.body);
    CHECK(all["type"] == "FeatureCollection");
    CHECK(all["numberMatched"] == 3);
    REQUIRE(all["features"].size() == 3);
    const auto& g = all["features"][0];
    CHECK(g["type"] == "Feature");
    CHECK(g["id"] == "320102002001001");
    CHECK(g["properties"]["households"] == 300);
    CHECK(g["properties"]["load"] == "in_band");
    CHECK(g["properties"]["community_name"] == "西社区");
    CHECK(g["geometry"]["type"] == "MultiPolygon");

    auto child = f.get_json("/api/v1/grids?parent=320102002002");
    REQUIRE(child["features"].size() == 1);
    CHECK(child["features"][0]["id"] == "320102002002001");

    auto boxed = f.get_json("/api/v1/grids?bbox=118.801,32.001,118.802,32.002");
    REQUIRE(boxed["features"].size() == 1);
    CHECK(boxed["features"][0]["id"] == "320102002001002");

    auto page = f.get_json("/api/v1/grids?limit=2");
    CHECK(page["numberMatched"] == 3);
    CHECK(page["numberReturned"] == 2);
    std::string next;
    for (const auto& l : page["links"])
        if (l["rel"] == "next") next = l["href"];
    CHECK(next == "http://example.test/api/v1/grids?limit=2&offset=2");
    auto second = f.get_json("/api/v1/grids?limit=2&offset=2");
    REQUIRE(second["features"].size() == 1);
    CHECK(second["features"][0]["id"] == "320102002002001");
    bool has_next = false;
    for (const auto& l : second["links"]) has_next |= l["rel"] == "next";
    CHECK_FALSE(has_next);
}

TEST_CASE("api: q= finds areas by code prefix or part of the name", "[api]") {
    Fixture f;
    auto by_name = f.get_json("/api/v1/grids?q=%E4%B8%9C%E7%A4%BE%E5%8C%BA"); // 东社区
    REQUIRE(by_name["numberMatched"] == 1);
    CHECK(by_name["features"][0]["id"] == "320102002002001");
    CHECK(f.get_json("/api/v1/grids?q=320102002001")["numberMatched"] == 2);
    CHECK(f.get_json("/api/v1/communities?q=%E8%A5%BF")["features"][0]["id"] == "320102002001"); // 西
    CHECK(f.get_json("/api/v1/grids?q=nothing")["numberMatched"] == 0);
    CHECK(f.get_json("/api/v1/grids?q=")["numberMatched"] == 3);
}

TEST_CASE("api: buildings filter by parent code at any level", "[api]") {
    Fixture f;
    CHECK(f.get_json("/api/v1/buildings")["numberMatched"] == 4);
    CHECK(f.get_json("/api/v1/buildings?parent=320102002001")["numberMatched"] == 2);
    auto one = f.get_json("/api/v1/buildings?parent=320102002002001");
    REQUIRE(one["features"].size() == 1);
    CHECK(one["features"][0]["properties"]["households_estimated"] == true);
    CHECK(f.get_json("/api/v1/buildings?bbox=118.816,32.001,118.819,32.004")["features"][0]["properties"]["source_id"] == "gap");
}

TEST_CASE("api: one area with statistics, parents and children", "[api]") {
    Fixture f;
    auto c = f.get_json("/api/v1/communities/320102002001");
    CHECK(c["properties"]["households"] == 420);
    CHECK(c["properties"]["grids"] == 2);
    REQUIRE(c["properties"]["parents"].size() == 1);
    CHECK(c["properties"]["parents"][0]["name"] == "梅园新村街道");
    REQUIRE(c["properties"]["children"].size() == 2);
    CHECK(c["properties"]["children"][1]["code"] == "320102002001002");
    CHECK(c["properties"]["children"][1]["households"] == 120);
    auto g = f.get_json("/api/v1/grids/320102002002001");
    CHECK(g["properties"]["kind"] == "unit");
    CHECK(g["properties"]["parents"].size() == 2);
    auto s = f.get_json("/api/v1/streets/320102002");
    CHECK(s["properties"]["households"] == 460);
    CHECK(s["properties"]["communities"] == 2);
}

TEST_CASE("api: unknown codes, bad codes, wrong methods and paths", "[api]") {
    Fixture f;
    CHECK(f.get_json("/api/v1/grids/320102002001009", 404)["code"] == "unknown_code");
    CHECK(f.get_json("/api/v1/grids/3201", 422)["code"] == "invalid_code");
    CHECK(f.get_json("/api/v1/grids?parent=12", 400)["code"] == "invalid_code");
    CHECK(f.get_json("/api/v1/grids?parent=320102002009", 404)["code"] == "unknown_code");
    CHECK(f.get_json("/api/v1/grids?limit=0", 400)["code"] == "invalid_parameter");
    CHECK(f.get_json("/api/v1/grids?limit=100000", 400)["code"] == "invalid_parameter");
    CHECK(f.get_json("/api/v1/grids?bbox=1,2,3", 400)["code"] == "invalid_bbox");
    CHECK(f.get_json("/api/v1/nothing", 404)["code"] == "not_found");
    CHECK(f.get_json("/elsewhere", 404)["code"] == "not_found");
    auto post = f.get("/api/v1/grids", "POST");
    CHECK(post.status == 405);
    bool allow = false;
    for (const auto& [k, v] : post.headers) allow |= k == "Allow" && v == "GET, HEAD";
    CHECK(allow);
}

TEST_CASE("api: validate reports the gap with its area", "[api]") {
    Fixture f;
    auto j = f.get_json("/api/v1/validate");
    CHECK(j["ok"] == false);
    CHECK(j["counts"]["gap"] == 1);
    CHECK(j["counts"]["overlap"] == 0);
    REQUIRE(j["findings"].size() == 1);
    CHECK(j["findings"][0]["parent"] == "320102002002");
    CHECK(j["findings"][0]["area_m2"].get<double>() == Approx(471.6 * 1109.0).epsilon(0.005));
    CHECK(j["checked"]["grids"] == 3);
}

TEST_CASE("api: concurrent validate requests share one report", "[api]") {
    Fixture f;
    std::vector<std::string> bodies(4);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < bodies.size(); ++i)
        threads.emplace_back([&, i] { bodies[i] = f.get("/api/v1/validate").body; });
    for (auto& t : threads) t.join();
    for (const auto& b : bodies) CHECK(b == bodies[0]);
    CHECK(json::parse(bodies[0])["counts"]["gap"] == 1);
}

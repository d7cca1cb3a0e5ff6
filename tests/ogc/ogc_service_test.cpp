// OGC API - Features through api::Service, no sockets, on the small hand-made district whose
// answers are known exactly (tests/support/small_district.hpp).
#include "api/ogc_endpoints.hpp"
#include "api/rest.hpp"
#include "api/service.hpp"
#include "grid/assign.hpp"
#include "support/small_service.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>
#include <set>

using namespace wangge;
using nlohmann::json;

namespace {

constexpr const char* host = "http://example.test";

struct Fixture : test::SmallService {
    Fixture() : SmallService({std::make_shared<api::OgcEndpoints>(), std::make_shared<api::RestEndpoints>()}) {}
    api::Response get(const std::string& target, const std::vector<std::pair<std::string, std::string>>& headers = {},
                      const std::string& method = "GET") const {
        auto req = api::make_request(method, target);
        req.headers.emplace_back("host", "example.test");
        for (const auto& h : headers) req.headers.push_back(h);
        return service->handle(req);
    }
    json get_json(const std::string& target, int expected_status = 200) const {
        auto r = get(target);
        INFO(target << " -> " << r.status << " " << r.body);
        REQUIRE(r.status == expected_status);
        return json::parse(r.body);
    }
};

std::string header_of(const api::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

// The link with this rel (and type, when given); fails the test when there is none.
json link_of(const json& doc, const std::string& rel, const std::string& type = {}) {
    for (const auto& l : doc["links"])
        if (l["rel"] == rel && (type.empty() || l["type"] == type)) return l;
    FAIL("no link rel=" << rel << " type=" << type << " in " << doc["links"].dump());
    return {};
}

bool has_link(const json& doc, const std::string& rel) {
    for (const auto& l : doc["links"])
        if (l["rel"] == rel) return true;
    return false;
}

// A link's href as a request target of the service (the host is the fixture's).
std::string target_of(const std::string& href) {
    REQUIRE(href.rfind(host, 0) == 0);
    return href.substr(std::string(host).size());
}

std::vector<std::string> ids_of(const json& collection) {
    std::vector<std::string> ids;
    for (const auto& f : collection["features"]) ids.push_back(f["id"]);
    return ids;
}

// Every "$ref" of the OpenAPI document points at something in it.
void check_refs(const json& doc, const json& node) {
    if (node.is_object()) {
        for (const auto& [key, value] : node.items()) {
            if (key == "$ref") {
                std::string ref = value;
                REQUIRE(ref.rfind("#/", 0) == 0);
                INFO(ref);
                CHECK(doc.contains(json::json_pointer(ref.substr(1))));
            } else {
                check_refs(doc, value);
            }
        }
    } else if (node.is_array()) {
        for (const auto& v : node) check_refs(doc, v);
    }
}

} // namespace

TEST_CASE("ogc: landing page links to the API, conformance and data", "[ogc]") {
    Fixture f;
    for (const char* target : {"/ogc", "/ogc/"}) {
        auto r = f.get(target);
        INFO(target << " -> " << r.body);
        REQUIRE(r.status == 200);
        CHECK(r.content_type == "application/json");
        auto j = json::parse(r.body);
        CHECK(j["title"] == "Wangge 网格");
        CHECK_FALSE(j["description"].get<std::string>().empty());
        CHECK(link_of(j, "self")["href"] == "http://example.test/ogc/");
        auto desc = link_of(j, "service-desc");
        CHECK(desc["href"] == "http://example.test/ogc/api");
        CHECK(desc["type"] == "application/vnd.oai.openapi+json;version=3.0");
        CHECK(link_of(j, "conformance", "application/json")["href"] == "http://example.test/ogc/conformance");
        CHECK(link_of(j, "data", "application/json")["href"] == "http://example.test/ogc/collections");
    }
}

TEST_CASE("ogc: conformance declares core, geojson and oas30", "[ogc]") {
    Fixture f;
    auto j = f.get_json("/ogc/conformance");
    std::set<std::string> classes(j["conformsTo"].begin(), j["conformsTo"].end());
    CHECK(classes == std::set<std::string>{"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
                                           "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
                                           "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"});
}

TEST_CASE("ogc: the OpenAPI document describes every endpoint and resolves", "[ogc]") {
    Fixture f;
    auto r = f.get("/ogc/api");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/vnd.oai.openapi+json;version=3.0");
    auto doc = json::parse(r.body);
    CHECK(doc["openapi"].get<std::string>().rfind("3.0.", 0) == 0);
    CHECK(doc["servers"][0]["url"] == "http://example.test/ogc");
    for (const char* path : {"/", "/api", "/conformance", "/collections", "/collections/{collectionId}",
                             "/collections/{collectionId}/items", "/collections/{collectionId}/items/{featureId}"}) {
        INFO(path);
        CHECK(doc["paths"][path]["get"]["responses"].contains("200"));
    }
    check_refs(doc, doc);
    const auto& limit = doc["components"]["parameters"]["limit"]["schema"];
    CHECK(limit["maximum"] == api::OgcEndpoints::max_limit);
    CHECK(limit["default"] == api::OgcEndpoints::default_limit);
    // Path parameters are required, as OpenAPI 3.0 demands of them.
    for (const auto& [name, p] : doc["components"]["parameters"].items())
        if (p["in"] == "path") CHECK(p["required"] == true);
    // Clients asking for the OpenAPI media type (as GDAL does) get it.
    auto gdal = f.get("/ogc/api", {{"accept", "application/vnd.oai.openapi+json;version=3.0, application/json"}});
    CHECK(gdal.content_type == "application/vnd.oai.openapi+json;version=3.0");
    CHECK(f.get("/ogc/api", {{"accept", "application/json"}}).content_type == "application/json");
    CHECK(f.get("/ogc/api?f=json", {{"accept", "application/json"}}).content_type ==
          "application/vnd.oai.openapi+json;version=3.0");
}

TEST_CASE("ogc: collections list the four layers with their extents", "[ogc]") {
    Fixture f;
    auto j = f.get_json("/ogc/collections");
    CHECK(link_of(j, "self", "application/json")["href"] == "http://example.test/ogc/collections");
    REQUIRE(j["collections"].size() == 4);
    std::vector<std::string> ids;
    for (const auto& c : j["collections"]) ids.push_back(c["id"]);
    CHECK(ids == std::vector<std::string>{"streets", "communities", "grids", "buildings"});
    const json& grids = j["collections"][2];
    CHECK(grids["title"] == "责任网格 Grids");
    CHECK_FALSE(grids["description"].get<std::string>().empty());
    CHECK(grids["itemType"] == "feature");
    CHECK(grids["extent"]["spatial"]["crs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    auto bbox = grids["extent"]["spatial"]["bbox"][0].get<std::vector<double>>();
    REQUIRE(bbox.size() == 4);
    CHECK(bbox[0] == Approx(118.80));
    CHECK(bbox[1] == Approx(32.00));
    CHECK(bbox[2] == Approx(118.815)); // the east half of community 002 has no grid
    CHECK(bbox[3] == Approx(32.01));
    auto streets = j["collections"][0]["extent"]["spatial"]["bbox"][0].get<std::vector<double>>();
    CHECK(streets[2] == Approx(118.82));
    auto buildings = j["collections"][3]["extent"]["spatial"]["bbox"][0].get<std::vector<double>>();
    REQUIRE(buildings.size() == 4);
    CHECK(buildings[0] == Approx(118.802));
    CHECK(buildings[1] == Approx(32.002));
    CHECK(buildings[2] == Approx(118.818));
    CHECK(buildings[3] == Approx(32.008));
    CHECK(link_of(grids, "self", "application/json")["href"] == "http://example.test/ogc/collections/grids");
    CHECK(link_of(grids, "items", "application/geo+json")["href"] == "http://example.test/ogc/collections/grids/items");

    auto one = f.get_json("/ogc/collections/grids");
    CHECK(one == grids);
    auto slash = f.get_json("/ogc/collections/");
    CHECK(slash["collections"].size() == 4);
}

TEST_CASE("ogc: items page through next links with exact numberMatched", "[ogc]") {
    Fixture f;
    auto r = f.get("/ogc/collections/grids/items?limit=1");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/geo+json");
    std::vector<std::string> seen;
    std::string target = "/ogc/collections/grids/items?limit=1";
    for (int page = 0; page < 10 && !target.empty(); ++page) {
        auto j = f.get_json(target);
        CHECK(j["type"] == "FeatureCollection");
        CHECK(j["numberMatched"] == 3);
        CHECK(j["numberReturned"] == 1);
        CHECK(std::regex_match(j["timeStamp"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
        CHECK(link_of(j, "self", "application/geo+json")["href"] == host + target);
        std::string alternate = link_of(j, "alternate", "application/json")["href"];
        CHECK(alternate.find("f=json") != std::string::npos);
        CHECK(link_of(j, "collection", "application/json")["href"] == "http://example.test/ogc/collections/grids");
        for (const auto& id : ids_of(j)) seen.push_back(id);
        target = has_link(j, "next") ? target_of(link_of(j, "next", "application/geo+json")["href"]) : "";
    }
    CHECK(seen == std::vector<std::string>{"320102002001001", "320102002001002", "320102002002001"});
    CHECK(target.empty());

    // Without limit a page holds 10; all four buildings fit, and there is no next page.
    auto b = f.get_json("/ogc/collections/buildings/items");
    CHECK(b["numberMatched"] == 4);
    CHECK(b["numberReturned"] == 4);
    CHECK_FALSE(has_link(b, "next"));
    CHECK_FALSE(has_link(b, "prev"));
    // An offset past the end is an empty page, not an error.
    auto past = f.get_json("/ogc/collections/grids/items?offset=10");
    CHECK(past["numberMatched"] == 3);
    CHECK(past["numberReturned"] == 0);
    CHECK(past["features"].empty());
    CHECK(has_link(past, "prev"));
}

TEST_CASE("ogc: a limit above the maximum is served as the maximum", "[ogc]") {
    Fixture f;
    auto j = f.get_json("/ogc/collections/grids/items?limit=20000");
    CHECK(j["numberReturned"] == 3);
    CHECK_FALSE(has_link(j, "next"));
}

TEST_CASE("ogc: items carry the properties of the REST API", "[ogc]") {
    Fixture f;
    auto ogc = f.get_json("/ogc/collections/grids/items");
    auto rest = f.get_json("/api/v1/grids");
    REQUIRE(ogc["features"].size() == rest["features"].size());
    for (std::size_t i = 0; i < ogc["features"].size(); ++i) {
        CHECK(ogc["features"][i]["properties"] == rest["features"][i]["properties"]);
        CHECK(ogc["features"][i]["geometry"] == rest["features"][i]["geometry"]);
    }
    auto north = ogc["features"][0]["properties"];
    CHECK(north["code"] == "320102002001001");
    CHECK(north["households"] == 300);
    CHECK(north["community_name"] == "西社区");
}

TEST_CASE("ogc: bbox selects features whose geometry intersects it", "[ogc]") {
    Fixture f;
    auto inside = f.get_json("/ogc/collections/grids/items?bbox=118.801,32.006,118.802,32.007");
    CHECK(ids_of(inside) == std::vector<std::string>{"320102002001001"});
    CHECK(inside["numberMatched"] == 1);
    auto across = f.get_json("/ogc/collections/grids/items?bbox=118.805,32.004,118.806,32.006");
    CHECK(ids_of(across) == std::vector<std::string>{"320102002001001", "320102002001002"});
    // Six numbers: the heights are ignored.
    auto with_heights = f.get_json("/ogc/collections/grids/items?bbox=118.805,32.004,0,118.806,32.006,100");
    CHECK(ids_of(with_heights) == ids_of(across));
    auto gap = f.get_json("/ogc/collections/buildings/items?bbox=118.816,32.001,118.819,32.004");
    REQUIRE(gap["features"].size() == 1);
    CHECK(gap["features"][0]["properties"]["source_id"] == "gap");
    auto none = f.get_json("/ogc/collections/communities/items?bbox=100,20,100.1,20.1");
    CHECK(none["numberMatched"] == 0);
    CHECK(none["features"].empty());
    // Paging keeps the filter in the next link.
    auto first = f.get_json("/ogc/collections/grids/items?bbox=118.805,32.004,118.806,32.006&limit=1");
    auto next = f.get_json(target_of(link_of(first, "next")["href"]));
    CHECK(ids_of(next) == std::vector<std::string>{"320102002001002"});
    CHECK(next["numberMatched"] == 2);
}

TEST_CASE("ogc: one feature by code or building id, with links", "[ogc]") {
    Fixture f;
    auto r = f.get("/ogc/collections/grids/items/320102002001001");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/geo+json");
    auto g = json::parse(r.body);
    CHECK(g["type"] == "Feature");
    CHECK(g["id"] == "320102002001001");
    CHECK(g["properties"]["households"] == 300);
    CHECK(g["geometry"]["type"] == "MultiPolygon");
    CHECK(link_of(g, "self", "application/geo+json")["href"] ==
          "http://example.test/ogc/collections/grids/items/320102002001001");
    CHECK(link_of(g, "collection", "application/json")["href"] == "http://example.test/ogc/collections/grids");

    auto c = f.get_json("/ogc/collections/communities/items/320102002002");
    CHECK(c["properties"]["name"] == "东社区");
    auto s = f.get_json("/ogc/collections/streets/items/320102002");
    CHECK(s["properties"]["communities"] == 2);

    auto list = f.get_json("/ogc/collections/buildings/items");
    std::string estimated_id;
    for (const auto& b : list["features"])
        if (b["properties"]["source_id"] == "estimated") estimated_id = b["id"];
    REQUIRE_FALSE(estimated_id.empty());
    auto b = f.get_json("/ogc/collections/buildings/items/" + estimated_id);
    CHECK(b["id"] == estimated_id);
    CHECK(b["properties"]["households"] == 40);
    CHECK(b["properties"]["households_estimated"] == true);
    CHECK(b["properties"]["grid_code"] == "320102002002001");
}

TEST_CASE("ogc: unknown collections, features and paths are 404", "[ogc]") {
    Fixture f;
    struct Case {
        const char* target;
        const char* code;
    };
    for (const Case& c : {Case{"/ogc/collections/roads", "unknown_collection"},
                          Case{"/ogc/collections/roads/items", "unknown_collection"},
                          Case{"/ogc/collections/grids/items/320102002001999", "unknown_feature"},
                          Case{"/ogc/collections/grids/items/abc", "unknown_feature"},
                          Case{"/ogc/collections/communities/items/320102002001001", "unknown_feature"},
                          Case{"/ogc/collections/buildings/items/999999", "unknown_feature"},
                          Case{"/ogc/collections/buildings/items/north", "unknown_feature"},
                          Case{"/ogc/nothing", "not_found"},
                          Case{"/ogc/collections/grids/items/320102002001001/more", "not_found"}}) {
        auto j = f.get_json(c.target, 404);
        CHECK(j["code"] == c.code);
        CHECK_FALSE(j["message"].get<std::string>().empty());
    }
    // Only /ogc and below belong to the family.
    CHECK(f.get_json("/ogcx", 404)["code"] == "not_found");
}

TEST_CASE("ogc: malformed and unknown parameters are 400 with a reason", "[ogc]") {
    Fixture f;
    struct Case {
        const char* target;
        const char* code;
        const char* says;
    };
    for (const Case& c : {
             Case{"/ogc/collections/grids/items?bbox=1,2,3", "invalid_bbox", "four numbers"},
             Case{"/ogc/collections/grids/items?bbox=a,b,c,d", "invalid_bbox", "four numbers"},
             Case{"/ogc/collections/grids/items?bbox=118.82,32,118.80,32.01", "invalid_bbox", "greater"},
             Case{"/ogc/collections/grids/items?bbox=118,32,200,33", "out_of_range", "200"},
             Case{"/ogc/collections/grids/items?limit=0", "invalid_parameter", "limit"},
             Case{"/ogc/collections/grids/items?limit=ten", "invalid_parameter", "limit"},
             Case{"/ogc/collections/grids/items?offset=-1", "invalid_parameter", "offset"},
             Case{"/ogc/collections/grids/items?datetime=yesterday", "invalid_parameter", "datetime"},
             Case{"/ogc/collections/grids/items?datetime=../..", "invalid_parameter", "datetime"},
             Case{"/ogc/collections/grids/items?code=320102002001001", "unknown_parameter", "'code'"},
             Case{"/ogc/collections/grids/items/320102002001001?limit=1", "unknown_parameter", "'limit'"},
             Case{"/ogc/collections?bbox=1,2,3,4", "unknown_parameter", "'bbox'"},
             Case{"/ogc/collections/grids/items?f=html", "invalid_parameter", "HTML"},
             Case{"/ogc/?f=html", "invalid_parameter", "HTML"},
             Case{"/ogc/collections?f=geojson", "invalid_parameter", "f=json"},
         }) {
        auto j = f.get_json(c.target, 400);
        CHECK(j["code"] == c.code);
        CHECK(j["message"].get<std::string>().find(c.says) != std::string::npos);
    }
    // Valid datetime values select everything: the collections have no temporal property.
    for (const char* dt : {"2024-06-01T08:00:00Z", "2024-01-01/..", "../2030-12-31T23:59:59%2B08:00"}) {
        auto j = f.get_json(std::string("/ogc/collections/grids/items?datetime=") + dt);
        CHECK(j["numberMatched"] == 3);
    }
}

TEST_CASE("ogc: media types follow f and Accept", "[ogc]") {
    Fixture f;
    using Headers = std::vector<std::pair<std::string, std::string>>;
    auto items = [&](const std::string& target, const Headers& headers) {
        auto r = f.get(target, headers);
        INFO(target << " -> " << r.body);
        CHECK(r.status == 200);
        CHECK(header_of(r, "Vary") == "Accept");
        return r.content_type;
    };
    const std::string path = "/ogc/collections/grids/items";
    CHECK(items(path, {}) == "application/geo+json");
    CHECK(items(path + "?f=geojson", {}) == "application/geo+json");
    CHECK(items(path + "?f=json", {}) == "application/json");
    CHECK(items(path, {{"accept", "application/geo+json, application/json"}}) == "application/geo+json");
    CHECK(items(path, {{"accept", "application/json"}}) == "application/json");
    CHECK(items(path, {{"accept", "application/json;q=0.9, application/geo+json;q=0.5"}}) == "application/json");
    CHECK(items(path, {{"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}}) ==
          "application/geo+json");
    // f wins over Accept.
    CHECK(items(path + "?f=geojson", {{"accept", "application/json"}}) == "application/geo+json");
    CHECK(items("/ogc/collections", {{"accept", "application/*"}}) == "application/json");
    CHECK(items("/ogc/collections/grids/items/320102002001001?f=json", {}) == "application/json");

    // The next link of a JSON page stays JSON.
    auto page = json::parse(f.get(path + "?limit=1", {{"accept", "application/json"}}).body);
    CHECK(link_of(page, "next")["type"] == "application/json");
    CHECK(link_of(page, "alternate")["type"] == "application/geo+json");

    for (const auto& [target, accept] : std::vector<std::pair<std::string, std::string>>{
             {"/ogc/collections", "text/html"},
             {path, "text/html, application/xml"},
             {"/ogc/", "application/json;q=0"}}) {
        auto r = f.get(target, {{"accept", accept}});
        INFO(target << " Accept: " << accept << " -> " << r.body);
        CHECK(r.status == 406);
        CHECK(r.content_type == "application/json");
        CHECK(json::parse(r.body)["code"] == "not_acceptable");
    }
}

TEST_CASE("ogc: links keep the query, encoded again", "[ogc]") {
    Fixture f;
    // '+' in a time zone must reach the next page as '+', not as a space.
    auto j = f.get_json("/ogc/collections/grids/items?limit=1&datetime=2024-06-01T08:00:00%2B08:00");
    std::string next = link_of(j, "next")["href"];
    CHECK(next ==
          "http://example.test/ogc/collections/grids/items?limit=1&datetime=2024-06-01T08:00:00%2B08:00&offset=1");
    auto second = f.get_json(target_of(next));
    CHECK(ids_of(second) == std::vector<std::string>{"320102002001002"});
}

TEST_CASE("ogc: only GET and HEAD and other families still answer", "[ogc]") {
    Fixture f;
    auto r = f.get("/ogc/collections", {}, "POST");
    CHECK(r.status == 405);
    CHECK(header_of(r, "Allow") == "GET, HEAD");
    CHECK(f.get_json("/healthz")["grids"] == 3);
    CHECK(f.get_json("/api/v1/grids?limit=2")["numberReturned"] == 2);
}

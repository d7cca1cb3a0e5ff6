// GET /tiles/{layer}/{z}/{x}/{y}.mvt and /tiles/{layer}.json through the Service, without
// sockets: encodings, ETags and 304, cache headers, TileJSON, and every kind of bad input.
#include "api/service.hpp"
#include "api/tile_endpoints.hpp"
#include "tiles/compress.hpp"
#include "tiles/demo_fixture.hpp"
#include "tiles/mvt_decoder.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace wangge;

namespace {

struct Fixture {
    std::shared_ptr<const grid::Snapshot> snapshot = test::demo_district().snapshot;
    std::shared_ptr<tiles::TileCache> cache = std::make_shared<tiles::TileCache>(tiles::TileCache::Options{});
    std::shared_ptr<api::TileEndpoints> endpoints;
    api::Service service;

    explicit Fixture(api::TileEndpointOptions options = {})
        : endpoints(std::make_shared<api::TileEndpoints>(cache, options)),
          service(std::make_shared<grid::SnapshotHolder>(snapshot), {endpoints},
                  api::ServiceOptions{{}, {{api::Access::tiles}, {"maps.example.cn"}}, {}}) {}

    api::Response get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {},
                      const std::string& method = "GET") const {
        api::Request req = api::make_request(method, target);
        req.headers = std::move(headers);
        req.headers.emplace_back("host", "maps.example.cn:8080");
        return service.handle(req);
    }
};

std::string header(const api::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return {};
}

std::string error_code(const api::Response& r) { return nlohmann::json::parse(r.body).at("code"); }

tiles::TileId centre_id(int z) {
    BBox b = tiles::data_bounds(*test::demo_district().snapshot);
    return tiles::tile_at({(b.min_lon + b.max_lon) / 2, (b.min_lat + b.max_lat) / 2}, z);
}

std::string centre_tile(int z) { return tiles::to_string(centre_id(z)); }

} // namespace

TEST_CASE("tile endpoints: gzip when accepted, identity otherwise, with cache headers", "[endpoints]") {
    Fixture f;
    const std::string target = "/tiles/hierarchy/" + centre_tile(14) + ".mvt";
    api::Response gz = f.get(target, {{"accept-encoding", "gzip, deflate, br"}});
    REQUIRE(gz.status == 200);
    CHECK(gz.content_type == "application/vnd.mapbox-vector-tile");
    CHECK(header(gz, "Content-Encoding") == "gzip");
    CHECK(header(gz, "Vary") == "Accept-Encoding");
    CHECK(header(gz, "Cache-Control") == "public, max-age=60");
    CHECK(tiles::is_gzip(gz.bytes()));
    auto layers = test::mvt::decode(tiles::gunzip(gz.bytes()));
    CHECK(layers.size() == 6);

    api::Response plain = f.get(target);
    REQUIRE(plain.status == 200);
    CHECK(header(plain, "Content-Encoding").empty());
    CHECK(header(plain, "Vary") == "Accept-Encoding");
    CHECK(plain.bytes() == tiles::gunzip(gz.bytes()));
    // Each representation has its own strong ETag.
    CHECK_FALSE(header(gz, "ETag").empty());
    CHECK(header(plain, "ETag") != header(gz, "ETag"));
    // gzip refused explicitly, or only allowed through "*".
    CHECK(header(f.get(target, {{"accept-encoding", "gzip;q=0, identity"}}), "Content-Encoding").empty());
    CHECK(header(f.get(target, {{"accept-encoding", "*"}}), "Content-Encoding") == "gzip");
    CHECK(header(f.get(target, {{"accept-encoding", "GZIP;q=0.5"}}), "Content-Encoding") == "gzip");
    // The tile was made once and served from the cache afterwards; its plain bytes are cached
    // too, once.
    CHECK(f.cache->stats().misses == 2);
    CHECK(f.cache->stats().hits >= 4);
}

TEST_CASE("tile endpoints: a cached tile is answered with the cache's own bytes, not a copy", "[endpoints]") {
    Fixture f;
    const tiles::TileId id = centre_id(14);
    const std::string target = "/tiles/grids/" + tiles::to_string(id) + ".mvt";
    api::Response first = f.get(target, {{"accept-encoding", "gzip"}});
    api::Response second = f.get(target, {{"accept-encoding", "gzip"}});
    REQUIRE(first.status == 200);
    REQUIRE(first.shared_body);
    CHECK(first.body.empty());
    CHECK(first.shared_body.get() == second.shared_body.get());
    const auto cached = f.cache->peek({"mvt/grids", id}, f.snapshot->version());
    REQUIRE(cached);
    CHECK(cached->bytes.get() == first.shared_body.get());

    api::Response plain = f.get(target);
    api::Response plain_again = f.get(target);
    REQUIRE(plain.shared_body);
    CHECK(plain.shared_body.get() == plain_again.shared_body.get());
    CHECK(plain.shared_body.get() != first.shared_body.get());
    CHECK(*plain.shared_body == tiles::gunzip(*first.shared_body));
}

TEST_CASE("tile endpoints: If-None-Match answers 304 without a body", "[endpoints]") {
    Fixture f;
    const std::string target = "/tiles/grids/" + centre_tile(14) + ".mvt";
    const std::vector<std::pair<std::string, std::string>> gzip{{"accept-encoding", "gzip"}};
    api::Response first = f.get(target, gzip);
    const std::string etag = header(first, "ETag");
    api::Response again = f.get(target, {{"accept-encoding", "gzip"}, {"if-none-match", etag}});
    CHECK(again.status == 304);
    CHECK(again.bytes().empty());
    CHECK(header(again, "ETag") == etag);
    CHECK(header(again, "Cache-Control") == "public, max-age=60");
    CHECK(f.get(target, {{"accept-encoding", "gzip"}, {"if-none-match", "\"other\", W/" + etag}}).status == 304);
    CHECK(f.get(target, {{"accept-encoding", "gzip"}, {"if-none-match", "*"}}).status == 304);
    CHECK(f.get(target, {{"accept-encoding", "gzip"}, {"if-none-match", "\"other\""}}).status == 200);
    // The gzip ETag does not validate the identity representation.
    CHECK(f.get(target, {{"if-none-match", etag}}).status == 200);
}

TEST_CASE("tile endpoints: an empty tile is 204, max-age is configurable", "[endpoints]") {
    api::TileEndpointOptions options;
    options.max_age_s = 300;
    Fixture f(options);
    api::Response r = f.get("/tiles/hierarchy/14/0/0.mvt", {{"accept-encoding", "gzip"}});
    CHECK(r.status == 204);
    CHECK(r.bytes().empty());
    CHECK(header(r, "Cache-Control") == "public, max-age=300");
    CHECK_FALSE(header(r, "ETag").empty());
}

TEST_CASE("tile endpoints: bad input is a clear 400 or 404", "[endpoints]") {
    Fixture f;
    auto check = [&](const std::string& target, int status, const std::string& code) {
        INFO(target);
        api::Response r = f.get(target);
        CHECK(r.status == status);
        CHECK(error_code(r) == code);
    };
    check("/tiles/nope/14/1/1.mvt", 404, "unknown_layer");
    check("/tiles/nope.json", 404, "unknown_layer");
    check("/tiles/grids/14/a/1.mvt", 400, "invalid_tile");
    check("/tiles/grids/14/1/-1.mvt", 400, "invalid_tile");
    check("/tiles/grids/14/1.5/1.mvt", 400, "invalid_tile");
    check("/tiles/grids/14/16384/0.mvt", 400, "invalid_tile");
    check("/tiles/grids/21/0/0.mvt", 400, "invalid_tile"); // above the vector maximum, 20
    check("/tiles/grids/99/0/0.mvt", 400, "invalid_tile");
    check("/tiles/buildings/5/0/0.mvt", 400, "invalid_tile"); // below the layer's minimum, 14
    check("/tiles/grids/14/1.mvt", 400, "invalid_tile");
    check("/tiles/grids/14/1/2/3.mvt", 400, "invalid_tile");
    check("/tiles/grids/14/1/%31%32x.mvt", 400, "invalid_tile");
    CHECK(f.get("/tiles/grids/" + centre_tile(14) + ".mvt", {}, "POST").status == 405);
    // Not ours: raster tiles and anything else under /tiles/ fall through to other families.
    CHECK_FALSE(f.endpoints->handle(api::make_request("GET", "/tiles/default/14/1/1.png"), *f.snapshot));
    CHECK_FALSE(f.endpoints->handle(api::make_request("GET", "/tiles/default/14/1/1@2x.png"), *f.snapshot));
    CHECK_FALSE(f.endpoints->handle(api::make_request("GET", "/api/v1/grids"), *f.snapshot));
    CHECK(f.get("/tiles/grids/14/1/1.pbf").status == 404);
}

TEST_CASE("tile endpoints: TileJSON 3.0.0 describes each layer", "[endpoints]") {
    Fixture f;
    api::Response r = f.get("/tiles/hierarchy.json");
    REQUIRE(r.status == 200);
    CHECK(r.content_type == "application/json");
    CHECK(header(r, "Cache-Control") == "public, max-age=60");
    auto j = nlohmann::json::parse(r.body);
    CHECK(j.at("tilejson") == "3.0.0");
    CHECK(j.at("wangge:band") == nlohmann::json{f.snapshot->band().min, f.snapshot->band().max});
    CHECK(j.at("tiles") == nlohmann::json{"http://maps.example.cn:8080/tiles/hierarchy/{z}/{x}/{y}.mvt"});
    CHECK(j.at("minzoom") == 0);
    CHECK(j.at("maxzoom") == 20);
    BBox b = tiles::data_bounds(*f.snapshot);
    CHECK(j.at("bounds")[0].get<double>() == Approx(b.min_lon));
    CHECK(j.at("bounds")[3].get<double>() == Approx(b.max_lat));
    CHECK(j.at("center")[0].get<double>() > b.min_lon);
    CHECK(j.at("center")[0].get<double>() < b.max_lon);
    CHECK(j.at("center")[2] == 13);
    std::map<std::string, int> minzooms;
    for (const auto& l : j.at("vector_layers")) {
        minzooms[l.at("id")] = l.at("minzoom");
        CHECK(l.at("maxzoom") == 20);
        CHECK(l.at("fields").is_object());
    }
    CHECK(minzooms == std::map<std::string, int>{
                          {"streets", 0}, {"communities", 0}, {"grids", 11}, {"roads", 12}, {"buildings", 14}, {"labels", 0}});
    const auto& grids = j.at("vector_layers")[2];
    CHECK(grids.at("fields").at("households") == "Number");
    CHECK(grids.at("fields").at("load") == "String");

    auto b14 = nlohmann::json::parse(f.get("/tiles/buildings.json", {{"x-forwarded-proto", "https"}}).body);
    CHECK(b14.at("minzoom") == 14);
    CHECK(b14.at("tiles")[0] == "https://maps.example.cn:8080/tiles/buildings/{z}/{x}/{y}.mvt");
    CHECK(b14.at("vector_layers").size() == 1);
    CHECK(b14.at("vector_layers")[0].at("fields").at("estimated") == "Boolean");
}

TEST_CASE("tile endpoints: helpers for Accept-Encoding and If-None-Match", "[endpoints]") {
    CHECK(api::accepts_gzip("gzip"));
    CHECK(api::accepts_gzip("deflate, gzip;q=0.1"));
    CHECK(api::accepts_gzip("x-gzip"));
    CHECK_FALSE(api::accepts_gzip(""));
    CHECK_FALSE(api::accepts_gzip("br, deflate"));
    CHECK_FALSE(api::accepts_gzip("gzip;q=0"));
    CHECK_FALSE(api::accepts_gzip("*;q=0"));
    CHECK_FALSE(api::accepts_gzip("*, gzip;q=0"));
    auto with = [](const char* value) {
        auto r = api::make_request("GET", "/");
        r.headers.emplace_back("if-none-match", value);
        return r;
    };
    CHECK(with("\"a\" , \"b\"").not_modified("\"b\""));
    CHECK(with("W/\"b\"").not_modified("\"b\""));
    CHECK(with("*").not_modified("\"b\""));
    CHECK_FALSE(with("\"a\"").not_modified("\"b\""));
    CHECK_FALSE(api::make_request("GET", "/").not_modified("\"b\""));
}

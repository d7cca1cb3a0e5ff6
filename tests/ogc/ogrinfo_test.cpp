// GDAL's own OGC API - Features client (ogrinfo's OAPIF driver, as QGIS and ogr2ogr use it)
// against a live Wangge server over real HTTP, on a generated demo district: the collections it
// lists, the counts and fields it reports, and every feature it reads through the next links.
#include "api/ogc_endpoints.hpp"
#include "api/collection.hpp"
#include "api/rest.hpp"
#include "api/service.hpp"
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
#include "grid/assign.hpp"
#include "http/server.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace wangge;

namespace {

// A demo district of 30,000 households written to SpatiaLite as `wangge demo` writes it, loaded
// into a snapshot and served on an OS-chosen port; shared by the tests of this file.
class LiveServer {
public:
    LiveServer() {
        demo::DemoOptions options;
        options.households = 30000;
        options.seed = 11;
        demo::DemoDistrict d = demo::generate_demo(options);
        auto db = store::Database::open(m_dir / "demo.sqlite", store::OpenMode::create);
        demo::store_district(*db, d);
        m_snapshot = grid::Snapshot::load(*db);
        m_service = std::make_unique<api::Service>(
            std::make_shared<grid::SnapshotHolder>(m_snapshot),
            std::vector<std::shared_ptr<const api::Endpoints>>{std::make_shared<api::OgcEndpoints>(),
                                                               std::make_shared<api::RestEndpoints>()});
        http::ServerOptions server_options;
        server_options.port = 0;
        server_options.threads = 2;
        m_server = std::make_unique<http::Server>(server_options, [this](const api::Request& req) {
            {
                std::lock_guard lock(m_mutex);
                m_targets.push_back(req.target);
            }
            return m_service->handle(req);
        });
        m_server->start();
        m_url = "OAPIF:http://127.0.0.1:" + std::to_string(m_server->port()) + "/ogc";
    }

    const grid::Snapshot& snapshot() const { return *m_snapshot; }
    // The dataset name GDAL opens: OAPIF:http://127.0.0.1:PORT/ogc
    const std::string& url() const { return m_url; }

    // The request targets received since the last call, so a test can see what GDAL asked for.
    std::vector<std::string> take_targets() {
        std::lock_guard lock(m_mutex);
        return std::exchange(m_targets, {});
    }

private:
    test::TempDir m_dir;
    std::shared_ptr<const grid::Snapshot> m_snapshot;
    std::unique_ptr<api::Service> m_service;
    std::unique_ptr<http::Server> m_server;
    std::string m_url;
    std::mutex m_mutex;
    std::vector<std::string> m_targets;
};

LiveServer& live() {
    static LiveServer server;
    return server;
}

// True when one of the request targets contains `part`.
bool requested(const std::vector<std::string>& targets, const std::string& part) {
    return std::any_of(targets.begin(), targets.end(),
                       [&](const std::string& t) { return t.find(part) != std::string::npos; });
}

std::string lines(const std::vector<std::string>& targets) {
    std::string out;
    for (const auto& t : targets) out += t + '\n';
    return out;
}

// Runs ogrinfo with `args` and returns its standard output; fails the test when it fails.
std::string ogrinfo(std::vector<std::string> args) {
    const std::string program = WANGGE_OGRINFO;
    INFO("ogrinfo comes with gdal-bin (scripts/install-deps.sh)");
    REQUIRE(program.find("NOTFOUND") == std::string::npos);
    args.insert(args.begin(), program);
    test::RunResult r = test::run(args);
    std::string command;
    for (const auto& a : args) command += a + ' ';
    INFO(command << "\nexit " << r.exit_code << "\nstderr: " << r.err << "\nstdout (start): " << r.out.substr(0, 2000));
    REQUIRE(r.exit_code == 0);
    // ogrinfo reports a failed page (bad JSON, wrong media type) on stderr and still exits 0.
    CHECK(r.err.find("ERROR") == std::string::npos);
    return r.out;
}

// One feature of `ogrinfo -al` output: its fields as printed, e.g. {"code", "320199001001"}.
using Fields = std::map<std::string, std::string>;

std::vector<Fields> features_of(const std::string& out, const std::string& layer) {
    std::vector<Fields> features;
    const std::regex field(R"(^  (\w+) \((\w+)\) = (.*)$)");
    const std::string start = "OGRFeature(" + layer + "):";
    std::size_t pos = 0;
    while (pos < out.size()) {
        auto eol = out.find('\n', pos);
        std::string line = out.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
        pos = eol == std::string::npos ? out.size() : eol + 1;
        std::smatch m;
        if (line.rfind(start, 0) == 0) features.emplace_back();
        else if (!features.empty() && std::regex_match(line, m, field)) features.back()[m[1]] = m[3];
    }
    return features;
}

} // namespace

TEST_CASE("ogc gdal: ogrinfo lists the four collections", "[ogc][gdal]") {
    std::string out = ogrinfo({"-ro", live().url()});
    for (const char* layer : {"streets", "communities", "grids", "buildings"}) {
        INFO(layer << " in\n" << out);
        CHECK(std::regex_search(out, std::regex(std::string(R"(\n\d+: )") + layer + R"(\b)")));
    }
    // A URL of one collection opens just that one, from /collections/{id}.
    std::string one = ogrinfo({"-ro", "-so", live().url() + "/collections/communities/", "communities"});
    INFO(one);
    CHECK(one.find("Feature Count: " + std::to_string(live().snapshot().communities().size())) != std::string::npos);
}

TEST_CASE("ogc gdal: ogrinfo -so reports numberMatched and the fields of grids", "[ogc][gdal]") {
    const auto& snap = live().snapshot();
    std::string out = ogrinfo({"-ro", "-so", live().url(), "grids"});
    INFO(out);
    std::smatch m;
    REQUIRE(std::regex_search(out, m, std::regex(R"(Feature Count: (\d+))")));
    CHECK(std::stoul(m[1]) == snap.grids().size());
    CHECK(out.find("TITLE=责任网格 Grids") != std::string::npos);
    for (const char* field : {"code: String", "name: String", "households: Integer", "buildings: Integer",
                              "community_code: String", "community_name: String", "street_code: String",
                              "kind: String", "load: String", "area_m2: Real"})
        CHECK(out.find(field) != std::string::npos);
    // The extent is the collection's, from /collections (CRS84).
    REQUIRE(std::regex_search(out, m, std::regex(R"(Extent: \(([\d.]+), ([\d.]+)\) - \(([\d.]+), ([\d.]+)\))")));
    BBox extent;
    for (const auto& g : snap.grids()) extent.extend(g.bbox);
    CHECK(std::stod(m[1]) == Approx(extent.min_lon).margin(1e-6));
    CHECK(std::stod(m[4]) == Approx(extent.max_lat).margin(1e-6));

    std::string buildings = ogrinfo({"-ro", "-so", live().url(), "buildings"});
    INFO(buildings);
    REQUIRE(std::regex_search(buildings, m, std::regex(R"(Feature Count: (\d+))")));
    CHECK(std::stoul(m[1]) == snap.buildings().size());
    CHECK(buildings.find("households_estimated") != std::string::npos);
}

TEST_CASE("ogc gdal: ogrinfo -al reads every community through the next links", "[ogc][gdal]") {
    const auto& snap = live().snapshot();
    REQUIRE(snap.communities().size() > api::OgcEndpoints::default_limit); // more than one page
    std::string out = ogrinfo({"-ro", "-al", "-q", "-geom=SUMMARY", live().url(), "communities"});
    auto features = features_of(out, "communities");
    REQUIRE(features.size() == snap.communities().size());
    std::set<std::string> codes;
    for (const auto& f : features) {
        const std::string& code = f.at("code");
        codes.insert(code);
        const grid::Area* c = snap.find_community(code);
        REQUIRE(c);
        INFO(code);
        CHECK(std::stol(f.at("households")) == c->stats.households);
        CHECK(f.at("name") == c->name);
        CHECK(f.at("street_code") == c->parent_code);
        CHECK(std::stoul(f.at("grids")) == c->stats.children);
    }
    CHECK(codes.size() == snap.communities().size()); // each once: no page repeated or skipped
}

TEST_CASE("ogc gdal: small pages chain through all grids", "[ogc][gdal]") {
    const auto& snap = live().snapshot();
    // 7 per page: a dozen pages or more, each reached by the previous page's next link.
    live().take_targets();
    std::string out = ogrinfo({"-ro", "-al", "-q", "-geom=NO", "-oo", "PAGE_SIZE=7", live().url(), "grids"});
    auto targets = live().take_targets();
    INFO("requests:\n" << lines(targets));
    CHECK(requested(targets, "/ogc/collections/grids/items?limit=7&offset=7"));
    const long last = static_cast<long>((snap.grids().size() - 1) / 7 * 7);
    CHECK(requested(targets, "/ogc/collections/grids/items?limit=7&offset=" + std::to_string(last)));
    auto features = features_of(out, "grids");
    REQUIRE(features.size() == snap.grids().size());
    std::vector<std::string> codes;
    for (const auto& f : features) codes.push_back(f.at("code"));
    std::vector<std::string> expected;
    for (const auto& g : snap.grids()) expected.push_back(g.code);
    CHECK(codes == expected); // code order, as served
}

TEST_CASE("ogc gdal: -spat sends bbox and -where filters", "[ogc][gdal]") {
    const auto& snap = live().snapshot();
    const grid::Area& community = snap.communities().front();
    // The middle of the first community: some of its grids, and neighbours' grids at the edges.
    BBox box{community.bbox.min_lon + (community.bbox.max_lon - community.bbox.min_lon) * 0.25,
             community.bbox.min_lat + (community.bbox.max_lat - community.bbox.min_lat) * 0.25,
             community.bbox.min_lon + (community.bbox.max_lon - community.bbox.min_lon) * 0.75,
             community.bbox.min_lat + (community.bbox.max_lat - community.bbox.min_lat) * 0.75};
    auto expected = api::matching_areas(snap, Level::grid, box);
    REQUIRE_FALSE(expected.empty());
    REQUIRE(expected.size() < snap.grids().size());
    live().take_targets();
    std::string out = ogrinfo({"-ro", "-al", "-q", "-geom=NO", "-spat", std::to_string(box.min_lon),
                               std::to_string(box.min_lat), std::to_string(box.max_lon), std::to_string(box.max_lat),
                               live().url(), "grids"});
    auto features = features_of(out, "grids");
    std::set<std::string> got, want;
    for (const auto& f : features) got.insert(f.at("code"));
    for (const auto* a : expected) want.insert(a->code);
    CHECK(got == want);
    CHECK(requested(live().take_targets(), "/ogc/collections/grids/items?limit=10&bbox=")); // filtered by Wangge

    const grid::GridArea& g = snap.grids()[snap.grids().size() / 2];
    std::string one =
        ogrinfo({"-ro", "-al", "-q", "-geom=NO", "-where", "code = '" + g.code + "'", live().url(), "grids"});
    auto found = features_of(one, "grids");
    REQUIRE(found.size() == 1);
    CHECK(found[0].at("households") == std::to_string(g.stats.households));
    CHECK(found[0].at("community_code") == g.parent_code);

    // GDAL turns a filter on the string id into a request for the one feature.
    live().take_targets();
    std::string by_id =
        ogrinfo({"-ro", "-al", "-q", "-geom=NO", "-where", "id = '" + g.code + "'", live().url(), "grids"});
    CHECK(requested(live().take_targets(), "/ogc/collections/grids/items/" + g.code));
    found = features_of(by_id, "grids");
    REQUIRE(found.size() == 1);
    CHECK(found[0].at("code") == g.code);
}

// Grid division over the API (api::BalanceEndpoints with an api::Writer) on the demo district
// five years on: proposals, apply with a base version, 409 when stale, history, undo, tiles
// invalidated by the write, and the refusals of a read-only server and of requests without an
// admin's token.
#include "api/balance_endpoints.hpp"
#include "api/service.hpp"
#include "demo/store_district.hpp"
#include "support/accounts.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <thread>

using namespace wangge;

namespace {

struct Fixture {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    std::shared_ptr<grid::SnapshotHolder> holder;
    std::shared_ptr<tiles::TileCache> cache = std::make_shared<tiles::TileCache>(tiles::TileCache::Options{});
    std::shared_ptr<api::Writer> writer;
    std::unique_ptr<api::Service> service;
    std::string out_of_band; // a community with a grid out of the band
    std::string in_band;     // a community whose grids are all in the band
    std::string admin;       // an admin's API token

    explicit Fixture(bool read_only = false, int max_proposals = 2) {
        demo::DemoOptions o;
        o.years_later = 5;
        {
            auto db = store::Database::open(path, store::OpenMode::create);
            demo::store_district(*db, demo::generate_demo(o));
            holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db));
        }
        writer = std::make_shared<api::Writer>(path, holder, std::vector{cache}, read_only);
        test::TestAccounts accounts(path);
        admin = accounts.token_for("admin", auth::Role::admin);
        service = std::make_unique<api::Service>(
            holder,
            std::vector<std::shared_ptr<const api::Endpoints>>{std::make_shared<api::BalanceEndpoints>(writer, max_proposals)},
            api::ServiceOptions{accounts.accounts, {}, {}});
        for (const auto& c : holder->get()->communities()) {
            bool bad = false;
            for (const auto& g : holder->get()->grids())
                if (g.parent_code == c.code && g.load != grid::Load::in_band && g.load != grid::Load::unit) bad = true;
            (bad ? out_of_band : in_band) = c.code;
        }
        REQUIRE_FALSE(out_of_band.empty());
        REQUIRE_FALSE(in_band.empty());
    }

    api::Response post(const std::string& target, const std::string& body = "") const {
        return service->handle(test::json_post(target, body, admin));
    }
    api::Response post_as(const std::string& token, const std::string& target, const std::string& body) const {
        return service->handle(test::json_post(target, body, token));
    }
    api::Response get(const std::string& target) const {
        auto req = api::make_request("GET", target);
        req.headers.emplace_back("authorization", "Bearer " + admin);
        return service->handle(req);
    }
    std::string url(const std::string& code, const std::string& action) const {
        return "/api/v1/communities/" + code + "/" + action;
    }
};

std::string code_of(const api::Response& r) { return nlohmann::json::parse(r.body).value("code", ""); }

} // namespace

TEST_CASE("balance endpoints: a proposal puts the community's grids in the band and writes nothing", "[balance][api]") {
    Fixture f;
    const std::int64_t version = f.holder->get()->version();
    const api::Response r = f.post(f.url(f.out_of_band, "rebalance"));
    REQUIRE(r.status == 200);
    const auto j = nlohmann::json::parse(r.body);
    CHECK(j.at("base_version") == version);
    CHECK(j.at("changes") == true);
    CHECK(j.at("before").at("in_band") < j.at("before").at("grids"));
    CHECK(j.at("after").at("in_band") == j.at("after").at("grids"));
    CHECK(j.at("before").at("households") == j.at("after").at("households"));
    for (const auto& g : j.at("grids")) {
        CHECK(g.at("geometry").at("type") == "MultiPolygon");
        CHECK(g.at("code").get<std::string>().substr(0, 12) == f.out_of_band);
    }
    CHECK(f.holder->get()->version() == version); // nothing written
    // A community already in the band: no change.
    const auto calm = nlohmann::json::parse(f.post(f.url(f.in_band, "rebalance")).body);
    CHECK(calm.at("changes") == false);
    CHECK(calm.at("households_moved") == 0);
}

TEST_CASE("balance endpoints: apply with the base version, 409 once stale, undo, history", "[balance][api]") {
    Fixture f;
    const auto before = f.holder->get();
    const std::int64_t version = before->version();
    // A tile over the community is cached before the change.
    const BBox box = before->find_community(f.out_of_band)->bbox;
    const tiles::TileId tile = tiles::tile_at(LonLat{(box.min_lon + box.max_lon) / 2, (box.min_lat + box.max_lat) / 2}, 15);
    f.cache->get({"mvt/grids", tile}, version, [] { return std::string("old tile"); });

    CHECK(code_of(f.post(f.url(f.out_of_band, "rebalance"), R"({"apply": true})")) == "missing_parameter");
    const api::Response applied =
        f.post(f.url(f.out_of_band, "rebalance"), R"({"apply": true, "base_version": )" + std::to_string(version) + "}");
    REQUIRE(applied.status == 200);
    const auto j = nlohmann::json::parse(applied.body);
    CHECK(j.at("applied").at("version") == version + 1);
    CHECK(j.at("applied").at("grids_written").get<int>() > 0);
    // The snapshot moved on and the cached tile over the community was dropped.
    const auto after = f.holder->get();
    REQUIRE(after->version() == version + 1);
    CHECK_FALSE(f.cache->peek({"mvt/grids", tile}, after->version()));
    for (const auto& g : after->grids())
        if (g.parent_code == f.out_of_band && g.kind == store::GridKind::residential) CHECK(g.load == grid::Load::in_band);

    // The same proposal again: its base version is gone.
    const api::Response stale =
        f.post(f.url(f.out_of_band, "rebalance"), R"({"apply": true, "base_version": )" + std::to_string(version) + "}");
    CHECK(stale.status == 409);
    CHECK(code_of(stale) == "stale_proposal");
    CHECK(f.holder->get()->version() == version + 1);

    const auto history = nlohmann::json::parse(f.get(f.url(f.out_of_band, "history")).body);
    REQUIRE(history.at("changes").size() == 1);
    CHECK(history.at("changes")[0].at("action") == "rebalance");
    CHECK(history.at("changes")[0].at("base_version") == version);

    const api::Response undone = f.post(f.url(f.out_of_band, "rebalance/undo"));
    REQUIRE(undone.status == 200);
    const auto restored = f.holder->get();
    CHECK(restored->version() == version + 2);
    // The grids are back as they were.
    std::vector<std::pair<std::string, std::vector<unsigned char>>> was, is;
    for (const auto& g : before->grids())
        if (g.parent_code == f.out_of_band) was.emplace_back(g.code, geo::to_wkb(g.geom));
    for (const auto& g : restored->grids())
        if (g.parent_code == f.out_of_band) is.emplace_back(g.code, geo::to_wkb(g.geom));
    CHECK(is == was);
    CHECK(code_of(f.post(f.url(f.out_of_band, "rebalance/undo"))) == "nothing_to_undo");
    const auto history2 = nlohmann::json::parse(f.get(f.url(f.out_of_band, "history")).body);
    REQUIRE(history2.at("changes").size() == 2);
    CHECK(history2.at("changes")[0].at("action") == "undo");
    CHECK(history2.at("changes")[1].at("undone_by") == history2.at("changes")[0].at("id"));
}

TEST_CASE("balance endpoints: bad requests get clear errors", "[balance][api]") {
    Fixture f;
    CHECK(f.post(f.url("320199999999", "rebalance")).status == 404);
    CHECK(f.post(f.url("12345", "rebalance")).status >= 400);
    CHECK(code_of(f.post(f.url(f.out_of_band, "rebalance"), R"({"min": 600, "max": 500})")) == "invalid_band");
    CHECK(code_of(f.post(f.url(f.out_of_band, "rebalance"), R"({"min": 0})")) == "invalid_band");
    CHECK(code_of(f.post(f.url(f.out_of_band, "rebalance"), "{not json")) == "invalid_body");
    CHECK(code_of(f.post(f.url(f.out_of_band, "rebalance"), R"({"min": "many"})")) == "invalid_body");
    // Numbers that are not whole or out of range are refused, never cast (fuzz_bodies found a
    // seed of 1e114 converted to an unsigned integer: undefined behaviour).
    for (const char* body : {R"({"seed": 1e114})", R"({"seed": -1})", R"({"seed": 2.5})", R"({"min": 140.5})",
                             R"({"max": 99999999999})", R"({"min": -1e300})"}) {
        INFO(body);
        const api::Response r = f.post(f.url(f.out_of_band, "rebalance"), body);
        CHECK(r.status == 400);
        CHECK(code_of(r) == "invalid_body");
    }
    CHECK(f.post(f.url(f.out_of_band, "rebalance"), R"({"seed": 18446744073709551615})").status == 200);
    const api::Response get = f.get(f.url(f.out_of_band, "rebalance"));
    CHECK(get.status == 405);
    CHECK(std::find(get.headers.begin(), get.headers.end(), std::pair<std::string, std::string>{"Allow", "POST"}) !=
          get.headers.end());
    CHECK(code_of(f.post(f.url(f.in_band, "rebalance"), R"({"apply": true, "base_version": )" +
                                                            std::to_string(f.holder->get()->version()) + "}")) ==
          "nothing_to_apply");
}

TEST_CASE("balance endpoints: a read-only server refuses writes but proposes and no token changes nothing", "[balance][api]") {
    Fixture read_only(true);
    const std::string body = R"({"apply": true, "base_version": )" + std::to_string(read_only.holder->get()->version()) + "}";
    CHECK(read_only.post(read_only.url(read_only.out_of_band, "rebalance")).status == 200);
    const api::Response refused = read_only.post(read_only.url(read_only.out_of_band, "rebalance"), body);
    CHECK(refused.status == 403);
    CHECK(code_of(refused) == "read_only");

    Fixture guarded;
    const std::string apply = R"({"apply": true, "base_version": )" + std::to_string(guarded.holder->get()->version()) + "}";
    const std::int64_t version = guarded.holder->get()->version();
    const api::Response no_token = guarded.post_as("", guarded.url(guarded.out_of_band, "rebalance"), apply);
    CHECK(no_token.status == 401);
    CHECK(code_of(no_token) == "unauthorized");
    const api::Response wrong = guarded.post_as("wgt_wrong", guarded.url(guarded.out_of_band, "rebalance"), apply);
    CHECK(wrong.status == 401);
    CHECK(code_of(wrong) == "invalid_token");
    CHECK(guarded.holder->get()->version() == version); // nothing written
    CHECK(guarded.post(guarded.url(guarded.out_of_band, "rebalance"), apply).status == 200);
}

TEST_CASE("balance endpoints: proposals past the limit running at once get 503 with Retry-After", "[balance][api]") {
    Fixture f(false, 1);
    const std::string target = f.url(f.out_of_band, "rebalance");
    // Eight proposals from scratch start together; each takes a core for milliseconds, so with
    // room for one at a time some must be refused, and none may fail otherwise.
    std::vector<int> statuses(8);
    std::vector<std::string> retry(8);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < statuses.size(); ++i)
        threads.emplace_back([&, i] {
            ready.fetch_add(1);
            while (ready.load() < static_cast<int>(statuses.size())) {}
            const api::Response r = f.post(target, R"({"from_scratch": true})");
            statuses[i] = r.status;
            for (const auto& [k, v] : r.headers)
                if (k == "Retry-After") retry[i] = v;
        });
    for (auto& t : threads) t.join();
    const auto busy = std::count(statuses.begin(), statuses.end(), 503);
    CHECK(busy > 0);
    CHECK(std::count(statuses.begin(), statuses.end(), 200) + busy == 8);
    for (std::size_t i = 0; i < statuses.size(); ++i)
        if (statuses[i] == 503) CHECK(retry[i] == "2");
    // Once they are done, the next one runs.
    CHECK(f.post(target).status == 200);
}

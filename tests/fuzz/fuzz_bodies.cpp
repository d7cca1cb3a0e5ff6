// Request bodies through the real in-process api::Service (src/api/service.hpp) over the small
// district (tests/support/small_district.hpp) in a SpatiaLite file made once: the incident,
// Open311, grid-division and account families behind the one access check, with group commit
// and the audit log, as `wangge serve` runs them. The first byte picks a POST route and who
// sends it; the rest is the body. Checked: the answer, awaited when it is deferred, is never a
// 5xx (bad input is the client's fault: 4xx).
#include "api/account_endpoints.hpp"
#include "api/balance_endpoints.hpp"
#include "api/incident_endpoints.hpp"
#include "api/open311_endpoints.hpp"
#include "api/service.hpp"
#include "fuzz_support.hpp"
#include "support/accounts.hpp"
#include "support/incident_district.hpp"
#include "support/temp_dir.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdlib>
#include <memory>
#include <string>

using namespace wangge;

namespace {

constexpr std::string_view multipart_type = "multipart/form-data; boundary=wangge-fuzz";

struct Server {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    std::shared_ptr<store::GroupCommit> commits;
    std::unique_ptr<api::Service> service;
    std::string admin, worker;
    std::array<std::int64_t, 3> cases{};

    Server() {
        test::write_incident_district(path);
        std::shared_ptr<grid::SnapshotHolder> holder;
        {
            auto db = store::Database::open(path, store::OpenMode::read_write);
            holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db));
        }
        test::TestAccounts accounts(path);
        admin = accounts.token_for("admin", auth::Role::admin);
        worker = accounts.token_for("wang", auth::Role::worker, {"320102002001001"});
        accounts.accounts->add_user(auth::NewUser{"west", "西社区", auth::Role::community, {"320102002001"},
                                                  std::string("west password")});
        api::IncidentOptions o;
        o.rules = test::two_category_rules();
        const SystemTime fixed = *parse_utc("2026-12-04T02:00:00Z");
        o.clock = [fixed] { return fixed; };
        o.photos = std::make_shared<const store::PhotoFiles>(dir / "photos");
        o.catalogue = std::make_shared<const incident::Catalogue>(
            incident::Catalogue::load(std::filesystem::path(WANGGE_FUZZ_DATA_DIR) / "categories.json"));
        o.receipt_key = std::string(32, 'k');
        commits = std::make_shared<store::GroupCommit>(path);
        auto writer = std::make_shared<api::Writer>(path, holder, std::vector<std::shared_ptr<tiles::TileCache>>{});
        api::ServiceOptions so{accounts.accounts, {}, {}};
        so.incident_areas = api::incident_areas_from(writer);
        service = std::make_unique<api::Service>(
            holder,
            std::vector<std::shared_ptr<const api::Endpoints>>{
                std::make_shared<api::IncidentEndpoints>(commits, writer, o),
                std::make_shared<api::Open311Endpoints>(commits, writer, o),
                std::make_shared<api::BalanceEndpoints>(writer),
                std::make_shared<api::AccountEndpoints>(accounts.accounts, api::AccessOptions{})},
            std::move(so));
        // Cases for the workflow steps to act on.
        for (auto& id : cases) {
            const api::Response r = post("/api/v1/incidents", "application/json",
                                         R"({"category":"0101","description":"暴露垃圾","location":{"lon":118.802,"lat":32.007}})",
                                         admin);
            if (r.status != 201) fuzz::fail("the fixture could not file a case", r.body);
            id = nlohmann::json::parse(r.body).at("id").get<std::int64_t>();
        }
    }

    api::Response post(const std::string& target, std::string_view type, std::string_view body,
                       const std::string& token) const {
        api::Request req = api::make_request("POST", target);
        req.body = std::string(body);
        req.headers.emplace_back("host", "localhost");
        req.headers.emplace_back("origin", "http://localhost");
        req.headers.emplace_back("content-type", std::string(type));
        if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
        req.remote_address = "127.0.0.1";
        return api::wait(service->handle(std::move(req)));
    }
};

std::unique_ptr<Server> server;

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    server = std::make_unique<Server>();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fuzz::Input in(data, size);
    const Server& s = *server;
    const std::string steps = "/api/v1/incidents/" + std::to_string(s.cases[(in.choice / 8) % s.cases.size()]) + "/transitions";
    const std::string& token = (in.choice & 0x80) ? s.worker : s.admin;
    api::Response r;
    switch (in.choice % 8) {
    case 0: r = s.post("/api/v1/incidents", "application/json", in.rest, token); break;
    case 1: r = s.post(steps, "application/json", in.rest, token); break;
    case 2: r = s.post("/api/v1/communities/320102002001/rebalance", "application/json", in.rest, s.admin); break;
    case 3: r = s.post("/api/v1/session", "application/json", in.rest, ""); break;
    case 4: r = s.post("/open311/v2/requests.json", "application/x-www-form-urlencoded", in.rest, token); break;
    case 5: r = s.post("/api/v1/incidents", multipart_type, in.rest, token); break;
    case 6: r = s.post(steps, multipart_type, in.rest, token); break;
    default: r = s.post("/open311/v2/requests.xml", multipart_type, in.rest, token); break;
    }
    // WANGGE_FUZZ_VERBOSE=1: every answer on stderr (to see what a seed reaches).
    static const bool verbose = std::getenv("WANGGE_FUZZ_VERBOSE") != nullptr;
    if (verbose) std::fprintf(stderr, "route %d: %d %.200s\n", in.choice % 8, r.status, r.body.c_str());
    if (r.status >= 500) fuzz::fail("a body was answered with a 5xx", std::to_string(r.status) + " " + r.body);
    return 0;
}

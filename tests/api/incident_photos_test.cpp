// Photos and receipts of cases through the Service on the small district: a report and a step
// sent as multipart/form-data with real images, stored once under their hash with the location
// removed, served only to whoever may see the case; a photo that is not an image, too many
// photos or a body that is not well-formed write nothing; a resident reads their own case by its
// receipt without personal fields.
#include "api/incident_endpoints.hpp"
#include "api/service.hpp"
#include "incident/receipts.hpp"
#include "support/accounts.hpp"
#include "support/images.hpp"
#include "support/incident_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace wangge;
using nlohmann::json;

namespace {

const SystemTime now = *parse_utc("2026-12-04T02:00:00Z");

struct Part {
    std::string name, filename, type, body;
};

std::string multipart(const std::vector<Part>& parts, const std::string& boundary = "wgb0undary") {
    std::string s;
    for (const Part& p : parts) {
        s += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p.name + "\"";
        if (!p.filename.empty()) s += "; filename=\"" + p.filename + "\"";
        s += "\r\n";
        if (!p.type.empty()) s += "Content-Type: " + p.type + "\r\n";
        s += "\r\n" + p.body + "\r\n";
    }
    return s + "--" + boundary + "--\r\n";
}

struct Fixture {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    std::filesystem::path photo_dir = dir / "photos";
    std::shared_ptr<grid::SnapshotHolder> holder;
    std::unique_ptr<api::Service> service;
    std::string receipt_key;
    std::string worker_token, other_community, viewer, west;

    Fixture() {
        test::write_incident_district(path);
        {
            auto db = store::Database::open(path, store::OpenMode::read_write);
            holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db));
            store::Transaction t(*db, store::Bump::none);
            receipt_key = incident::receipt_key(*db);
            t.commit();
        }
        test::TestAccounts accounts(path);
        worker_token = accounts.token_for("wang", auth::Role::worker, {"320102002001001"});
        other_community = accounts.token_for("east", auth::Role::community, {"320102002002"});
        viewer = accounts.token_for("view", auth::Role::viewer, {"320102002"});
        west = accounts.token_for("west", auth::Role::community, {"320102002001"});
        api::IncidentOptions o;
        o.rules = test::two_category_rules();
        o.clock = [] { return now; };
        o.photos = std::make_shared<const store::PhotoFiles>(photo_dir);
        o.receipt_key = receipt_key;
        auto writer = std::make_shared<api::Writer>(path, holder, std::vector<std::shared_ptr<tiles::TileCache>>{});
        api::ServiceOptions so{accounts.accounts, {}, {}};
        so.incident_areas = api::incident_areas_from(writer);
        service = std::make_unique<api::Service>(
            holder,
            std::vector<std::shared_ptr<const api::Endpoints>>{std::make_shared<api::IncidentEndpoints>(
                std::make_shared<store::GroupCommit>(path), writer, std::move(o))},
            std::move(so));
    }

    api::Response post(const std::string& target, const std::string& body, const std::string& token,
                       const std::string& type = "multipart/form-data; boundary=wgb0undary") const {
        auto req = api::make_request("POST", target);
        req.body = body;
        req.headers.emplace_back("content-type", type);
        if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
        return api::wait(service->handle(std::move(req)));
    }
    api::Response get(const std::string& target, const std::string& token) const {
        auto req = api::make_request("GET", target);
        if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
        return api::wait(service->handle(std::move(req)));
    }
    std::size_t cases() const {
        auto db = store::Database::open(path, store::OpenMode::read_only);
        return db->list_incidents({}).size();
    }
    std::size_t photo_files() const {
        std::size_t n = 0;
        if (!std::filesystem::exists(photo_dir)) return 0;
        for (const auto& e : std::filesystem::recursive_directory_iterator(photo_dir)) n += e.is_regular_file() ? 1 : 0;
        return n;
    }
};

const json report{{"category", "0101"},
                  {"description", "井盖破损"},
                  {"address", "中山路 8 号门口"},
                  {"location", {{"lon", 118.802}, {"lat", 32.007}}},
                  {"reporter", {{"name", "张三"}, {"phone", "13912345678"}}}};

json body_of(const api::Response& r) { return json::parse(r.body); }

} // namespace

TEST_CASE("incident photos: a report with photos stores them once and shows them to whoever sees the case",
          "[incident][api][photos]") {
    Fixture f;
    const std::string jpeg = test::encode_image("JPEG", "jpg"), png = test::encode_image("PNG", "png");
    const auto r = f.post("/api/v1/incidents",
                          multipart({{"report", "", "application/json", report.dump()},
                                     {"photo", "a.jpg", "image/jpeg", jpeg},
                                     {"photo", "b.png", "image/png", png},
                                     {"photo", "again.png", "application/octet-stream", png}}),
                          f.viewer);
    INFO(r.body);
    REQUIRE(r.status == 201);
    const json j = body_of(r);
    const std::string id = std::to_string(j["id"].get<int>());
    CHECK(j["address"] == "中山路 8 号门口");
    REQUIRE(j["photos"].size() == 3); // as sent; the same picture twice is one file
    CHECK(j["photos"][0]["media_type"] == "image/jpeg");
    CHECK(j["photos"][1]["media_type"] == "image/png"); // by content, whatever the part said
    CHECK(j["photos"][1]["hash"] == j["photos"][2]["hash"]);
    CHECK(j["photos"][0]["bytes"] == jpeg.size());
    CHECK(f.photo_files() == 2);

    const json c = body_of(f.get("/api/v1/incidents/" + id, f.worker_token));
    REQUIRE(c["photos"].size() == 2); // recorded once per case
    CHECK(c["events"][0]["photos"].size() == 2); // with the report
    CHECK(c["events"][1]["photos"].empty());
    const std::string url = c["photos"][0]["url"];
    CHECK(url == "/api/v1/incidents/" + id + "/photos/" + j["photos"][0]["hash"].get<std::string>());
    const auto photo = f.get(url, f.worker_token);
    REQUIRE(photo.status == 200);
    CHECK(photo.body == jpeg);
    CHECK(photo.content_type == "image/jpeg");
    bool private_cache = false;
    for (const auto& [k, v] : photo.headers) private_cache = private_cache || (k == "Cache-Control" && v.starts_with("private"));
    CHECK(private_cache);
    CHECK(f.get(url, f.other_community).status == 403);
    CHECK(f.get(url, "").status == 401);
    CHECK(f.get("/api/v1/incidents/" + id + "/photos/" + std::string(64, 'a'), f.worker_token).status == 404);
    CHECK(f.get("/api/v1/incidents/" + id + "/photos/..%2F..%2Fw.sqlite", f.worker_token).status == 404);

    // A step with a photo of the work done.
    const auto step = f.post("/api/v1/incidents/" + id + "/transitions",
                             multipart({{"step", "", "application/json", R"({"action":"start"})"},
                                        {"photo", "work.webp", "image/webp", test::encode_image("WEBP", "webp")}}),
                             f.worker_token);
    INFO(step.body);
    REQUIRE(step.status == 200);
    CHECK(body_of(step)["event"]["photos"].size() == 1);
    const json after = body_of(f.get("/api/v1/incidents/" + id, f.west));
    CHECK(after["photos"].size() == 3);
    CHECK(after["events"][3]["action"] == "start");
    CHECK(after["events"][3]["photos"][0]["media_type"] == "image/webp");
}

TEST_CASE("incident photos: what is not a photo, too many photos or a broken body write nothing", "[incident][api][photos]") {
    Fixture f;
    const std::string png = test::encode_image("PNG", "png");
    auto code_of = [](const api::Response& r) { return json::parse(r.body)["code"].get<std::string>(); };

    auto r = f.post("/api/v1/incidents",
                    multipart({{"report", "", "application/json", report.dump()},
                               {"photo", "ok.png", "image/png", png},
                               {"photo", "evil.jpg", "image/jpeg", "<script>alert(1)</script>"}}),
                    f.viewer);
    CHECK(r.status == 422);
    CHECK(code_of(r) == "not_an_image");
    CHECK(std::string(body_of(r)["message"]).find("photo 2") != std::string::npos);

    std::vector<Part> ten{{"report", "", "application/json", report.dump()}};
    for (int i = 0; i < 10; ++i) ten.push_back({"photo", "p.png", "image/png", png});
    r = f.post("/api/v1/incidents", multipart(ten), f.viewer);
    CHECK(r.status == 422);
    CHECK(code_of(r) == "too_many_photos");

    r = f.post("/api/v1/incidents", multipart({{"photo", "p.png", "image/png", png}}), f.viewer);
    CHECK(r.status == 400);
    CHECK(code_of(r) == "invalid_multipart"); // the report itself is missing
    r = f.post("/api/v1/incidents", multipart({{"report", "", "", report.dump()}, {"other", "", "", "x"}}), f.viewer);
    CHECK(r.status == 400);
    r = f.post("/api/v1/incidents", "--wgb0undary\r\nContent-Disposition: form-data; name=\"report\"\r\n\r\n{}", f.viewer);
    CHECK(r.status == 400);
    r = f.post("/api/v1/incidents", multipart({{"report", "", "", "{\"category\": \"9999\"}"}, {"photo", "", "", png}}),
               f.viewer);
    CHECK(r.status == 422); // an unknown category: refused before any photo is kept
    r = f.post("/api/v1/incidents", multipart({{"report", "", "", report.dump()}}), f.viewer, "text/plain");
    CHECK(r.status == 415);
    CHECK(std::string(body_of(r)["message"]).find("multipart/form-data") != std::string::npos);

    CHECK(f.cases() == 0);
    CHECK(f.photo_files() == 0);
}

TEST_CASE("incident receipts: the reporter follows their case by its receipt, without personal fields",
          "[incident][api][receipts]") {
    Fixture f;
    const auto r = f.post("/api/v1/incidents", report.dump(), f.viewer, "application/json");
    REQUIRE(r.status == 201);
    const json j = body_of(r);
    const std::int64_t id = j["id"].get<std::int64_t>();
    const std::string receipt = j["receipt"];
    CHECK(receipt.starts_with("wgr_"));
    CHECK(receipt.size() == 4 + 43);
    CHECK(receipt == incident::receipt_of(f.receipt_key, id));
    CHECK(j["status_url"] == "/api/v1/incidents/" + std::to_string(id) + "/status?receipt=" + receipt);

    const auto seen = f.get(j["status_url"], "");
    INFO(seen.body);
    REQUIRE(seen.status == 200);
    const json s = body_of(seen);
    CHECK(s["id"] == id);
    CHECK(s["state"] == "dispatched");
    CHECK(s["handled_by"]["code"] == "320102002001001");
    CHECK(s["events"].size() == 3);
    CHECK(s["events"][2]["state"] == "dispatched");
    // Nothing personal and nothing the staff wrote: no reporter, description, address, notes or names.
    for (const char* field : {"reporter", "description", "address", "location", "photos"}) CHECK_FALSE(s.contains(field));
    CHECK(seen.body.find("张三") == std::string::npos);
    CHECK(seen.body.find("13912345678") == std::string::npos);
    CHECK(seen.body.find("王芳") == std::string::npos);
    CHECK(seen.body.find("view") == std::string::npos); // who filed it

    // A wrong receipt, another case's receipt, none at all: one 404 for all.
    const auto second = body_of(f.post("/api/v1/incidents", report.dump(), f.viewer, "application/json"));
    const std::string other = "/api/v1/incidents/" + std::to_string(second["id"].get<int>()) + "/status?receipt=";
    CHECK(f.get(other + receipt, "").status == 404);
    CHECK(f.get(other + second["receipt"].get<std::string>(), "").status == 200);
    CHECK(f.get("/api/v1/incidents/" + std::to_string(id) + "/status?receipt=wgr_" + std::string(43, 'A'), "").status == 404);
    CHECK(f.get("/api/v1/incidents/" + std::to_string(id) + "/status", "").status == 404);
    CHECK(f.get("/api/v1/incidents/999/status?receipt=" + receipt, "").status == 404);
    // A retried report (same Idempotency-Key) gets the same receipt.
    auto req = api::make_request("POST", "/api/v1/incidents");
    req.body = report.dump();
    req.headers.emplace_back("content-type", "application/json");
    req.headers.emplace_back("authorization", "Bearer " + f.viewer);
    req.headers.emplace_back("idempotency-key", "k1");
    auto again = req;
    const json first = body_of(api::wait(f.service->handle(std::move(req))));
    const json replay = body_of(api::wait(f.service->handle(std::move(again))));
    CHECK(replay["replayed"] == true);
    CHECK(replay["receipt"] == first["receipt"]);
}

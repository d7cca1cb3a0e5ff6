// Open311 GeoReport v2 through the Service on the small district: the catalogue as services in
// JSON and XML; form-encoded reports filed and dispatched like the JSON intake, once per
// Idempotency-Key or FixMyStreet report id; api_key as the credential; Open311 error lists;
// requests read within scope, by status and date; the workflow's events as updates.
#include "api/incident_endpoints.hpp"
#include "api/open311_endpoints.hpp"
#include "api/service.hpp"
#include "support/accounts.hpp"
#include "support/images.hpp"
#include "support/incident_district.hpp"
#include "support/temp_dir.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace wangge;
using nlohmann::json;

namespace {

const SystemTime day1 = *parse_utc("2026-12-04T02:00:00Z"); // 10:00 in China
const SystemTime day2 = *parse_utc("2026-12-05T02:00:00Z");

struct Fixture {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    std::shared_ptr<SystemTime> clock = std::make_shared<SystemTime>(day1);
    std::unique_ptr<api::Service> service;
    std::string admin, worker, west, east;
    test::IncidentDistrict district;

    Fixture() {
        district = test::write_incident_district(path);
        std::shared_ptr<grid::SnapshotHolder> holder;
        {
            auto db = store::Database::open(path, store::OpenMode::read_write);
            holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db));
        }
        test::TestAccounts accounts(path);
        admin = accounts.token_for("admin", auth::Role::admin);
        worker = accounts.token_for("wang", auth::Role::worker, {"320102002001001"});
        west = accounts.token_for("west", auth::Role::community, {"320102002001"});
        east = accounts.token_for("east", auth::Role::community, {"320102002002"});
        api::IncidentOptions o;
        o.rules = test::two_category_rules();
        o.clock = [c = clock] { return *c; };
        o.photos = std::make_shared<const store::PhotoFiles>(dir / "photos");
        o.catalogue = std::make_shared<const incident::Catalogue>(incident::Catalogue::load(test::data_dir / "categories.json"));
        auto commits = std::make_shared<store::GroupCommit>(path);
        auto writer = std::make_shared<api::Writer>(path, holder, std::vector<std::shared_ptr<tiles::TileCache>>{});
        api::ServiceOptions so{accounts.accounts, {}, {}};
        so.incident_areas = api::incident_areas_from(writer);
        service = std::make_unique<api::Service>(
            holder,
            std::vector<std::shared_ptr<const api::Endpoints>>{std::make_shared<api::IncidentEndpoints>(commits, writer, o),
                                                               std::make_shared<api::Open311Endpoints>(commits, writer, o)},
            std::move(so));
    }

    api::Response post(const std::string& target, const std::string& form, const std::string& key = "") const {
        auto req = api::make_request("POST", target);
        req.body = form;
        req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
        if (!key.empty()) req.headers.emplace_back("idempotency-key", key);
        return api::wait(service->handle(std::move(req)));
    }
    api::Response get(const std::string& target) const { return api::wait(service->handle(api::make_request("GET", target))); }
    api::Response step(std::int64_t id, const json& body, const std::string& token) const {
        return api::wait(service->handle(
            test::json_post("/api/v1/incidents/" + std::to_string(id) + "/transitions", body.dump(), token)));
    }
    std::int64_t count_cases() const {
        auto db = store::Database::open(path, store::OpenMode::read_write);
        return static_cast<std::int64_t>(db->list_incidents({}).size());
    }
};

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [k, v] : fields) {
        if (!out.empty()) out += '&';
        for (const std::string* s : {&k, &v}) {
            for (const unsigned char c : *s) {
                if (std::isalnum(c) || c == '-' || c == '_' || c == '.') out += static_cast<char>(c);
                else {
                    static constexpr char hex[] = "0123456789ABCDEF";
                    out += '%';
                    out += hex[c >> 4];
                    out += hex[c & 15];
                }
            }
            if (s == &k) out += '=';
        }
    }
    return out;
}

// What FixMyStreet posts for a report at the grid staffed by 王芳.
std::vector<std::pair<std::string, std::string>> fms_report(const std::string& api_key, const std::string& fms_id = "") {
    std::vector<std::pair<std::string, std::string>> f{
        {"api_key", api_key},      {"service_code", "0101"}, {"lat", "32.007"},  {"long", "118.802"},
        {"description", "暴露垃圾，桶边散落"}, {"first_name", "三"}, {"last_name", "张"}, {"email", "z@example.org"},
        {"phone", "13912345678"}, {"attribute[title]", "垃圾"}};
    if (!fms_id.empty()) f.emplace_back("attribute[fixmystreet_id]", fms_id);
    return f;
}

// The texts of every <name>...</name> in `xml`, in order (the writer emits no attributes).
std::vector<std::string> xml_values(const std::string& xml, const std::string& name) {
    std::vector<std::string> out;
    const std::string open = "<" + name + ">", close = "</" + name + ">";
    for (auto at = xml.find(open); at != std::string::npos; at = xml.find(open, at + 1)) {
        const auto start = at + open.size();
        out.push_back(xml.substr(start, xml.find(close, start) - start));
    }
    return out;
}

std::int64_t filed_id(const api::Response& r) {
    return std::stoll(json::parse(r.body).at(0).at("service_request_id").get<std::string>());
}

} // namespace

TEST_CASE("open311: the catalogue's 小类 are the services, in JSON and XML", "[open311][api]") {
    Fixture f;
    const auto catalogue = incident::Catalogue::load(test::data_dir / "categories.json");
    const auto j = f.get("/open311/v2/services.json");
    REQUIRE(j.status == 200);
    const json services = json::parse(j.body);
    REQUIRE(services.size() == catalogue.all().size());
    CHECK(services[0]["service_code"] == "0101");
    CHECK(services[0]["service_name"] == "暴露垃圾");
    CHECK(services[0]["group"] == "市容环境");
    CHECK(services[0]["metadata"] == false);
    CHECK(services[0]["type"] == "realtime");
    CHECK(services[0]["description"] == catalogue.find("0101")->acceptance_condition);

    const auto x = f.get("/open311/v2/services.xml");
    REQUIRE(x.status == 200);
    CHECK(x.content_type.starts_with("text/xml"));
    CHECK(x.body.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><service_code>0101</service_code>"));
    CHECK(x.body.ends_with("</service></services>"));
    CHECK(xml_values(x.body, "service_code").size() == catalogue.all().size());
    CHECK(xml_values(x.body, "service_name")[0] == "暴露垃圾");
    CHECK(xml_values(x.body, "group")[0] == "市容环境");
    CHECK(xml_values(x.body, "metadata")[0] == "false");

    const auto def = f.get("/open311/v2/services/0101.json");
    REQUIRE(def.status == 200);
    CHECK(json::parse(def.body) == json{{"service_code", "0101"}, {"attributes", json::array()}});
    CHECK(f.get("/open311/v2/services/0101.xml").body.ends_with(
        "<service_definition><service_code>0101</service_code><attributes></attributes></service_definition>"));
    const auto missing = f.get("/open311/v2/services/9999.json");
    CHECK(missing.status == 404);
    CHECK(json::parse(missing.body)[0]["code"] == 404);
    CHECK(f.get("/open311/v2/services.html").status == 404);
}

TEST_CASE("open311: a form post is filed and dispatched to the grid's worker", "[open311][api]") {
    Fixture f;
    const auto r = f.post("/open311/v2/requests.json", form_encode(fms_report(f.west)));
    INFO(r.body);
    REQUIRE(r.status == 201);
    const json j = json::parse(r.body);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["account_id"].is_null());
    CHECK(j[0]["service_notice"].get<std::string>().find("王芳") != std::string::npos);
    const std::int64_t id = filed_id(r);
    {
        auto db = store::Database::open(f.path, store::OpenMode::read_write);
        const auto c = db->find_incident(id);
        REQUIRE(c);
        CHECK(c->state == "dispatched");
        CHECK(c->assignee_worker_id == f.district.wang);
        CHECK(c->reporter_name == "张三");
        CHECK(c->reporter_phone == "13912345678");
        CHECK(c->source == "resident");
        CHECK(c->due_at == "2026-12-04T06:00:00Z");
        CHECK(db->incident_events(id)[0].actor == "west");
    }
    // Read back with the worker's key, as Open311 shapes it.
    const auto one = f.get("/open311/v2/requests/" + std::to_string(id) + ".json?api_key=" + f.worker);
    INFO(one.body);
    REQUIRE(one.status == 200);
    const json c = json::parse(one.body)[0];
    CHECK(c["service_request_id"] == std::to_string(id));
    CHECK(c["status"] == "open");
    CHECK(c["extended_attributes"]["status"] == "action_scheduled");
    CHECK(c["service_code"] == "0101");
    CHECK(c["service_name"] == "暴露垃圾");
    CHECK(c["requested_datetime"] == "2026-12-04T02:00:00Z");
    CHECK(c["expected_datetime"] == "2026-12-04T06:00:00Z");
    CHECK(c["agency_responsible"] == "320102002001001");
    CHECK(c["lat"] == Approx(32.007));
    CHECK(c["long"] == Approx(118.802));
    CHECK(f.get("/open311/v2/requests/" + std::to_string(id) + ".json?api_key=" + f.east).status == 403);

    // The same in XML; the token is the request id.
    const auto x = f.post("/open311/v2/requests.xml", form_encode(fms_report(f.west)));
    REQUIRE(x.status == 201);
    CHECK(x.body.find("<service_requests><request><service_request_id>") != std::string::npos);
    const std::string second = xml_values(x.body, "service_request_id").at(0);
    CHECK(second == std::to_string(id + 1));
    const json token = json::parse(f.get("/open311/v2/tokens/" + second + ".json?api_key=" + f.west).body);
    CHECK(token == json::array({{{"service_request_id", second}, {"token", second}}}));
}

TEST_CASE("open311: an Idempotency-Key or FixMyStreet's retried post files one case", "[open311][api]") {
    Fixture f;
    const std::string body = form_encode(fms_report(f.west));
    const auto first = f.post("/open311/v2/requests.json", body, "fms-retry-1");
    const auto again = f.post("/open311/v2/requests.json", body, "fms-retry-1");
    REQUIRE(first.status == 201);
    REQUIRE(again.status == 200);
    CHECK(filed_id(first) == filed_id(again));
    CHECK(f.count_cases() == 1);

    const std::string fms = form_encode(fms_report(f.west, "4711"));
    const auto sent = f.post("/open311/v2/requests.json", fms);
    const auto retried = f.post("/open311/v2/requests.json", fms);
    REQUIRE(sent.status == 201);
    REQUIRE(retried.status == 200);
    CHECK(filed_id(sent) == filed_id(retried));
    CHECK(f.count_cases() == 2);
}

TEST_CASE("open311: api_key is required, and failures are Open311 error lists", "[open311][api]") {
    Fixture f;
    auto no_key = fms_report("");
    no_key.erase(no_key.begin());
    const auto anonymous = f.post("/open311/v2/requests.json", form_encode(no_key));
    CHECK(anonymous.status == 401);
    const json e = json::parse(anonymous.body);
    REQUIRE(e.is_array());
    CHECK(e[0]["code"] == 401);
    CHECK(e[0]["description"].get<std::string>().find("sign in") != std::string::npos);
    CHECK(e[0]["description"].get<std::string>().find("api_key=") != std::string::npos);
    CHECK(f.post("/open311/v2/requests.json", form_encode(fms_report("not-a-token"))).status == 401);
    const auto xml = f.post("/open311/v2/requests.xml", form_encode(no_key));
    CHECK(xml.status == 401);
    CHECK(xml_values(xml.body, "code") == std::vector<std::string>{"401"});

    // A browser's session cookie is no credential here: a cross-site form cannot use it.
    auto req = api::make_request("POST", "/open311/v2/requests.json");
    req.body = form_encode(no_key);
    req.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    req.headers.emplace_back("cookie", "wangge_session=anything");
    CHECK(api::wait(f.service->handle(std::move(req))).status == 401);
    // Every other write still takes JSON only.
    auto form_elsewhere = api::make_request("POST", "/api/v1/incidents");
    form_elsewhere.body = form_encode(fms_report(f.west));
    form_elsewhere.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    form_elsewhere.headers.emplace_back("authorization", "Bearer " + f.west);
    CHECK(api::wait(f.service->handle(std::move(form_elsewhere))).status == 415);

    auto unknown = fms_report(f.west);
    unknown[1].second = "9999";
    const auto bad = f.post("/open311/v2/requests.json", form_encode(unknown));
    CHECK(bad.status == 400);
    CHECK(json::parse(bad.body)[0]["code"] == 400);
    CHECK(json::parse(bad.body)[0]["description"].get<std::string>().find("9999") != std::string::npos);
    auto nowhere = fms_report(f.west);
    nowhere[2].second = "";
    CHECK(f.post("/open311/v2/requests.json", form_encode(nowhere)).status == 400);
    CHECK(f.count_cases() == 0);
}

TEST_CASE("open311: requests are listed within scope, by status and date", "[open311][api]") {
    Fixture f;
    const std::int64_t a = filed_id(f.post("/open311/v2/requests.json", form_encode(fms_report(f.west))));
    REQUIRE(f.step(a, {{"action", "start"}}, f.worker).status == 200);
    REQUIRE(f.step(a, {{"action", "feedback"}, {"note", "已清理"}}, f.west).status == 200);
    REQUIRE(f.step(a, {{"action", "verify"}}, f.west).status == 200);
    REQUIRE(f.step(a, {{"action", "close"}, {"rating", 5}}, f.west).status == 200);
    *f.clock = day2;
    const std::int64_t b = filed_id(f.post("/open311/v2/requests.json", form_encode(fms_report(f.west))));

    auto ids = [&](const std::string& query, const std::string& key) {
        const auto r = f.get("/open311/v2/requests.json?api_key=" + key + query);
        INFO(r.body);
        REQUIRE(r.status == 200);
        std::vector<std::int64_t> out;
        for (const auto& item : json::parse(r.body)) out.push_back(std::stoll(item["service_request_id"].get<std::string>()));
        return out;
    };
    const std::string west_area = "&jurisdiction_id=320102002001";
    CHECK(ids(west_area, f.west) == std::vector<std::int64_t>{b, a});
    CHECK(ids(west_area + "&status=closed", f.west) == std::vector<std::int64_t>{a});
    CHECK(ids(west_area + "&status=open", f.west) == std::vector<std::int64_t>{b});
    CHECK(ids(west_area + "&start_date=2026-12-05T08:00:00%2B08:00", f.west) == std::vector<std::int64_t>{b});
    CHECK(ids(west_area + "&end_date=2026-12-04T23:59:59Z", f.west) == std::vector<std::int64_t>{a});
    CHECK(ids(west_area + "&service_code=1101", f.west).empty());
    CHECK(ids(west_area + "&service_request_id=" + std::to_string(a), f.west) == std::vector<std::int64_t>{a});
    CHECK(ids("", f.admin) == std::vector<std::int64_t>{b, a});
    // Staff of another community see none of them, even by id.
    CHECK(ids("&jurisdiction_id=320102002002", f.east).empty());
    CHECK(ids("&jurisdiction_id=320102002002&service_request_id=" + std::to_string(a), f.east).empty());
    // Without a jurisdiction a non-admin is told to name one; anonymous clients to sign in.
    const auto unscoped = f.get("/open311/v2/requests.json?api_key=" + f.west);
    CHECK(unscoped.status == 403);
    CHECK(json::parse(unscoped.body)[0]["code"] == 403);
    CHECK(json::parse(unscoped.body)[0]["description"].get<std::string>().find("jurisdiction_id=") != std::string::npos);
    CHECK(f.get("/open311/v2/requests.json").status == 401);
    CHECK(f.get("/open311/v2/requests.json?api_key=" + f.west + west_area + "&status=fixed").status == 400);

    const auto closed = json::parse(f.get("/open311/v2/requests/" + std::to_string(a) + ".json?api_key=" + f.west).body)[0];
    CHECK(closed["status"] == "closed");
    CHECK(closed["extended_attributes"]["status"] == "fixed");
}

TEST_CASE("open311: the workflow's events are service request updates", "[open311][api]") {
    Fixture f;
    const std::int64_t id = filed_id(f.post("/open311/v2/requests.json", form_encode(fms_report(f.west))));
    *f.clock = day1 + std::chrono::hours(1);
    REQUIRE(f.step(id, {{"action", "start"}, {"note", "在路上"}}, f.worker).status == 200);

    const auto all = f.get("/open311/v2/servicerequestupdates.json?api_key=" + f.west + "&jurisdiction_id=320102002001");
    INFO(all.body);
    REQUIRE(all.status == 200);
    const json updates = json::parse(all.body);
    REQUIRE(updates.size() == 4); // report, accept, dispatch, start
    CHECK(updates[2]["status"] == "action_scheduled");
    CHECK(updates[3]["service_request_id"] == std::to_string(id));
    CHECK(updates[3]["status"] == "in_progress");
    CHECK(updates[3]["external_status_code"] == "in_progress");
    CHECK(updates[3]["description"] == "在路上");
    CHECK(updates[3]["updated_datetime"] == "2026-12-04T03:00:00Z");

    const auto later = f.get("/open311/v2/servicerequestupdates.xml?api_key=" + f.west +
                             "&jurisdiction_id=320102002001&start_date=2026-12-04T02:30:00Z");
    REQUIRE(later.status == 200);
    CHECK(later.body.find("<service_request_updates><request_update><update_id>") != std::string::npos);
    CHECK(xml_values(later.body, "status") == std::vector<std::string>{"in_progress"});
    CHECK(f.get("/open311/v2/servicerequestupdates.json?api_key=" + f.east + "&jurisdiction_id=320102002002").body == "[]");
}

TEST_CASE("open311: a multipart post with a photo in media, its address_string kept, media_url served",
          "[open311][api][photos]") {
    Fixture f;
    const std::string png = test::encode_image("PNG", "png");
    auto multipart = [&](const std::string& media) {
        std::string body;
        auto field = [&](const std::string& name, const std::string& value, const std::string& file = "") {
            body += "--fms\r\nContent-Disposition: form-data; name=\"" + name + "\"";
            if (!file.empty()) body += "; filename=\"" + file + "\"\r\nContent-Type: image/png";
            body += "\r\n\r\n" + value + "\r\n";
        };
        for (const auto& [k, v] : fms_report(f.west)) field(k, v);
        field("address_string", "中山路 8 号");
        field("media", media, "photo.png");
        body += "--fms--\r\n";
        auto req = api::make_request("POST", "/open311/v2/requests.json");
        req.body = body;
        req.headers.emplace_back("content-type", "multipart/form-data; boundary=fms");
        return api::wait(f.service->handle(std::move(req)));
    };
    // A media part that is not an image: refused whole, as an Open311 error list.
    const auto refused = multipart("not an image");
    CHECK(refused.status == 422);
    CHECK(json::parse(refused.body)[0]["code"] == 422);
    CHECK(f.count_cases() == 0);

    const auto filed = multipart(png);
    INFO(filed.body);
    REQUIRE(filed.status == 201);
    const std::int64_t id = filed_id(filed);
    const auto one = f.get("/open311/v2/requests/" + std::to_string(id) + ".json?api_key=" + f.west);
    REQUIRE(one.status == 200);
    const json record = json::parse(one.body)[0];
    CHECK(record["address"] == "中山路 8 号");
    const std::string media_url = record["media_url"];
    const std::string path = "/api/v1/incidents/" + std::to_string(id) + "/photos/";
    REQUIRE(media_url.find(path) != std::string::npos);
    auto req = api::make_request("GET", media_url.substr(media_url.find(path)));
    req.headers.emplace_back("authorization", "Bearer " + f.west);
    const auto photo = api::wait(f.service->handle(std::move(req)));
    CHECK(photo.status == 200);
    CHECK(photo.body == png);
    // The same in XML, and its update carries the photo too.
    const auto xml = f.get("/open311/v2/requests/" + std::to_string(id) + ".xml?api_key=" + f.west);
    CHECK(xml_values(xml.body, "address") == std::vector<std::string>{"中山路 8 号"});
    const json updates = json::parse(
        f.get("/open311/v2/servicerequestupdates.json?api_key=" + f.west + "&jurisdiction_id=320102002001").body);
    INFO(updates.dump());
    REQUIRE(updates.size() == 3);
    CHECK(updates[0]["media_url"] == media_url);
    CHECK(updates[1]["media_url"].is_null());
}

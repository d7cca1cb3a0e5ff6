// The request's route, the header parsers every family shares, the one access check through the
// Service, and the boundary's answers to failures: a 500 that tells no internals, invalid UTF-8,
// and a snapshot that catches up after a failed load.
#include "api/access.hpp"
#include "api/account_endpoints.hpp"
#include "api/header_values.hpp"
#include "api/metrics.hpp"
#include "api/rest.hpp"
#include "api/route.hpp"
#include "api/service.hpp"
#include "api/writer.hpp"
#include "core/utf8.hpp"
#include "support/accounts.hpp"
#include "support/small_service.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <future>
#include <mutex>
#include <set>

using namespace wangge;

namespace {

std::string code_of(const api::Response& r) { return nlohmann::json::parse(r.body).value("code", ""); }

std::string header_of(const api::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "";
}

// A family whose work fails the way a database or a library can fail.
struct Failing final : api::Endpoints {
    std::optional<api::Response> handle(const api::Request& req, const grid::Snapshot&) const override {
        if (req.path == "/api/v1/locate") throw std::runtime_error("SELECT secret FROM /var/lib/wangge/w.sqlite: GEOS");
        if (req.path == "/api/v1/validate")
            throw Error(ErrorKind::io, "database", "cannot open /srv/private/w.sqlite: disk I/O error");
        return std::nullopt;
    }
};

} // namespace

TEST_CASE("route: each path's access class, methods, area codes and audit action", "[api][access]") {
    struct Case {
        std::string method, path, parent;
        api::Access access;
        std::string allow, code, action;
        bool unsafe;
    };
    const std::vector<Case> cases{
        {"GET", "/healthz", "", api::Access::open, "GET, HEAD", "", "", false},
        {"GET", "/", "", api::Access::open, "GET, HEAD", "", "", false},
        {"GET", "/app.js", "", api::Access::open, "GET, HEAD", "", "", false},
        {"POST", "/api/v1/session", "", api::Access::open, "GET, HEAD, POST, DELETE", "", "session.sign_in", true},
        {"DELETE", "/api/v1/session", "", api::Access::open, "GET, HEAD, POST, DELETE", "", "session.sign_out", true},
        {"GET", "/api/v1/audit", "", api::Access::audit, "GET, HEAD", "", "", false},
        {"GET", "/api/v1/locate", "", api::Access::locate, "GET, HEAD", "", "", false},
        {"GET", "/api/v1/validate", "", api::Access::validate, "GET, HEAD", "", "", false},
        {"GET", "/api/v1/grids", "320102002001", api::Access::map, "GET, HEAD", "", "", false},
        {"GET", "/api/v1/buildings", "", api::Access::map, "GET, HEAD", "", "", false},
        {"GET", "/api/v1/communities/320102002001", "", api::Access::map, "GET, HEAD", "320102002001", "", false},
        {"POST", "/api/v1/communities/320102002001/rebalance", "", api::Access::change_grids, "POST", "320102002001",
         "rebalance", true},
        {"POST", "/api/v1/communities/320102002001/rebalance/undo", "", api::Access::change_grids, "POST",
         "320102002001", "rebalance.undo", true},
        {"GET", "/api/v1/communities/320102002001/history", "", api::Access::history, "GET, HEAD", "320102002001", "",
         false},
        {"GET", "/ogc/collections/grids/items", "", api::Access::ogc, "GET, HEAD", "", "", false},
        {"GET", "/tiles/grids/14/1/1.mvt", "", api::Access::tiles, "GET, HEAD", "", "", false},
        {"GET", "/tiles/default/14/1/1.png", "", api::Access::tiles, "GET, HEAD", "", "", false},
        {"GET", "/tiles/incidents/14/1/1.mvt", "", api::Access::incident_tiles, "GET, HEAD", "", "", false},
        {"GET", "/api/v1/grids/320102002001001/workers", "", api::Access::grid_workers, "GET, HEAD", "320102002001001",
         "", false},
    };
    for (const auto& c : cases) {
        INFO(c.method << " " << c.path);
        const api::Route r = api::parse_route(c.method, c.path, c.parent);
        CHECK(r.access == c.access);
        CHECK(r.allow == c.allow);
        CHECK(r.code == c.code);
        CHECK(r.action == c.action);
        CHECK(r.unsafe == c.unsafe);
        CHECK(r.allows(c.method));
    }
    const auto listed = api::make_request("GET", "/api/v1/grids?parent=320102002001&limit=5").route;
    CHECK(listed.codes == std::vector<std::string>{"320102002001"});
    CHECK(api::parse_route("GET", "/api/v1/communities/320102002001/rebalance", "").allows("GET") == false);
    CHECK(api::parse_route("HEAD", "/api/v1/grids", "").allows("HEAD"));
}

TEST_CASE("route: only Open311's POST requests takes a form, and Open311 routes take api_key and its error shape",
          "[api][access]") {
    const auto post = api::parse_route("POST", "/open311/v2/requests.json", "");
    CHECK(post.access == api::Access::report_incident);
    CHECK(post.accepts_form);
    CHECK(post.takes_api_key);
    CHECK(post.errors == api::ErrorShape::open311_json);
    CHECK(post.action == "incident.report");
    const auto one = api::parse_route("GET", "/open311/v2/requests/12.xml", "");
    CHECK(one.access == api::Access::incidents);
    CHECK(one.incident_id == 12);
    CHECK_FALSE(one.accepts_form);
    CHECK(one.errors == api::ErrorShape::open311_xml);
    CHECK(api::parse_route("GET", "/open311/v2/tokens/12.json", "").incident_id == 12);
    CHECK(api::parse_route("GET", "/open311/v2/services.json", "").access == api::Access::open);
    CHECK(api::parse_route("GET", "/open311/v2/servicerequestupdates.json", "").access == api::Access::incidents);
    CHECK(api::parse_route("GET", "/open311/v2/requests/x.json", "").access == api::Access::open); // 404 later
    const auto listed = api::make_request("GET", "/open311/v2/requests.json?jurisdiction_id=320102002001&code=320102002002");
    CHECK(listed.route.codes == std::vector<std::string>{"320102002001"});
    for (const char* path : {"/api/v1/incidents", "/api/v1/incidents/12/transitions", "/api/v1/session",
                             "/api/v1/communities/320102002001/rebalance"}) {
        INFO(path);
        const auto r = api::parse_route("POST", path, "");
        CHECK_FALSE(r.accepts_form);
        CHECK_FALSE(r.takes_api_key);
        CHECK(r.errors == api::ErrorShape::envelope);
    }
}

TEST_CASE("header values: quality lists, media types and cookies parsed in one place", "[api][access]") {
    const auto items = api::parse_quality_list("gzip;q=0.5, br , identity;q=0, *;q=bad");
    REQUIRE(items.size() == 4);
    CHECK(items[0].value == "gzip");
    CHECK(items[0].q == 0.5);
    CHECK(items[1].value == "br");
    CHECK(items[1].q == 1.0);
    CHECK(items[2].q == 0.0);
    CHECK(items[3].q == 1.0); // malformed q counts as 1
    CHECK(api::parse_quality_list("").empty());
    CHECK(api::media_type_of(" Application/JSON ; charset=utf-8") == "application/json");
    CHECK(api::is_json_media_type("application/json; charset=utf-8"));
    CHECK(api::is_json_media_type("application/merge-patch+json"));
    CHECK_FALSE(api::is_json_media_type("text/plain"));
    CHECK_FALSE(api::is_json_media_type("application/x-www-form-urlencoded"));
    CHECK(api::cookie_value("a=1; wangge_session=abc; b=2", "wangge_session") == "abc");
    CHECK(api::cookie_value("wangge_session=\"q\"", "wangge_session") == "q");
    CHECK_FALSE(api::cookie_value("xwangge_session=abc", "wangge_session"));
    CHECK(api::parse_anonymous_read("none").empty());
    CHECK(api::parse_anonymous_read("tiles, map").size() == 2);
    CHECK_THROWS_WITH(api::parse_anonymous_read("map,audit"), Catch::Contains("audit"));
}

TEST_CASE("access: anonymous reads follow the configuration and Host must be ours", "[api][access]") {
    test::SmallService open({std::make_shared<api::RestEndpoints>()}, api::ServiceOptions{}); // the defaults
    CHECK(open.service->handle(api::make_request("GET", "/api/v1/grids")).status == 200);
    const auto validate = open.service->handle(api::make_request("GET", "/api/v1/validate"));
    CHECK(validate.status == 401);
    CHECK(header_of(validate, "WWW-Authenticate").starts_with("Bearer"));

    test::TempDir dir;
    auto db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    test::TestAccounts accounts(dir / "w.sqlite");
    const std::string viewer = accounts.token_for("v", auth::Role::viewer, {"320102002001"});
    api::AccessOptions closed;
    closed.anonymous_read = {};
    closed.allowed_hosts = {"grid.example.org"};
    api::Service service(std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db)),
                         {std::make_shared<api::RestEndpoints>()}, {accounts.accounts, closed, {}});
    CHECK(service.handle(api::make_request("GET", "/api/v1/grids")).status == 401);
    CHECK(service.handle(api::make_request("GET", "/healthz")).status == 200); // always open
    auto signed_in = api::make_request("GET", "/api/v1/grids");
    signed_in.headers.emplace_back("authorization", "Bearer " + viewer);
    CHECK(service.handle(signed_in).status == 200);

    for (const std::string host : {"127.0.0.1:8080", "localhost", "[::1]:80", "GRID.example.org", "10.0.0.5"}) {
        auto req = api::make_request("GET", "/healthz");
        req.headers.emplace_back("host", host);
        CHECK(service.handle(req).status == 200);
    }
    for (const std::string host : {"attacker.example", "grid.example.org.attacker.example", ""}) {
        INFO(host);
        auto req = api::make_request("GET", "/healthz");
        req.headers.emplace_back("host", host);
        const auto r = service.handle(req);
        CHECK(r.status == 400);
        CHECK(code_of(r) == "unknown_host");
    }
    auto twice = api::make_request("GET", "/healthz");
    twice.headers = {{"host", "127.0.0.1"}, {"host", "attacker.example"}};
    CHECK(service.handle(twice).status == 400);
    auto behind_proxy = api::make_request("GET", "/healthz");
    behind_proxy.public_origin = "https://maps.example.net/wangge";
    behind_proxy.headers.emplace_back("host", "maps.example.net");
    CHECK(service.handle(behind_proxy).status == 200);
}

TEST_CASE("errors: a 500 names a request id, never SQL, paths or library messages", "[api][access]") {
    test::SmallService f({std::make_shared<Failing>()});
    for (const std::string target : {"/api/v1/locate", "/api/v1/validate"}) {
        auto req = api::make_request("GET", target);
        req.headers.emplace_back("authorization", "Bearer nothing"); // 401 before the family...
        CHECK(f.service->handle(req).status == 401);
    }
    const api::Response a = f.service->handle(api::make_request("GET", "/api/v1/locate"));
    REQUIRE(a.status == 500);
    const auto j = nlohmann::json::parse(a.body);
    CHECK(j["code"] == "internal");
    const std::string id = j["request_id"];
    CHECK(id.size() == 16);
    CHECK(header_of(a, "X-Request-Id") == id);
    CHECK(a.body.find("SELECT") == std::string::npos);
    CHECK(a.body.find("/var/lib") == std::string::npos);
    CHECK(a.body.find("GEOS") == std::string::npos);

    auto validate = api::make_request("GET", "/api/v1/validate");
    // validate is not anonymous by default; the check runs before the family, so sign in.
    test::TestAccounts accounts(f.dir / "w.sqlite");
    api::Service signed_in(std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*f.db)),
                           {std::make_shared<Failing>()}, {accounts.accounts, {}, {}});
    validate.headers.emplace_back("authorization", "Bearer " + accounts.token_for("v", auth::Role::viewer, {"320102002"}));
    const api::Response b = signed_in.handle(validate);
    REQUIRE(b.status == 500);
    CHECK(b.body.find("/srv/private") == std::string::npos);
    CHECK(b.body.find("disk I/O") == std::string::npos);
    CHECK(nlohmann::json::parse(b.body)["request_id"] != id);
}

TEST_CASE("errors: bytes that decode to invalid UTF-8 are a 400, in the path and the query", "[api][access]") {
    for (const std::string target : {"/api/v1/grids/%ff", "/api/v1/grids?parent=%c3%28", "/api/v1/locate?lon=1&%ed%a0%80=2",
                                     "/api/v1/grids/%f4%90%80%80"}) {
        INFO(target);
        try {
            (void)api::make_request("GET", target);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::bad_request);
            CHECK(e.code() == "bad_encoding");
        }
    }
    CHECK(api::make_request("GET", "/api/v1/grids?q=%e7%bd%91%e6%a0%bc").param("q") == "网格");
    CHECK(to_valid_utf8("ok\xff\xfe网") == "ok\xEF\xBF\xBD\xEF\xBF\xBD网");
    CHECK(is_valid_utf8("网格"));
    CHECK_FALSE(is_valid_utf8("\xc0\xaf")); // overlong '/'
}

TEST_CASE("writer: a failed snapshot load after a commit is caught up by the next write or refresh", "[api][access]") {
    test::SmallService f({});
    auto holder = std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*f.db));
    int failures_left = 1;
    api::Writer writer(f.dir / "w.sqlite", holder, {}, false,
                       [&](store::Database& db, grid::Band band) -> std::shared_ptr<const grid::Snapshot> {
                           if (failures_left-- > 0) throw std::runtime_error("out of memory while loading");
                           return grid::Snapshot::load(db, band);
                       });
    const std::int64_t v0 = holder->get()->version();
    auto touch = [](store::Database& db) {
        store::Transaction tx(db);
        db.exec("UPDATE streets SET name = name || '.'");
        tx.commit();
        return balance::AppliedChange{};
    };
    // The change commits; publishing it fails; the answer is still a success.
    CHECK_NOTHROW(writer.write(touch));
    CHECK(holder->get()->version() == v0);
    // The next write first brings the snapshot up to date, then makes its own change.
    writer.write(touch);
    CHECK(holder->get()->version() == v0 + 2);

    // A change made by another process is picked up by refresh().
    CHECK_FALSE(writer.refresh());
    {
        auto other = store::Database::open(f.dir / "w.sqlite", store::OpenMode::read_write);
        touch(*other);
    }
    CHECK(writer.refresh());
    CHECK(holder->get()->version() == v0 + 3);
    CHECK(holder->get()->streets().at(0).name.ends_with("..."));

    api::Writer read_only(f.dir / "w.sqlite", holder, {}, true);
    CHECK_THROWS_WITH(read_only.write(touch), Catch::Contains("read-only"));
}

TEST_CASE("metrics: requests are counted by route class, method and status, timed, and shown to admins only",
          "[api][access][metrics]") {
    test::TempDir dir;
    auto db = store::Database::open((dir / "w.sqlite").string(), store::OpenMode::create);
    test::write_small_district(*db);
    test::TestAccounts accounts(dir / "w.sqlite");
    const std::string admin = accounts.token_for("a", auth::Role::admin);
    const std::string viewer = accounts.token_for("v", auth::Role::viewer, {"320102002"});
    auto metrics = std::make_shared<api::Metrics>();
    int reads = 0;
    metrics->add_gauge("wangge_test_reads", "How often the gauge was read", [&reads] { return ++reads; });
    api::Service service(std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db)),
                         {std::make_shared<api::MetricsEndpoints>(metrics), std::make_shared<api::RestEndpoints>()},
                         {accounts.accounts, {}, {}}, metrics);
    for (int i = 0; i < 3; ++i)
        CHECK(service.handle(api::make_request("GET", "/api/v1/locate?lon=118.802&lat=32.008")).status == 200);
    CHECK(service.handle(api::make_request("GET", "/api/v1/locate?lon=500&lat=32")).status == 400);
    CHECK(service.handle(api::make_request("GET", "/api/v1/grids")).status == 200);

    auto as = [&](const std::string& token) {
        auto req = api::make_request("GET", "/metrics");
        if (!token.empty()) req.headers.emplace_back("authorization", "Bearer " + token);
        return service.handle(req);
    };
    CHECK(as("").status == 401);
    CHECK(as(viewer).status == 403);
    const auto r = as(admin);
    REQUIRE(r.status == 200);
    CHECK(r.content_type.starts_with("text/plain; version=0.0.4"));
    const std::string& text = r.body;
    INFO(text);
    CHECK(text.find("wangge_http_requests_total{method=\"GET\",route=\"locate\",status=\"2xx\"} 3") != std::string::npos);
    CHECK(text.find("wangge_http_requests_total{method=\"GET\",route=\"locate\",status=\"4xx\"} 1") != std::string::npos);
    CHECK(text.find("wangge_http_requests_total{method=\"GET\",route=\"map\",status=\"2xx\"} 1") != std::string::npos);
    // The refused scrapes count too, as the metrics route's 4xx.
    CHECK(text.find("wangge_http_requests_total{method=\"GET\",route=\"metrics\",status=\"4xx\"} 2") != std::string::npos);
    CHECK(text.find("wangge_http_request_duration_seconds_count{route=\"locate\"} 4") != std::string::npos);
    CHECK(text.find("wangge_http_request_duration_seconds_bucket{route=\"locate\",le=\"+Inf\"} 4") != std::string::npos);
    CHECK(text.find("wangge_test_reads 1") != std::string::npos);
    CHECK(as(admin).body.find("wangge_test_reads 2") != std::string::npos); // read at every scrape
    // A made-up method is one series, not one per method.
    service.handle(api::make_request("BREW", "/api/v1/grids"));
    service.handle(api::make_request("FETCH", "/api/v1/grids"));
    CHECK(as(admin).body.find("method=\"other\",route=\"map\",status=\"4xx\"} 2") != std::string::npos);
}

TEST_CASE("metrics: counters counted where events happen, and totals kept elsewhere read at each scrape",
          "[api][metrics]") {
    api::Metrics metrics;
    metrics.increment("wangge_test_events_total", "Events", {{"kind", "a"}});
    metrics.increment("wangge_test_events_total", "Events", {{"kind", "a"}});
    metrics.increment("wangge_test_events_total", "Events", {{"kind", "b"}}, 3);
    double seconds = 0.25;
    metrics.add_counter("wangge_test_seconds_total", "Seconds", [&seconds] { return seconds; }, {{"work", "x"}});
    std::string text = metrics.text();
    INFO(text);
    CHECK(text.find("# TYPE wangge_test_events_total counter") != std::string::npos);
    CHECK(text.find("wangge_test_events_total{kind=\"a\"} 2") != std::string::npos);
    CHECK(text.find("wangge_test_events_total{kind=\"b\"} 3") != std::string::npos);
    CHECK(text.find("# TYPE wangge_test_seconds_total counter") != std::string::npos);
    CHECK(text.find("wangge_test_seconds_total{work=\"x\"} 0.25") != std::string::npos);
    seconds = 1.5;
    text = metrics.text();
    CHECK(text.find("wangge_test_seconds_total{work=\"x\"} 1.5") != std::string::npos);
    seconds = 1.0; // a total never goes down on the scrape, even if its source did
    text = metrics.text();
    CHECK(text.find("wangge_test_seconds_total{work=\"x\"} 1.5") != std::string::npos);
}

TEST_CASE("sign-in: the password is checked on the password pool, not on the thread that asks, and past its queue 503",
          "[api][access]") {
    test::TempDir dir;
    auto db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
    test::write_small_district(*db);
    test::TestAccounts accounts(dir / "w.sqlite");
    accounts.accounts->add_user(auth::NewUser{"wang", "王芳", auth::Role::street, {"320102002"}, std::string("a long password")});
    auto pool = std::make_shared<auth::PasswordPool>(1, 1);
    api::Service service(std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db)),
                         {std::make_shared<api::AccountEndpoints>(accounts.accounts, api::AccessOptions{}, pool)},
                         {accounts.accounts, {}, {}});
    const auto sign_in = [](const std::string& password) {
        auto req = api::make_request("POST", "/api/v1/session");
        req.body = R"({"user": "wang", "password": ")" + password + R"("})";
        req.headers = {{"content-type", "application/json"}, {"host", "127.0.0.1"}, {"origin", "http://127.0.0.1"}};
        return req;
    };
    // The pool's one thread is busy (another sign-in's hash, say).
    std::mutex mutex;
    std::condition_variable changed;
    bool busy = false, release = false;
    pool->submit([&] {
        std::unique_lock lock(mutex);
        busy = true;
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
    });
    {
        std::unique_lock lock(mutex);
        REQUIRE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return busy; }));
    }
    // Answered later: handle() returns at once, with the check queued behind the busy thread.
    api::Response first = service.handle(sign_in("a long password"));
    REQUIRE(first.deferred);
    std::promise<api::Response> first_answer;
    first.deferred([&](api::Response r) { first_answer.set_value(std::move(r)); });
    CHECK(pool->waiting() == 1);
    // The queue (1) is full: the next sign-in is refused at once, 503 with Retry-After.
    api::Response second = service.handle(sign_in("a long password"));
    REQUIRE(second.deferred);
    std::promise<api::Response> second_answer;
    second.deferred([&](api::Response r) { second_answer.set_value(std::move(r)); });
    auto refused_future = second_answer.get_future();
    REQUIRE(refused_future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    const api::Response refused = refused_future.get();
    CHECK(refused.status == 503);
    CHECK(code_of(refused) == "sign_in_busy");
    CHECK(header_of(refused, "Retry-After") == "1");
    CHECK(header_of(refused, "Set-Cookie").empty());
    {
        std::lock_guard lock(mutex);
        release = true;
        changed.notify_all();
    }
    auto signed_in_future = first_answer.get_future();
    REQUIRE(signed_in_future.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
    const api::Response signed_in = signed_in_future.get();
    INFO(signed_in.body);
    CHECK(signed_in.status == 200);
    CHECK(header_of(signed_in, "Set-Cookie").starts_with("wangge_session="));
    CHECK(nlohmann::json::parse(signed_in.body)["user"]["name"] == "wang");
    // A wrong password through the pool: 401, as without it.
    const api::Response wrong = api::wait(service.handle(sign_in("wrong")));
    CHECK(wrong.status == 401);
    CHECK(code_of(wrong) == "invalid_credentials");
    // All three are audited with the name tried; the refusal with why.
    std::multiset<std::string> seen;
    for (const auto& a : accounts.accounts->list_audit({})) {
        CHECK(a.user == "wang");
        CHECK(a.action == "session.sign_in");
        seen.insert(std::to_string(a.status) + " " + a.outcome);
        if (a.status == 503) CHECK_THAT(a.detail, Catch::Contains("sign-ins are waiting already"));
    }
    CHECK(seen == std::multiset<std::string>{"200 ok", "401 denied", "503 failed"});

    // Past the limit for a name (5 failures in 15 minutes), a sign-in is refused at once on the
    // thread that asks, 429: it takes no place in the pool's queue and waits for no hash.
    for (int i = 0; i < 4; ++i) CHECK(api::wait(service.handle(sign_in("wrong"))).status == 401);
    const api::Response blocked = service.handle(sign_in("a long password"));
    CHECK_FALSE(blocked.deferred);
    CHECK(blocked.status == 429);
    CHECK(code_of(blocked) == "too_many_attempts");
    CHECK_FALSE(header_of(blocked, "Retry-After").empty());
    CHECK(accounts.accounts->list_audit({}).front().status == 429); // audited like the others
}

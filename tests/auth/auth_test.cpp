// Accounts: password hashes, tokens and sessions with their expiry, revocation and disabled users,
// scopes and roles, sign-in limits, and the append-only audit log, on a real SpatiaLite file with
// the clocks injected.
#include "auth/accounts.hpp"
#include "auth/login_limiter.hpp"
#include "auth/principal.hpp"
#include "auth/secrets.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace wangge;
using namespace std::chrono_literals;

namespace {

// A district on disk and Accounts over it whose wall and monotonic clocks the test moves.
struct Fixture {
    test::TempDir dir;
    std::filesystem::path path = dir / "w.sqlite";
    SystemTime now = *parse_utc("2026-12-04T08:00:00Z");
    std::chrono::steady_clock::time_point steady{};
    std::unique_ptr<auth::Accounts> accounts;

    Fixture() {
        {
            auto db = store::Database::open(path, store::OpenMode::create);
            test::write_small_district(*db);
        }
        auth::AccountsOptions o;
        o.session_lifetime = 12h;
        o.clock = [this] { return now; };
        o.steady_clock = [this] { return steady; };
        accounts = std::make_unique<auth::Accounts>(path, o);
    }

    std::int64_t data_version() { return store::Database::open(path, store::OpenMode::read_only)->data_version(); }
};

std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return "";
}

} // namespace

TEST_CASE("auth: Argon2id hashes verify only their password and digests and secrets", "[auth]") {
    const std::string hash = auth::hash_password("correct horse");
    CHECK(hash.starts_with("$argon2id$"));
    CHECK(auth::verify_password("correct horse", hash));
    CHECK_FALSE(auth::verify_password("correct horsE", hash));
    CHECK_FALSE(auth::verify_password("correct horse", "not a hash"));
    CHECK(auth::hash_password("correct horse") != hash); // salted

    const std::string a = auth::new_secret("wgt_"), b = auth::new_secret("wgt_");
    CHECK(a.starts_with("wgt_"));
    CHECK(a.size() == 4 + 43); // 32 bytes in base64url without padding
    CHECK(a != b);
    CHECK(auth::digest(a) == auth::digest(a));
    CHECK(auth::digest(a).size() == 64);
    CHECK(auth::digest(a) != auth::digest(b));
    CHECK(auth::constant_time_equal("abc", "abc"));
    CHECK_FALSE(auth::constant_time_equal("abc", "abd"));
    CHECK_FALSE(auth::constant_time_equal("abc", "abcd"));
}

TEST_CASE("auth: a scope covers the areas below its codes and roles take scopes of their level", "[auth]") {
    auto principal = [](auth::Role role, std::vector<std::string> scopes) {
        auth::Principal p;
        p.role = role;
        p.scopes = std::move(scopes);
        return p;
    };
    const auth::Principal street = principal(auth::Role::street, {"320102002"});
    CHECK(street.covers("320102002001"));
    CHECK(street.covers("320102002001001"));
    CHECK_FALSE(street.covers("320102003001"));
    CHECK_FALSE(street.covers("320102"));
    const auth::Principal worker = principal(auth::Role::worker, {"320102002001002"});
    CHECK_FALSE(worker.covers("320102002001"));
    CHECK(worker.touches("320102002001")); // its grid lies in that community
    CHECK_FALSE(worker.touches("320102002002"));
    const auth::Principal admin = principal(auth::Role::admin, {});
    CHECK(admin.covers("999999999999"));

    CHECK_NOTHROW(auth::check_scopes(auth::Role::admin, {}));
    CHECK(code_of([] { auth::check_scopes(auth::Role::admin, {"320102002"}); }) == "invalid_scope");
    CHECK(code_of([] { auth::check_scopes(auth::Role::street, {}); }) == "invalid_scope");
    CHECK(code_of([] { auth::check_scopes(auth::Role::street, {"320102002001"}); }) == "invalid_scope");
    CHECK(code_of([] { auth::check_scopes(auth::Role::community, {"32010200200"}); }) == "invalid_scope");
    CHECK_NOTHROW(auth::check_scopes(auth::Role::worker, {"320102002001001", "320102002001002"}));
    CHECK_NOTHROW(auth::check_scopes(auth::Role::viewer, {"320102002", "320102002002001"}));
}

TEST_CASE("auth: users are checked when added and scopes must name stored areas", "[auth]") {
    Fixture f;
    const std::int64_t version = f.data_version();
    const auto row = f.accounts->add_user({"wang", "王芳", auth::Role::community, {"320102002001"}, "long enough"});
    CHECK(row.role == "community");
    CHECK(row.scopes == std::vector<std::string>{"320102002001"});
    CHECK(row.password_hash.value_or("").starts_with("$argon2id$"));
    CHECK(code_of([&] { f.accounts->add_user({"WANG", "", auth::Role::viewer, {"320102002"}, std::nullopt}); }) ==
          "duplicate_user"); // names are case-insensitive
    CHECK(code_of([&] { f.accounts->add_user({"li", "", auth::Role::community, {"320102002009"}, std::nullopt}); }) ==
          "unknown_scope");
    CHECK(code_of([&] { f.accounts->add_user({"li", "", auth::Role::viewer, {"320102002"}, "short"}); }) ==
          "weak_password");
    CHECK(code_of([&] { f.accounts->add_user({"li li", "", auth::Role::admin, {}, std::nullopt}); }) ==
          "invalid_user_name");
    CHECK(f.accounts->list_users().size() == 1);
    // Accounts never change the data version: signing in must not invalidate a tile.
    CHECK(f.data_version() == version);
}

TEST_CASE("auth: tokens authenticate until they expire, are revoked, or their user is disabled", "[auth]") {
    Fixture f;
    f.accounts->add_user({"app", "", auth::Role::street, {"320102002"}, std::nullopt});
    const auto token = f.accounts->create_token("app", "dispatch", 2);
    CHECK(token.expires_at == "2026-12-06T08:00:00Z");
    const auto p = f.accounts->authenticate_token(token.secret);
    REQUIRE(p);
    CHECK(p->name == "app");
    CHECK(p->role == auth::Role::street);
    CHECK(p->via == auth::Via::token);
    CHECK(f.accounts->list_tokens("app").at(0).last_used_at == "2026-12-04T08:00:00Z");
    // Only the digest is stored.
    CHECK(f.accounts->list_tokens("app").at(0).hash == auth::digest(token.secret));
    CHECK_FALSE(f.accounts->authenticate_token(token.secret + "x"));
    CHECK_FALSE(f.accounts->authenticate_token(""));

    f.now += 47h;
    CHECK(f.accounts->authenticate_token(token.secret));
    f.now += 1h;
    CHECK_FALSE(f.accounts->authenticate_token(token.secret)); // expired

    const auto second = f.accounts->create_token("app", "", 30);
    CHECK(f.accounts->authenticate_token(second.secret));
    f.accounts->set_disabled("app", true);
    CHECK_FALSE(f.accounts->authenticate_token(second.secret));
    CHECK(code_of([&] { f.accounts->create_token("app", "", 30); }) == "user_disabled");
    f.accounts->set_disabled("app", false);
    CHECK(f.accounts->authenticate_token(second.secret));
    f.accounts->revoke_token(second.id);
    CHECK_FALSE(f.accounts->authenticate_token(second.secret));
    CHECK(code_of([&] { f.accounts->revoke_token(second.id); }) == "unknown_token");
    CHECK(code_of([&] { f.accounts->create_token("nobody", "", 30); }) == "unknown_user");
}

TEST_CASE("auth: sessions last their lifetime, survive a new Accounts, end on sign-out and new passwords", "[auth]") {
    Fixture f;
    f.accounts->add_user({"wang", "王芳", auth::Role::community, {"320102002001"}, "first password"});
    const auto signed_in = f.accounts->sign_in("wang", "first password", "10.1.2.3");
    CHECK(signed_in.principal.display_name == "王芳");
    CHECK(signed_in.principal.expires_at == "2026-12-04T20:00:00Z");
    // A restarted server (a new Accounts on the same file) knows the session.
    auth::AccountsOptions o;
    o.clock = [&f] { return f.now; };
    auth::Accounts restarted(f.path, o);
    CHECK(restarted.authenticate_session(signed_in.secret));
    f.now += 12h;
    CHECK_FALSE(f.accounts->authenticate_session(signed_in.secret));

    const auto again = f.accounts->sign_in("wang", "first password", "10.1.2.3");
    CHECK(f.accounts->authenticate_session(again.secret));
    f.accounts->sign_out(again.secret);
    CHECK_FALSE(f.accounts->authenticate_session(again.secret));

    const auto third = f.accounts->sign_in("wang", "first password", "10.1.2.3");
    f.accounts->set_password("wang", "second password");
    CHECK_FALSE(f.accounts->authenticate_session(third.secret));
    CHECK(code_of([&] { f.accounts->sign_in("wang", "first password", "10.1.2.3"); }) == "invalid_credentials");
    CHECK(f.accounts->sign_in("wang", "second password", "10.1.2.3").principal.name == "wang");

    f.accounts->set_disabled("wang", true);
    CHECK(code_of([&] { f.accounts->sign_in("wang", "second password", "10.1.2.3"); }) == "invalid_credentials");
    CHECK(code_of([&] { f.accounts->sign_in("nobody", "second password", "10.1.2.3"); }) == "invalid_credentials");
}

TEST_CASE("auth: failed sign-ins are limited per user and per address, with the wait", "[auth]") {
    Fixture f;
    f.accounts->add_user({"wang", "", auth::Role::viewer, {"320102002"}, "right password"});
    for (int i = 0; i < 5; ++i)
        CHECK(code_of([&] { f.accounts->sign_in("wang", "wrong", "10.0.0.1"); }) == "invalid_credentials");
    // The sixth attempt is refused even with the right password, and says how long to wait.
    try {
        f.accounts->sign_in("wang", "right password", "10.0.0.2");
        FAIL("not limited");
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::too_many_requests);
        CHECK(e.retry_after_seconds() == 900);
    }
    f.steady += 15min;
    CHECK(f.accounts->sign_in("wang", "right password", "10.0.0.2").principal.name == "wang");

    // One address trying many names is limited too.
    auth::LoginLimiter limiter({5, 20, 15min, 1000}, [&f] { return f.steady; });
    for (int i = 0; i < 20; ++i) limiter.failed("user" + std::to_string(i), "10.9.9.9");
    CHECK(limiter.blocked("someone-else", "10.9.9.9"));
    CHECK_FALSE(limiter.blocked("someone-else", "10.9.9.8"));
    // Memory stays bounded under a flood of names.
    auth::LoginLimiter small({5, 20, 15min, 10}, [&f] { return f.steady; });
    for (int i = 0; i < 1000; ++i) small.failed("u" + std::to_string(i), "a" + std::to_string(i));
    CHECK_FALSE(small.blocked("u0", "a0"));
}

TEST_CASE("auth: the audit log is filtered by user, area, action and time, and cannot be changed", "[auth]") {
    Fixture f;
    store::AuditRow a;
    a.user = "wang";
    a.action = "rebalance.apply";
    a.outcome = "ok";
    a.status = 200;
    a.codes = {"320102002001"};
    a.base_version = 3;
    a.data_version = 4;
    f.accounts->audit(a);
    f.now += 1h;
    a.user = "li";
    a.action = "session.sign_in";
    a.codes = {};
    f.accounts->audit(a);

    auto all = f.accounts->list_audit({});
    REQUIRE(all.size() == 2);
    CHECK(all[0].user == "li"); // newest first
    CHECK(all[1].at == "2026-12-04T08:00:00Z");
    CHECK(all[1].data_version == 4);
    store::AuditFilter by_area;
    by_area.code = "320102002";
    REQUIRE(f.accounts->list_audit(by_area).size() == 1);
    CHECK(f.accounts->list_audit(by_area)[0].codes == std::vector<std::string>{"320102002001"});
    store::AuditFilter by_user;
    by_user.user = "WANG";
    CHECK(f.accounts->list_audit(by_user).size() == 1);
    store::AuditFilter by_time;
    by_time.since = "2026-12-04T08:30:00Z";
    CHECK(f.accounts->list_audit(by_time).size() == 1);
    by_time.until = "2026-12-04T08:30:00Z";
    CHECK(f.accounts->list_audit(by_time).empty());
    store::AuditFilter by_action;
    by_action.action = "rebalance.apply";
    CHECK(f.accounts->list_audit(by_action).size() == 1);

    auto db = store::Database::open(f.path, store::OpenMode::read_write);
    CHECK_THROWS_WITH(db->exec("UPDATE audit SET user_name = 'nobody'"), Catch::Contains("append-only"));
    CHECK_THROWS_WITH(db->exec("DELETE FROM audit"), Catch::Contains("append-only"));
    CHECK(f.accounts->list_audit({}).size() == 2);
}

TEST_CASE("auth: UTC times format and parse in one form", "[auth]") {
    const auto t = parse_utc("2026-02-28T23:59:07Z");
    REQUIRE(t);
    CHECK(format_utc(*t) == "2026-02-28T23:59:07Z");
    CHECK(format_utc(*t + 1h) == "2026-03-01T00:59:07Z");
    CHECK(parse_utc("2026-12-04") == parse_utc("2026-12-04T00:00:00Z"));
    CHECK_FALSE(parse_utc("2026-02-30"));
    CHECK_FALSE(parse_utc("2026-12-04 08:00:00"));
    CHECK_FALSE(parse_utc("2026-12-04T24:00:00Z"));
    CHECK_FALSE(parse_utc(""));
}

TEST_CASE("auth: an audit line that cannot be written is logged with the id of its own request", "[auth][log]") {
    // The audit line's completion runs on the committing thread after other requests' work; its
    // error names the request that wrote the line, which log collectors join on.
    Fixture f;
    {
        auto db = store::Database::open(f.path, store::OpenMode::read_write);
        db->exec("CREATE TRIGGER audit_full BEFORE INSERT ON audit WHEN NEW.user_name = 'refused' "
                 "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END");
    }
    std::ostringstream out;
    log::setup(log::Format::json, &out);
    std::vector<std::string> order;
    std::mutex mutex;
    std::condition_variable done;
    const auto audit_as = [&](const std::string& user, const std::string& request_id) {
        const log::RequestScope scope(request_id);
        store::AuditRow a;
        a.user = user;
        a.action = "session.sign_in";
        a.outcome = "ok";
        a.status = 200;
        f.accounts->audit(a, [&, user] {
            std::lock_guard lock(mutex);
            order.push_back(user + "@" + log::current_request_id());
            done.notify_all();
        });
    };
    for (int i = 0; i < 4; ++i) {
        audit_as("kept" + std::to_string(i), "req-kept-" + std::to_string(i));
        audit_as("refused", "req-refused-" + std::to_string(i));
    }
    {
        std::unique_lock lock(mutex);
        REQUIRE(done.wait_for(lock, 30s, [&] { return order.size() == 8; }));
    }
    log::setup(log::Format::text);
    // Each completion ran in the scope of its own request.
    for (const auto& entry : order) {
        INFO(entry);
        const auto at = entry.find('@');
        const std::string user = entry.substr(0, at), id = entry.substr(at + 1);
        CHECK(id.starts_with(user == "refused" ? "req-refused-" : "req-kept-"));
    }
    std::set<std::string> refused_ids;
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);) {
        const auto j = nlohmann::json::parse(line);
        if (j.value("msg", "").find("not recorded") == std::string::npos) continue;
        INFO(line);
        CHECK(j.value("level", "") == "error");
        CHECK_THAT(j.value("msg", ""), Catch::Contains("by 'refused'") && Catch::Contains("the disk is full"));
        refused_ids.insert(j.value("request_id", ""));
    }
    CHECK(refused_ids == std::set<std::string>{"req-refused-0", "req-refused-1", "req-refused-2", "req-refused-3"});
    CHECK(f.accounts->list_audit({}).size() == 4);
}

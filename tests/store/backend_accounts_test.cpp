// Accounts, tokens, sessions, the audit log and the grid history on both backends of the store:
// the same calls give the same values, in the same order (tests/store/backends.hpp).
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "geo/geometry.hpp"
#include "store/backends.hpp"

#include <algorithm>

using namespace wangge;

namespace {

store::UserRow user(const std::string& name, const std::string& role, std::vector<std::string> scopes = {}) {
    store::UserRow u;
    u.name = name;
    u.display_name = "显示 " + name;
    u.role = role;
    u.scopes = std::move(scopes);
    u.password_hash = "$argon2id$v=19$" + name;
    return u;
}

store::TokenRow token(std::int64_t user_id, const std::string& label, const std::string& hash) {
    store::TokenRow t;
    t.user_id = user_id;
    t.label = label;
    t.hash = hash;
    t.created_at = "2026-12-04T08:00:00Z";
    t.expires_at = "2027-12-04T08:00:00Z";
    return t;
}

bool is_utc_time(const std::string& t) {
    return t.size() == 20 && t[4] == '-' && t[10] == 'T' && t[13] == ':' && t.back() == 'Z';
}

std::vector<std::string> names_of(const std::vector<store::UserRow>& users) {
    std::vector<std::string> out;
    for (const auto& u : users) out.push_back(u.name);
    return out;
}

std::vector<std::int64_t> ids_of(const std::vector<store::AuditRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

std::vector<std::int64_t> ids_of(const std::vector<store::TokenRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

std::vector<std::int64_t> ids_of(const std::vector<store::GridChange>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

std::vector<std::string> codes_of(const std::vector<store::GridRow>& grids) {
    std::vector<std::string> out;
    for (const auto& g : grids) out.push_back(g.code);
    return out;
}

store::GridRow grid(const std::string& code, double x, store::GridKind kind, std::int64_t version) {
    return {code, code.substr(0, 12), "网格 " + code.substr(12), kind, version,
            geo::make_rectangle({x, 32.00, x + 0.01, 32.01})};
}

std::string wkt(const geo::Geometry& g) { return geo::to_wkt(geo::to_multi_polygon(g)); }

} // namespace

TEST_CASE("accounts on both backends: users round-trip with their scopes, names unique whatever their case",
          "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    std::int64_t wang = 0, admin = 0, zhou = 0, li = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        // Scopes come back sorted and once each.
        wang = db.insert_user(
            user("wang", "community", {"320102002001001", "320102002001", "320102002", "320102002001"}));
        auto a = user("Admin", "admin");
        a.password_hash.reset();
        a.disabled = true;
        admin = db.insert_user(a);
        zhou = db.insert_user(user("Zhou", "street", {"320102003"}));
        li = db.insert_user(user("li", "viewer"));
        tx.commit();
    }
    CHECK(wang > 0);
    CHECK(admin > wang);
    CHECK(zhou > admin);
    CHECK(li > zhou);
    CHECK(db.data_version() == 0); // accounts never move the data version on

    {
        store::Transaction tx(db, store::Bump::none);
        CHECK_WANGGE_ERROR(db.insert_user(user("WANG", "viewer")), ErrorKind::conflict, "duplicate_user");
        CHECK_WANGGE_ERROR(db.insert_user(user("admin", "viewer")), ErrorKind::conflict, "duplicate_user");
    }

    const auto found = db.find_user("wang");
    REQUIRE(found);
    CHECK(found->id == wang);
    CHECK(found->name == "wang");
    CHECK(found->display_name == "显示 wang");
    CHECK(found->role == "community");
    CHECK(found->scopes == std::vector<std::string>{"320102002", "320102002001", "320102002001001"});
    CHECK(found->password_hash == std::optional<std::string>("$argon2id$v=19$wang"));
    CHECK_FALSE(found->disabled);
    CHECK(is_utc_time(found->created_at));

    // Names are found whatever their case.
    const auto upper = db.find_user("WANG");
    REQUIRE(upper);
    CHECK(upper->id == wang);
    const auto by_id = db.find_user(admin);
    REQUIRE(by_id);
    CHECK(by_id->name == "Admin");
    CHECK(by_id->role == "admin");
    CHECK_FALSE(by_id->password_hash);
    CHECK(by_id->disabled);
    CHECK(by_id->scopes.empty());
    CHECK(db.find_user("ADMIN")->id == admin);
    CHECK_FALSE(db.find_user("nobody"));
    CHECK_FALSE(db.find_user(std::int64_t{999999}));

    // Sorted by name with case folded: "Zhou" after "wang".
    const auto users = db.list_users();
    CHECK(names_of(users) == std::vector<std::string>{"Admin", "li", "wang", "Zhou"});
    REQUIRE(users.size() == 4);
    CHECK(users[2].scopes == found->scopes);
    CHECK(users[3].scopes == std::vector<std::string>{"320102003"});
    CHECK(users[1].scopes.empty());

    {
        store::Transaction tx(db, store::Bump::none);
        db.set_user_password(admin, "$argon2id$new");
        db.set_user_disabled(admin, false);
        db.set_user_disabled(wang, true);
        tx.commit();
    }
    CHECK(db.find_user(admin)->password_hash == std::optional<std::string>("$argon2id$new"));
    CHECK_FALSE(db.find_user(admin)->disabled);
    CHECK(db.find_user(wang)->disabled);
    CHECK(db.find_user(wang)->password_hash == std::optional<std::string>("$argon2id$v=19$wang"));
    CHECK(db.list_users().size() == 4);
}

TEST_CASE("accounts on both backends: API tokens are listed, revoked once and touched", "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    std::int64_t wang = 0, li = 0, t1 = 0, t2 = 0, t3 = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        wang = db.insert_user(user("wang", "community", {"320102002001"}));
        li = db.insert_user(user("li", "viewer"));
        t1 = db.insert_token(token(wang, "import script", "hash-1"));
        t2 = db.insert_token(token(li, "", "hash-2"));
        t3 = db.insert_token(token(wang, "dashboard", "hash-3"));
        tx.commit();
    }
    CHECK(t1 > 0);
    CHECK(t2 > t1);
    CHECK(t3 > t2);

    const auto found = db.find_token("hash-1");
    REQUIRE(found);
    CHECK(found->id == t1);
    CHECK(found->user_id == wang);
    CHECK(found->user_name == "wang");
    CHECK(found->label == "import script");
    CHECK(found->hash == "hash-1");
    CHECK(found->created_at == "2026-12-04T08:00:00Z");
    CHECK(found->expires_at == "2027-12-04T08:00:00Z");
    CHECK_FALSE(found->last_used_at);
    CHECK_FALSE(found->revoked_at);
    CHECK(db.find_token("hash-2")->user_name == "li");
    CHECK(db.find_token("hash-2")->label.empty());
    CHECK_FALSE(db.find_token("hash-4"));

    CHECK(ids_of(db.list_tokens(std::nullopt)) == std::vector<std::int64_t>{t1, t2, t3});
    CHECK(ids_of(db.list_tokens(wang)) == std::vector<std::int64_t>{t1, t3});
    CHECK(ids_of(db.list_tokens(li)) == std::vector<std::int64_t>{t2});
    CHECK(db.list_tokens(std::int64_t{999999}).empty());

    {
        store::Transaction tx(db, store::Bump::none);
        CHECK(db.revoke_token(t3, "2026-12-05T09:00:00Z"));
        CHECK_FALSE(db.revoke_token(t3, "2026-12-06T09:00:00Z")); // revoked already: kept as it was
        CHECK_FALSE(db.revoke_token(999999, "2026-12-06T09:00:00Z"));
        db.touch_token(t1, "2026-12-05T10:00:00Z");
        db.touch_token(t1, "2026-12-05T11:00:00Z");
        db.touch_token(t3, "2026-12-05T12:00:00Z"); // a revoked token is touched all the same
        tx.commit();
    }
    const auto revoked = db.find_token("hash-3");
    REQUIRE(revoked);
    CHECK(revoked->revoked_at == std::optional<std::string>("2026-12-05T09:00:00Z"));
    CHECK(revoked->last_used_at == std::optional<std::string>("2026-12-05T12:00:00Z"));
    const auto touched = db.find_token("hash-1");
    CHECK(touched->last_used_at == std::optional<std::string>("2026-12-05T11:00:00Z"));
    CHECK_FALSE(touched->revoked_at);
    CHECK_FALSE(db.find_token("hash-2")->last_used_at);

    // Listing shows revoked tokens too, with their times.
    const auto listed = db.list_tokens(wang);
    REQUIRE(listed.size() == 2);
    CHECK_FALSE(listed[0].revoked_at);
    CHECK(listed[1].revoked_at == std::optional<std::string>("2026-12-05T09:00:00Z"));
    CHECK(listed[1].user_name == "wang");
}

TEST_CASE("accounts on both backends: sessions end by hash, by user and by expiry", "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    std::int64_t wang = 0, li = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        wang = db.insert_user(user("wang", "community"));
        li = db.insert_user(user("li", "viewer"));
        db.insert_session({"s1", wang, "2026-12-04T08:00:00Z", "2026-12-04T10:00:00Z", "10.0.0.1"});
        db.insert_session({"s2", wang, "2026-12-04T08:30:00Z", "2026-12-04T12:00:00Z", ""});
        db.insert_session({"s3", li, "2026-12-04T09:00:00Z", "2026-12-04T11:00:00Z", "::1"});
        tx.commit();
    }

    const auto s1 = db.find_session("s1");
    REQUIRE(s1);
    CHECK(s1->hash == "s1");
    CHECK(s1->user_id == wang);
    CHECK(s1->created_at == "2026-12-04T08:00:00Z");
    CHECK(s1->expires_at == "2026-12-04T10:00:00Z");
    CHECK(s1->address == "10.0.0.1");
    CHECK(db.find_session("s2")->address.empty());
    CHECK(db.find_session("s3")->user_id == li);
    CHECK_FALSE(db.find_session("s4"));

    {
        // A session expiring at that very time has ended.
        store::Transaction tx(db, store::Bump::none);
        db.delete_sessions_expired_before("2026-12-04T11:00:00Z");
        tx.commit();
    }
    CHECK_FALSE(db.find_session("s1"));
    CHECK(db.find_session("s2"));
    CHECK_FALSE(db.find_session("s3"));

    {
        store::Transaction tx(db, store::Bump::none);
        db.insert_session({"s4", wang, "2026-12-04T12:00:00Z", "2026-12-05T12:00:00Z", ""});
        db.insert_session({"s5", li, "2026-12-04T12:00:00Z", "2026-12-05T12:00:00Z", ""});
        db.insert_session({"s6", li, "2026-12-04T12:00:00Z", "2026-12-05T12:00:00Z", ""});
        db.delete_user_sessions(wang);
        db.delete_session("s5");
        db.delete_session("no such session");
        tx.commit();
    }
    CHECK_FALSE(db.find_session("s2"));
    CHECK_FALSE(db.find_session("s4"));
    CHECK_FALSE(db.find_session("s5"));
    REQUIRE(db.find_session("s6"));
    CHECK(db.find_session("s6")->user_id == li);
}

TEST_CASE("accounts on both backends: the audit log is filtered and read newest first", "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    std::int64_t a1 = 0, a2 = 0, a3 = 0, a4 = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        store::AuditRow a;
        a.at = "2026-12-04T08:00:00Z";
        a.user = "wang";
        a.action = "rebalance.apply";
        a.outcome = "ok";
        a.status = 200;
        a.method = "POST";
        a.target = "/api/v1/communities/320102002001/rebalance";
        a.codes = {"320102002001"};
        a.base_version = 3;
        a.data_version = 4;
        a.address = "10.0.0.1";
        a.detail = "2 grids";
        a1 = db.insert_audit(a);

        store::AuditRow b;
        b.at = "2026-12-04T09:00:00Z";
        b.user = "li";
        b.action = "session.sign_in";
        b.outcome = "denied";
        b.status = 401;
        b.address = "cli";
        a2 = db.insert_audit(b);

        a.at = "2026-12-04T10:00:00Z";
        a.user = "Wang";
        a.outcome = "failed";
        a.status = 409;
        a.codes = {"320102002001001", "320102003001"};
        a.base_version = 4;
        a.data_version.reset();
        a3 = db.insert_audit(a);

        b.at = "2026-12-04T10:30:00Z";
        b.user = "";
        b.action = "token.create";
        b.outcome = "ok";
        b.status = 0;
        a4 = db.insert_audit(b);
        tx.commit();
    }
    CHECK(a1 > 0);
    CHECK(a2 > a1);
    CHECK(a3 > a2);
    CHECK(a4 > a3);
    CHECK(db.data_version() == 0);

    const auto all = db.list_audit({});
    CHECK(ids_of(all) == std::vector<std::int64_t>{a4, a3, a2, a1});
    REQUIRE(all.size() == 4);
    const auto& first = all[3];
    CHECK(first.at == "2026-12-04T08:00:00Z");
    CHECK(first.user == "wang");
    CHECK(first.action == "rebalance.apply");
    CHECK(first.outcome == "ok");
    CHECK(first.status == 200);
    CHECK(first.method == "POST");
    CHECK(first.target == "/api/v1/communities/320102002001/rebalance");
    CHECK(first.codes == std::vector<std::string>{"320102002001"});
    CHECK(first.base_version == std::optional<std::int64_t>(3));
    CHECK(first.data_version == std::optional<std::int64_t>(4));
    CHECK(first.address == "10.0.0.1");
    CHECK(first.detail == "2 grids");
    const auto& second = all[2];
    CHECK(second.codes.empty());
    CHECK_FALSE(second.base_version);
    CHECK_FALSE(second.data_version);
    CHECK(second.method.empty());
    CHECK(second.detail.empty());
    CHECK(second.status == 401);
    CHECK(all[1].codes == std::vector<std::string>{"320102002001001", "320102003001"});
    CHECK(all[1].base_version == std::optional<std::int64_t>(4));
    CHECK_FALSE(all[1].data_version);
    CHECK(all[0].user.empty());

    auto filtered = [&](auto set) {
        store::AuditFilter f;
        set(f);
        return ids_of(db.list_audit(f));
    };
    using Ids = std::vector<std::int64_t>;
    // The user whatever the case; the action exactly.
    CHECK(filtered([](auto& f) { f.user = "WANG"; }) == Ids{a3, a1});
    CHECK(filtered([](auto& f) { f.user = "li"; }) == Ids{a2});
    CHECK(filtered([](auto& f) { f.user = "nobody"; }).empty());
    CHECK(filtered([](auto& f) { f.action = "rebalance.apply"; }) == Ids{a3, a1});
    CHECK(filtered([](auto& f) { f.action = "REBALANCE.apply"; }).empty());
    // An area matches entries naming it or any area below it.
    CHECK(filtered([](auto& f) { f.code = "320102002"; }) == Ids{a3, a1});
    CHECK(filtered([](auto& f) { f.code = "320102002001"; }) == Ids{a3, a1});
    CHECK(filtered([](auto& f) { f.code = "320102002001001"; }) == Ids{a3});
    CHECK(filtered([](auto& f) { f.code = "320102003"; }) == Ids{a3});
    CHECK(filtered([](auto& f) { f.code = "02002"; }).empty()); // codes match from their start
    // since is included, until is not.
    CHECK(filtered([](auto& f) { f.since = "2026-12-04T09:00:00Z"; }) == Ids{a4, a3, a2});
    CHECK(filtered([](auto& f) { f.until = "2026-12-04T09:00:00Z"; }) == Ids{a1});
    CHECK(filtered([](auto& f) {
              f.since = "2026-12-04T08:00:00Z";
              f.until = "2026-12-04T10:00:00Z";
          }) == Ids{a2, a1});
    CHECK(filtered([](auto& f) { f.since = "2026-12-04"; }) == Ids{a4, a3, a2, a1});
    CHECK(filtered([](auto& f) {
              f.user = "wang";
              f.code = "320102003";
              f.since = "2026-12-04T09:00:00Z";
              f.action = "rebalance.apply";
          }) == Ids{a3});
    // Pages.
    CHECK(filtered([](auto& f) { f.limit = 2; }) == Ids{a4, a3});
    CHECK(filtered([](auto& f) {
              f.limit = 2;
              f.offset = 2;
          }) == Ids{a2, a1});
    CHECK(filtered([](auto& f) {
              f.limit = 1;
              f.offset = 1;
          }) == Ids{a3});
    CHECK(filtered([](auto& f) { f.offset = 4; }).empty());
    CHECK(filtered([](auto& f) { f.limit = 0; }).empty());
    CHECK(filtered([](auto& f) { f.limit = -1; }) == Ids{a4, a3, a2, a1}); // no limit
}

TEST_CASE("grid history on both backends: a change round-trips with its grids and building moves",
          "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();
    const std::string community = "320102002001";

    const geo::Geometry two_parts =
        geo::from_wkt("MULTIPOLYGON(((118.8 32.0,118.81 32.0,118.81 32.01,118.8 32.01,118.8 32.0)),"
                      "((118.82 32.0,118.83 32.0,118.83 32.01,118.82 32.01,118.82 32.0)))");

    store::GridChange bootstrap;
    bootstrap.community_code = community;
    bootstrap.action = "bootstrap";
    bootstrap.base_version = 0;
    bootstrap.applied_version = 1;
    bootstrap.summary_json = R"({"grids":2,"名":"梅园"})";
    // Stored order, not code order.
    bootstrap.after.push_back(grid("320102002001002", 118.81, store::GridKind::unit, 1));
    bootstrap.after.push_back(grid("320102002001001", 118.80, store::GridKind::residential, 1));
    bootstrap.after[1].geom = two_parts.clone();
    // Not in id order; codes with characters an array or a CSV would have to quote.
    bootstrap.buildings = {{12, std::nullopt, "320102002001002"},
                           {3, std::nullopt, "320102002001001"},
                           {7, "a \"quoted\", {braced} \\ code", std::nullopt},
                           {5, "", "NULL"},
                           {9, std::nullopt, std::nullopt}};

    std::int64_t first = 0, second = 0, undo = 0, elsewhere = 0;
    {
        store::Transaction tx(db);
        first = db.insert_grid_change(bootstrap);
        tx.commit();
    }
    {
        store::GridChange rebalance;
        rebalance.community_code = community;
        rebalance.action = "rebalance";
        rebalance.base_version = 1;
        rebalance.applied_version = 2;
        rebalance.before.push_back(grid("320102002001002", 118.81, store::GridKind::unit, 1));
        rebalance.before.push_back(grid("320102002001001", 118.80, store::GridKind::residential, 1));
        rebalance.after.push_back(grid("320102002001001", 118.80, store::GridKind::residential, 2));
        rebalance.after.push_back(grid("320102002001003", 118.82, store::GridKind::residential, 2));
        rebalance.buildings = {{3, "320102002001001", "320102002001003"}};

        store::GridChange other;
        other.community_code = "320102003001";
        other.action = "bootstrap";
        other.applied_version = 2;
        other.after.push_back(grid("320102003001001", 118.90, store::GridKind::residential, 2));

        store::Transaction tx(db);
        second = db.insert_grid_change(rebalance);
        elsewhere = db.insert_grid_change(other);
        tx.commit();
    }
    {
        store::GridChange back;
        back.community_code = community;
        back.action = "undo";
        back.base_version = 2;
        back.applied_version = 3;
        back.undoes = second;
        back.before.push_back(grid("320102002001003", 118.82, store::GridKind::residential, 2));
        back.after.push_back(grid("320102002001001", 118.80, store::GridKind::residential, 3));
        store::Transaction tx(db);
        undo = db.insert_grid_change(back);
        db.set_grid_change_undone(second, undo);
        tx.commit();
    }
    CHECK(first > 0);
    CHECK(second > first);
    CHECK(elsewhere > second);
    CHECK(undo > elsewhere);

    const auto loaded = db.load_grid_change(first);
    REQUIRE(loaded);
    CHECK(loaded->id == first);
    CHECK(loaded->community_code == community);
    CHECK(loaded->action == "bootstrap");
    CHECK(loaded->base_version == 0);
    CHECK(loaded->applied_version == 1);
    CHECK(is_utc_time(loaded->created_at));
    CHECK_FALSE(loaded->undoes);
    CHECK_FALSE(loaded->undone_by);
    CHECK(loaded->summary_json == R"({"grids":2,"名":"梅园"})");
    CHECK(loaded->before.empty());
    REQUIRE(codes_of(loaded->after) == std::vector<std::string>{"320102002001002", "320102002001001"});
    for (std::size_t i = 0; i < 2; ++i) {
        const auto& got = loaded->after[i];
        const auto& put = bootstrap.after[i];
        CHECK(got.community_code == community);
        CHECK(got.name == put.name);
        CHECK(got.kind == put.kind);
        CHECK(got.version == 1);
        CHECK(got.geom.type() == geo::GeometryType::multi_polygon);
        CHECK(wkt(got.geom) == wkt(put.geom));
    }
    CHECK(geo::polygon_count(loaded->after[1].geom) == 2);
    REQUIRE(loaded->buildings.size() == bootstrap.buildings.size());
    for (std::size_t i = 0; i < bootstrap.buildings.size(); ++i) {
        INFO(i);
        CHECK(loaded->buildings[i].building_id == bootstrap.buildings[i].building_id);
        CHECK(loaded->buildings[i].before == bootstrap.buildings[i].before);
        CHECK(loaded->buildings[i].after == bootstrap.buildings[i].after);
    }

    const auto redrawn = db.load_grid_change(second);
    REQUIRE(redrawn);
    CHECK(redrawn->action == "rebalance");
    CHECK(redrawn->undone_by == std::optional<std::int64_t>(undo));
    CHECK_FALSE(redrawn->undoes);
    CHECK(codes_of(redrawn->before) == std::vector<std::string>{"320102002001002", "320102002001001"});
    CHECK(codes_of(redrawn->after) == std::vector<std::string>{"320102002001001", "320102002001003"});
    CHECK(redrawn->before[0].kind == store::GridKind::unit);
    CHECK(redrawn->before[0].version == 1);
    CHECK(redrawn->after[0].version == 2);
    REQUIRE(redrawn->buildings.size() == 1);
    CHECK(redrawn->buildings[0].building_id == 3);
    CHECK(redrawn->buildings[0].before == std::optional<std::string>("320102002001001"));
    CHECK(redrawn->buildings[0].after == std::optional<std::string>("320102002001003"));
    CHECK(redrawn->summary_json == "{}");

    const auto undone = db.load_grid_change(undo);
    REQUIRE(undone);
    CHECK(undone->undoes == std::optional<std::int64_t>(second));
    CHECK_FALSE(undone->undone_by);
    CHECK(codes_of(undone->before) == std::vector<std::string>{"320102002001003"});
    CHECK(codes_of(undone->after) == std::vector<std::string>{"320102002001001"});
    CHECK(undone->buildings.empty());
    CHECK_FALSE(db.load_grid_change(999999));

    // Every code the community's history names, sorted, once each.
    CHECK(db.history_grid_codes(community) ==
          std::vector<std::string>{"320102002001001", "320102002001002", "320102002001003"});
    CHECK(db.history_grid_codes("320102003001") == std::vector<std::string>{"320102003001001"});
    CHECK(db.history_grid_codes("320102009001").empty());

    // Newest first, without grids and buildings.
    const auto changes = db.list_grid_changes(community);
    CHECK(ids_of(changes) == std::vector<std::int64_t>{undo, second, first});
    REQUIRE(changes.size() == 3);
    CHECK(changes[0].undoes == std::optional<std::int64_t>(second));
    CHECK(changes[1].undone_by == std::optional<std::int64_t>(undo));
    CHECK(changes[2].action == "bootstrap");
    CHECK(changes[2].summary_json == bootstrap.summary_json);
    CHECK(changes[2].created_at == loaded->created_at);
    for (const auto& c : changes) {
        CHECK(c.community_code == community);
        CHECK(c.before.empty());
        CHECK(c.after.empty());
        CHECK(c.buildings.empty());
    }
    CHECK(ids_of(db.list_grid_changes("320102003001")) == std::vector<std::int64_t>{elsewhere});
    CHECK(db.list_grid_changes("320102009001").empty());

    // A grid without a polygon is refused, and the transaction that tried keeps nothing.
    {
        store::GridChange bad;
        bad.community_code = community;
        bad.action = "rebalance";
        bad.after.push_back(grid("320102002001004", 118.84, store::GridKind::residential, 4));
        bad.after.back().geom = geo::make_point({118.84, 32.0});
        store::Transaction tx(db);
        CHECK_WANGGE_ERROR(db.insert_grid_change(bad), ErrorKind::unprocessable, "invalid_geometry");
    }
    CHECK(db.list_grid_changes(community).size() == 3);
    CHECK(db.history_grid_codes(community).size() == 3);
}

TEST_CASE("grid history on both backends: grids and communities are deleted", "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();
    {
        store::Transaction tx(db);
        db.put_street({"320102002", "梅园新村街道", geo::make_rectangle({118.80, 32.00, 118.90, 32.01})}, false);
        for (const char* code : {"320102002001", "320102002002"})
            db.put_community({code, "320102002", "社区", geo::make_rectangle({118.80, 32.00, 118.85, 32.01})}, false);
        db.put_grid(grid("320102002001001", 118.80, store::GridKind::residential, 0), false);
        db.put_grid(grid("320102002001002", 118.81, store::GridKind::unit, 0), false);
        db.put_grid(grid("320102002002001", 118.82, store::GridKind::residential, 0), false);
        tx.commit();
    }
    {
        store::Transaction tx(db);
        db.delete_grid("320102002001002");
        db.delete_grid("320102002009009"); // absent: nothing happens
        tx.commit();
    }
    CHECK(codes_of(db.load_grids()) == std::vector<std::string>{"320102002001001", "320102002002001"});
    CHECK(db.count(Level::community) == 2);
    {
        store::Transaction tx(db);
        db.delete_community("320102002001");
        db.delete_community("320102002009");
        tx.commit();
    }
    CHECK(codes_of(db.load_grids()) == std::vector<std::string>{"320102002002001"});
    const auto communities = db.load_communities();
    REQUIRE(communities.size() == 1);
    CHECK(communities[0].code == "320102002002");
    CHECK(db.count(Level::street) == 1);
    CHECK(db.data_version() == 3);
}

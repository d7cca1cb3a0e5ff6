// `store::copy_database` between SpatiaLite and PostgreSQL on a real cluster: a demo district with
// grid history, accounts, workers and a case goes SQLite -> PostgreSQL -> SQLite and comes back
// the same through the store's own load functions; a copy that differs from its source is found,
// and then nothing is committed.
#include "balance/apply.hpp"
#include "balance/rebalance.hpp"
#include "core/error.hpp"
#include "demo/generator.hpp"
#include "demo/store_district.hpp"
#include "geo/geometry.hpp"
#include "grid/snapshot.hpp"
#include "pg_cluster.hpp"
#include "store/copy.hpp"
#include "store/database.hpp"
#include "store/pg/database.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <set>

#include <filesystem>
#include <string>
#include <vector>

using namespace wangge;
using store::Database;
using store::OpenMode;

namespace {

std::vector<unsigned char> wkb(const geo::Geometry& g) { return geo::to_wkb(g); }

// A demo district ten years on, one community rebalanced (grid history with moved buildings), a
// unit, a user with scopes, a token, an audit line, two workers on a grid and a case with an
// event and a photo. Written once per test run.
const std::filesystem::path& source_district() {
    static const test::TempDir dir;
    static const std::filesystem::path path = [] {
        const std::filesystem::path p = dir / "district.sqlite";
        auto db = Database::open(p, OpenMode::create);
        demo::store_district(*db, demo::generate_demo({.seed = 7, .households = 30000, .years_later = 5}));
        const auto snap = grid::Snapshot::load(*db);
        bool applied = false;
        for (const auto& community : snap->communities()) {
            const balance::Proposal proposal =
                balance::propose_rebalance(*snap, community.code, balance::RebalanceOptions{});
            if (!proposal.changes_anything() || proposal.building_moves.empty()) continue;
            balance::apply(*db, proposal);
            applied = true;
            break;
        }
        REQUIRE(applied);

        store::Transaction tx(*db, store::Bump::none);
        store::UnitRow unit;
        unit.source_id = "way/1";
        unit.name = "第一中学";
        unit.kind = store::UnitKind::school;
        unit.geom = geo::make_rectangle({118.801, 31.951, 118.803, 31.953});
        db->insert_unit(unit);
        const std::string grid_code = snap->grids().front().code;
        store::UserRow user;
        user.name = "Wang";
        user.display_name = "王芳";
        user.role = "worker";
        user.scopes = {grid_code};
        user.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA";
        const std::int64_t user_id = db->insert_user(user);
        db->insert_token({0, user_id, "", "dispatch\tsystem\n\\", std::string(64, 'a'), "2026-12-05T08:00:00Z",
                          "2027-03-05T08:00:00Z", std::nullopt, std::nullopt});
        store::AuditRow audit;
        audit.at = "2026-12-05T08:00:01Z";
        audit.user = "Wang";
        audit.action = "rebalance.apply";
        audit.outcome = "ok";
        audit.codes = {grid_code.substr(0, 12)};
        audit.base_version = 1;
        audit.address = "cli";
        db->insert_audit(audit);
        store::WorkerRow worker;
        worker.name = "王芳";
        worker.phone = "13800000001";
        worker.role = "full_time";
        worker.user_name = "Wang";
        const std::int64_t wang = db->insert_worker(worker);
        worker.name = "李强";
        worker.phone = "";
        worker.user_name.reset();
        worker.on_duty = false;
        const std::int64_t li = db->insert_worker(worker);
        db->set_grid_workers(grid_code, {wang, li});
        store::IncidentRow incident;
        incident.category = "0101";
        incident.urgency = "urgent";
        incident.description = "井盖缺失, \"深\"\n第二行";
        incident.source = "resident";
        incident.lon = 118.80123456789012;
        incident.lat = 31.951234567890123;
        incident.input_crs = "gcj02";
        incident.grid_code = grid_code;
        incident.community_code = grid_code.substr(0, 12);
        incident.street_code = grid_code.substr(0, 9);
        incident.locate_status = "grid";
        incident.state = "dispatched";
        incident.assignee_worker_id = wang;
        incident.assignee_level = "grid";
        incident.assignee_code = grid_code;
        incident.reported_at = "2026-12-05T08:10:00Z";
        incident.due_at = "2026-12-05T09:10:00Z";
        incident.rating = 4;
        incident.idempotency_key = "key-1";
        const std::int64_t case_id = db->insert_incident(incident);
        const std::int64_t event = db->insert_incident_event(
            {0, case_id, "2026-12-05T08:10:00Z", "resident", "report", "", "reported", "", ""});
        db->insert_photo({case_id, event, std::string(64, 'b'), "image/jpeg", 12345});
        db->insert_photo({case_id, std::nullopt, std::string(64, '0'), "image/png", 99});
        tx.commit();
        return p;
    }();
    return path;
}

// Everything the store's load functions give, compared between two SQLite databases.
void check_same_district(Database& a, Database& b) {
    CHECK(a.data_version() == b.data_version());
    const auto sa = a.load_streets(), sb = b.load_streets();
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
        CHECK(sa[i].code == sb[i].code);
        CHECK(sa[i].name == sb[i].name);
        CHECK(wkb(sa[i].geom) == wkb(sb[i].geom));
    }
    const auto ca = a.load_communities(), cb = b.load_communities();
    REQUIRE(ca.size() == cb.size());
    for (std::size_t i = 0; i < ca.size(); ++i) {
        CHECK(ca[i].code == cb[i].code);
        CHECK(ca[i].street_code == cb[i].street_code);
        CHECK(wkb(ca[i].geom) == wkb(cb[i].geom));
    }
    const auto ga = a.load_grids(), gb = b.load_grids();
    REQUIRE(ga.size() == gb.size());
    for (std::size_t i = 0; i < ga.size(); ++i) {
        INFO("grid " << ga[i].code);
        CHECK(ga[i].code == gb[i].code);
        CHECK(ga[i].name == gb[i].name);
        CHECK(ga[i].kind == gb[i].kind);
        CHECK(ga[i].version == gb[i].version);
        CHECK(wkb(ga[i].geom) == wkb(gb[i].geom));
    }
    const auto ba = a.load_buildings(), bb = b.load_buildings();
    REQUIRE(ba.size() == bb.size());
    for (std::size_t i = 0; i < ba.size(); ++i) {
        INFO("building " << ba[i].id);
        CHECK(ba[i].id == bb[i].id);
        CHECK(ba[i].source_id == bb[i].source_id);
        CHECK(ba[i].use == bb[i].use);
        CHECK(ba[i].floors == bb[i].floors);
        CHECK(ba[i].height_m == bb[i].height_m);
        CHECK(ba[i].households == bb[i].households);
        CHECK(ba[i].households_estimated == bb[i].households_estimated);
        CHECK(ba[i].grid_code == bb[i].grid_code);
        CHECK(wkb(ba[i].geom) == wkb(bb[i].geom));
    }
    const auto ra = a.load_roads(), rb = b.load_roads();
    REQUIRE(ra.size() == rb.size());
    for (std::size_t i = 0; i < ra.size(); ++i) {
        CHECK(ra[i].id == rb[i].id);
        CHECK(ra[i].kind == rb[i].kind);
        CHECK(wkb(ra[i].geom) == wkb(rb[i].geom));
    }
    const auto ua = a.load_units(), ub = b.load_units();
    REQUIRE(ua.size() == ub.size());
    for (std::size_t i = 0; i < ua.size(); ++i) {
        CHECK(ua[i].name == ub[i].name);
        CHECK(ua[i].kind == ub[i].kind);
        CHECK(wkb(ua[i].geom) == wkb(ub[i].geom));
    }

    const std::string community = a.load_grid_change(1).value().community_code;
    const auto changes = a.list_grid_changes(community);
    REQUIRE(changes.size() == b.list_grid_changes(community).size());
    for (const auto& listed : changes) {
        const auto x = a.load_grid_change(listed.id).value(), y = b.load_grid_change(listed.id).value();
        CHECK(x.action == y.action);
        CHECK(x.created_at == y.created_at);
        CHECK(x.summary_json == y.summary_json);
        CHECK(x.applied_version == y.applied_version);
        REQUIRE(x.before.size() == y.before.size());
        REQUIRE(x.after.size() == y.after.size());
        for (std::size_t i = 0; i < x.after.size(); ++i) {
            CHECK(x.after[i].code == y.after[i].code);
            CHECK(wkb(x.after[i].geom) == wkb(y.after[i].geom));
        }
        for (std::size_t i = 0; i < x.before.size(); ++i) CHECK(wkb(x.before[i].geom) == wkb(y.before[i].geom));
        REQUIRE(x.buildings.size() == y.buildings.size());
        REQUIRE_FALSE(x.buildings.empty());
        for (std::size_t i = 0; i < x.buildings.size(); ++i) {
            CHECK(x.buildings[i].building_id == y.buildings[i].building_id);
            CHECK(x.buildings[i].before == y.buildings[i].before);
            CHECK(x.buildings[i].after == y.buildings[i].after);
        }
    }

    const auto users = a.list_users(), users_b = b.list_users();
    REQUIRE(users.size() == users_b.size());
    for (std::size_t i = 0; i < users.size(); ++i) {
        CHECK(users[i].name == users_b[i].name);
        CHECK(users[i].scopes == users_b[i].scopes);
        CHECK(users[i].password_hash == users_b[i].password_hash);
        CHECK(users[i].created_at == users_b[i].created_at);
    }
    CHECK(b.find_user("wang").has_value()); // still case-insensitive
    const auto tokens = a.list_tokens(std::nullopt), tokens_b = b.list_tokens(std::nullopt);
    REQUIRE(tokens.size() == tokens_b.size());
    CHECK(tokens.front().label == tokens_b.front().label);
    CHECK(b.find_token(tokens.front().hash).has_value());
    const auto audit = a.list_audit({}), audit_b = b.list_audit({});
    REQUIRE(audit.size() == audit_b.size());
    CHECK(audit.front().codes == audit_b.front().codes);
    CHECK(audit.front().base_version == audit_b.front().base_version);

    const auto workers = a.list_workers(), workers_b = b.list_workers();
    REQUIRE(workers.size() == workers_b.size());
    for (std::size_t i = 0; i < workers.size(); ++i) {
        CHECK(workers[i].id == workers_b[i].id);
        CHECK(workers[i].phone == workers_b[i].phone);
        CHECK(workers[i].user_name == workers_b[i].user_name);
        CHECK(workers[i].on_duty == workers_b[i].on_duty);
    }
    const auto gw = a.list_grid_workers(), gw_b = b.list_grid_workers();
    REQUIRE(gw.size() == gw_b.size());
    for (std::size_t i = 0; i < gw.size(); ++i) {
        CHECK(gw[i].worker_id == gw_b[i].worker_id);
        CHECK(gw[i].rank == gw_b[i].rank);
    }
    const auto x = a.find_incident(1).value(), y = b.find_incident(1).value();
    CHECK(x.description == y.description);
    CHECK(x.lon == y.lon); // exactly: reals travel in a form that reads back the same
    CHECK(x.lat == y.lat);
    CHECK(x.rating == y.rating);
    CHECK(x.assignee_worker_id == y.assignee_worker_id);
    CHECK(b.find_incident_by_key("key-1").has_value());
    CHECK(a.incident_events(1).size() == b.incident_events(1).size());
    const auto photos = a.photos_of(1), photos_b = b.photos_of(1);
    REQUIRE(photos.size() == photos_b.size());
    for (std::size_t i = 0; i < photos.size(); ++i) {
        CHECK(photos[i].hash == photos_b[i].hash); // in the order they were added
        CHECK(photos[i].event_id == photos_b[i].event_id);
    }
}

std::size_t rows_of(const store::CopyReport& r, std::string_view table) {
    for (const auto& t : r.tables)
        if (t.table == table) return t.rows;
    return 0;
}

} // namespace

TEST_CASE("copy: a district goes SQLite -> PostgreSQL -> SQLite and comes back the same", "[pg][copy]") {
    const std::string source = source_district().string();
    test::TestPgDatabase pg;
    test::TempDir dir;
    const std::string back = (dir / "back.sqlite").string();

    std::vector<std::string> progress;
    store::CopyOptions options;
    options.progress = [&](std::string_view stage, std::string_view table, std::size_t) {
        progress.push_back(std::string(stage) + " " + std::string(table));
    };
    const store::CopyReport there = store::copy_database(source, pg.url(), options);
    CHECK_FALSE(there.created);
    CHECK(rows_of(there, "grid_history") > 0);
    CHECK(rows_of(there, "grid_change_buildings") > 0);
    CHECK(rows_of(there, "incident_photos") == 2);
    CHECK(there.geometries > 500);
    CHECK(progress.front() == "copied meta");
    CHECK(progress.back() == "checked incident_photos");

    const store::CopyReport back_again = store::copy_database(pg.url(), back);
    CHECK(back_again.created);
    CHECK(back_again.rows == there.rows);

    auto original = Database::open(source, OpenMode::read_only);
    auto copied = Database::open(back, OpenMode::read_only);
    check_same_district(*original, *copied);
    CHECK(store::check_databases(source, back).ok());
    CHECK(store::check_databases(source, pg.url()).ok());

    // The identity sequences continue after the copied ids.
    auto conn = store::PgConnection::connect(pg.url());
    const auto max_building = conn.exec("SELECT max(id) FROM buildings").int64(0, 0);
    const auto next = conn.exec("INSERT INTO buildings (geom) SELECT geom FROM buildings LIMIT 1 RETURNING id");
    CHECK(next.int64(0, 0) == max_building + 1);
    const auto next_change = conn.exec("INSERT INTO grid_changes (community_code, action, base_version, "
                                       "applied_version) VALUES ('320199001001', 'undo', 1, 2) RETURNING id");
    CHECK(next_change.int64(0, 0) == static_cast<std::int64_t>(rows_of(there, "grid_changes")) + 1);
}

TEST_CASE("copy: a destination with data is refused, and --replace empties it in the same transaction",
          "[pg][copy]") {
    const std::string source = source_district().string();
    test::TestPgDatabase pg;
    test::TempDir dir;
    const std::string file = (dir / "copy.sqlite").string();
    store::copy_database(source, pg.url());
    store::copy_database(pg.url(), file);

    CHECK_WANGGE_ERROR(store::copy_database(source, pg.url()), ErrorKind::conflict, "destination_not_empty");
    CHECK_WANGGE_ERROR(store::copy_database(pg.url(), file), ErrorKind::conflict, "destination_not_empty");
    CHECK_WANGGE_ERROR(store::copy_database(source, source), ErrorKind::bad_request, "same_database");

    // Each destination holds something the source has not: replaced, it is gone.
    auto conn = store::PgConnection::connect(pg.url());
    conn.exec("INSERT INTO audit (at, action, outcome) VALUES ('2026-12-06T00:00:00Z', 'extra', 'ok')");
    {
        auto db = Database::open(file, OpenMode::read_write);
        db->exec("INSERT INTO audit (at, action, outcome) VALUES ('2026-12-06T00:00:00Z', 'extra', 'ok')");
    }
    CHECK_FALSE(store::check_databases(source, pg.url()).ok());
    store::CopyOptions replace;
    replace.replace = true;
    store::copy_database(source, pg.url(), replace);
    store::copy_database(source, file, replace);
    CHECK(store::check_databases(source, pg.url()).ok());
    CHECK(store::check_databases(source, file).ok());
    // The append-only rules survive the emptying.
    CHECK_THROWS_WITH(conn.exec("DELETE FROM audit"), Catch::Contains("append-only"));
    auto db = Database::open(file, OpenMode::read_write);
    CHECK_THROWS_WITH(db->exec("DELETE FROM audit"), Catch::Contains("append-only"));
    CHECK_THROWS_WITH(db->exec("DELETE FROM incident_events"), Catch::Contains("append-only"));
}

TEST_CASE("copy: a copy that differs from its source is found", "[pg][copy]") {
    const std::string source = source_district().string();
    test::TestPgDatabase pg;
    store::copy_database(source, pg.url());
    auto conn = store::PgConnection::connect(pg.url());

    SECTION("a building moved by 1 cm") {
        conn.exec("UPDATE buildings SET geom = ST_Translate(geom, 0.0000001, 0) WHERE id = 17");
        const store::CheckReport r = store::check_databases(source, pg.url());
        REQUIRE(r.mismatches.size() == 1);
        CHECK_THAT(r.mismatches.front(), Catch::Contains("buildings: row id 17: geom differs"));
    }
    SECTION("a grid missing") {
        conn.exec("DELETE FROM grids WHERE code = (SELECT min(code) FROM grids)");
        const store::CheckReport r = store::check_databases(source, pg.url());
        REQUIRE(r.mismatches.size() == 1);
        CHECK_THAT(r.mismatches.front(), Catch::StartsWith("grids: ") && Catch::Contains(" rows against "));
    }
    SECTION("a grid's history redrawn") {
        conn.exec("UPDATE grid_history SET geom = ST_AsBinary(ST_Translate(ST_GeomFromWKB(geom), 0.001, 0)) "
                  "WHERE seq = 1");
        const store::CheckReport r = store::check_databases(source, pg.url());
        REQUIRE(r.mismatches.size() == 1);
        CHECK_THAT(r.mismatches.front(), Catch::Contains("grid_history: row seq 1: geom differs"));
    }
    SECTION("a code changed") {
        conn.exec("UPDATE buildings SET grid_code = NULL WHERE id = 3");
        CHECK_FALSE(store::check_databases(source, pg.url()).ok());
    }
    SECTION("the same geometries in the other byte order are equal") {
        conn.exec("UPDATE streets SET geom = ST_GeomFromWKB(ST_AsBinary(geom, 'XDR'), 4326)");
        CHECK(store::check_databases(source, pg.url()).ok());
    }
}

TEST_CASE("copy: a copy that fails its check commits nothing", "[pg][copy]") {
    const std::string source = source_district().string();
    test::TestPgDatabase pg;
    store::PgDatabase::open(pg.url());
    // A destination that changes what it is given: one building lands 1 m east.
    auto conn = store::PgConnection::connect(pg.url());
    conn.exec(R"sql(
CREATE FUNCTION skew() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.id = 5 THEN NEW.geom := ST_Translate(NEW.geom, 0.00001, 0); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER skew BEFORE INSERT ON buildings FOR EACH ROW EXECUTE FUNCTION skew();
)sql");
    try {
        store::copy_database(source, pg.url());
        FAIL("a skewed copy was accepted");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(e.kind() == ErrorKind::unprocessable);
        CHECK(e.code() == "copy_mismatch");
        CHECK_THAT(e.what(), Catch::Contains("nothing was committed") && Catch::Contains("buildings: row id 5"));
    }
    CHECK(conn.exec("SELECT count(*) FROM streets").int64(0, 0) == 0);
    CHECK(conn.exec("SELECT count(*) FROM buildings").int64(0, 0) == 0);
    CHECK(conn.exec("SELECT value FROM meta WHERE key = 'data_version'").text(0, 0) == "0");

}

TEST_CASE("copy: a copy into a new SpatiaLite file that fails leaves no file", "[pg][copy]") {
    const std::string source = source_district().string();
    test::TestPgDatabase pg;
    store::copy_database(source, pg.url());
    // A source whose last table cannot be read: the file is made and half written first.
    auto conn = store::PgConnection::connect(pg.url());
    conn.exec("ALTER TABLE incident_photos RENAME COLUMN media_type TO kind");
    test::TempDir dir;
    const std::string file = (dir / "half.sqlite").string();
    CHECK_THROWS_WITH(store::copy_database(pg.url(), file), Catch::Contains("media_type"));
    CHECK_FALSE(std::filesystem::exists(file));
    CHECK_FALSE(std::filesystem::exists(file + "-wal"));
}

// The copy's table list is the one place naming every table and column of both schemas: a
// migration that adds a table or a column to either schema without it would be copied without it.
TEST_CASE("copy: its table list is both live schemas, table for table and column for column", "[pg][copy]") {
    test::TempDir dir;
    test::TestPgDatabase pg;
    const auto path = dir / "schema.sqlite";
    store::Database::open(path, store::OpenMode::create); // every SQLite migration
    store::PgDatabase::open(pg.url());                     // every PostgreSQL migration
    sqlite3* lite = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &lite, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    auto conn = store::PgConnection::connect(pg.url());

    std::set<std::string> listed;
    for (const store::CopiedTable& t : store::copied_tables()) {
        INFO("table " << t.name);
        listed.insert(t.name);
        std::set<std::string> expected_pg(t.columns.begin(), t.columns.end());
        std::set<std::string> expected_lite = expected_pg;
        expected_lite.erase("seq"); // SQLite's rowid
        std::set<std::string> in_lite;
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(lite, ("PRAGMA table_info(" + t.name + ")").c_str(), -1, &st, nullptr) == SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) in_lite.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
        sqlite3_finalize(st);
        CHECK(in_lite == expected_lite);
        std::set<std::string> in_pg;
        const store::PgResult r = conn.exec(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
            {t.name});
        for (int i = 0; i < r.rows(); ++i) in_pg.insert(std::string(r.text(i, 0)));
        CHECK(in_pg == expected_pg);
    }
    sqlite3_close(lite);
    // Every table of Wangge's PostgreSQL schema is listed (PostGIS's own and the schema version aside).
    const store::PgResult r = conn.exec("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                                        "AND table_type = 'BASE TABLE' AND table_name NOT IN ('spatial_ref_sys')");
    std::set<std::string> unlisted;
    for (int i = 0; i < r.rows(); ++i)
        if (!listed.count(std::string(r.text(i, 0)))) unlisted.insert(std::string(r.text(i, 0)));
    unlisted.erase("schema_version");
    CHECK(unlisted.empty());
    CHECK(listed.size() == 20);
}

// Upgrades of a SpatiaLite file from every earlier schema version (docs/OPERATIONS.md, "Upgrade"):
// a file made at version k by the migrations of that time and filled with rows of every table it
// has is opened by the current code, which migrates it. Every row keeps its values, the file is
// whole (integrity, foreign keys), its schema is a new file's, the store reads it, `validate`
// accepts it and it takes writes. A file newer than this build is refused and left byte for byte
// as it was; a migration that fails leaves the file at the version it had, data intact.
#include "old_schema.hpp"

#include "core/error.hpp"
#include "grid/snapshot.hpp"
#include "grid/validate.hpp"
#include "store/map_source.hpp"
#include "store/sqlite_database.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace wangge;

namespace {

const int latest = store::SqliteDatabase::latest_schema_version();

// FNV-1a, 64 bits: a digest of a migration's text that is the same on every platform.
std::uint64_t digest(std::string_view text) {
    std::uint64_t h = 14695981039346656037ull;
    for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
    return h;
}

// The schema as SQLite records it, and SpatiaLite's record of the geometry columns.
std::vector<std::vector<std::string>> schema_of(test::RawFile& f) {
    auto out = f.rows("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name");
    for (auto& r : f.rows("SELECT f_table_name, f_geometry_column, geometry_type, coord_dimension, srid, "
                          "spatial_index_enabled FROM geometry_columns ORDER BY f_table_name"))
        out.push_back(std::move(r));
    return out;
}

// What the file's Wangge tables hold, as the old build left it.
struct Before {
    std::map<std::string, test::TableDump> tables;
};

Before make_and_dump(const std::filesystem::path& path, int k) {
    test::make_old_file(path, k);
    test::RawFile f(path);
    Before b{test::dump_wangge_tables(f)};
    // Every table of that version holds rows, so that every table's upgrade is seen with data in
    // it: a new migration's tables need rows in fill_version.
    for (const auto& [table, dump] : b.tables) {
        INFO("version " << k << ", table " << table);
        CHECK_FALSE(dump.rows.empty());
    }
    return b;
}

// The old rows, in the old columns, are still there with their values.
void check_rows_kept(test::RawFile& f, const Before& before) {
    for (const auto& [table, dump] : before.tables) {
        INFO("table " << table);
        CHECK(test::dump_table(f, table, dump.columns) == dump);
    }
}

void check_whole(test::RawFile& f) {
    CHECK(f.value("PRAGMA integrity_check") == "ok");
    CHECK(f.rows("PRAGMA foreign_key_check").empty());
}

} // namespace

TEST_CASE("upgrade: released migrations are never edited (files in the field were made by these texts)", "[store][upgrade]") {
    // A file at version k was made by the text of migrations 1..k as released. Editing one would
    // leave those files different from new ones with nothing to bring them level: change the
    // schema with a new migration instead. A new migration adds its digest here (the test prints
    // it) and its rows to fill_version in old_schema.hpp.
    const std::vector<std::uint64_t> released = {
        0xcbd956fb18fefe5cull, 0xd951a2694ba6498full, 0x16681f9a5f1151e1ull, 0x597169df0d678b2bull,
        0x53b7ca8e37a19ca7ull, 0x38c704de48989278ull, 0x7bdef976176764d7ull,
    };
    const auto& all = store::detail::migrations();
    for (std::size_t i = 0; i < all.size(); ++i) {
        char hex[32];
        std::snprintf(hex, sizeof hex, "0x%016llxull", static_cast<unsigned long long>(digest(all[i])));
        INFO("migration " << i + 1 << " has digest " << hex);
        REQUIRE(i < released.size());
        CHECK(digest(all[i]) == released[i]);
    }
    CHECK(all.size() == released.size());
}

TEST_CASE("upgrade: a file at every earlier schema version opens migrated, its rows and values kept", "[store][upgrade]") {
    test::TempDir dir;
    // The schema of a file made new by this build, to compare upgraded files with.
    {
        store::SqliteDatabase::open(dir / "new.sqlite", store::OpenMode::create);
    }
    test::RawFile fresh(dir / "new.sqlite");
    const auto new_schema = schema_of(fresh);

    for (int k = 1; k < latest; ++k) {
        CAPTURE(k);
        const auto path = dir / ("v" + std::to_string(k) + ".sqlite");
        const Before before = make_and_dump(path, k);

        auto db = store::Database::open(path.string(), store::OpenMode::read_write);
        CHECK(db->schema_version() == latest);
        CHECK(db->data_version() == 3);
        {
            test::RawFile f(path);
            CHECK(f.user_version() == latest);
            CHECK(f.value("PRAGMA journal_mode") == "wal");
            check_rows_kept(f, before);
            check_whole(f);
            // An upgraded file has the schema of a new one: nothing missing, nothing extra.
            CHECK(schema_of(f) == new_schema);
        }

        // The store's own reads, of every version's rows.
        const auto streets = db->load_streets();
        REQUIRE(streets.size() == 1);
        CHECK(streets[0].name == "梅园新村街道");
        const auto grids = db->load_grids();
        REQUIRE(grids.size() == 3);
        CHECK(grids[1].code == "320102002001002");
        CHECK(grids[1].version == 2);
        CHECK(grids[2].kind == store::GridKind::unit);
        const auto buildings = db->load_buildings();
        REQUIRE(buildings.size() == 3);
        CHECK(buildings[0].floors == 18);
        CHECK(buildings[0].height_m == 54.5);
        CHECK(buildings[0].address == "汉口路1号");
        CHECK(buildings[1].households_estimated);
        CHECK_FALSE(buildings[1].floors.has_value());
        CHECK(buildings[2].grid_code == std::optional<std::string>("320102002002001"));
        CHECK(db->road_count() == 1);
        CHECK(db->load_units().empty()); // the table of migration 7, new and empty
        if (k >= 2) {
            const auto changes = db->list_grid_changes("320102002001");
            REQUIRE(changes.size() == 2);
            CHECK(changes[0].action == "undo");
            CHECK(changes[0].undoes == std::optional<std::int64_t>(1));
            const auto change = db->load_grid_change(1);
            REQUIRE(change);
            CHECK(change->undone_by == std::optional<std::int64_t>(2));
            CHECK(change->summary_json == "{\"moved\":1}");
            REQUIRE(change->before.size() == 1);
            REQUIRE(change->after.size() == 1);
            CHECK(change->after[0].geom.bbox().max_lat == Approx(32.005));
            REQUIRE(change->buildings.size() == 1);
            CHECK(change->buildings[0].after == std::optional<std::string>("320102002001002"));
        }
        if (k >= 3) {
            const auto wang = db->find_user("WANG"); // names are case-insensitive
            REQUIRE(wang);
            CHECK(wang->role == "community");
            CHECK(wang->disabled);
            CHECK(wang->scopes == std::vector<std::string>{"320102002001"});
            const auto tokens = db->list_tokens(wang->id);
            REQUIRE(tokens.size() == 1);
            CHECK(tokens[0].label == "phone");
            CHECK(tokens[0].last_used_at == std::optional<std::string>("2024-04-03T00:00:00Z"));
            const auto session = db->find_session(std::string(64, 'b'));
            REQUIRE(session);
            CHECK(session->address == "10.0.0.7");
            const auto audit = db->list_audit({});
            REQUIRE(audit.size() == 1);
            CHECK(audit[0].codes == std::vector<std::string>{"320102002001"});
            CHECK(audit[0].data_version == std::optional<std::int64_t>(2));
        }
        if (k >= 4) {
            const auto workers = db->grid_workers_of("320102002001001");
            REQUIRE(workers.size() == 1);
            CHECK(db->find_worker(workers[0].worker_id)->name == "李明");
            const auto incident = db->find_incident_by_key("key-1");
            REQUIRE(incident);
            CHECK(incident->urgency == "urgent");
            CHECK(incident->input_crs == "gcj02");
            CHECK(incident->assignee_worker_id == std::optional<std::int64_t>(1));
            // A column added by a later migration reads as its default in older rows.
            CHECK(incident->address == (k >= 5 ? "汉口路22号" : ""));
            CHECK(db->incident_events(incident->id).size() == 2);
            CHECK(db->photos_of(incident->id).size() == (k >= 5 ? 1u : 0u));
        }

        // `wangge validate`'s path: the map read from the file, a snapshot, the checks.
        {
            auto source = store::open_map_source(path.string());
            CHECK(source->schema_version() == latest);
            const auto snapshot = grid::Snapshot::load(*source);
            CHECK(snapshot->version() == 3);
            CHECK(snapshot->total_households() == test::old_households);
            const grid::ValidationReport report = grid::validate(*snapshot);
            INFO(report.findings.size() << " findings");
            CHECK(report.ok());
            CHECK(report.grids == 3);
        }

        // Writes after the upgrade: the map (the data version moves on), an account, a case.
        {
            store::Transaction tx(*db);
            store::UnitRow unit;
            unit.name = "东区医院";
            unit.kind = store::UnitKind::hospital;
            unit.geom = geo::make_rectangle({118.811, 32.001, 118.814, 32.004});
            db->insert_unit(unit);
            store::BuildingRow building;
            building.source_id = "way/4";
            building.households = 50;
            building.grid_code = "320102002001001";
            building.geom = geo::make_rectangle({118.803, 32.008, 118.804, 32.009});
            db->insert_building(building);
            tx.commit();
        }
        CHECK(db->data_version() == 4);
        CHECK(db->load_units().size() == 1);
        CHECK(db->building_count() == 4);
        {
            store::Transaction tx(*db, store::Bump::none);
            store::UserRow user;
            user.name = "li";
            user.role = "worker";
            user.scopes = {"320102002001001"};
            db->insert_user(user);
            tx.commit();
        }
        CHECK(db->find_user("li")->scopes == std::vector<std::string>{"320102002001001"});
        db.reset();
        test::RawFile f(path);
        check_whole(f);
    }
}

TEST_CASE("upgrade: a file newer than this build is refused as newer_schema and left byte for byte", "[store][upgrade]") {
    test::TempDir dir;
    const auto path = dir / "newer.sqlite";
    test::make_old_file(path, latest);
    {
        test::RawFile f(path);
        f.exec("PRAGMA user_version = " + std::to_string(latest + 1)); // as a later Wangge leaves it
    }
    const std::string bytes = test::file_bytes(path);
    REQUIRE(bytes.size() > 100000);
    for (const auto mode : {store::OpenMode::read_write, store::OpenMode::create}) {
        try {
            store::Database::open(path.string(), mode);
            FAIL("opened a file newer than this build");
        } catch (const Error& e) {
            INFO(e.what());
            CHECK(e.kind() == ErrorKind::io);
            CHECK(e.code() == "newer_schema");
            CHECK_THAT(e.what(), Catch::Contains("schema version " + std::to_string(latest + 1)) &&
                                     Catch::Contains("newer than this Wangge"));
        }
        CHECK(test::file_bytes(path) == bytes);
        CHECK_FALSE(std::filesystem::exists(path.string() + "-wal"));
    }
    test::RawFile f(path);
    CHECK(f.user_version() == latest + 1);
}

// Read-only opens (validate, info, backup) refuse a newer file as well, as newer_schema (as the
// PostgreSQL store does), and change nothing.
TEST_CASE("upgrade: a file newer than this build opened read-only is refused as newer_schema", "[store][upgrade]") {
    test::TempDir dir;
    const auto path = dir / "newer.sqlite";
    test::make_old_file(path, latest);
    {
        test::RawFile f(path);
        f.exec("PRAGMA user_version = " + std::to_string(latest + 1));
    }
    const std::string bytes = test::file_bytes(path);
    try {
        store::Database::open(path.string(), store::OpenMode::read_only);
        FAIL("opened a file newer than this build");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(test::file_bytes(path) == bytes);
        CHECK(e.code() == "newer_schema");
    }
}

// A newer file not in WAL mode (made by another tool, e.g. VACUUM INTO or a copy that left its
// journal mode behind) is refused before `PRAGMA journal_mode=WAL` could change its header.
TEST_CASE("upgrade: a newer file in rollback-journal mode is refused and left byte for byte", "[store][upgrade]") {
    test::TempDir dir;
    const auto path = dir / "newer.sqlite";
    test::make_old_file(path, latest);
    {
        test::RawFile f(path);
        f.exec("PRAGMA journal_mode=DELETE");
        f.exec("PRAGMA user_version = " + std::to_string(latest + 1));
    }
    const std::string bytes = test::file_bytes(path);
    CHECK_THROWS_AS(store::Database::open(path.string(), store::OpenMode::read_write), Error);
    CHECK(test::file_bytes(path) == bytes);
}

TEST_CASE("upgrade: a migration that fails leaves the file at the version it had, data intact", "[store][upgrade]") {
    test::TempDir dir;
    // A file at version 2 that somebody gave a table `audit` of their own: migration 3 creates
    // users, user_scopes, api_tokens and sessions, then fails on audit.
    const auto path = dir / "v2.sqlite";
    const Before before = make_and_dump(path, 2);
    {
        test::RawFile f(path);
        f.exec("CREATE TABLE audit (note TEXT); INSERT INTO audit VALUES ('ours')");
    }
    try {
        store::Database::open(path.string(), store::OpenMode::read_write);
        FAIL("migrated over a conflicting table");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(e.kind() == ErrorKind::io);
        CHECK_THAT(e.what(), Catch::Contains("audit already exists"));
    }
    {
        test::RawFile f(path);
        CHECK(f.user_version() == 2);
        // Nothing of migration 3 stays: the tables it made before failing are rolled back.
        for (const char* table : {"users", "user_scopes", "api_tokens", "sessions"}) {
            INFO(table);
            CHECK(f.value(std::string("SELECT count(*) FROM sqlite_master WHERE name = '") + table + "'") == "0");
        }
        CHECK(f.value("SELECT note FROM audit") == "ours");
        check_rows_kept(f, before);
        check_whole(f);
        // Once the conflict is gone the same file upgrades.
        f.exec("DROP TABLE audit");
    }
    auto db = store::Database::open(path.string(), store::OpenMode::read_write);
    CHECK(db->schema_version() == latest);
    CHECK(db->load_grids().size() == 3);
}

TEST_CASE("upgrade: migrations commit one at a time, so a failure part way keeps the versions reached", "[store][upgrade]") {
    // From version 1 with the same conflict: migration 2 commits, migration 3 fails. The file is
    // left whole at version 2, which this build (and a build of version 2) opens.
    test::TempDir dir;
    const auto path = dir / "v1.sqlite";
    const Before before = make_and_dump(path, 1);
    {
        test::RawFile f(path);
        f.exec("CREATE TABLE audit (note TEXT)");
    }
    CHECK_THROWS_AS(store::Database::open(path.string(), store::OpenMode::read_write), Error);
    test::RawFile f(path);
    CHECK(f.user_version() == 2);
    CHECK(f.value("SELECT count(*) FROM sqlite_master WHERE name = 'grid_changes'") == "1");
    CHECK(f.value("SELECT count(*) FROM sqlite_master WHERE name = 'users'") == "0");
    check_rows_kept(f, before);
    check_whole(f);
}

TEST_CASE("upgrade: a SpatiaLite call of a migration that fails stops the migration (they answer 0, not an SQL error)", "[store][upgrade]") {
    // Migration 7 makes `units` with a geometry column and its spatial index. Two files at
    // version 6 that a third party touched: one already registers units.geom (AddGeometryColumn
    // answers 0), one holds a plain table idx_units_geom (CreateSpatialIndex answers 1 yet makes
    // no index). Each upgrade fails, is rolled back, and names what failed.
    struct Case {
        const char* name;
        const char* tamper;
        const char* message;
    };
    const Case cases[] = {
        {"registered", "INSERT INTO geometry_columns VALUES ('units', 'geom', 6, 2, 4326, 0)",
         "AddGeometryColumn('units', 'geom', 4326, 'MULTIPOLYGON', 'XY', 1) answered 0"},
        {"index table", "CREATE TABLE idx_units_geom (x)", "units.geom has no spatial index"},
    };
    for (const auto& c : cases) {
        DYNAMIC_SECTION(c.name) {
            test::TempDir dir;
            const auto path = dir / "v6.sqlite";
            const Before before = make_and_dump(path, 6);
            {
                test::RawFile f(path);
                f.exec(c.tamper);
            }
            try {
                store::Database::open(path.string(), store::OpenMode::read_write);
                FAIL("migrated although a SpatiaLite call failed");
            } catch (const Error& e) {
                INFO(e.what());
                CHECK(e.code() == "migration_failed");
                CHECK_THAT(e.what(), Catch::Contains("schema migration 7 failed") && Catch::Contains(c.message));
            }
            test::RawFile f(path);
            CHECK(f.user_version() == 6);
            CHECK(f.value("SELECT count(*) FROM sqlite_master WHERE name = 'units'") == "0");
            check_rows_kept(f, before);
        }
    }
}

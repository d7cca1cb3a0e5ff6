// The PostgreSQL store on a real cluster (tests/store/pg_cluster.hpp): the schema its migrations
// create, the checks it shares with SQLite, and the errors a user meets first.
#include "core/error.hpp"
#include "pg_cluster.hpp"
#include "geo/geometry.hpp"
#include "store/pg/database.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>

using namespace wangge;
using store::PgConnection;
using store::PgDatabase;

namespace {

std::set<std::string> column_values(PgConnection& conn, const std::string& sql) {
    std::set<std::string> out;
    const auto r = conn.exec(sql);
    for (int i = 0; i < r.rows(); ++i) out.emplace(r.text(i, 0));
    return out;
}

// A port on 127.0.0.1 that nothing listens on: bound, then closed again.
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

const char* const all_tables[] = {
    "meta", "streets", "communities", "grids", "buildings", "roads", "units", "grid_changes", "grid_history",
    "grid_change_buildings", "users", "user_scopes", "api_tokens", "sessions", "audit", "workers", "grid_workers",
    "incidents", "incident_events", "incident_photos", "schema_version"};

const std::string square = "ST_GeomFromText('MULTIPOLYGON(((118.8 32,118.81 32,118.81 32.01,118.8 32.01,118.8 32)))', 4326)";

} // namespace

TEST_CASE("pg: opening a new database creates PostGIS and the whole schema, and a second open changes nothing",
          "[pg][store]") {
    test::TestPgDatabase fresh;
    {
        auto db = PgDatabase::open(fresh.url());
        CHECK(db->schema_version() == PgDatabase::latest_schema_version());
        PgConnection& conn = db->connection();
        CHECK(conn.exec("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'").int64(0, 0) == 1);

        const auto tables = column_values(conn, "SELECT table_name FROM information_schema.tables "
                                                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'");
        for (const char* t : all_tables) {
            INFO(t);
            CHECK(tables.count(t) == 1);
        }
        const auto geometry = column_values(conn, "SELECT f_table_name || ' ' || type || ' ' || srid "
                                                  "FROM geometry_columns WHERE f_table_schema = 'public'");
        CHECK(geometry == std::set<std::string>{"streets MULTIPOLYGON 4326", "communities MULTIPOLYGON 4326",
                                                "grids MULTIPOLYGON 4326", "buildings MULTIPOLYGON 4326",
                                                "roads MULTILINESTRING 4326", "units MULTIPOLYGON 4326"});
        const auto gist = column_values(conn, "SELECT tablename FROM pg_indexes WHERE schemaname = 'public' "
                                              "AND indexdef LIKE '%USING gist (geom)%'");
        CHECK(gist == std::set<std::string>{"streets", "communities", "grids", "buildings", "roads", "units"});
        CHECK(conn.exec("SELECT value FROM meta WHERE key = 'data_version'").text(0, 0) == "0");

        conn.exec("INSERT INTO streets (code, name, geom) VALUES ('320102002', '梅园新村街道', " + square + ")");
    }
    auto again = PgDatabase::open(fresh.url());
    PgConnection& conn = again->connection();
    CHECK(again->schema_version() == PgDatabase::latest_schema_version());
    CHECK(conn.exec("SELECT count(*) FROM schema_version").int64(0, 0) == PgDatabase::latest_schema_version());
    CHECK(conn.exec("SELECT name FROM streets WHERE code = '320102002'").text(0, 0) == "梅园新村街道");
}

TEST_CASE("pg: the schema refuses what the SQLite schema refuses", "[pg][store]") {
    test::TestPgDatabase fresh;
    auto db = PgDatabase::open(fresh.url());
    PgConnection& conn = db->connection();

    SECTION("codes are checked: digits, length, and the parent's prefix") {
        CHECK_THROWS_AS(conn.exec("INSERT INTO streets (code, geom) VALUES ('32010200x', " + square + ")"), Error);
        CHECK_THROWS_AS(conn.exec("INSERT INTO streets (code, geom) VALUES ('3201020021', " + square + ")"), Error);
        CHECK_THROWS_AS(conn.exec("INSERT INTO communities (code, street_code, geom) VALUES ('320102002001', "
                                  "'320102003', " + square + ")"),
                        Error);
        CHECK_THROWS_AS(conn.exec("INSERT INTO grids (code, community_code, kind, geom) VALUES ('320102002001001', "
                                  "'320102002001', 'park', " + square + ")"),
                        Error);
    }
    SECTION("a geometry of another type or SRID is refused") {
        CHECK_THROWS_AS(conn.exec("INSERT INTO streets (code, geom) VALUES ('320102002', "
                                  "ST_GeomFromText('POINT(118.8 32)', 4326))"),
                        Error);
        CHECK_THROWS_AS(conn.exec("INSERT INTO streets (code, geom) VALUES ('320102002', ST_SetSRID(" + square +
                                  ", 3857))"),
                        Error);
    }
    SECTION("user names are unique whatever their case") {
        conn.exec("INSERT INTO users (name, role) VALUES ('Wang', 'admin')");
        CHECK_WANGGE_ERROR(conn.exec("INSERT INTO users (name, role) VALUES ('wANG', 'viewer')"), ErrorKind::conflict,
                           "pg_23505");
        CHECK(conn.exec("SELECT created_at FROM users").text(0, 0).size() == std::string("2026-12-05T12:00:00Z").size());
    }
    SECTION("the audit log, the incident log and photos are append-only") {
        conn.exec("INSERT INTO audit (at, action, outcome) VALUES ('2026-12-05T12:00:00Z', 'login', 'ok')");
        CHECK_THROWS_WITH(conn.exec("UPDATE audit SET outcome = 'failed'"), Catch::Contains("append-only"));
        CHECK_THROWS_WITH(conn.exec("DELETE FROM audit"), Catch::Contains("append-only"));
        CHECK(conn.exec("SELECT count(*) FROM audit").int64(0, 0) == 1);
    }
    SECTION("ids come from identity columns, and an idempotency key is taken once") {
        conn.exec("INSERT INTO workers (name, role) VALUES ('王芳', 'full_time')");
        const auto id = conn.exec("INSERT INTO workers (name, role) VALUES ('李强', 'full_time') RETURNING id");
        CHECK(id.int64(0, 0) == 2);
        const std::string incident = "INSERT INTO incidents (category, urgency, description, source, lon, lat, "
                                     "input_crs, locate_status, state, assignee_level, assignee_code, reported_at, "
                                     "due_at, idempotency_key) VALUES ('0101', 'normal', 'x', 'resident', 118.8, 32, "
                                     "'wgs84', 'grid', 'reported', 'grid', '320102002001001', 't', 't', 'k1')";
        conn.exec(incident);
        CHECK_WANGGE_ERROR(conn.exec(incident), ErrorKind::conflict, "pg_23505");
    }
}

TEST_CASE("pg: a malformed URL is a bad request", "[pg][store]") {
    CHECK_WANGGE_ERROR(PgConnection::connect("wangge.sqlite"), ErrorKind::bad_request, "invalid_db_url");
    CHECK_WANGGE_ERROR(PgConnection::connect("postgresql://127.0.0.1/db?no_such_option=1"), ErrorKind::bad_request,
                       "invalid_db_url");
    CHECK_WANGGE_ERROR(PgDatabase::open("postgresql://[::1/db"), ErrorKind::bad_request, "invalid_db_url");
}

TEST_CASE("pg: passwords never reach a message", "[pg][store]") {
    CHECK(store::redact_url("postgresql://wangge:s3cret@db:5432/w") == "postgresql://wangge:***@db:5432/w");
    CHECK(store::redact_url("postgresql://wangge@db/w?password=s3cret&sslmode=require") ==
          "postgresql://wangge@db/w?password=***&sslmode=require");
    CHECK(store::redact_url("postgresql://db/w") == "postgresql://db/w");
    try {
        PgConnection::connect("postgresql://wangge:s3cret@127.0.0.1:" + std::to_string(closed_port()) + "/w");
        FAIL("connected to a closed port");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), !Catch::Contains("s3cret") && !Catch::Contains("\n"));
    }
}

TEST_CASE("pg: a server that does not answer is unavailable, and the message says where", "[pg][store]") {
    const std::string port = std::to_string(closed_port());
    try {
        PgDatabase::open("postgresql://wangge@127.0.0.1:" + port + "/wangge");
        FAIL("connected to a closed port");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(e.kind() == ErrorKind::unavailable);
        CHECK(e.code() == "db_unreachable");
        CHECK_THAT(e.what(), Catch::Contains("127.0.0.1:" + port) && Catch::Contains("may be down"));
    }
}

TEST_CASE("pg: an unknown database is an error naming the server", "[pg][store]") {
    const std::string url = test::pg_url_of(test::pg_cluster_url(), test::pg_unique_name("wangge_absent"));
    CHECK_WANGGE_ERROR(PgDatabase::open(url), ErrorKind::io, "db_connect");
}

TEST_CASE("pg: a database without PostGIS whose role may not create it is refused, saying what to do",
          "[pg][store]") {
    const std::string role = test::pg_unique_name("wangge_owner");
    auto admin = PgConnection::connect(test::pg_cluster_url());
    admin.exec("CREATE ROLE " + role + " LOGIN NOSUPERUSER");
    {
        // The role owns the database (it could create tables), but PostGIS is no trusted
        // extension: only a superuser may create it.
        test::TestPgDatabase owned(role);
        try {
            PgDatabase::open(owned.url_as(role));
            FAIL("opened a database without PostGIS");
        } catch (const Error& e) {
            INFO(e.what());
            CHECK(e.kind() == ErrorKind::unprocessable);
            CHECK(e.code() == "no_postgis");
            CHECK_THAT(e.what(), Catch::Contains("CREATE EXTENSION postgis (as a superuser)"));
        }
        // Nothing was created: no schema half-made.
        auto as_admin = PgConnection::connect(owned.url());
        CHECK(as_admin.exec("SELECT to_regclass('schema_version') IS NULL").text(0, 0) == "t");

        // Once a superuser has created PostGIS (and dropped it again: the same refusal), ...
        as_admin.exec("CREATE EXTENSION postgis");
        as_admin.exec("DROP EXTENSION postgis");
        CHECK_WANGGE_ERROR(PgDatabase::open(owned.url_as(role)), ErrorKind::unprocessable, "no_postgis");
        // ... and created it for good, the role migrates the database itself.
        as_admin.exec("CREATE EXTENSION postgis");
        auto db = PgDatabase::open(owned.url_as(role));
        CHECK(db->schema_version() == PgDatabase::latest_schema_version());
    }
    admin.exec("DROP ROLE " + role);
}

TEST_CASE("pg: a schema newer than this binary is refused and left alone", "[pg][store]") {
    test::TestPgDatabase fresh;
    PgDatabase::open(fresh.url())
        ->connection()
        .exec("INSERT INTO schema_version (version) VALUES ($1)",
              {std::to_string(PgDatabase::latest_schema_version() + 1)});
    try {
        PgDatabase::open(fresh.url());
        FAIL("opened a newer schema");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(e.kind() == ErrorKind::io);
        CHECK(e.code() == "newer_schema");
        CHECK_THAT(e.what(), Catch::Contains("schema version " + std::to_string(PgDatabase::latest_schema_version() + 1)));
    }
    auto conn = PgConnection::connect(fresh.url());
    CHECK(conn.exec("SELECT max(version) FROM schema_version").int64(0, 0) == PgDatabase::latest_schema_version() + 1);
}

TEST_CASE("pg: opened read-only, a database is left as it is", "[pg][store]") {
    test::TestPgDatabase fresh;
    CHECK_WANGGE_ERROR(PgDatabase::open(fresh.url(), store::PgOpenMode::read_only), ErrorKind::io, "old_schema");
    auto conn = PgConnection::connect(fresh.url());
    CHECK(conn.exec("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'").int64(0, 0) == 0);
    CHECK(conn.exec("SELECT to_regclass('schema_version') IS NULL").text(0, 0) == "t");
    PgDatabase::open(fresh.url());
    CHECK(PgDatabase::open(fresh.url(), store::PgOpenMode::read_only)->schema_version() ==
          PgDatabase::latest_schema_version());
}

TEST_CASE("pg: rows stream one at a time, and a transaction not committed leaves nothing", "[pg][store]") {
    test::TestPgDatabase fresh;
    auto db = PgDatabase::open(fresh.url());
    PgConnection& conn = db->connection();
    {
        store::PgTransaction tx(conn);
        conn.exec("INSERT INTO meta (key, value) SELECT 'k' || i, i::text FROM generate_series(1, 1000) i");
    }
    CHECK(conn.exec("SELECT count(*) FROM meta").int64(0, 0) == 1);
    {
        store::PgTransaction tx(conn);
        conn.exec("INSERT INTO meta (key, value) SELECT 'k' || i, i::text FROM generate_series(1, 1000) i");
        tx.commit();
    }
    std::int64_t sum = 0, rows = 0;
    {
        store::PgRowStream stream(conn, "SELECT value::bigint FROM meta WHERE key LIKE $1", {std::string("k%")});
        while (stream.next()) {
            CHECK(stream.row().rows() == 1);
            sum += stream.row().int64(0, 0);
            ++rows;
        }
    }
    CHECK(rows == 1000);
    CHECK(sum == 500500);
    {
        // A stream left half-read is drained: the connection serves the next query.
        store::PgRowStream stream(conn, "SELECT key FROM meta", {});
        CHECK(stream.next());
    }
    CHECK(conn.exec("SELECT count(*) FROM meta").int64(0, 0) == 1001);
}

TEST_CASE("pg: a connection lost in the middle of a write is unavailable, and nothing of the write is stored",
          "[pg][store]") {
    test::TestPgDatabase fresh;
    auto db = PgDatabase::open(fresh.url());
    auto other = PgDatabase::open(fresh.url());
    const std::int64_t version = other->data_version();
    const std::int64_t pid = db->connection().exec("SELECT pg_backend_pid()").int64(0, 0);
    bool refused = false;
    try {
        store::Transaction tx(*db);
        db->put_street({"320102002", "梅园新村街道", geo::make_rectangle({118.80, 32.00, 118.82, 32.01})}, false);
        // The server ends this connection, as a restart or a network cut would, before the commit.
        other->connection().exec("SELECT pg_terminate_backend($1)", {std::to_string(pid)});
        db->put_street({"320102003", "另一街道", geo::make_rectangle({118.83, 32.00, 118.84, 32.01})}, false);
        tx.commit();
    } catch (const Error& e) {
        refused = true;
        CHECK(e.kind() == ErrorKind::unavailable);
    }
    CHECK(refused);
    CHECK(other->count(Level::street) == 0);
    CHECK(other->data_version() == version);
    // The lost connection stays unavailable; a new one works.
    CHECK_THROWS_AS(db->data_version(), Error);
    CHECK(PgDatabase::open(fresh.url())->data_version() == version);
}

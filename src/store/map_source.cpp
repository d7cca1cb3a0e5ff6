#include "store/map_source.hpp"

#include "geo/geometry.hpp"
#include "store/database.hpp"
#include "store/pg/database.hpp"

#include <charconv>

namespace wangge::store {

namespace {

class SqliteMap final : public MapSource {
public:
    explicit SqliteMap(const std::string& path) : m_db(Database::open(path, OpenMode::read_only)), m_name(path) {}

    MapRows read_map() override {
        MapRows out;
        ReadTransaction consistent(*m_db); // a commit between two reads must not mix versions
        out.version = m_db->data_version();
        out.streets = m_db->load_streets();
        out.communities = m_db->load_communities();
        out.grids = m_db->load_grids();
        out.buildings = m_db->load_buildings();
        out.roads = m_db->load_roads();
        return out;
    }
    int schema_version() override { return m_db->schema_version(); }
    std::string name() const override { return m_name; }

private:
    std::unique_ptr<Database> m_db;
    std::string m_name;
};

// The SQL of this backend: geometries as WKB (hex bytea), rows in key order.
class PostgresMap final : public MapSource {
public:
    explicit PostgresMap(const std::string& url)
        : m_db(PgDatabase::open(url, PgOpenMode::read_only)), m_name(m_db->connection().url()) {}

    MapRows read_map() override {
        PgConnection& c = m_db->connection();
        MapRows out;
        PgTransaction consistent(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        out.version = c.exec("SELECT CAST(value AS bigint) FROM meta WHERE key = 'data_version'").int64(0, 0);
        each(c, "SELECT code, name, ST_AsBinary(geom) FROM streets ORDER BY code", [&](const PgResult& r) {
            out.streets.push_back({std::string(r.text(0, 0)), std::string(r.text(0, 1)), geo::from_wkb(r.bytes(0, 2))});
        });
        each(c, "SELECT code, street_code, name, ST_AsBinary(geom) FROM communities ORDER BY code",
             [&](const PgResult& r) {
                 out.communities.push_back({std::string(r.text(0, 0)), std::string(r.text(0, 1)),
                                            std::string(r.text(0, 2)), geo::from_wkb(r.bytes(0, 3))});
             });
        each(c, "SELECT code, community_code, name, kind, version, ST_AsBinary(geom) FROM grids ORDER BY code",
             [&](const PgResult& r) {
                 GridRow g;
                 g.code = r.text(0, 0);
                 g.community_code = r.text(0, 1);
                 g.name = r.text(0, 2);
                 g.kind = parse_grid_kind(r.text(0, 3)).value_or(GridKind::residential);
                 g.version = r.int64(0, 4);
                 g.geom = geo::from_wkb(r.bytes(0, 5));
                 out.grids.push_back(std::move(g));
             });
        each(c,
             "SELECT id, source_id, name, use, address, floors, height_m, households, households_estimated, "
             "grid_code, ST_AsBinary(geom) FROM buildings ORDER BY id",
             [&](const PgResult& r) {
                 BuildingRow b;
                 b.id = r.int64(0, 0);
                 b.source_id = r.text(0, 1);
                 b.name = r.text(0, 2);
                 b.use = r.text(0, 3);
                 b.address = r.text(0, 4);
                 if (!r.is_null(0, 5)) b.floors = static_cast<int>(r.int64(0, 5));
                 if (!r.is_null(0, 6)) b.height_m = real(r.text(0, 6));
                 b.households = static_cast<int>(r.int64(0, 7));
                 b.households_estimated = r.int64(0, 8) != 0;
                 if (!r.is_null(0, 9)) b.grid_code = std::string(r.text(0, 9));
                 b.geom = geo::from_wkb(r.bytes(0, 10));
                 out.buildings.push_back(std::move(b));
             });
        each(c, "SELECT id, source_id, name, kind, ST_AsBinary(geom) FROM roads ORDER BY id", [&](const PgResult& r) {
            out.roads.push_back({r.int64(0, 0), std::string(r.text(0, 1)), std::string(r.text(0, 2)),
                                 std::string(r.text(0, 3)), geo::from_wkb(r.bytes(0, 4))});
        });
        consistent.commit();
        return out;
    }
    int schema_version() override { return m_db->schema_version(); }
    std::string name() const override { return m_name; }

private:
    template <typename Row>
    static void each(PgConnection& c, const std::string& sql, Row&& row) {
        PgRowStream rows(c, sql, {});
        while (rows.next()) row(rows.row());
    }
    // PostgreSQL writes doubles with enough digits to read them back exactly (extra_float_digits).
    static double real(std::string_view text) {
        double v = 0;
        std::from_chars(text.data(), text.data() + text.size(), v);
        return v;
    }

    std::unique_ptr<PgDatabase> m_db;
    std::string m_name;
};

} // namespace

std::unique_ptr<MapSource> open_map_source(const std::string& db) {
    if (is_postgresql_url(db)) return std::make_unique<PostgresMap>(db);
    return std::make_unique<SqliteMap>(db);
}

} // namespace wangge::store

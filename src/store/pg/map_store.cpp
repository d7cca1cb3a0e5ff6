// The map of the PostgreSQL store: streets, communities, grids, buildings, roads and units, with
// PostGIS geometry columns (written from WKB, read as WKB).
#include "store/pg/database.hpp"

#include "store/pg/values.hpp"

#include "geo/geometry.hpp"

#include <charconv>

namespace wangge::store {

namespace {

std::string_view table_of(Level level) {
    switch (level) {
    case Level::street: return "streets";
    case Level::community: return "communities";
    case Level::grid: return "grids";
    }
    return "grids";
}

using pg::hex;
using pg::text_of;

// A boundary as SpatiaLite's store takes it: a non-empty polygon, stored as a MultiPolygon.
std::string multi_polygon_hex(const geo::Geometry& g, const char* what) { return pg::multi_polygon_hex(g, what); }

[[noreturn]] void duplicate(Level level, const std::string& code) {
    throw Error(ErrorKind::conflict, "duplicate_code",
                std::string(to_string(level)) + " " + code + " is already stored (import with --replace to overwrite it)");
}

constexpr const char* building_select =
    "SELECT id, source_id, name, use, address, floors, height_m, households, households_estimated, grid_code, "
    "ST_AsBinary(geom) FROM buildings ";

BuildingRow building_of(const PgResult& r, int i) {
    BuildingRow b;
    b.id = r.int64(i, 0);
    b.source_id = r.text(i, 1);
    b.name = r.text(i, 2);
    b.use = r.text(i, 3);
    b.address = r.text(i, 4);
    if (!r.is_null(i, 5)) b.floors = static_cast<int>(r.int64(i, 5));
    if (!r.is_null(i, 6)) {
        const std::string_view t = r.text(i, 6);
        double v = 0;
        std::from_chars(t.data(), t.data() + t.size(), v);
        b.height_m = v;
    }
    b.households = static_cast<int>(r.int64(i, 7));
    b.households_estimated = r.int64(i, 8) != 0;
    if (!r.is_null(i, 9)) b.grid_code = std::string(r.text(i, 9));
    b.geom = geo::from_wkb(r.bytes(i, 10));
    return b;
}

// The ten written columns of a building, $1..$10, as insert and update write them.
PgParams building_params(const BuildingRow& b) {
    return {b.source_id,
            b.name,
            b.use,
            b.address,
            text_of(b.floors),
            text_of(b.height_m),
            std::to_string(b.households),
            std::string(b.households_estimated ? "1" : "0"),
            b.grid_code,
            multi_polygon_hex(b.geom, "a building's footprint")};
}

} // namespace

bool PgDatabase::has_code(Level level, const std::string& code) {
    return m_conn.exec("SELECT 1 FROM " + std::string(table_of(level)) + " WHERE code = $1", {code}).rows() > 0;
}

void PgDatabase::put_street(const StreetRow& row, bool replace) {
    require_code(Level::street, row.code);
    if (!replace && has_code(Level::street, row.code)) duplicate(Level::street, row.code);
    m_conn.exec("INSERT INTO streets (code, name, geom) VALUES ($1, $2, ST_GeomFromWKB(decode($3, 'hex'), 4326)) "
                "ON CONFLICT (code) DO UPDATE SET name = excluded.name, geom = excluded.geom",
                {row.code, row.name, multi_polygon_hex(row.geom, "a stored boundary")});
}

void PgDatabase::put_community(const CommunityRow& row, bool replace) {
    require_code(Level::community, row.code);
    require_parent(Level::community, row.code, row.street_code);
    if (!replace && has_code(Level::community, row.code)) duplicate(Level::community, row.code);
    m_conn.exec("INSERT INTO communities (code, street_code, name, geom) "
                "VALUES ($1, $2, $3, ST_GeomFromWKB(decode($4, 'hex'), 4326)) ON CONFLICT (code) DO UPDATE SET "
                "street_code = excluded.street_code, name = excluded.name, geom = excluded.geom",
                {row.code, row.street_code, row.name, multi_polygon_hex(row.geom, "a stored boundary")});
}

void PgDatabase::put_grid(const GridRow& row, bool replace) {
    require_code(Level::grid, row.code);
    require_parent(Level::grid, row.code, row.community_code);
    if (!replace && has_code(Level::grid, row.code)) duplicate(Level::grid, row.code);
    m_conn.exec("INSERT INTO grids (code, community_code, name, kind, version, geom) "
                "VALUES ($1, $2, $3, $4, (SELECT CAST(value AS bigint) + 1 FROM meta WHERE key = 'data_version'), "
                "ST_GeomFromWKB(decode($5, 'hex'), 4326)) ON CONFLICT (code) DO UPDATE SET "
                "community_code = excluded.community_code, name = excluded.name, kind = excluded.kind, "
                "version = excluded.version, geom = excluded.geom",
                {row.code, row.community_code, row.name, std::string(to_string(row.kind)),
                 multi_polygon_hex(row.geom, "a stored boundary")});
}

std::int64_t PgDatabase::insert_building(const BuildingRow& row) {
    return m_conn
        .exec("INSERT INTO buildings (source_id, name, use, address, floors, height_m, households, "
              "households_estimated, grid_code, geom) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
              "ST_GeomFromWKB(decode($10, 'hex'), 4326)) RETURNING id",
              building_params(row))
        .int64(0, 0);
}

std::int64_t PgDatabase::insert_road(const RoadRow& row) {
    const auto t = row.geom.type();
    if ((t != geo::GeometryType::line_string && t != geo::GeometryType::multi_line_string) || row.geom.is_empty())
        throw Error(ErrorKind::unprocessable, "invalid_geometry",
                    "a road must be a non-empty LineString or MultiLineString, not " + row.geom.type_name());
    return m_conn
        .exec("INSERT INTO roads (source_id, name, kind, geom) "
              "VALUES ($1, $2, $3, ST_Multi(ST_GeomFromWKB(decode($4, 'hex'), 4326))) RETURNING id",
              {row.source_id, row.name, row.kind, hex(geo::to_wkb(row.geom))})
        .int64(0, 0);
}

std::int64_t PgDatabase::insert_unit(const UnitRow& row) {
    return m_conn
        .exec("INSERT INTO units (source_id, name, kind, geom) "
              "VALUES ($1, $2, $3, ST_GeomFromWKB(decode($4, 'hex'), 4326)) RETURNING id",
              {row.source_id, row.name, std::string(to_string(row.kind)), multi_polygon_hex(row.geom, "a unit's area")})
        .int64(0, 0);
}

std::optional<BuildingRow> PgDatabase::find_building(std::int64_t id) {
    const PgResult r = m_conn.exec(std::string(building_select) + "WHERE id = $1", {std::to_string(id)});
    if (r.rows() == 0) return std::nullopt;
    return building_of(r, 0);
}

std::vector<BuildingRow> PgDatabase::find_buildings(const std::string& source_id) {
    const PgResult r = m_conn.exec(std::string(building_select) + "WHERE source_id = $1 ORDER BY id", {source_id});
    std::vector<BuildingRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(building_of(r, i));
    return out;
}

void PgDatabase::update_building(const BuildingRow& row) {
    PgParams params = building_params(row);
    params.emplace_back(std::to_string(row.id));
    m_conn.exec("UPDATE buildings SET source_id = $1, name = $2, use = $3, address = $4, floors = $5, height_m = $6, "
                "households = $7, households_estimated = $8, grid_code = $9, "
                "geom = ST_GeomFromWKB(decode($10, 'hex'), 4326) WHERE id = $11",
                params);
}

void PgDatabase::set_building_grid(std::int64_t id, const std::optional<std::string>& grid_code) {
    m_conn.exec("UPDATE buildings SET grid_code = $1 WHERE id = $2", {grid_code, std::to_string(id)});
}

void PgDatabase::delete_all_buildings() { m_conn.exec("DELETE FROM buildings"); }
void PgDatabase::delete_all_roads() { m_conn.exec("DELETE FROM roads"); }
void PgDatabase::delete_all_units() { m_conn.exec("DELETE FROM units"); }

std::vector<GridRow> PgDatabase::load_grids() {
    const PgResult r =
        m_conn.exec("SELECT code, community_code, name, kind, version, ST_AsBinary(geom) FROM grids ORDER BY code");
    std::vector<GridRow> out;
    for (int i = 0; i < r.rows(); ++i) {
        GridRow g;
        g.code = r.text(i, 0);
        g.community_code = r.text(i, 1);
        g.name = r.text(i, 2);
        g.kind = parse_grid_kind(r.text(i, 3)).value_or(GridKind::residential);
        g.version = r.int64(i, 4);
        g.geom = geo::from_wkb(r.bytes(i, 5));
        out.push_back(std::move(g));
    }
    return out;
}

void PgDatabase::for_each_building(const std::function<void(BuildingRow&&)>& visit) {
    PgRowStream rows(m_conn, std::string(building_select) + "ORDER BY id", {});
    while (rows.next()) visit(building_of(rows.row(), 0));
}

std::optional<BBox> PgDatabase::extent() {
    std::string sql = "SELECT min(x0), min(y0), max(x1), max(y1) FROM (";
    bool first = true;
    for (const char* table : {"streets", "communities", "grids", "buildings", "roads", "units"}) {
        if (!first) sql += " UNION ALL ";
        first = false;
        sql += std::string("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM ") +
               table + ") " + table;
    }
    sql += ") AS boxes (x0, y0, x1, y1)";
    const PgResult r = m_conn.exec(sql);
    if (r.is_null(0, 0)) return std::nullopt;
    auto number = [&](int col) {
        const std::string_view t = r.text(0, col);
        double v = 0;
        std::from_chars(t.data(), t.data() + t.size(), v);
        return v;
    };
    return BBox{number(0), number(1), number(2), number(3)};
}

std::vector<StreetRow> PgDatabase::load_streets() {
    std::vector<StreetRow> out;
    PgRowStream rows(m_conn, "SELECT code, name, ST_AsBinary(geom) FROM streets ORDER BY code", {});
    while (rows.next()) {
        const PgResult& r = rows.row();
        out.push_back({std::string(r.text(0, 0)), std::string(r.text(0, 1)), geo::from_wkb(r.bytes(0, 2))});
    }
    return out;
}

std::vector<CommunityRow> PgDatabase::load_communities() {
    std::vector<CommunityRow> out;
    PgRowStream rows(m_conn, "SELECT code, street_code, name, ST_AsBinary(geom) FROM communities ORDER BY code", {});
    while (rows.next()) {
        const PgResult& r = rows.row();
        out.push_back({std::string(r.text(0, 0)), std::string(r.text(0, 1)), std::string(r.text(0, 2)),
                       geo::from_wkb(r.bytes(0, 3))});
    }
    return out;
}

std::vector<BuildingRow> PgDatabase::load_buildings() {
    std::vector<BuildingRow> out;
    for_each_building([&](BuildingRow&& b) { out.push_back(std::move(b)); });
    return out;
}

std::vector<RoadRow> PgDatabase::load_roads() {
    std::vector<RoadRow> out;
    PgRowStream rows(m_conn, "SELECT id, source_id, name, kind, ST_AsBinary(geom) FROM roads ORDER BY id", {});
    while (rows.next()) {
        const PgResult& r = rows.row();
        out.push_back({r.int64(0, 0), std::string(r.text(0, 1)), std::string(r.text(0, 2)), std::string(r.text(0, 3)),
                       geo::from_wkb(r.bytes(0, 4))});
    }
    return out;
}

std::size_t PgDatabase::road_count() {
    return static_cast<std::size_t>(m_conn.exec("SELECT count(*) FROM roads").int64(0, 0));
}

std::vector<UnitRow> PgDatabase::load_units() {
    std::vector<UnitRow> out;
    PgRowStream rows(m_conn, "SELECT id, source_id, name, kind, ST_AsBinary(geom) FROM units ORDER BY id", {});
    while (rows.next()) {
        const PgResult& r = rows.row();
        out.push_back({r.int64(0, 0), std::string(r.text(0, 1)), std::string(r.text(0, 2)),
                       parse_unit_kind(r.text(0, 3)).value_or(UnitKind::other), geo::from_wkb(r.bytes(0, 4))});
    }
    return out;
}

std::size_t PgDatabase::count(Level level) {
    return static_cast<std::size_t>(m_conn.exec("SELECT count(*) FROM " + std::string(table_of(level))).int64(0, 0));
}

std::size_t PgDatabase::building_count() {
    return static_cast<std::size_t>(m_conn.exec("SELECT count(*) FROM buildings").int64(0, 0));
}

} // namespace wangge::store

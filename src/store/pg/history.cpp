// Deleting grids and communities, and the grid history of the PostgreSQL store (docs/BALANCE.md),
// as the SQLite store keeps them (store/database.cpp): grid_history.geom is the grid's boundary
// as MultiPolygon WKB in a bytea, and rows come back in the order they were stored (seq, where
// SQLite reads by rowid).
#include "store/pg/database.hpp"

#include "store/pg/values.hpp"

#include "geo/geometry.hpp"

#include <string>

namespace wangge::store {

namespace {

using pg::hex;
using pg::text_of;

// A boundary as the SQLite store takes it (multi_wkb there).
std::string multi_polygon_hex(const geo::Geometry& g) { return pg::multi_polygon_hex(g, "a stored boundary"); }

// An array literal of text values ({"a",NULL,"b"}), each quoted, for unnest($n::text[]).
std::string text_array(const std::vector<const std::optional<std::string>*>& values) {
    std::string out = "{";
    for (const auto* v : values) {
        if (out.size() > 1) out += ',';
        if (!*v) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : **v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

constexpr std::string_view change_select =
    "SELECT id, community_code, action, base_version, applied_version, created_at, undoes, undone_by, summary "
    "FROM grid_changes ";

GridChange change_of(const PgResult& r, int i) {
    GridChange c;
    c.id = r.int64(i, 0);
    c.community_code = r.text(i, 1);
    c.action = r.text(i, 2);
    c.base_version = r.int64(i, 3);
    c.applied_version = r.int64(i, 4);
    c.created_at = r.text(i, 5);
    if (!r.is_null(i, 6)) c.undoes = r.int64(i, 6);
    if (!r.is_null(i, 7)) c.undone_by = r.int64(i, 7);
    c.summary_json = r.text(i, 8);
    return c;
}

} // namespace

void PgDatabase::delete_grid(const std::string& code) { m_conn.exec("DELETE FROM grids WHERE code = $1", {code}); }

void PgDatabase::delete_community(const std::string& code) {
    m_conn.exec("DELETE FROM grids WHERE community_code = $1", {code});
    m_conn.exec("DELETE FROM communities WHERE code = $1", {code});
}

std::int64_t PgDatabase::insert_grid_change(const GridChange& c) {
    const std::int64_t id =
        m_conn
            .exec("INSERT INTO grid_changes (community_code, action, base_version, applied_version, undoes, undone_by, "
                  "summary) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                  {c.community_code, c.action, std::to_string(c.base_version), std::to_string(c.applied_version),
                   text_of(c.undoes), text_of(c.undone_by), c.summary_json})
            .int64(0, 0);
    const std::string change_id = std::to_string(id);
    auto put = [&](const GridRow& g, const char* side) {
        m_conn.exec("INSERT INTO grid_history (change_id, side, code, community_code, name, kind, version, geom) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7, decode($8, 'hex'))",
                    {change_id, std::string(side), g.code, g.community_code, g.name, std::string(to_string(g.kind)),
                     std::to_string(g.version), multi_polygon_hex(g.geom)});
    };
    for (const GridRow& g : c.before) put(g, "before");
    for (const GridRow& g : c.after) put(g, "after");
    if (!c.buildings.empty()) {
        // One statement for every move (a bootstrap moves a community's every building), in their
        // order: unnest WITH ORDINALITY yields the rows as listed, and seq numbers them so.
        std::string ids = "{";
        std::vector<const std::optional<std::string>*> before, after;
        before.reserve(c.buildings.size());
        after.reserve(c.buildings.size());
        for (const auto& b : c.buildings) {
            if (ids.size() > 1) ids += ',';
            ids += std::to_string(b.building_id);
            before.push_back(&b.before);
            after.push_back(&b.after);
        }
        ids += '}';
        m_conn.exec("INSERT INTO grid_change_buildings (change_id, building_id, before_code, after_code) "
                    "SELECT $1, m.building_id, m.before_code, m.after_code "
                    "FROM unnest($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY "
                    "AS m (building_id, before_code, after_code, n) ORDER BY m.n",
                    {change_id, ids, text_array(before), text_array(after)});
    }
    return id;
}

void PgDatabase::set_grid_change_undone(std::int64_t id, std::int64_t undone_by) {
    m_conn.exec("UPDATE grid_changes SET undone_by = $1 WHERE id = $2", {std::to_string(undone_by), std::to_string(id)});
}

std::optional<GridChange> PgDatabase::load_grid_change(std::int64_t id) {
    const std::string change_id = std::to_string(id);
    const PgResult r = m_conn.exec(std::string(change_select) + "WHERE id = $1", {change_id});
    if (r.rows() == 0) return std::nullopt;
    GridChange c = change_of(r, 0);
    const PgResult grids = m_conn.exec("SELECT side, code, community_code, name, kind, version, geom FROM grid_history "
                                       "WHERE change_id = $1 ORDER BY seq",
                                       {change_id});
    for (int i = 0; i < grids.rows(); ++i) {
        GridRow g;
        g.code = grids.text(i, 1);
        g.community_code = grids.text(i, 2);
        g.name = grids.text(i, 3);
        g.kind = parse_grid_kind(grids.text(i, 4)).value_or(GridKind::residential);
        g.version = grids.int64(i, 5);
        g.geom = geo::from_wkb(grids.bytes(i, 6));
        (grids.text(i, 0) == "before" ? c.before : c.after).push_back(std::move(g));
    }
    const PgResult moved = m_conn.exec("SELECT building_id, before_code, after_code FROM grid_change_buildings "
                                       "WHERE change_id = $1 ORDER BY seq",
                                       {change_id});
    c.buildings.reserve(static_cast<std::size_t>(moved.rows()));
    for (int i = 0; i < moved.rows(); ++i) {
        GridChange::BuildingMove m;
        m.building_id = moved.int64(i, 0);
        if (!moved.is_null(i, 1)) m.before = std::string(moved.text(i, 1));
        if (!moved.is_null(i, 2)) m.after = std::string(moved.text(i, 2));
        c.buildings.push_back(std::move(m));
    }
    return c;
}

std::vector<std::string> PgDatabase::history_grid_codes(const std::string& community_code) {
    // Sorted byte by byte, as SQLite's BINARY collation (codes are digits, but nothing checks it).
    const PgResult r = m_conn.exec(
        "SELECT code FROM grid_history WHERE community_code = $1 GROUP BY code ORDER BY code COLLATE \"C\"",
        {community_code});
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
    return out;
}

std::vector<GridChange> PgDatabase::list_grid_changes(const std::string& community_code) {
    const PgResult r =
        m_conn.exec(std::string(change_select) + "WHERE community_code = $1 ORDER BY id DESC", {community_code});
    std::vector<GridChange> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(change_of(r, i));
    return out;
}

} // namespace wangge::store

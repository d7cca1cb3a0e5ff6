// Workers, their grids, incidents and the incident log (schema migrations 4 to 6, docs/INCIDENTS.md).
#include "store/sqlite_database.hpp"

#include "core/error.hpp"
#include "store/statement.hpp"

#include <sqlite3.h>

namespace wangge::store {

using detail::Statement;

namespace {

constexpr std::string_view worker_columns = "id, name, phone, role, user_name, on_duty, shift";

WorkerRow read_worker(const Statement& st) {
    WorkerRow w;
    w.id = st.int64(0);
    w.name = st.text(1);
    w.phone = st.text(2);
    w.role = st.text(3);
    if (!st.is_null(4)) w.user_name = st.text(4);
    w.on_duty = st.int64(5) != 0;
    w.shift = st.text(6);
    return w;
}

constexpr std::string_view incident_columns =
    "id, category, urgency, description, source, lon, lat, input_crs, building_id, street_code, community_code, "
    "grid_code, locate_status, reporter_name, reporter_phone, state, assignee_worker_id, assignee_level, "
    "assignee_code, reported_at, due_at, closed_at, extended, reworks, rating, duplicate_of, idempotency_key, "
    "request_digest, address";

IncidentRow read_incident(const Statement& st) {
    IncidentRow r;
    r.id = st.int64(0);
    r.category = st.text(1);
    r.urgency = st.text(2);
    r.description = st.text(3);
    r.source = st.text(4);
    r.lon = st.real(5);
    r.lat = st.real(6);
    r.input_crs = st.text(7);
    if (!st.is_null(8)) r.building_id = st.int64(8);
    r.street_code = st.text(9);
    r.community_code = st.text(10);
    r.grid_code = st.text(11);
    r.locate_status = st.text(12);
    r.reporter_name = st.text(13);
    r.reporter_phone = st.text(14);
    r.state = st.text(15);
    if (!st.is_null(16)) r.assignee_worker_id = st.int64(16);
    r.assignee_level = st.text(17);
    r.assignee_code = st.text(18);
    r.reported_at = st.text(19);
    r.due_at = st.text(20);
    if (!st.is_null(21)) r.closed_at = st.text(21);
    r.extended = st.int64(22) != 0;
    r.reworks = static_cast<int>(st.int64(23));
    if (!st.is_null(24)) r.rating = static_cast<int>(st.int64(24));
    if (!st.is_null(25)) r.duplicate_of = st.int64(25);
    if (!st.is_null(26)) r.idempotency_key = st.text(26);
    r.request_digest = st.text(27);
    r.address = st.text(28);
    return r;
}

// Binds every column but id, in the order of incident_columns, from parameter 1.
void bind_incident(Statement& st, const IncidentRow& r) {
    st.bind(1, r.category).bind(2, r.urgency).bind(3, r.description).bind(4, r.source).bind(5, r.lon).bind(6, r.lat);
    st.bind(7, r.input_crs).bind(8, r.building_id).bind(9, r.street_code).bind(10, r.community_code);
    st.bind(11, r.grid_code).bind(12, r.locate_status).bind(13, r.reporter_name).bind(14, r.reporter_phone);
    st.bind(15, r.state).bind(16, r.assignee_worker_id).bind(17, r.assignee_level).bind(18, r.assignee_code);
    st.bind(19, r.reported_at).bind(20, r.due_at).bind(21, r.closed_at);
    st.bind(22, std::int64_t{r.extended ? 1 : 0}).bind(23, std::int64_t{r.reworks});
    st.bind(24, r.rating ? std::optional<std::int64_t>(*r.rating) : std::nullopt);
    st.bind(25, r.duplicate_of).bind(26, r.idempotency_key).bind(27, r.request_digest);
    st.bind(28, r.address);
}

// The row the bound statement finds, if any (the statement is reset for its next use).
template <typename Row>
std::optional<Row> one_row(Statement& st, Row (*read)(const Statement&)) {
    if (!st.step()) return std::nullopt;
    Row row = read(st);
    st.reset();
    return row;
}

// The states of cases still running against their time limit: incident::is_open in SQL (the
// store sits below the incident module; tests/store check that the two agree).
constexpr std::string_view open_state_sql = "state NOT IN ('closed', 'invalid', 'suspended')";

std::vector<IncidentRow> read_incidents(Statement& st) {
    std::vector<IncidentRow> out;
    while (st.step()) out.push_back(read_incident(st));
    return out;
}

} // namespace

std::int64_t SqliteDatabase::insert_worker(const WorkerRow& row) {
    auto& st = cached_statement("INSERT INTO workers (name, phone, role, user_name, on_duty, shift) VALUES (?, ?, ?, ?, ?, ?)");
    st.bind(1, row.name).bind(2, row.phone).bind(3, row.role).bind(4, row.user_name);
    st.bind(5, std::int64_t{row.on_duty ? 1 : 0}).bind(6, row.shift).run();
    return sqlite3_last_insert_rowid(handle());
}

void SqliteDatabase::update_worker(const WorkerRow& row) {
    auto& st = cached_statement(
        "UPDATE workers SET name = ?, phone = ?, role = ?, user_name = ?, on_duty = ?, shift = ? WHERE id = ?");
    st.bind(1, row.name).bind(2, row.phone).bind(3, row.role).bind(4, row.user_name);
    st.bind(5, std::int64_t{row.on_duty ? 1 : 0}).bind(6, row.shift).bind(7, row.id).run();
}

std::optional<WorkerRow> SqliteDatabase::find_worker(std::int64_t id) {
    auto& st = cached_statement("SELECT " + std::string(worker_columns) + " FROM workers WHERE id = ?");
    st.bind(1, id);
    return one_row(st, read_worker);
}

std::optional<WorkerRow> SqliteDatabase::find_worker_by_phone(std::string_view phone) {
    auto& st = cached_statement("SELECT " + std::string(worker_columns) + " FROM workers WHERE phone = ? AND phone <> ''");
    st.bind(1, phone);
    return one_row(st, read_worker);
}

std::vector<WorkerRow> SqliteDatabase::list_workers() {
    auto& st = cached_statement("SELECT " + std::string(worker_columns) + " FROM workers ORDER BY id");
    std::vector<WorkerRow> out;
    while (st.step()) out.push_back(read_worker(st));
    return out;
}

void SqliteDatabase::set_grid_workers(const std::string& grid_code, const std::vector<std::int64_t>& worker_ids) {
    cached_statement("DELETE FROM grid_workers WHERE grid_code = ?").bind(1, grid_code).run();
    auto& st = cached_statement("INSERT INTO grid_workers (grid_code, worker_id, rank) VALUES (?, ?, ?)");
    for (std::size_t rank = 0; rank < worker_ids.size(); ++rank)
        st.reset().bind(1, grid_code).bind(2, worker_ids[rank]).bind(3, static_cast<std::int64_t>(rank)).run();
}

std::vector<GridWorkerRow> SqliteDatabase::list_grid_workers() {
    auto& st = cached_statement("SELECT grid_code, worker_id, rank FROM grid_workers ORDER BY grid_code, rank");
    std::vector<GridWorkerRow> out;
    while (st.step()) out.push_back({st.text(0), st.int64(1), static_cast<int>(st.int64(2))});
    return out;
}

std::vector<GridWorkerRow> SqliteDatabase::grid_workers_of(const std::string& grid_code) {
    auto& st = cached_statement("SELECT grid_code, worker_id, rank FROM grid_workers WHERE grid_code = ? ORDER BY rank");
    st.bind(1, grid_code);
    std::vector<GridWorkerRow> out;
    while (st.step()) out.push_back({st.text(0), st.int64(1), static_cast<int>(st.int64(2))});
    return out;
}

std::int64_t SqliteDatabase::insert_incident(const IncidentRow& row) {
    auto& st = cached_statement("INSERT INTO incidents (" + std::string(incident_columns.substr(4)) +
                                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    bind_incident(st, row);
    try {
        st.run();
    } catch (const Error&) {
        // The one unique column an insert can collide on is the idempotency key (database.hpp).
        if (row.idempotency_key && sqlite3_extended_errcode(handle()) == SQLITE_CONSTRAINT_UNIQUE)
            throw Error(ErrorKind::conflict, "idempotency_key_taken",
                        "Idempotency-Key '" + *row.idempotency_key + "' is stored already");
        throw;
    }
    return sqlite3_last_insert_rowid(handle());
}

void SqliteDatabase::update_incident(const IncidentRow& row) {
    auto& st = cached_statement(
        "UPDATE incidents SET category = ?1, urgency = ?2, description = ?3, source = ?4, lon = ?5, lat = ?6, "
        "input_crs = ?7, building_id = ?8, street_code = ?9, community_code = ?10, grid_code = ?11, "
        "locate_status = ?12, reporter_name = ?13, reporter_phone = ?14, state = ?15, assignee_worker_id = ?16, "
        "assignee_level = ?17, assignee_code = ?18, reported_at = ?19, due_at = ?20, closed_at = ?21, "
        "extended = ?22, reworks = ?23, rating = ?24, duplicate_of = ?25, idempotency_key = ?26, "
        "request_digest = ?27, address = ?28 WHERE id = ?29");
    bind_incident(st, row);
    st.bind(29, row.id).run();
}

std::optional<IncidentRow> SqliteDatabase::find_incident(std::int64_t id) {
    auto& st = cached_statement("SELECT " + std::string(incident_columns) + " FROM incidents WHERE id = ?");
    st.bind(1, id);
    return one_row(st, read_incident);
}

std::optional<IncidentRow> SqliteDatabase::find_incident_by_key(std::string_view key) {
    auto& st = cached_statement("SELECT " + std::string(incident_columns) + " FROM incidents WHERE idempotency_key = ?");
    st.bind(1, key);
    return one_row(st, read_incident);
}

std::vector<IncidentRow> SqliteDatabase::incidents_near(const std::string& category, const BBox& box) {
    auto& st = cached_statement("SELECT " + std::string(incident_columns) +
                                " FROM incidents WHERE category = ? AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? "
                                "ORDER BY id DESC");
    st.bind(1, category).bind(2, box.min_lat).bind(3, box.max_lat).bind(4, box.min_lon).bind(5, box.max_lon);
    return read_incidents(st);
}

std::vector<IncidentRow> SqliteDatabase::incidents_in(const BBox& box, bool include_closed) {
    auto& st = cached_statement("SELECT " + std::string(incident_columns) +
                                " FROM incidents WHERE lat BETWEEN ?1 AND ?2 AND lon BETWEEN ?3 AND ?4 AND (?5 OR " +
                                std::string(open_state_sql) + ") ORDER BY id");
    st.bind(1, box.min_lat).bind(2, box.max_lat).bind(3, box.min_lon).bind(4, box.max_lon);
    st.bind(5, std::int64_t{include_closed ? 1 : 0});
    return read_incidents(st);
}

std::vector<IncidentRow> SqliteDatabase::list_incidents(const IncidentFilter& f) {
    auto& st = cached_statement("SELECT " + std::string(incident_columns) +
                                " FROM incidents WHERE (?1 IS NULL OR street_code = ?1 OR community_code = ?1 OR "
                                "grid_code = ?1 OR assignee_code = ?1) AND (?2 IS NULL OR state = ?2) AND "
                                "(?3 IS NULL OR assignee_worker_id = ?3) AND (?6 IS NULL OR reported_at >= ?6) AND "
                                "(?7 IS NULL OR reported_at <= ?7) AND (?8 = 0 OR " +
                                std::string(open_state_sql) + ") ORDER BY id DESC LIMIT ?4 OFFSET ?5");
    st.bind(1, f.code).bind(2, f.state).bind(3, f.worker);
    st.bind(4, std::int64_t{f.limit}).bind(5, std::int64_t{f.offset});
    st.bind(6, f.reported_from).bind(7, f.reported_to).bind(8, std::int64_t{f.open_only ? 1 : 0});
    return read_incidents(st);
}

std::int64_t SqliteDatabase::insert_incident_event(const IncidentEventRow& row) {
    auto& st = cached_statement("INSERT INTO incident_events (incident_id, at, actor, action, from_state, to_state, "
                                "note, assignee) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, row.incident_id).bind(2, row.at).bind(3, row.actor).bind(4, row.action).bind(5, row.from_state);
    st.bind(6, row.to_state).bind(7, row.note).bind(8, row.assignee).run();
    return sqlite3_last_insert_rowid(handle());
}

namespace {
constexpr std::string_view event_columns = "id, incident_id, at, actor, action, from_state, to_state, note, assignee";

std::vector<IncidentEventRow> read_events(Statement& st) {
    std::vector<IncidentEventRow> out;
    while (st.step())
        out.push_back({st.int64(0), st.int64(1), st.text(2), st.text(3), st.text(4), st.text(5), st.text(6), st.text(7),
                       st.text(8)});
    return out;
}

std::vector<PhotoRow> read_photos(Statement& st) {
    std::vector<PhotoRow> out;
    while (st.step()) {
        PhotoRow p;
        p.incident_id = st.int64(0);
        if (!st.is_null(1)) p.event_id = st.int64(1);
        p.hash = st.text(2);
        p.media_type = st.text(3);
        p.bytes = st.int64(4);
        out.push_back(std::move(p));
    }
    return out;
}
} // namespace

std::vector<IncidentEventRow> SqliteDatabase::incident_events(std::int64_t incident_id) {
    auto& st = cached_statement("SELECT " + std::string(event_columns) +
                                " FROM incident_events WHERE incident_id = ? ORDER BY id");
    st.bind(1, incident_id);
    return read_events(st);
}

std::vector<IncidentEventRow> SqliteDatabase::incident_events_between(const std::string& from, std::int64_t after_id,
                                                                const std::string& to, int limit) {
    auto& st = cached_statement("SELECT " + std::string(event_columns) +
                                " FROM incident_events WHERE at >= ?1 AND (at > ?1 OR id > ?2) AND at <= ?3 "
                                "ORDER BY at, id LIMIT ?4");
    st.bind(1, from).bind(2, after_id).bind(3, to).bind(4, std::int64_t{limit});
    return read_events(st);
}

bool SqliteDatabase::insert_photo(const PhotoRow& row) {
    auto& st = cached_statement("INSERT OR IGNORE INTO incident_photos (incident_id, event_id, hash, media_type, bytes) "
                                "VALUES (?, ?, ?, ?, ?)");
    st.bind(1, row.incident_id).bind(2, row.event_id).bind(3, row.hash).bind(4, row.media_type).bind(5, row.bytes).run();
    return sqlite3_changes(handle()) > 0;
}

std::vector<PhotoRow> SqliteDatabase::photos_of(std::int64_t incident_id) {
    auto& st = cached_statement("SELECT incident_id, event_id, hash, media_type, bytes FROM incident_photos "
                                "WHERE incident_id = ? ORDER BY rowid");
    st.bind(1, incident_id);
    return read_photos(st);
}

std::optional<PhotoRow> SqliteDatabase::find_photo(std::int64_t incident_id, const std::string& hash) {
    auto& st = cached_statement("SELECT incident_id, event_id, hash, media_type, bytes FROM incident_photos "
                                "WHERE incident_id = ? AND hash = ?");
    st.bind(1, incident_id).bind(2, hash);
    auto all = read_photos(st);
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

} // namespace wangge::store

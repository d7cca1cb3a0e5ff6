// Workers, their grids, incidents, the incident log and photos of the PostgreSQL store
// (docs/INCIDENTS.md), as the SQLite store keeps them (store/incidents.cpp): the same rows, in the
// same order, with the same failures. Times are UTC ISO 8601 text compared byte by byte (COLLATE
// "C", as SQLite's BINARY); flags are 0/1 integers; lon and lat go out in the shortest form that
// reads back to the same double (std::to_chars) and come back in PostgreSQL's, which is the same
// (extra_float_digits = 1, store/pg/connection.cpp).
#include "store/pg/database.hpp"

#include "store/pg/values.hpp"

#include <charconv>
#include <string>

namespace wangge::store {

namespace {

using pg::optional_text;
using pg::text_of;

std::string flag(bool v) { return v ? "1" : "0"; }

// A limit as SQLite takes it: a negative one is none (NULL to PostgreSQL, which refuses it).
std::optional<std::string> limit_of(int limit) {
    return limit < 0 ? std::nullopt : std::optional<std::string>(std::to_string(limit));
}

// An offset as SQLite takes it: a negative one is none.
std::string offset_of(int offset) { return std::to_string(offset < 0 ? 0 : offset); }

double real(const PgResult& r, int row, int col) {
    const std::string_view t = r.text(row, col);
    double v = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size())
        throw Error(ErrorKind::internal, "database", "expected a number from PostgreSQL, got '" + std::string(t) + "'");
    return v;
}

// A write whose row breaks a constraint (a taken phone or idempotency key, a check) fails as it
// does in the SQLite store, Error(io, "database") (store/statement.hpp), rather than with
// PostgreSQL's SQLSTATE of class 23 ("pg_23505" is otherwise a conflict).
PgResult write(PgConnection& conn, const std::string& sql, const PgParams& params) {
    try {
        return conn.exec(sql, params);
    } catch (const Error& e) {
        if (e.code().starts_with(std::string(pg_error_prefix) + "23")) throw Error(ErrorKind::io, "database", e.what());
        throw;
    }
}

constexpr std::string_view worker_columns = "id, name, phone, role, user_name, on_duty, shift";

WorkerRow worker_of(const PgResult& r, int i) {
    WorkerRow w;
    w.id = r.int64(i, 0);
    w.name = r.text(i, 1);
    w.phone = r.text(i, 2);
    w.role = r.text(i, 3);
    w.user_name = optional_text(r, i, 4);
    w.on_duty = r.int64(i, 5) != 0;
    w.shift = r.text(i, 6);
    return w;
}

// The six written columns of a worker, $1..$6, as insert and update write them.
PgParams worker_params(const WorkerRow& w) {
    return {w.name, w.phone, w.role, w.user_name, flag(w.on_duty), w.shift};
}

std::vector<GridWorkerRow> grid_workers_of_result(const PgResult& r) {
    std::vector<GridWorkerRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({std::string(r.text(i, 0)), r.int64(i, 1), static_cast<int>(r.int64(i, 2))});
    return out;
}

constexpr std::string_view incident_columns =
    "id, category, urgency, description, source, lon, lat, input_crs, building_id, street_code, community_code, "
    "grid_code, locate_status, reporter_name, reporter_phone, state, assignee_worker_id, assignee_level, "
    "assignee_code, reported_at, due_at, closed_at, extended, reworks, rating, duplicate_of, idempotency_key, "
    "request_digest, address";

std::string incident_select() { return "SELECT " + std::string(incident_columns) + " FROM incidents "; }

IncidentRow incident_of(const PgResult& r, int i) {
    IncidentRow x;
    x.id = r.int64(i, 0);
    x.category = r.text(i, 1);
    x.urgency = r.text(i, 2);
    x.description = r.text(i, 3);
    x.source = r.text(i, 4);
    x.lon = real(r, i, 5);
    x.lat = real(r, i, 6);
    x.input_crs = r.text(i, 7);
    if (!r.is_null(i, 8)) x.building_id = r.int64(i, 8);
    x.street_code = r.text(i, 9);
    x.community_code = r.text(i, 10);
    x.grid_code = r.text(i, 11);
    x.locate_status = r.text(i, 12);
    x.reporter_name = r.text(i, 13);
    x.reporter_phone = r.text(i, 14);
    x.state = r.text(i, 15);
    if (!r.is_null(i, 16)) x.assignee_worker_id = r.int64(i, 16);
    x.assignee_level = r.text(i, 17);
    x.assignee_code = r.text(i, 18);
    x.reported_at = r.text(i, 19);
    x.due_at = r.text(i, 20);
    x.closed_at = optional_text(r, i, 21);
    x.extended = r.int64(i, 22) != 0;
    x.reworks = static_cast<int>(r.int64(i, 23));
    if (!r.is_null(i, 24)) x.rating = static_cast<int>(r.int64(i, 24));
    if (!r.is_null(i, 25)) x.duplicate_of = r.int64(i, 25);
    x.idempotency_key = optional_text(r, i, 26);
    x.request_digest = r.text(i, 27);
    x.address = r.text(i, 28);
    return x;
}

std::vector<IncidentRow> incidents_of(const PgResult& r) {
    std::vector<IncidentRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(incident_of(r, i));
    return out;
}

// Every column but id, $1..$28, in the order of incident_columns.
PgParams incident_params(const IncidentRow& x) {
    return {x.category,
            x.urgency,
            x.description,
            x.source,
            text_of(x.lon),
            text_of(x.lat),
            x.input_crs,
            text_of(x.building_id),
            x.street_code,
            x.community_code,
            x.grid_code,
            x.locate_status,
            x.reporter_name,
            x.reporter_phone,
            x.state,
            text_of(x.assignee_worker_id),
            x.assignee_level,
            x.assignee_code,
            x.reported_at,
            x.due_at,
            x.closed_at,
            flag(x.extended),
            std::to_string(x.reworks),
            x.rating ? std::optional<std::string>(std::to_string(*x.rating)) : std::nullopt,
            text_of(x.duplicate_of),
            x.idempotency_key,
            x.request_digest,
            x.address};
}

// The states of cases still running against their time limit: incident::is_open in SQL, word for
// word the SQLite store's open_state_sql (store/incidents.cpp).
constexpr std::string_view open_state_sql = "state NOT IN ('closed', 'invalid', 'suspended')";

constexpr std::string_view event_columns = "id, incident_id, at, actor, action, from_state, to_state, note, assignee";

std::vector<IncidentEventRow> events_of(const PgResult& r) {
    std::vector<IncidentEventRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.int64(i, 0), r.int64(i, 1), std::string(r.text(i, 2)), std::string(r.text(i, 3)),
                       std::string(r.text(i, 4)), std::string(r.text(i, 5)), std::string(r.text(i, 6)),
                       std::string(r.text(i, 7)), std::string(r.text(i, 8))});
    return out;
}

// Photos in the order they were stored (seq, where SQLite reads by rowid).
constexpr std::string_view photo_select = "SELECT incident_id, event_id, hash, media_type, bytes FROM incident_photos ";

std::vector<PhotoRow> photos_of_result(const PgResult& r) {
    std::vector<PhotoRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        PhotoRow p;
        p.incident_id = r.int64(i, 0);
        if (!r.is_null(i, 1)) p.event_id = r.int64(i, 1);
        p.hash = r.text(i, 2);
        p.media_type = r.text(i, 3);
        p.bytes = r.int64(i, 4);
        out.push_back(std::move(p));
    }
    return out;
}

} // namespace

// --- workers ---

std::int64_t PgDatabase::insert_worker(const WorkerRow& row) {
    return write(m_conn,
                 "INSERT INTO workers (name, phone, role, user_name, on_duty, shift) VALUES ($1, $2, $3, $4, $5, $6) "
                 "RETURNING id",
                 worker_params(row))
        .int64(0, 0);
}

void PgDatabase::update_worker(const WorkerRow& row) {
    PgParams params = worker_params(row);
    params.emplace_back(text_of(row.id));
    write(m_conn,
          "UPDATE workers SET name = $1, phone = $2, role = $3, user_name = $4, on_duty = $5, shift = $6 WHERE id = $7",
          params);
}

std::optional<WorkerRow> PgDatabase::find_worker(std::int64_t id) {
    const PgResult r = m_conn.exec("SELECT " + std::string(worker_columns) + " FROM workers WHERE id = $1", {text_of(id)});
    if (r.rows() == 0) return std::nullopt;
    return worker_of(r, 0);
}

std::optional<WorkerRow> PgDatabase::find_worker_by_phone(std::string_view phone) {
    const PgResult r = m_conn.exec(
        "SELECT " + std::string(worker_columns) + " FROM workers WHERE phone = $1 AND phone <> ''", {std::string(phone)});
    if (r.rows() == 0) return std::nullopt;
    return worker_of(r, 0);
}

std::vector<WorkerRow> PgDatabase::list_workers() {
    const PgResult r = m_conn.exec("SELECT " + std::string(worker_columns) + " FROM workers ORDER BY id");
    std::vector<WorkerRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(worker_of(r, i));
    return out;
}

void PgDatabase::set_grid_workers(const std::string& grid_code, const std::vector<std::int64_t>& worker_ids) {
    m_conn.exec("DELETE FROM grid_workers WHERE grid_code = $1", {grid_code});
    // One statement for the list: rank 0 first, as the ids come.
    std::string ids = "{";
    for (std::size_t i = 0; i < worker_ids.size(); ++i) ids += (i ? "," : "") + std::to_string(worker_ids[i]);
    ids += "}";
    write(m_conn,
          "INSERT INTO grid_workers (grid_code, worker_id, rank) SELECT $1::text, w.id, w.n - 1 "
          "FROM unnest($2::bigint[]) WITH ORDINALITY AS w (id, n) ORDER BY w.n",
          {grid_code, ids});
}

std::vector<GridWorkerRow> PgDatabase::list_grid_workers() {
    return grid_workers_of_result(
        m_conn.exec("SELECT grid_code, worker_id, rank FROM grid_workers ORDER BY grid_code COLLATE \"C\", rank"));
}

std::vector<GridWorkerRow> PgDatabase::grid_workers_of(const std::string& grid_code) {
    return grid_workers_of_result(m_conn.exec(
        "SELECT grid_code, worker_id, rank FROM grid_workers WHERE grid_code = $1 ORDER BY rank", {grid_code}));
}

// --- incidents ---

std::int64_t PgDatabase::insert_incident(const IncidentRow& row) {
    try {
        return m_conn
            .exec("INSERT INTO incidents (" + std::string(incident_columns.substr(4)) +
                      ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, "
                      "$20, $21, $22, $23, $24, $25, $26, $27, $28) RETURNING id",
                  incident_params(row))
            .int64(0, 0);
    } catch (const Error& e) {
        // The one unique column an insert can collide on is the idempotency key (database.hpp).
        if (e.code() == std::string(pg_error_prefix) + "23505" && row.idempotency_key)
            throw Error(ErrorKind::conflict, "idempotency_key_taken",
                        "Idempotency-Key '" + *row.idempotency_key + "' is stored already");
        if (e.code().starts_with(std::string(pg_error_prefix) + "23")) throw Error(ErrorKind::io, "database", e.what());
        throw;
    }
}

void PgDatabase::update_incident(const IncidentRow& row) {
    PgParams params = incident_params(row);
    params.emplace_back(text_of(row.id));
    write(m_conn,
          "UPDATE incidents SET category = $1, urgency = $2, description = $3, source = $4, lon = $5, lat = $6, "
          "input_crs = $7, building_id = $8, street_code = $9, community_code = $10, grid_code = $11, "
          "locate_status = $12, reporter_name = $13, reporter_phone = $14, state = $15, assignee_worker_id = $16, "
          "assignee_level = $17, assignee_code = $18, reported_at = $19, due_at = $20, closed_at = $21, "
          "extended = $22, reworks = $23, rating = $24, duplicate_of = $25, idempotency_key = $26, "
          "request_digest = $27, address = $28 WHERE id = $29",
          params);
}

std::optional<IncidentRow> PgDatabase::find_incident(std::int64_t id) {
    const PgResult r = m_conn.exec(incident_select() + "WHERE id = $1", {text_of(id)});
    if (r.rows() == 0) return std::nullopt;
    return incident_of(r, 0);
}

std::optional<IncidentRow> PgDatabase::find_incident_by_key(std::string_view idempotency_key) {
    const PgResult r = m_conn.exec(incident_select() + "WHERE idempotency_key = $1", {std::string(idempotency_key)});
    if (r.rows() == 0) return std::nullopt;
    return incident_of(r, 0);
}

std::vector<IncidentRow> PgDatabase::incidents_near(const std::string& category, const BBox& box) {
    return incidents_of(m_conn.exec(
        incident_select() + "WHERE category = $1 AND lat BETWEEN $2 AND $3 AND lon BETWEEN $4 AND $5 ORDER BY id DESC",
        {category, text_of(box.min_lat), text_of(box.max_lat), text_of(box.min_lon), text_of(box.max_lon)}));
}

std::vector<IncidentRow> PgDatabase::incidents_in(const BBox& box, bool include_closed) {
    return incidents_of(m_conn.exec(incident_select() +
                                        "WHERE lat BETWEEN $1 AND $2 AND lon BETWEEN $3 AND $4 AND ($5::integer <> 0 OR " +
                                        std::string(open_state_sql) + ") ORDER BY id",
                                    {text_of(box.min_lat), text_of(box.max_lat), text_of(box.min_lon),
                                     text_of(box.max_lon), flag(include_closed)}));
}

std::vector<IncidentRow> PgDatabase::list_incidents(const IncidentFilter& f) {
    // As the SQLite store: the code is one of the case's street, community, grid or the code
    // answering for it (whole codes, no prefixes); times compared as bytes, both ends included.
    return incidents_of(m_conn.exec(
        incident_select() +
            "WHERE ($1::text IS NULL OR street_code = $1 OR community_code = $1 OR grid_code = $1 OR "
            "assignee_code = $1) AND ($2::text IS NULL OR state = $2) AND "
            "($3::bigint IS NULL OR assignee_worker_id = $3) AND "
            "($6::text IS NULL OR reported_at COLLATE \"C\" >= $6) AND "
            "($7::text IS NULL OR reported_at COLLATE \"C\" <= $7) AND ($8::integer = 0 OR " +
            std::string(open_state_sql) + ") ORDER BY id DESC LIMIT $4::bigint OFFSET $5::bigint",
        {f.code, f.state, text_of(f.worker), limit_of(f.limit), offset_of(f.offset), f.reported_from, f.reported_to,
         flag(f.open_only)}));
}

// --- the incident log ---

std::int64_t PgDatabase::insert_incident_event(const IncidentEventRow& row) {
    return write(m_conn,
                 "INSERT INTO incident_events (incident_id, at, actor, action, from_state, to_state, note, assignee) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                 {text_of(row.incident_id), row.at, row.actor, row.action, row.from_state, row.to_state, row.note,
                  row.assignee})
        .int64(0, 0);
}

std::vector<IncidentEventRow> PgDatabase::incident_events(std::int64_t incident_id) {
    return events_of(m_conn.exec("SELECT " + std::string(event_columns) +
                                     " FROM incident_events WHERE incident_id = $1 ORDER BY id",
                                 {text_of(incident_id)}));
}

std::vector<IncidentEventRow> PgDatabase::incident_events_between(const std::string& from, std::int64_t after_id,
                                                                  const std::string& to, int limit) {
    // Keyset paging on (at, id), times compared as bytes as SQLite compares them.
    return events_of(m_conn.exec(
        "SELECT " + std::string(event_columns) +
            " FROM incident_events WHERE at COLLATE \"C\" >= $1::text AND (at COLLATE \"C\" > $1::text OR "
            "id > $2::bigint) AND at COLLATE \"C\" <= $3::text ORDER BY at COLLATE \"C\", id LIMIT $4::bigint",
        {from, text_of(after_id), to, limit_of(limit)}));
}

// --- photos ---

bool PgDatabase::insert_photo(const PhotoRow& row) {
    // SQLite's INSERT OR IGNORE: a photo the case has already, and a row its checks refuse (the
    // schema's, repeated here), are skipped, and the answer is false.
    return write(m_conn,
                 "INSERT INTO incident_photos (incident_id, event_id, hash, media_type, bytes) "
                 "SELECT $1::bigint, $2::bigint, $3::text, $4::text, $5::bigint WHERE length($3::text) = 64 AND "
                 "$4::text IN ('image/jpeg', 'image/png', 'image/webp') AND $5::bigint > 0 "
                 "ON CONFLICT DO NOTHING RETURNING seq",
                 {text_of(row.incident_id), text_of(row.event_id), row.hash, row.media_type, text_of(row.bytes)})
               .rows() > 0;
}

std::vector<PhotoRow> PgDatabase::photos_of(std::int64_t incident_id) {
    return photos_of_result(
        m_conn.exec(std::string(photo_select) + "WHERE incident_id = $1 ORDER BY seq", {text_of(incident_id)}));
}

std::optional<PhotoRow> PgDatabase::find_photo(std::int64_t incident_id, const std::string& hash) {
    auto all = photos_of_result(
        m_conn.exec(std::string(photo_select) + "WHERE incident_id = $1 AND hash = $2", {text_of(incident_id), hash}));
    if (all.empty()) return std::nullopt;
    return std::move(all.front());
}

} // namespace wangge::store

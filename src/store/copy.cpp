#include "store/copy.hpp"

#include "core/error.hpp"
#include "geo/geometry.hpp"
#include "store/sqlite_database.hpp"
#include "store/pg/database.hpp"
#include "store/statement.hpp"

#include <sqlite3.h>

#include <charconv>
#include <filesystem>
#include <memory>
#include <optional>

namespace wangge::store {

namespace {

// --- what is copied ---

enum class Kind { integer, real, text, blob, geometry };

struct Column {
    std::string_view name; // "seq" is SQLite's rowid (tables read in insertion order)
    Kind kind;
};

struct Table {
    std::string_view name;
    std::vector<Column> columns;
    std::vector<std::string_view> key; // the order rows are read and compared in
    std::string_view identity;         // PostgreSQL identity column, or empty
};

constexpr Kind I = Kind::integer, R = Kind::real, T = Kind::text, B = Kind::blob, G = Kind::geometry;

// Every table of schema version 7 (SQLite) / 1 (PostgreSQL), parents before children.
const std::vector<Table>& tables() {
    static const std::vector<Table> all = {
        {"meta", {{"key", T}, {"value", T}}, {"key"}, ""},
        {"streets", {{"code", T}, {"name", T}, {"geom", G}}, {"code"}, ""},
        {"communities", {{"code", T}, {"street_code", T}, {"name", T}, {"geom", G}}, {"code"}, ""},
        {"grids", {{"code", T}, {"community_code", T}, {"name", T}, {"kind", T}, {"version", I}, {"geom", G}}, {"code"}, ""},
        {"buildings",
         {{"id", I}, {"source_id", T}, {"name", T}, {"use", T}, {"address", T}, {"floors", I}, {"height_m", R},
          {"households", I}, {"households_estimated", I}, {"grid_code", T}, {"geom", G}},
         {"id"}, "id"},
        {"roads", {{"id", I}, {"source_id", T}, {"name", T}, {"kind", T}, {"geom", G}}, {"id"}, "id"},
        {"units", {{"id", I}, {"source_id", T}, {"name", T}, {"kind", T}, {"geom", G}}, {"id"}, "id"},
        {"grid_changes",
         {{"id", I}, {"community_code", T}, {"action", T}, {"base_version", I}, {"applied_version", I},
          {"created_at", T}, {"undoes", I}, {"undone_by", I}, {"summary", T}},
         {"id"}, "id"},
        {"grid_history",
         {{"seq", I}, {"change_id", I}, {"side", T}, {"code", T}, {"community_code", T}, {"name", T}, {"kind", T},
          {"version", I}, {"geom", B}},
         {"seq"}, "seq"},
        {"grid_change_buildings",
         {{"seq", I}, {"change_id", I}, {"building_id", I}, {"before_code", T}, {"after_code", T}}, {"seq"}, "seq"},
        {"users",
         {{"id", I}, {"name", T}, {"display_name", T}, {"role", T}, {"password_hash", T}, {"disabled", I},
          {"created_at", T}},
         {"id"}, "id"},
        {"user_scopes", {{"user_id", I}, {"code", T}}, {"user_id", "code"}, ""},
        {"api_tokens",
         {{"id", I}, {"user_id", I}, {"label", T}, {"hash", T}, {"created_at", T}, {"expires_at", T},
          {"last_used_at", T}, {"revoked_at", T}},
         {"id"}, "id"},
        {"sessions", {{"hash", T}, {"user_id", I}, {"created_at", T}, {"expires_at", T}, {"address", T}}, {"hash"}, ""},
        {"audit",
         {{"id", I}, {"at", T}, {"user_name", T}, {"action", T}, {"outcome", T}, {"status", I}, {"method", T},
          {"target", T}, {"codes", T}, {"base_version", I}, {"data_version", I}, {"address", T}, {"detail", T}},
         {"id"}, "id"},
        {"workers",
         {{"id", I}, {"name", T}, {"phone", T}, {"role", T}, {"user_name", T}, {"on_duty", I}, {"shift", T}},
         {"id"}, "id"},
        {"grid_workers", {{"grid_code", T}, {"worker_id", I}, {"rank", I}}, {"grid_code", "worker_id"}, ""},
        {"incidents",
         {{"id", I},           {"category", T},       {"urgency", T},        {"description", T},
          {"source", T},       {"lon", R},            {"lat", R},            {"input_crs", T},
          {"building_id", I},  {"street_code", T},    {"community_code", T}, {"grid_code", T},
          {"locate_status", T}, {"reporter_name", T}, {"reporter_phone", T}, {"state", T},
          {"assignee_worker_id", I}, {"assignee_level", T}, {"assignee_code", T}, {"reported_at", T},
          {"due_at", T},       {"closed_at", T},      {"extended", I},       {"reworks", I},
          {"rating", I},       {"duplicate_of", I},   {"idempotency_key", T}, {"request_digest", T},
          {"address", T}},
         {"id"}, "id"},
        {"incident_events",
         {{"id", I}, {"incident_id", I}, {"at", T}, {"actor", T}, {"action", T}, {"from_state", T}, {"to_state", T},
          {"note", T}, {"assignee", T}},
         {"id"}, "id"},
        {"incident_photos",
         {{"seq", I}, {"incident_id", I}, {"event_id", I}, {"hash", T}, {"media_type", T}, {"bytes", I}},
         {"seq"}, "seq"},
    };
    return all;
}

// A row's values in one form for both backends: integers in decimal, reals in the shortest form
// that reads back exactly, text as is, blobs and geometries (WKB) as bytes; nullopt is NULL.
using Row = std::vector<std::optional<std::string>>;

std::string real_text(double v) {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, ec == std::errc() ? end : buf);
}

template <typename T>
T parse_number(std::string_view text) {
    T v{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size())
        throw Error(ErrorKind::internal, "copy", "expected a number, got '" + std::string(text) + "'");
    return v;
}

std::span<const unsigned char> bytes_of(const std::string& s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

class Cursor {
public:
    virtual ~Cursor() = default;
    virtual bool next(Row& row) = 0;
};

// One side of a copy. Reading happens in one consistent snapshot; writing in one transaction.
class Backend {
public:
    virtual ~Backend() = default;
    virtual void begin_read() = 0;
    virtual std::unique_ptr<Cursor> read(const Table& table) = 0;
    // Starts the write transaction; refuses a destination with data unless `replace`, which
    // empties it. The meta table is always replaced by the source's.
    virtual void begin_write(bool replace) = 0;
    virtual std::size_t write(const Table& table, Cursor& rows) = 0;
    // After every table: what the backend needs (identity sequences), then commit.
    virtual void commit() = 0;
    virtual std::string where() const = 0;
};

// The tables other than meta that hold rows.
std::vector<std::string> tables_with_rows(const std::function<std::size_t(std::string_view)>& count) {
    std::vector<std::string> out;
    for (const Table& t : tables())
        if (t.name != "meta" && count(t.name) > 0) out.emplace_back(t.name);
    return out;
}

[[noreturn]] void not_empty(const std::string& where, const std::vector<std::string>& with_rows) {
    std::string names;
    for (const auto& n : with_rows) names += (names.empty() ? "" : ", ") + n;
    throw Error(ErrorKind::conflict, "destination_not_empty",
                where + " holds data (" + names + "): copy into an empty database, or give --replace to empty it");
}

// --- SpatiaLite ---

std::string sqlite_column(const Column& c) {
    if (c.name == "seq") return "rowid";
    if (c.kind == Kind::geometry) return "AsBinary(" + std::string(c.name) + ")";
    return std::string(c.name);
}

class SqliteCursor : public Cursor {
public:
    SqliteCursor(SqliteDatabase& db, const Table& table) : m_table(&table), m_st(db.handle(), select_sql(table)) {}
    bool next(Row& row) override {
        if (!m_st.step()) return false;
        row.assign(m_table->columns.size(), std::nullopt);
        for (std::size_t i = 0; i < row.size(); ++i) {
            const int col = static_cast<int>(i);
            if (m_st.is_null(col)) continue;
            switch (m_table->columns[i].kind) {
            case Kind::integer: row[i] = std::to_string(m_st.int64(col)); break;
            case Kind::real: row[i] = real_text(m_st.real(col)); break;
            case Kind::text: row[i] = m_st.text(col); break;
            case Kind::blob:
            case Kind::geometry: {
                const auto blob = m_st.blob(col);
                row[i] = std::string(reinterpret_cast<const char*>(blob.data()), blob.size());
                break;
            }
            }
        }
        return true;
    }

private:
    static std::string select_sql(const Table& t) {
        std::string sql = "SELECT ";
        for (std::size_t i = 0; i < t.columns.size(); ++i) sql += (i ? ", " : "") + sqlite_column(t.columns[i]);
        sql += " FROM " + std::string(t.name) + " ORDER BY ";
        for (std::size_t i = 0; i < t.key.size(); ++i) sql += (i ? ", " : "") + std::string(t.key[i] == "seq" ? "rowid" : t.key[i]);
        return sql;
    }
    const Table* m_table;
    detail::Statement m_st;
};

class SqliteBackend : public Backend {
public:
    SqliteBackend(std::filesystem::path path, bool create) : m_path(std::move(path)) {
        m_db = SqliteDatabase::open(m_path, create ? OpenMode::create : OpenMode::read_only);
    }
    void begin_read() override { m_read.emplace(*m_db); }
    std::unique_ptr<Cursor> read(const Table& table) override { return std::make_unique<SqliteCursor>(*m_db, table); }

    void begin_write(bool replace) override {
        m_write.emplace(*m_db, Bump::none);
        const auto with_rows = tables_with_rows([&](std::string_view t) { return count(t); });
        if (!with_rows.empty() && !replace) not_empty(where(), with_rows);
        for (auto it = tables().rbegin(); it != tables().rend(); ++it) empty(it->name);
    }

    std::size_t write(const Table& table, Cursor& rows) override {
        std::string names, values;
        for (const Column& c : table.columns) {
            names += (names.empty() ? "" : ", ") + std::string(c.name == "seq" ? "rowid" : c.name);
            values += values.empty() ? "" : ", ";
            values += c.kind == Kind::geometry ? "GeomFromWKB(?, 4326)" : "?";
        }
        detail::Statement st(m_db->handle(), "INSERT INTO " + std::string(table.name) + " (" + names + ") VALUES (" +
                                                 values + ")");
        Row row;
        std::size_t n = 0;
        while (rows.next(row)) {
            st.reset();
            for (std::size_t i = 0; i < row.size(); ++i) {
                const int p = static_cast<int>(i) + 1;
                if (!row[i]) {
                    st.bind_null(p);
                    continue;
                }
                switch (table.columns[i].kind) {
                case Kind::integer: st.bind(p, parse_number<std::int64_t>(*row[i])); break;
                case Kind::real: st.bind(p, parse_number<double>(*row[i])); break;
                case Kind::text: st.bind(p, std::string_view(*row[i])); break;
                case Kind::blob:
                case Kind::geometry: st.bind(p, bytes_of(*row[i])); break;
                }
            }
            st.run();
            ++n;
        }
        return n;
    }

    void commit() override { m_write->commit(); }
    std::string where() const override { return m_path.string(); }

private:
    std::size_t count(std::string_view table) {
        detail::Statement st(m_db->handle(), "SELECT count(*) FROM " + std::string(table));
        st.step();
        return static_cast<std::size_t>(st.int64(0));
    }

    // DELETE, with the append-only triggers of the table set aside inside the transaction (and
    // restored from their own SQL before it commits).
    void empty(std::string_view table) {
        std::vector<std::pair<std::string, std::string>> triggers;
        {
            detail::Statement st(m_db->handle(), "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                                 "tbl_name = ? AND name LIKE '%append_only%'");
            st.bind(1, table);
            while (st.step()) triggers.emplace_back(st.text(0), st.text(1));
        }
        for (const auto& t : triggers) m_db->exec("DROP TRIGGER " + t.first);
        m_db->exec("DELETE FROM " + std::string(table));
        for (const auto& t : triggers) m_db->exec(t.second);
    }

    std::filesystem::path m_path;
    std::unique_ptr<SqliteDatabase> m_db;
    std::optional<ReadTransaction> m_read;
    std::optional<Transaction> m_write;
};

// --- PostgreSQL ---

std::string pg_select_sql(const Table& t) {
    std::string sql = "SELECT ";
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
        const Column& c = t.columns[i];
        sql += i ? ", " : "";
        sql += c.kind == Kind::geometry ? "ST_AsBinary(" + std::string(c.name) + ", 'NDR')" : std::string(c.name);
    }
    sql += " FROM " + std::string(t.name) + " ORDER BY ";
    // Byte order for text keys, as SQLite compares them, whatever the database's collation.
    for (std::size_t i = 0; i < t.key.size(); ++i) {
        sql += (i ? ", " : "") + std::string(t.key[i]);
        for (const Column& c : t.columns)
            if (c.name == t.key[i] && c.kind == Kind::text) sql += " COLLATE \"C\"";
    }
    return sql;
}

class PgCursor : public Cursor {
public:
    PgCursor(PgConnection& conn, const Table& table) : m_table(&table), m_stream(conn, pg_select_sql(table), {}) {}
    bool next(Row& row) override {
        if (!m_stream.next()) return false;
        const PgResult& r = m_stream.row();
        row.assign(m_table->columns.size(), std::nullopt);
        for (std::size_t i = 0; i < row.size(); ++i) {
            const int col = static_cast<int>(i);
            if (r.is_null(0, col)) continue;
            switch (m_table->columns[i].kind) {
            case Kind::integer:
            case Kind::text: row[i] = std::string(r.text(0, col)); break;
            case Kind::real: row[i] = real_text(parse_number<double>(r.text(0, col))); break;
            case Kind::blob:
            case Kind::geometry: {
                const auto bytes = r.bytes(0, col);
                row[i] = std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
                break;
            }
            }
        }
        return true;
    }

private:
    const Table* m_table;
    PgRowStream m_stream;
};

// A value in COPY's text format.
void append_copy_text(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: out += c;
        }
    }
}

class PgBackend : public Backend {
public:
    PgBackend(const std::string& url, bool write)
        : m_db(PgDatabase::open(url, write ? PgOpenMode::read_write : PgOpenMode::read_only)) {}
    void begin_read() override {
        m_tx.emplace(m_db->connection(), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    }
    std::unique_ptr<Cursor> read(const Table& table) override {
        return std::make_unique<PgCursor>(m_db->connection(), table);
    }

    void begin_write(bool replace) override {
        PgConnection& conn = m_db->connection();
        m_tx.emplace(conn);
        // Rows may name rows written later (grid_changes.undone_by): checked at commit.
        conn.exec("SET CONSTRAINTS ALL DEFERRED");
        const auto with_rows = tables_with_rows([&](std::string_view t) {
            return static_cast<std::size_t>(conn.exec("SELECT count(*) FROM " + std::string(t)).int64(0, 0));
        });
        if (!with_rows.empty() && !replace) not_empty(where(), with_rows);
        std::string names;
        for (const Table& t : tables()) names += (names.empty() ? "" : ", ") + std::string(t.name);
        // TRUNCATE, not DELETE: the append-only triggers refuse row deletes (docs/POSTGRESQL.md).
        conn.exec("TRUNCATE " + names + " RESTART IDENTITY");
    }

    std::size_t write(const Table& table, Cursor& rows) override {
        PgConnection& conn = m_db->connection();
        std::string names;
        for (const Column& c : table.columns) names += (names.empty() ? "" : ", ") + std::string(c.name);
        conn.copy_begin("COPY " + std::string(table.name) + " (" + names + ") FROM STDIN");
        std::string buffer;
        Row row;
        std::size_t n = 0;
        while (rows.next(row)) {
            for (std::size_t i = 0; i < row.size(); ++i) {
                if (i) buffer += '\t';
                if (!row[i]) {
                    buffer += "\\N";
                    continue;
                }
                switch (table.columns[i].kind) {
                case Kind::integer:
                case Kind::real: buffer += *row[i]; break;
                case Kind::text: append_copy_text(buffer, *row[i]); break;
                case Kind::blob: buffer += "\\\\x" + hex(*row[i]); break;
                case Kind::geometry: buffer += "SRID=4326;" + hex(*row[i]); break;
                }
            }
            buffer += '\n';
            ++n;
            if (buffer.size() > (1u << 20)) {
                conn.copy_put(buffer);
                buffer.clear();
            }
        }
        if (!buffer.empty()) conn.copy_put(buffer);
        conn.copy_end();
        return n;
    }

    void commit() override {
        PgConnection& conn = m_db->connection();
        for (const Table& t : tables()) {
            if (t.identity.empty()) continue;
            const std::string table(t.name), column(t.identity);
            conn.exec("SELECT setval(pg_get_serial_sequence('" + table + "', '" + column + "'), coalesce(max(" +
                      column + "), 0) + 1, false) FROM " + table);
        }
        m_tx->commit();
    }
    std::string where() const override { return m_db->connection().url(); }

private:
    std::unique_ptr<PgDatabase> m_db;
    std::optional<PgTransaction> m_tx;
};

// --- opening, checking ---

// A source is opened read-only (nothing created, no migration); a destination read-write.
std::unique_ptr<Backend> open_backend(const std::string& where, bool write) {
    if (is_postgresql_url(where)) return std::make_unique<PgBackend>(where, write);
    return std::make_unique<SqliteBackend>(where, write);
}

std::string key_of(const Table& t, const Row& row) {
    std::string out;
    for (std::size_t i = 0; i < t.columns.size(); ++i)
        for (std::string_view k : t.key)
            if (t.columns[i].name == k)
                out += (out.empty() ? "" : ", ") + std::string(k) + " " + row[i].value_or("NULL");
    return out;
}

// Equal geometries: the same WKB, or the same after both are read and written again by GEOS
// (a different byte order, or a writer that spells the same geometry differently).
bool same_geometry(const std::string& a, const std::string& b) {
    if (a == b) return true;
    try {
        return geo::to_wkb(geo::from_wkb(bytes_of(a))) == geo::to_wkb(geo::from_wkb(bytes_of(b)));
    } catch (const Error&) {
        return false;
    }
}

// Compares one table row by row in key order; returns the first difference, or nothing.
std::optional<std::string> compare_table(const Table& t, Cursor& a, Cursor& b, std::size_t& rows_a,
                                         std::size_t& geometries) {
    Row ra, rb;
    std::optional<std::string> first;
    std::size_t rows_b = 0;
    bool more_a = a.next(ra), more_b = b.next(rb);
    while (more_a || more_b) {
        if (more_a && more_b && !first) {
            for (std::size_t i = 0; i < t.columns.size() && !first; ++i) {
                const Kind kind = t.columns[i].kind;
                const bool spatial = kind == Kind::geometry || (kind == Kind::blob && t.name == "grid_history");
                if (spatial && ra[i] && rb[i]) {
                    ++geometries;
                    if (same_geometry(*ra[i], *rb[i])) continue;
                } else if (ra[i] == rb[i]) {
                    continue;
                }
                first = std::string(t.name) + ": row " + key_of(t, ra) + ": " + std::string(t.columns[i].name) +
                        " differs" + (key_of(t, ra) != key_of(t, rb) ? " (the other has row " + key_of(t, rb) + ")" : "");
            }
        }
        if (more_a) {
            ++rows_a;
            more_a = a.next(ra);
        }
        if (more_b) {
            ++rows_b;
            more_b = b.next(rb);
        }
    }
    if (rows_a != rows_b)
        return std::string(t.name) + ": " + std::to_string(rows_a) + " rows against " + std::to_string(rows_b) +
               (first ? "; first difference at " + *first : "");
    return first;
}

CheckReport check(Backend& a, Backend& b, const CopyOptions& options) {
    CheckReport report;
    for (const Table& t : tables()) {
        auto ca = a.read(t);
        auto cb = b.read(t);
        std::size_t rows = 0;
        if (auto diff = compare_table(t, *ca, *cb, rows, report.geometries)) report.mismatches.push_back(*diff);
        report.tables.push_back({std::string(t.name), rows});
        report.rows += rows;
        if (options.progress) options.progress("checked", t.name, rows);
    }
    return report;
}

bool same_place(const std::string& a, const std::string& b) {
    if (a == b) return true;
    if (is_postgresql_url(a) || is_postgresql_url(b)) return false;
    std::error_code ec;
    return std::filesystem::equivalent(a, b, ec);
}

} // namespace

CopyReport copy_database(const std::string& from, const std::string& to, const CopyOptions& options) {
    if (same_place(from, to))
        throw Error(ErrorKind::bad_request, "same_database", "the source and the destination are the same database");
    if (!is_postgresql_url(from) && !std::filesystem::exists(from))
        throw Error(ErrorKind::io, "no_database", "database " + from + " does not exist");
    CopyReport report;
    std::error_code ec;
    report.created = !is_postgresql_url(to) && !std::filesystem::exists(to, ec);
    try {
        auto source = open_backend(from, false);
        auto destination = open_backend(to, true);
        source->begin_read();
        destination->begin_write(options.replace);
        for (const Table& t : tables()) {
            auto rows = source->read(t);
            const std::size_t n = destination->write(t, *rows);
            report.tables.push_back({std::string(t.name), n});
            report.rows += n;
            if (options.progress) options.progress("copied", t.name, n);
        }
        const CheckReport checked = check(*source, *destination, options);
        report.geometries = checked.geometries;
        if (!checked.ok()) {
            std::string lines;
            for (const auto& m : checked.mismatches) lines += "\n  " + m;
            throw Error(ErrorKind::unprocessable, "copy_mismatch",
                        "the copy in " + destination->where() + " differs from " + source->where() +
                            ", so nothing was committed:" + lines);
        }
        destination->commit();
    } catch (...) {
        if (report.created) {
            for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(to + suffix, ec);
        }
        throw;
    }
    return report;
}

CheckReport check_databases(const std::string& a, const std::string& b) {
    for (const auto& where : {a, b})
        if (!is_postgresql_url(where) && !std::filesystem::exists(where))
            throw Error(ErrorKind::io, "no_database", "database " + where + " does not exist");
    auto first = open_backend(a, false);
    auto second = open_backend(b, false);
    first->begin_read();
    second->begin_read();
    return check(*first, *second, {});
}

std::vector<CopiedTable> copied_tables() {
    std::vector<CopiedTable> out;
    for (const Table& t : tables()) {
        CopiedTable c{std::string(t.name), {}};
        for (const Column& col : t.columns) c.columns.emplace_back(col.name);
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace wangge::store

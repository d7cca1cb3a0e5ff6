#pragma once
// The PostgreSQL + PostGIS store (docs/POSTGRESQL.md): a connection whose database has PostGIS
// and Wangge's schema at this binary's version. Opening creates the extension when it is
// missing and the role may create it, and applies pending migrations in one transaction, under
// an advisory lock so that several servers starting at once migrate it once.
#include "store/pg/connection.hpp"

#include <memory>
#include <string>

namespace wangge::store {

// `read_write` creates PostGIS and migrates; `read_only` changes nothing and refuses a database
// whose schema is not this binary's (as OpenMode::read_only of the SQLite store).
enum class PgOpenMode { read_write, read_only };

class PgDatabase {
public:
    // Throws as PgConnection::connect, and Error(unprocessable, "no_postgis") when the database
    // has no PostGIS and the role may not create it, Error(io, "newer_schema") when the database's
    // schema is newer than this binary's (it is then left alone), and in read_only mode
    // Error(io, "old_schema") when it is older.
    static std::unique_ptr<PgDatabase> open(const std::string& url, PgOpenMode mode = PgOpenMode::read_write);

    static int latest_schema_version() noexcept;
    int schema_version();
    PgConnection& connection() noexcept { return m_conn; }

private:
    explicit PgDatabase(PgConnection conn) : m_conn(std::move(conn)) {}
    void ensure_postgis();
    void migrate();
    Error newer_schema(int version) const;

    PgConnection m_conn;
};

} // namespace wangge::store

#pragma once
// RAII wrapper of a prepared SQLite statement (internal to the store module).
#include "core/error.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::store::detail {

// A full disk is no bug and passes once space is freed: it is unavailable ("disk_full", a 503
// that names no internals), and the CLI says it in words.
// So is a file made read-only under the server ("database_read_only"): writes pass again once
// it is writable. Every other failure is an io error (a 500 whose detail stays in the log).
inline bool disk_full(int rc) noexcept { return (rc & 0xff) == SQLITE_FULL; }

[[noreturn]] inline void sqlite_fail_with(int rc, const std::string& what, const std::string& message) {
    if (disk_full(rc)) throw Error(ErrorKind::unavailable, "disk_full", what + ": " + message).with_retry_after(30);
    if ((rc & 0xff) == SQLITE_READONLY)
        throw Error(ErrorKind::unavailable, "database_read_only", what + ": " + message).with_retry_after(30);
    throw Error(ErrorKind::io, "database", what + ": " + message);
}

[[noreturn]] inline void sqlite_fail(sqlite3* db, const std::string& what) {
    sqlite_fail_with(sqlite3_extended_errcode(db), what, sqlite3_errmsg(db));
}

class Statement {
public:
    Statement(sqlite3* db, std::string_view sql) : m_db(db) {
        if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &m_stmt, nullptr) != SQLITE_OK)
            sqlite_fail(db, "preparing '" + std::string(sql.substr(0, 60)) + "'");
    }
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& reset() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
        return *this;
    }
    Statement& bind(int i, std::string_view s) {
        check(sqlite3_bind_text(m_stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT));
        return *this;
    }
    Statement& bind(int i, std::int64_t v) {
        check(sqlite3_bind_int64(m_stmt, i, v));
        return *this;
    }
    Statement& bind(int i, double v) {
        check(sqlite3_bind_double(m_stmt, i, v));
        return *this;
    }
    Statement& bind_null(int i) {
        check(sqlite3_bind_null(m_stmt, i));
        return *this;
    }
    Statement& bind(int i, std::span<const unsigned char> blob) {
        check(sqlite3_bind_blob(m_stmt, i, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT));
        return *this;
    }
    template <typename T>
    Statement& bind(int i, const std::optional<T>& v) {
        if (v) return bind(i, *v);
        return bind_null(i);
    }

    // Steps once; true when a row is available.
    bool step() {
        int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        sqlite_fail(m_db, "executing '" + std::string(sqlite3_sql(m_stmt)).substr(0, 60) + "'");
    }
    void run() {
        while (step()) {}
    }

    bool is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
    std::string text(int col) const {
        const auto* p = sqlite3_column_text(m_stmt, col);
        return p ? std::string(reinterpret_cast<const char*>(p),
                               static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col)))
                 : std::string();
    }
    std::int64_t int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
    double real(int col) const { return sqlite3_column_double(m_stmt, col); }
    std::span<const unsigned char> blob(int col) const {
        const void* p = sqlite3_column_blob(m_stmt, col);
        return {static_cast<const unsigned char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col))};
    }

private:
    void check(int rc) {
        if (rc != SQLITE_OK) sqlite_fail(m_db, "binding a parameter");
    }
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

} // namespace wangge::store::detail

#include "store/mbtiles.hpp"

#include "core/error.hpp"
#include "store/statement.hpp"

#include <sqlite3.h>

#include <span>

namespace wangge::store {

namespace fs = std::filesystem;

MbtilesWriter::MbtilesWriter(const fs::path& path, bool overwrite) : m_path(path) {
    std::error_code ec;
    if (fs::exists(path, ec)) {
        if (!overwrite)
            throw Error(ErrorKind::conflict, "exists", path.string() + " exists; pass --force to overwrite it");
        for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(path.string() + suffix, ec);
    }
    if (sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        std::string why = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        close();
        throw Error(ErrorKind::io, "database", "cannot create " + path.string() + ": " + why);
    }
    try {
        // 0x4d504258 ("MPBX") marks an MBTiles file (spec 1.3). The export is one transaction
        // into a new file: no journal is worth keeping beyond it.
        exec("PRAGMA application_id = 0x4d504258");
        exec("PRAGMA journal_mode = MEMORY");
        exec("BEGIN");
        exec("CREATE TABLE metadata (name TEXT NOT NULL, value TEXT)");
        exec("CREATE UNIQUE INDEX metadata_name ON metadata (name)");
        exec("CREATE TABLE tiles (zoom_level INTEGER NOT NULL, tile_column INTEGER NOT NULL, "
             "tile_row INTEGER NOT NULL, tile_data BLOB)");
        exec("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)");
        m_put_tile = std::make_unique<detail::Statement>(
            m_db, "INSERT OR REPLACE INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)");
        m_put_metadata =
            std::make_unique<detail::Statement>(m_db, "INSERT OR REPLACE INTO metadata (name, value) VALUES (?, ?)");
    } catch (...) {
        close();
        fs::remove(path, ec);
        throw;
    }
}

MbtilesWriter::~MbtilesWriter() {
    if (m_committed) return;
    close(); // an open transaction is rolled back by closing
    std::error_code ec;
    fs::remove(m_path, ec);
}

void MbtilesWriter::exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(m_db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
        std::string why = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error(ErrorKind::io, "database",
                    std::string(sql).substr(0, 60) + ": " + why + " (" + m_path.string() + ")");
    }
}

void MbtilesWriter::close() noexcept {
    m_put_tile.reset();
    m_put_metadata.reset();
    if (m_db) sqlite3_close(m_db);
    m_db = nullptr;
}

void MbtilesWriter::set_metadata(std::string_view name, std::string_view value) {
    m_put_metadata->reset().bind(1, name).bind(2, value).run();
}

void MbtilesWriter::put_tile(int zoom, std::uint32_t column, std::uint32_t tms_row, std::string_view data) {
    std::span<const unsigned char> blob(reinterpret_cast<const unsigned char*>(data.data()), data.size());
    m_put_tile->reset()
        .bind(1, std::int64_t{zoom})
        .bind(2, std::int64_t{column})
        .bind(3, std::int64_t{tms_row})
        .bind(4, blob)
        .run();
    ++m_tiles;
}

void MbtilesWriter::commit() {
    exec("COMMIT");
    m_committed = true;
    close();
}

} // namespace wangge::store

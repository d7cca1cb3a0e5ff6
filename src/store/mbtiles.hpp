#pragma once
// A writer of MBTiles 1.3 files (https://github.com/mapbox/mbtiles-spec/blob/master/1.3/spec.md):
// a plain SQLite file with a `metadata` table of name/value rows and a `tiles` table whose rows
// count from the south (TMS). Everything is written in one transaction: a writer destroyed
// without commit() leaves no file behind.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

typedef struct sqlite3 sqlite3;

namespace wangge::store {

namespace detail {
class Statement;
}

class MbtilesWriter {
public:
    // Creates `path`; throws Error(conflict, "exists") when it exists and !overwrite, and
    // Error(io) when it cannot be written.
    explicit MbtilesWriter(const std::filesystem::path& path, bool overwrite = false);
    ~MbtilesWriter();
    MbtilesWriter(const MbtilesWriter&) = delete;
    MbtilesWriter& operator=(const MbtilesWriter&) = delete;
    MbtilesWriter(MbtilesWriter&&) = delete;
    MbtilesWriter& operator=(MbtilesWriter&&) = delete;

    // A metadata row (name, format, bounds, center, minzoom, maxzoom, json, ...); a second call
    // with the same name replaces the value.
    void set_metadata(std::string_view name, std::string_view value);
    // One tile; `tms_row` counts from the south: (2^zoom - 1) - y of the XYZ scheme.
    void put_tile(int zoom, std::uint32_t column, std::uint32_t tms_row, std::string_view data);
    std::size_t tile_count() const noexcept { return m_tiles; }

    // Commits the transaction and closes the file.
    void commit();

    const std::filesystem::path& path() const noexcept { return m_path; }

private:
    void exec(const char* sql);
    void close() noexcept;

    std::filesystem::path m_path;
    sqlite3* m_db = nullptr;
    std::unique_ptr<detail::Statement> m_put_tile;
    std::unique_ptr<detail::Statement> m_put_metadata;
    std::size_t m_tiles = 0;
    bool m_committed = false;
};

} // namespace wangge::store

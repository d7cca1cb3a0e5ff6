#pragma once
// Tables without geometry (spreadsheets: XLSX, ODS, CSV) read and written through GDAL, for
// registers such as the workers (docs/INCIDENTS.md). The first row holds the headers.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace wangge::ingest {

struct Table {
    std::vector<std::string> columns;
    // Each row's cells by column, nullopt for an empty cell; numbers as written ("13800000000",
    // not "13800000000.0"), text trimmed and in valid UTF-8.
    std::vector<std::vector<std::optional<std::string>>> rows;

    // The index of the first column named any of `names` (exactly, after trimming), or nullopt.
    std::optional<std::size_t> column(std::initializer_list<std::string_view> names) const;
};

// Reads the first (or only) sheet or layer. Throws Error(io) for a missing file and
// Error(bad_request) for one GDAL cannot read as a table.
Table read_table(const std::filesystem::path& path);

// Writes `table` as XLSX, ODS or CSV, chosen by the file's extension, every column as text.
// Throws Error(bad_request) for another extension and Error(io) when writing fails.
void write_table(const std::filesystem::path& path, const Table& table);

} // namespace wangge::ingest

#pragma once
// Copying a whole Wangge database between backends (docs/POSTGRESQL.md): a SpatiaLite file or a
// postgresql:// URL on either side. Every table is copied in one transaction on the destination
// (ids kept, geometries as WKB), then checked against the source inside that transaction: row
// counts, and every row's every column in key order (the codes of streets, communities and grids
// among them), geometries compared as WKB. Only a copy that checks is committed.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::store {

struct CopyOptions {
    // Empty a destination that holds data (in the same transaction) instead of refusing it.
    bool replace = false;
    // Called once a table is copied ("copied") and once it is checked ("checked").
    std::function<void(std::string_view stage, std::string_view table, std::size_t rows)> progress;
};

struct TableCount {
    std::string table;
    std::size_t rows = 0;
};

struct CopyReport {
    std::vector<TableCount> tables; // in the order copied
    std::size_t rows = 0;
    std::size_t geometries = 0; // geometries (and grid history's WKB) compared
    bool created = false;       // the destination file did not exist before
};

// Copies `from` into `to` (each a SpatiaLite path or a postgresql:// URL); a missing SpatiaLite
// destination is created with the current schema, a PostgreSQL one is migrated. Throws
// Error(conflict, "destination_not_empty") unless the destination is empty or `replace`,
// Error(bad_request, "same_database") when both name the same place, and Error(unprocessable,
// "copy_mismatch") when the check fails; nothing is committed then (a created file is removed).
CopyReport copy_database(const std::string& from, const std::string& to, const CopyOptions& options = {});

struct CheckReport {
    std::vector<TableCount> tables; // rows of the source
    std::size_t rows = 0;
    std::size_t geometries = 0;
    // One line per table that differs: the table, the first row (by key) and column that differ,
    // or both row counts.
    std::vector<std::string> mismatches;
    bool ok() const noexcept { return mismatches.empty(); }
};

// The tables copy_database copies, each with its columns ("seq" stands for SQLite's rowid and is
// a column of PostgreSQL's only), parents before children: the one list of both schemas, which a
// test holds against the live schemas of both backends.
struct CopiedTable {
    std::string name;
    std::vector<std::string> columns;
};
std::vector<CopiedTable> copied_tables();

// Compares two databases table by table as copy_database checks a copy, without writing.
CheckReport check_databases(const std::string& a, const std::string& b);

} // namespace wangge::store

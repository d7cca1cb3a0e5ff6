#pragma once
// The PostgreSQL schema's migrations, oldest first (internal to the store module). Migration i
// brings a database from PostgreSQL schema version i to i+1 (table schema_version); a new database
// runs all of them, in one transaction. Version 1 is SQLite's schema at its migration 7.
#include <string_view>
#include <vector>

namespace wangge::store::detail {

const std::vector<std::string_view>& pg_migrations();

} // namespace wangge::store::detail

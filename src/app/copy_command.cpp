// `wangge copy --from SRC --to DST` (docs/CLI.md, docs/POSTGRESQL.md): a whole database between a
// SpatiaLite file and PostgreSQL, checked before it is committed.
#include "app/commands.hpp"

#include "store/copy.hpp"
#include "store/pg/connection.hpp"

#include <fmt/format.h>

#include <cstdio>

namespace wangge::app {

int run_copy(const CopyCommand& c) {
    store::CopyOptions options;
    options.replace = c.replace;
    std::size_t checked = 0;
    options.progress = [&](std::string_view stage, std::string_view table, std::size_t rows) {
        if (stage == "copied") {
            fmt::print("copied  {:<22} {:>9} rows\n", table, rows);
        } else if (++checked == 1) {
            fmt::print("checking the copy against the source...\n");
        }
        std::fflush(stdout);
    };
    const store::CopyReport r = store::copy_database(c.from, c.to, options);
    fmt::print("copied {} rows in {} tables from {} to {}{}; checked: every row and column equal, {} geometries "
               "compared as WKB\n",
               r.rows, r.tables.size(), store::redact_url(c.from), store::redact_url(c.to),
               r.created ? " (created)" : "", r.geometries);
    return 0;
}

} // namespace wangge::app

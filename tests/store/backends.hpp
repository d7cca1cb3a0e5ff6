#pragma once
// A fresh, migrated store of either backend, for the tests that run once per backend:
//
//     const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
//     test::TestStore store(backend);
//     store.db().insert_worker(...);
//
// "sqlite" is a file in a temporary directory; "postgresql" a database of its own in the test
// cluster (WANGGE_TEST_PG_URL, which scripts/test.sh sets; without it the test fails).
#include "store/database.hpp"
#include "store/pg_cluster.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <optional>
#include <string>

namespace wangge::test {

class TestStore {
public:
    explicit TestStore(const std::string& backend) : m_backend(backend) {
        if (backend == "postgresql") {
            m_pg.emplace();
            m_where = m_pg->url();
        } else {
            REQUIRE(backend == "sqlite");
            m_dir.emplace();
            m_where = (m_dir->path() / "store.sqlite").string();
        }
        m_db = store::Database::open(m_where, store::OpenMode::create);
    }

    const std::string& backend() const noexcept { return m_backend; }
    // The file or URL: another connection opens it with store::Database::open(where(), ...).
    const std::string& where() const noexcept { return m_where; }
    store::Database& db() { return *m_db; }

private:
    std::string m_backend;
    std::optional<TempDir> m_dir;
    std::optional<TestPgDatabase> m_pg;
    std::string m_where;
    std::unique_ptr<store::Database> m_db;
};

} // namespace wangge::test

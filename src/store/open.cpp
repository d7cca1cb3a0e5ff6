// What both backends share: opening either by what `where` names, and the transactions over the
// backend's begin, commit and rollback.
#include "store/database.hpp"

#include "store/pg/database.hpp"
#include "store/sqlite_database.hpp"

namespace wangge::store {

std::unique_ptr<Database> Database::open(const std::string& where, OpenMode mode) {
    if (is_postgresql_url(where))
        return PgDatabase::open(where, mode == OpenMode::read_only ? PgOpenMode::read_only : PgOpenMode::read_write);
    return SqliteDatabase::open(where, mode);
}

Transaction::Transaction(Database& db, Bump bump) : m_db(&db), m_bump(bump) { m_db->begin(bump); }

Transaction::~Transaction() {
    if (!m_done) m_db->rollback();
}

void Transaction::commit() {
    m_db->commit(m_bump);
    m_done = true;
}

ReadTransaction::ReadTransaction(Database& db) : m_db(&db) { m_db->begin_read(); }

ReadTransaction::~ReadTransaction() { m_db->end_read(); }

} // namespace wangge::store

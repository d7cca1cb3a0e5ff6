// `wangge backup OUT` and `wangge restore BACKUP`: a consistent copy of a database taken while it
// is served (SQLite's online backup), with the photos of cases beside it, and putting one back.
#include "app/commands.hpp"
#include "app/progress.hpp"
#include "core/error.hpp"
#include "store/pg/connection.hpp"
#include "store/sqlite_database.hpp"
#include "store/photo_files.hpp"

#include <cstdio>
#include <functional>
#include <system_error>

namespace wangge::app {

namespace {

namespace fs = std::filesystem;

void remove_database(const fs::path& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path.string() + suffix, ec);
}

// Copies the photo files of `from` missing in `to` (a photo's name is its hash: a file of the same
// name is the same photo). Returns the number of files copied.
std::size_t copy_photos(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    if (!fs::is_directory(from, ec)) return 0;
    std::size_t copied = 0;
    for (const auto& entry : fs::recursive_directory_iterator(from)) {
        if (!entry.is_regular_file()) continue;
        const fs::path target = to / fs::relative(entry.path(), from);
        if (fs::exists(target, ec)) continue;
        fs::create_directories(target.parent_path());
        const fs::path part = target.string() + ".part";
        fs::copy_file(entry.path(), part, fs::copy_options::overwrite_existing);
        fs::rename(part, target);
        ++copied;
    }
    return copied;
}

// Opens a copy read-only and checks it as a Wangge database: integrity, schema, data version.
std::int64_t check_copy(const fs::path& path) {
    auto db = store::SqliteDatabase::open(path, store::OpenMode::read_only);
    const std::string integrity = db->integrity_check();
    if (integrity != "ok")
        throw Error(ErrorKind::io, "corrupt_backup", path.string() + " fails SQLite's integrity check: " + integrity);
    return db->data_version();
}

// Copies `source` into `target` through a file beside it (`target` + `suffix`), checked before
// it is renamed into place, so `target` is either what it was or the whole, checked copy.
// Returns the copy's data version.
std::int64_t copy_checked(store::SqliteDatabase& source, const fs::path& target, const std::string& suffix,
                          const std::function<void(int, int)>& progress = {}) {
    const fs::path part = target.string() + suffix;
    remove_database(part);
    try {
        source.backup_to(part, progress);
        check_copy(part);
    } catch (...) {
        remove_database(part);
        throw;
    }
    remove_database(target);
    fs::rename(part, target);
    return check_copy(target);
}

} // namespace

namespace {

// A PostgreSQL database is backed up, replicated and restored by its operators' tools.
void require_file(const fs::path& db) {
    if (store::is_postgresql_url(db.string()))
        throw Error(ErrorKind::bad_request, "invalid_option",
                    "backup and restore copy a SpatiaLite file; back up a PostgreSQL database with pg_dump or "
                    "pg_basebackup (docs/POSTGRESQL.md), or `wangge copy` it to a file");
}

} // namespace

int run_backup(const BackupCommand& c) {
    require_file(c.db);
    std::error_code ec;
    if (fs::exists(c.out, ec) && !c.force)
        throw Error(ErrorKind::conflict, "exists", c.out.string() + " exists; pass --force to overwrite it");
    auto db = store::SqliteDatabase::open(c.db, store::OpenMode::read_only);
    // Into a file of its own first: a backup that fails half way never leaves a file that looks whole.
    ProgressBar bar("backing up");
    const std::int64_t version = copy_checked(*db, c.out, ".part", [&](int done, int total) {
        bar.update(static_cast<std::size_t>(done), static_cast<std::size_t>(total));
    });
    bar.finish();
    const fs::path photos_from = c.photo_dir ? *c.photo_dir : store::PhotoFiles::default_dir(c.db);
    const std::size_t photos = copy_photos(photos_from, store::PhotoFiles::default_dir(c.out));
    std::printf("backed up %s to %s: %ju bytes, data version %lld, integrity ok; %zu photos copied to %s\n",
                c.db.string().c_str(), c.out.string().c_str(), static_cast<std::uintmax_t>(fs::file_size(c.out)),
                static_cast<long long>(version), photos, store::PhotoFiles::default_dir(c.out).string().c_str());
    return 0;
}

int run_restore(const RestoreCommand& c) {
    require_file(c.db);
    std::error_code ec;
    if (!fs::exists(c.backup, ec))
        throw Error(ErrorKind::io, "no_database", "backup " + c.backup.string() + " does not exist");
    if (fs::exists(c.db, ec) && !c.force)
        throw Error(ErrorKind::conflict, "exists",
                    c.db.string() + " exists; stop the server that uses it and pass --force to replace it");
    check_copy(c.backup);
    // Copied with the backup API too (the backup may be in WAL mode with a -wal of its own).
    auto source = store::SqliteDatabase::open(c.backup, store::OpenMode::read_only);
    const std::int64_t version = copy_checked(*source, c.db, ".restoring");
    const fs::path photos_to = c.photo_dir ? *c.photo_dir : store::PhotoFiles::default_dir(c.db);
    const std::size_t photos = copy_photos(store::PhotoFiles::default_dir(c.backup), photos_to);
    std::printf("restored %s from %s: data version %lld, integrity ok; %zu photos copied to %s\n", c.db.string().c_str(),
                c.backup.string().c_str(), static_cast<long long>(version), photos, photos_to.string().c_str());
    return 0;
}

} // namespace wangge::app

// `wangge backup OUT` and `wangge restore BACKUP`: a consistent copy of a database taken while it
// is served (SQLite's online backup), with the photos of cases beside it, and putting one back.
#include "app/commands.hpp"
#include "app/progress.hpp"
#include "core/error.hpp"
#include "store/pg/connection.hpp"
#include "store/sqlite_database.hpp"
#include "store/photo_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <system_error>

namespace wangge::app {

namespace {

namespace fs = std::filesystem;

void remove_database(const fs::path& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path.string() + suffix, ec);
}

// Flushes a file, or a directory's entries (a rename in it), to disk.
void sync_path(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    const int error = errno;
    if (fd >= 0) ::close(fd);
    if (!ok) throw Error(ErrorKind::io, "backup", "cannot sync " + path.string() + ": " + std::strerror(error));
}

fs::path directory_of(const fs::path& path) {
    return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// A photo's file name is the SHA-256 of its bytes, in hex; anything else in the directory (a
// photo being written under a temporary name) is not a photo yet.
bool photo_name(const std::string& name) {
    if (name.size() != 64) return false;
    for (const char c : name)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

// Copies the photo files of `from` missing in `to` (a photo's name is its hash: a whole file of
// the same name is the same photo). Each copy is synced before it takes its name, so a file under
// a photo's name is always whole and a later backup may skip it. The directories are made
// private (0700), as the server makes its own: photos may show people. Returns the files copied.
std::size_t copy_photos(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    if (!fs::is_directory(from, ec)) return 0;
    const auto make_private_dir = [](const fs::path& dir) {
        if (fs::exists(dir)) return;
        fs::create_directories(dir);
        fs::permissions(dir, fs::perms::owner_all);
    };
    make_private_dir(to);
    std::size_t copied = 0;
    for (const auto& entry : fs::recursive_directory_iterator(from)) {
        if (!entry.is_regular_file(ec) || !photo_name(entry.path().filename().string())) continue;
        const fs::path target = to / fs::relative(entry.path(), from);
        if (fs::exists(target, ec) && fs::file_size(target, ec) == entry.file_size(ec)) continue;
        make_private_dir(target.parent_path());
        const fs::path part = target.string() + ".part";
        fs::copy_file(entry.path(), part, fs::copy_options::overwrite_existing);
        sync_path(part);
        fs::rename(part, target);
        sync_path(target.parent_path());
        ++copied;
    }
    return copied;
}

// Checks a copy as a Wangge database (integrity, schema, data version) and returns its data
// version. Opened for writing, which brings an older copy to this build's schema (a backup taken
// before an upgrade), refuses a newer one (newer_schema), and on closing folds the copy's WAL back
// into it, so that no -wal or -shm file is left beside it.
std::int64_t check_copy(const fs::path& path) {
    auto db = store::SqliteDatabase::open(path, store::OpenMode::read_write);
    const std::string integrity = db->integrity_check();
    if (integrity != "ok")
        throw Error(ErrorKind::io, "corrupt_backup", path.string() + " fails SQLite's integrity check: " + integrity);
    return db->data_version();
}

// The schema version a SQLite file's header records (PRAGMA user_version: bytes 60-63, big
// endian, after the 16-byte magic string), without opening it: opened for writing, a file that is
// no Wangge database would be given the schema and restored as an empty one.
int recorded_schema_version(const fs::path& path) {
    std::array<unsigned char, 100> header{};
    std::ifstream in(path, std::ios::binary);
    in.read(reinterpret_cast<char*>(header.data()), header.size());
    static constexpr char magic[] = "SQLite format 3";
    if (in.gcount() != static_cast<std::streamsize>(header.size()) ||
        std::memcmp(header.data(), magic, sizeof magic) != 0)
        throw Error(ErrorKind::io, "not_a_backup", path.string() + " is not a SQLite database");
    const int version = (header[60] << 24) | (header[61] << 16) | (header[62] << 8) | header[63];
    if (version <= 0)
        throw Error(ErrorKind::io, "not_a_backup", path.string() + " is a SQLite database but not a Wangge one (no schema version)");
    return version;
}

// A backup over its own database would delete the database (and its WAL, with the latest
// commits) before putting the copy in its place.
void require_other_file(const fs::path& a, const fs::path& b) {
    std::error_code ec;
    if (fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec) || fs::equivalent(a, b, ec))
        throw Error(ErrorKind::bad_request, "invalid_option", a.string() + " and " + b.string() + " are the same file");
}

// Moves a checked copy into place: `target` is either what it was or the whole copy.
void move_into_place(const fs::path& part, const fs::path& target) {
    remove_database(target);
    fs::rename(part, target);
    sync_path(directory_of(target));
}

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
    require_other_file(c.db, c.out);
    std::error_code ec;
    if (fs::exists(c.out, ec) && !c.force)
        throw Error(ErrorKind::conflict, "exists", c.out.string() + " exists; pass --force to overwrite it");
    auto db = store::SqliteDatabase::open(c.db, store::OpenMode::read_only);
    // Into a file of its own first: a backup that fails half way never leaves a file that looks whole.
    const fs::path part = c.out.string() + ".part";
    remove_database(part);
    std::int64_t version = 0;
    try {
        // One read transaction over the whole copy: every step of the backup reads the moment it
        // began, while the server goes on writing (WAL). Without it a commit between two steps
        // restarts the copy, and a database written often enough is never copied to the end.
        store::ReadTransaction moment(*db);
        version = db->data_version();
        ProgressBar bar("backing up");
        db->backup_to(part, [&](int done, int total) {
            bar.update(static_cast<std::size_t>(done), static_cast<std::size_t>(total));
        });
        bar.finish();
    } catch (...) {
        remove_database(part);
        throw;
    }
    db.reset();
    try {
        const std::int64_t copied = check_copy(part);
        if (copied != version)
            throw Error(ErrorKind::internal, "backup",
                        "the copy has data version " + std::to_string(copied) + ", the database had " +
                            std::to_string(version) + " when the copy began");
    } catch (...) {
        remove_database(part);
        throw;
    }
    move_into_place(part, c.out);
    // After the database: every photo a case of the copy names was written before its case was.
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
    require_other_file(c.backup, c.db);
    if (fs::exists(c.db, ec) && !c.force)
        throw Error(ErrorKind::conflict, "exists",
                    c.db.string() + " exists; stop the server that uses it and pass --force to replace it");
    const int schema = recorded_schema_version(c.backup);
    // The backup is copied as it is (with its WAL, should it have one) and checked, migrated when
    // it is older than this build, beside the database; the backup itself is left as it was.
    const fs::path part = c.db.string() + ".restoring";
    remove_database(part);
    std::int64_t version = 0;
    try {
        fs::copy_file(c.backup, part);
        const fs::path wal = c.backup.string() + "-wal";
        if (fs::exists(wal, ec)) fs::copy_file(wal, part.string() + "-wal");
        version = check_copy(part);
    } catch (...) {
        remove_database(part);
        throw;
    }
    move_into_place(part, c.db);
    const fs::path photos_to = c.photo_dir ? *c.photo_dir : store::PhotoFiles::default_dir(c.db);
    const std::size_t photos = copy_photos(store::PhotoFiles::default_dir(c.backup), photos_to);
    const int latest = store::SqliteDatabase::latest_schema_version();
    const std::string migrated =
        schema < latest ? ", schema version " + std::to_string(schema) + " migrated to " + std::to_string(latest) : "";
    std::printf("restored %s from %s: data version %lld%s, integrity ok; %zu photos copied to %s\n",
                c.db.string().c_str(), c.backup.string().c_str(), static_cast<long long>(version), migrated.c_str(),
                photos, photos_to.string().c_str());
    return 0;
}

} // namespace wangge::app

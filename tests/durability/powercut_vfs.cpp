// A power cut under SQLite, for the durability tests (docs/DURABILITY.md). Loaded into the real
// `wangge` binary with LD_PRELOAD, it registers a VFS over the default unix one as the new
// default, and:
//
// - holds every write to a database, its WAL or its journal in memory until the file is synced,
//   as the OS page cache does; reads see those writes, xSync writes them out and really syncs;
// - at the chosen moment "cuts the power": the unsynced bytes are thrown away (or, torn, a random
//   half of their sectors reaches the file) and the process ends at once with _exit(86);
// - can answer SQLITE_FULL to writes, as a full disk does, until a control file is removed;
// - can run the process with `synchronous=OFF` or `NORMAL` for the negative controls, by
//   rewriting the `PRAGMA synchronous=...` the store sends (sqlite3_exec is interposed).
//
// A process that is not cut writes what it still holds at exit, without syncing: without a power
// cut the OS would have written it too.
//
// Environment (all optional):
//   WANGGE_POWERCUT_ARM_FILE=path   count towards the cut only once this file exists
//   WANGGE_POWERCUT_AT_SYNC=n       cut at the n-th xSync (after arming), before it syncs anything
//   WANGGE_POWERCUT_AT_WRITE=n      cut at the n-th xWrite (after arming), before it is written
//   WANGGE_POWERCUT_TORN=seed       at the cut, each unsynced 512-byte sector reaches the file
//                                   with probability 1/2 (and a pending truncation too)
//   WANGGE_POWERCUT_SYNCHRONOUS=off|normal
//                                   run with PRAGMA synchronous=OFF (NORMAL) whatever the
//                                   program asks: the negative controls
//   WANGGE_POWERCUT_FULL_FILE=path  while this file exists the disk is full: once as many bytes
//                                   as the file's content says (a decimal number, none: 0) have
//                                   been written since it appeared, writes fail with SQLITE_FULL
//   WANGGE_POWERCUT_STATS=path      written at exit, at the cut and at each refused write: counts
//                                   of writes, syncs and refusals, the write count at each sync,
//                                   and where the cut came
//
// Only files SQLite names as a main database, WAL or main journal are held; temporary files,
// and the -shm file (memory shared by the processes of one machine, rebuilt by the first process
// that opens the database after a crash), go straight to the unix VFS.
#include <sqlite3.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int cut_exit_code = 86;
constexpr sqlite3_int64 no_limit = std::numeric_limits<sqlite3_int64>::max();
constexpr sqlite3_int64 sector = 512;

// What one file holds beyond what was last synced. Every handle of the file in this process
// shares it, as every descriptor shares the page cache: another connection must read what this
// one wrote but did not sync yet.
struct Pending {
    std::string path;
    std::map<sqlite3_int64, std::vector<unsigned char>> extents; // by offset, never overlapping
    sqlite3_int64 size = 0;                                      // the size reads see
    // Bytes of the real file at or beyond this offset were truncated away since the last sync.
    sqlite3_int64 durable_end = no_limit;
    int handles = 0;

    bool empty() const { return extents.empty() && durable_end == no_limit; }
};

struct Settings {
    std::string arm_file;
    long at_sync = 0;
    long at_write = 0;
    bool torn = false;
    unsigned torn_seed = 0;
    std::string synchronous; // "" (as the program asks), or the PRAGMA to send instead
    std::string full_file;
    std::string stats_file;
};

struct State {
    std::mutex mutex;
    Settings settings;
    sqlite3_vfs* real = nullptr;
    std::map<std::string, std::unique_ptr<Pending>> files;
    bool armed = false;
    long armed_writes = 0, armed_syncs = 0;
    long writes = 0, syncs = 0, full_refusals = 0;
    std::vector<long> sync_points; // the write count at each sync
    // The full disk: whether its control file was there at the last write, and bytes taken since.
    bool full = false;
    sqlite3_int64 full_budget = 0, full_used = 0;
};

// Never destroyed: threads of the program may still use SQLite while the process exits.
State& state() {
    static State* s = new State;
    return *s;
}

struct ShimFile {
    sqlite3_file base;
    sqlite3_file* real; // the unix VFS's file, allocated right after this struct
    Pending* pending;   // null for a file passed straight through
};

ShimFile* shim(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f); }

bool exists(const std::string& path) {
    struct stat st {};
    return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

void write_all(int fd, const unsigned char* data, sqlite3_int64 n, sqlite3_int64 offset) {
    while (n > 0) {
        const ssize_t done = ::pwrite(fd, data, static_cast<std::size_t>(n), offset);
        if (done <= 0) return;
        data += done;
        n -= done;
        offset += done;
    }
}

void write_stats(const State& s, const std::string& cut) {
    if (s.settings.stats_file.empty()) return;
    std::string text = "writes " + std::to_string(s.writes) + "\nsyncs " + std::to_string(s.syncs) +
                       "\nfull_refusals " + std::to_string(s.full_refusals) + "\n";
    for (long w : s.sync_points) text += "sync_at_write " + std::to_string(w) + "\n";
    if (!cut.empty()) text += "cut " + cut + "\n";
    const int fd = ::open(s.settings.stats_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return;
    write_all(fd, reinterpret_cast<const unsigned char*>(text.data()), static_cast<sqlite3_int64>(text.size()), 0);
    ::close(fd);
}

// The power goes: what was not synced is lost (torn: partly lost), and nothing else runs.
[[noreturn]] void cut_power(State& s, const std::string& where) {
    if (s.settings.torn) {
        std::mt19937 coin(s.settings.torn_seed);
        for (const auto& [path, p] : s.files) {
            const int fd = ::open(path.c_str(), O_WRONLY);
            if (fd < 0) continue;
            if (p->durable_end != no_limit && coin() % 2) {
                if (::ftruncate(fd, p->durable_end) != 0) {} // a lost truncation is as good as a kept one
            }
            for (const auto& [offset, bytes] : p->extents)
                for (sqlite3_int64 at = 0; at < static_cast<sqlite3_int64>(bytes.size()); at += sector)
                    if (coin() % 2)
                        write_all(fd, bytes.data() + at,
                                  std::min<sqlite3_int64>(sector, static_cast<sqlite3_int64>(bytes.size()) - at),
                                  offset + at);
            ::close(fd);
        }
    }
    write_stats(s, where);
    ::_exit(cut_exit_code);
}

// Called with the mutex held before each write and sync: arms the counters when the arm file
// appears, and cuts when the chosen one comes.
void count_towards_cut(State& s, bool is_sync) {
    const Settings& set = s.settings;
    if (set.at_sync == 0 && set.at_write == 0) return;
    if (!s.armed) s.armed = set.arm_file.empty() || exists(set.arm_file);
    if (!s.armed) return;
    if (is_sync && set.at_sync > 0 && ++s.armed_syncs == set.at_sync)
        cut_power(s, "sync " + std::to_string(s.syncs + 1) + " write " + std::to_string(s.writes));
    if (!is_sync && set.at_write > 0 && ++s.armed_writes == set.at_write)
        cut_power(s, "write " + std::to_string(s.writes + 1) + " sync " + std::to_string(s.syncs));
}

// Whether the full disk refuses `n` more bytes.
bool disk_full(State& s, sqlite3_int64 n) {
    if (s.settings.full_file.empty()) return false;
    const bool there = exists(s.settings.full_file);
    if (there && !s.full) {
        s.full_used = 0;
        s.full_budget = 0;
        if (FILE* f = std::fopen(s.settings.full_file.c_str(), "r")) {
            long long budget = 0;
            if (std::fscanf(f, "%lld", &budget) == 1) s.full_budget = budget;
            std::fclose(f);
        }
    }
    s.full = there;
    if (!s.full) return false;
    if (s.full_used + n > s.full_budget) {
        ++s.full_refusals;
        write_stats(s, ""); // refusals are few, and a test may end the process with SIGKILL
        return true;
    }
    s.full_used += n;
    return false;
}

void put(Pending& p, const unsigned char* data, sqlite3_int64 n, sqlite3_int64 offset) {
    const sqlite3_int64 end = offset + n;
    auto first = p.extents.upper_bound(offset);
    if (first != p.extents.begin()) {
        auto before = std::prev(first);
        if (before->first + static_cast<sqlite3_int64>(before->second.size()) > offset) first = before;
    }
    // A page written again in place: the common case in the database file.
    if (first != p.extents.end() && first->first <= offset &&
        first->first + static_cast<sqlite3_int64>(first->second.size()) >= end) {
        std::memcpy(first->second.data() + (offset - first->first), data, static_cast<std::size_t>(n));
        return;
    }
    // Otherwise merge with what it overlaps. Extents that merely touch stay apart, so that a WAL
    // appended frame by frame is not copied over and over.
    auto last = first;
    sqlite3_int64 lo = offset, hi = end;
    for (; last != p.extents.end() && last->first < end; ++last) {
        lo = std::min(lo, last->first);
        hi = std::max(hi, last->first + static_cast<sqlite3_int64>(last->second.size()));
    }
    std::vector<unsigned char> merged(static_cast<std::size_t>(hi - lo));
    for (auto it = first; it != last; ++it)
        std::memcpy(merged.data() + (it->first - lo), it->second.data(), it->second.size());
    std::memcpy(merged.data() + (offset - lo), data, static_cast<std::size_t>(n));
    p.extents.erase(first, last);
    p.extents.emplace(lo, std::move(merged));
}

void cut_at(Pending& p, sqlite3_int64 size) {
    auto it = p.extents.lower_bound(size);
    p.extents.erase(it, p.extents.end());
    if (!p.extents.empty()) {
        auto& [offset, bytes] = *p.extents.rbegin();
        if (offset + static_cast<sqlite3_int64>(bytes.size()) > size) bytes.resize(static_cast<std::size_t>(size - offset));
    }
    p.durable_end = std::min(p.durable_end, size);
    p.size = size;
}

// Writes what `p` holds to the real file through `real` (no sync: the caller syncs).
int write_out(Pending& p, sqlite3_file* real) {
    int rc = SQLITE_OK;
    sqlite3_int64 real_size = 0;
    if ((rc = real->pMethods->xFileSize(real, &real_size)) != SQLITE_OK) return rc;
    if (p.durable_end < real_size) {
        if ((rc = real->pMethods->xTruncate(real, p.durable_end)) != SQLITE_OK) return rc;
        real_size = p.durable_end;
    }
    for (const auto& [offset, bytes] : p.extents) {
        if ((rc = real->pMethods->xWrite(real, bytes.data(), static_cast<int>(bytes.size()), offset)) != SQLITE_OK)
            return rc;
        real_size = std::max(real_size, offset + static_cast<sqlite3_int64>(bytes.size()));
    }
    if (real_size < p.size && (rc = real->pMethods->xTruncate(real, p.size)) != SQLITE_OK) return rc;
    p.extents.clear();
    p.durable_end = no_limit;
    return SQLITE_OK;
}

// --- the file's methods ---

int shim_close(sqlite3_file* file) {
    ShimFile* f = shim(file);
    if (f->pending) {
        State& s = state();
        std::lock_guard lock(s.mutex);
        // What is held outlives its last handle, as the page cache does; an empty entry goes.
        if (--f->pending->handles == 0 && f->pending->empty()) s.files.erase(f->pending->path);
    }
    return f->real->pMethods->xClose(f->real);
}

int shim_read(sqlite3_file* file, void* buffer, int amount, sqlite3_int64 offset) {
    ShimFile* f = shim(file);
    if (!f->pending) return f->real->pMethods->xRead(f->real, buffer, amount, offset);
    State& s = state();
    std::lock_guard lock(s.mutex);
    const Pending& p = *f->pending;
    auto* out = static_cast<unsigned char*>(buffer);
    std::memset(out, 0, static_cast<std::size_t>(amount));
    const sqlite3_int64 end = offset + amount;
    const sqlite3_int64 readable_end = std::min(end, p.size);
    const sqlite3_int64 durable_end = std::min(readable_end, p.durable_end);
    if (durable_end > offset) {
        const int rc = f->real->pMethods->xRead(f->real, out, static_cast<int>(durable_end - offset), offset);
        if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc; // a short read is zero-filled
    }
    auto it = p.extents.upper_bound(offset);
    if (it != p.extents.begin()) --it;
    for (; it != p.extents.end() && it->first < readable_end; ++it) {
        const sqlite3_int64 from = std::max(it->first, offset);
        const sqlite3_int64 to = std::min(it->first + static_cast<sqlite3_int64>(it->second.size()), readable_end);
        if (from < to)
            std::memcpy(out + (from - offset), it->second.data() + (from - it->first), static_cast<std::size_t>(to - from));
    }
    return readable_end < end ? SQLITE_IOERR_SHORT_READ : SQLITE_OK;
}

int shim_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    ShimFile* f = shim(file);
    if (!f->pending) return f->real->pMethods->xWrite(f->real, data, amount, offset);
    State& s = state();
    std::lock_guard lock(s.mutex);
    count_towards_cut(s, false);
    if (disk_full(s, amount)) return SQLITE_FULL;
    ++s.writes;
    put(*f->pending, static_cast<const unsigned char*>(data), amount, offset);
    f->pending->size = std::max(f->pending->size, offset + amount);
    return SQLITE_OK;
}

int shim_truncate(sqlite3_file* file, sqlite3_int64 size) {
    ShimFile* f = shim(file);
    if (!f->pending) return f->real->pMethods->xTruncate(f->real, size);
    State& s = state();
    std::lock_guard lock(s.mutex);
    cut_at(*f->pending, size);
    return SQLITE_OK;
}

int shim_sync(sqlite3_file* file, int flags) {
    ShimFile* f = shim(file);
    if (!f->pending) return f->real->pMethods->xSync(f->real, flags);
    State& s = state();
    std::lock_guard lock(s.mutex);
    count_towards_cut(s, true);
    ++s.syncs;
    s.sync_points.push_back(s.writes);
    if (const int rc = write_out(*f->pending, f->real); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

int shim_file_size(sqlite3_file* file, sqlite3_int64* size) {
    ShimFile* f = shim(file);
    if (!f->pending) return f->real->pMethods->xFileSize(f->real, size);
    State& s = state();
    std::lock_guard lock(s.mutex);
    *size = f->pending->size;
    return SQLITE_OK;
}

int shim_lock(sqlite3_file* f, int level) { return shim(f)->real->pMethods->xLock(shim(f)->real, level); }
int shim_unlock(sqlite3_file* f, int level) { return shim(f)->real->pMethods->xUnlock(shim(f)->real, level); }
int shim_check_reserved(sqlite3_file* f, int* out) {
    return shim(f)->real->pMethods->xCheckReservedLock(shim(f)->real, out);
}

int shim_file_control(sqlite3_file* file, int op, void* arg) {
    ShimFile* f = shim(file);
    // A size hint would let the unix VFS grow the real file behind the held writes; it is only
    // a hint, so a held file ignores it.
    if (f->pending && op == SQLITE_FCNTL_SIZE_HINT) return SQLITE_OK;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

int shim_sector_size(sqlite3_file* f) { return shim(f)->real->pMethods->xSectorSize(shim(f)->real); }
int shim_device_characteristics(sqlite3_file* f) {
    return shim(f)->real->pMethods->xDeviceCharacteristics(shim(f)->real);
}
int shim_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
    return shim(f)->real->pMethods->xShmMap(shim(f)->real, page, size, extend, out);
}
int shim_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return shim(f)->real->pMethods->xShmLock(shim(f)->real, offset, n, flags);
}
void shim_shm_barrier(sqlite3_file* f) { shim(f)->real->pMethods->xShmBarrier(shim(f)->real); }
int shim_shm_unmap(sqlite3_file* f, int delete_flag) {
    return shim(f)->real->pMethods->xShmUnmap(shim(f)->real, delete_flag);
}

// Version 2: shared memory for WAL, but no xFetch, so SQLite never reads the database through
// a memory map of the real file, which would bypass the held writes.
const sqlite3_io_methods shim_methods = {
    2,
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_file_size,
    shim_lock,
    shim_unlock,
    shim_check_reserved,
    shim_file_control,
    shim_sector_size,
    shim_device_characteristics,
    shim_shm_map,
    shim_shm_lock,
    shim_shm_barrier,
    shim_shm_unmap,
    nullptr,
    nullptr,
};

// --- the VFS ---

int shim_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
    State& s = state();
    ShimFile* f = shim(file);
    f->base.pMethods = nullptr;
    f->real = reinterpret_cast<sqlite3_file*>(f + 1);
    f->pending = nullptr;
    const int rc = s.real->xOpen(s.real, name, f->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (f->real->pMethods) f->real->pMethods->xClose(f->real);
        return rc;
    }
    if (name && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL))) {
        std::lock_guard lock(s.mutex);
        auto& p = s.files[name];
        if (!p) {
            p = std::make_unique<Pending>();
            p->path = name;
            sqlite3_int64 size = 0;
            if (f->real->pMethods->xFileSize(f->real, &size) == SQLITE_OK) p->size = size;
        }
        ++p->handles;
        f->pending = p.get();
    }
    f->base.pMethods = &shim_methods;
    return SQLITE_OK;
}

int shim_delete(sqlite3_vfs*, const char* name, int sync_dir) {
    State& s = state();
    {
        std::lock_guard lock(s.mutex);
        auto it = s.files.find(name);
        if (it != s.files.end()) {
            if (it->second->handles == 0) {
                s.files.erase(it);
            } else { // deleted while open: nothing of it is left to write
                it->second->extents.clear();
                it->second->durable_end = no_limit;
                it->second->size = 0;
            }
        }
    }
    return s.real->xDelete(s.real, name, sync_dir);
}

int shim_access(sqlite3_vfs*, const char* name, int flags, int* out) {
    return state().real->xAccess(state().real, name, flags, out);
}
int shim_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
    return state().real->xFullPathname(state().real, name, n, out);
}
void* shim_dl_open(sqlite3_vfs*, const char* name) { return state().real->xDlOpen(state().real, name); }
void shim_dl_error(sqlite3_vfs*, int n, char* out) { state().real->xDlError(state().real, n, out); }
void (*shim_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
    return state().real->xDlSym(state().real, handle, symbol);
}
void shim_dl_close(sqlite3_vfs*, void* handle) { state().real->xDlClose(state().real, handle); }
int shim_randomness(sqlite3_vfs*, int n, char* out) { return state().real->xRandomness(state().real, n, out); }
int shim_sleep(sqlite3_vfs*, int micros) { return state().real->xSleep(state().real, micros); }
int shim_current_time(sqlite3_vfs*, double* out) { return state().real->xCurrentTime(state().real, out); }
int shim_last_error(sqlite3_vfs*, int n, char* out) { return state().real->xGetLastError(state().real, n, out); }
int shim_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
    return state().real->xCurrentTimeInt64(state().real, out);
}
int shim_set_system_call(sqlite3_vfs*, const char* name, sqlite3_syscall_ptr call) {
    return state().real->xSetSystemCall(state().real, name, call);
}
sqlite3_syscall_ptr shim_get_system_call(sqlite3_vfs*, const char* name) {
    return state().real->xGetSystemCall(state().real, name);
}
const char* shim_next_system_call(sqlite3_vfs*, const char* name) {
    return state().real->xNextSystemCall(state().real, name);
}

sqlite3_vfs shim_vfs = {
    3,       // iVersion
    0,       // szOsFile, set at registration
    0,       // mxPathname, set at registration
    nullptr, // pNext
    "wangge-powercut",
    nullptr, // pAppData
    shim_open,
    shim_delete,
    shim_access,
    shim_full_pathname,
    shim_dl_open,
    shim_dl_error,
    shim_dl_sym,
    shim_dl_close,
    shim_randomness,
    shim_sleep,
    shim_current_time,
    shim_last_error,
    shim_current_time_int64,
    shim_set_system_call,
    shim_get_system_call,
    shim_next_system_call,
};

long env_number(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::strtol(v, nullptr, 10) : 0;
}

std::string env_text(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

// Registered when the library is loaded, before the program opens any database; at a normal
// exit, what is still held is written (the OS would have written it) and the counts recorded.
struct Registration {
    Registration() {
        State& s = state();
        s.settings.arm_file = env_text("WANGGE_POWERCUT_ARM_FILE");
        s.settings.at_sync = env_number("WANGGE_POWERCUT_AT_SYNC");
        s.settings.at_write = env_number("WANGGE_POWERCUT_AT_WRITE");
        s.settings.torn = std::getenv("WANGGE_POWERCUT_TORN") != nullptr;
        s.settings.torn_seed = static_cast<unsigned>(env_number("WANGGE_POWERCUT_TORN"));
        const std::string level = env_text("WANGGE_POWERCUT_SYNCHRONOUS");
        if (level == "off") s.settings.synchronous = "PRAGMA synchronous=OFF";
        if (level == "normal") s.settings.synchronous = "PRAGMA synchronous=NORMAL";
        s.settings.full_file = env_text("WANGGE_POWERCUT_FULL_FILE");
        s.settings.stats_file = env_text("WANGGE_POWERCUT_STATS");
        s.real = sqlite3_vfs_find(nullptr);
        if (!s.real) return;
        shim_vfs.szOsFile = static_cast<int>(sizeof(ShimFile)) + s.real->szOsFile;
        shim_vfs.mxPathname = s.real->mxPathname;
        sqlite3_vfs_register(&shim_vfs, 1);
    }
    ~Registration() {
        State& s = state();
        std::lock_guard lock(s.mutex);
        for (const auto& [path, p] : s.files) {
            const int fd = ::open(path.c_str(), O_WRONLY);
            if (fd < 0) continue;
            if (p->durable_end != no_limit && ::ftruncate(fd, p->durable_end) != 0) {}
            for (const auto& [offset, bytes] : p->extents)
                write_all(fd, bytes.data(), static_cast<sqlite3_int64>(bytes.size()), offset);
            if (::ftruncate(fd, p->size) != 0) {}
            ::close(fd);
            p->extents.clear();
            p->durable_end = no_limit;
        }
        write_stats(s, "");
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
};

const Registration registration;

} // namespace

// The negative controls run the program as it is with synchronous=OFF or NORMAL: the store's
// own `PRAGMA synchronous=FULL` is rewritten on its way into SQLite, so nothing else changes.
extern "C" int sqlite3_exec(sqlite3* db, const char* sql, int (*callback)(void*, int, char**, char**), void* arg,
                            char** error) {
    using Exec = int (*)(sqlite3*, const char*, int (*)(void*, int, char**, char**), void*, char**);
    static const Exec real_exec = reinterpret_cast<Exec>(dlsym(RTLD_NEXT, "sqlite3_exec"));
    const std::string& instead = state().settings.synchronous;
    if (sql && !instead.empty() && strncasecmp(sql, "PRAGMA synchronous", 18) == 0) sql = instead.c_str();
    return real_exec(db, sql, callback, arg, error);
}

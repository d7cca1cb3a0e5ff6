#pragma once
// The power-loss harness (docs/DURABILITY.md): the real wangge binary run with the power-cut VFS
// preloaded (tests/durability/powercut_vfs.cpp), what the shim recorded, and what a process
// that never had the shim finds in the database afterwards. The target defines WANGGE_BINARY and
// WANGGE_POWERCUT_VFS (the shim's path).
#include "support/process.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifndef WANGGE_POWERCUT_VFS
#error "WANGGE_POWERCUT_VFS must name the power-cut shim (target_compile_definitions)"
#endif

namespace wangge::test::powercut {

// The exit code of a process whose power was cut (powercut_vfs.cpp).
constexpr int cut_exit_code = 86;

// The shim's settings for one run, as its environment variables (WANGGE_POWERCUT_*).
struct Cut {
    long at_sync = 0;      // cut at this xSync after arming, before it syncs
    long at_write = 0;     // cut at this xWrite after arming, before it is written
    int torn_seed = -1;    // >= 0: at the cut a random half of the unsynced sectors lands
    std::string synchronous{}; // "off" or "normal": a negative control (none: as wangge asks, FULL)
    std::filesystem::path arm_file{}; // counting starts when it exists (none: at once)
    std::filesystem::path full_file{};
    std::filesystem::path stats_file{};

    std::string describe() const {
        std::string out = at_sync ? "sync " + std::to_string(at_sync) : "write " + std::to_string(at_write);
        if (!arm_file.empty()) out += " after the trigger";
        if (torn_seed >= 0) out += ", torn (seed " + std::to_string(torn_seed + 1000 * round()) + ")";
        if (!synchronous.empty()) out += ", synchronous=" + synchronous;
        return out;
    }

    // scripts/powercut.sh --rounds: round r (WANGGE_POWERCUT_ROUND) tears each cut with other seeds,
    // so that more rounds try more orders in which a disk could have written the unsynced sectors.
    static int round() {
        const char* r = std::getenv("WANGGE_POWERCUT_ROUND");
        return r ? std::atoi(r) : 0;
    }

    // `/usr/bin/env LD_PRELOAD=... WANGGE_POWERCUT_...=... ` before a command: only the child
    // gets the shim, never the test process.
    std::vector<std::string> prefix() const {
        std::vector<std::string> env{"/usr/bin/env", std::string("LD_PRELOAD=") + WANGGE_POWERCUT_VFS};
        if (at_sync) env.push_back("WANGGE_POWERCUT_AT_SYNC=" + std::to_string(at_sync));
        if (at_write) env.push_back("WANGGE_POWERCUT_AT_WRITE=" + std::to_string(at_write));
        if (torn_seed >= 0) env.push_back("WANGGE_POWERCUT_TORN=" + std::to_string(torn_seed + 1000 * round()));
        if (!synchronous.empty()) env.push_back("WANGGE_POWERCUT_SYNCHRONOUS=" + synchronous);
        if (!arm_file.empty()) env.push_back("WANGGE_POWERCUT_ARM_FILE=" + arm_file.string());
        if (!full_file.empty()) env.push_back("WANGGE_POWERCUT_FULL_FILE=" + full_file.string());
        if (!stats_file.empty()) env.push_back("WANGGE_POWERCUT_STATS=" + stats_file.string());
        return env;
    }
};

// What the shim wrote at exit or at the cut.
struct Stats {
    long writes = 0;
    long syncs = 0;
    long full_refusals = 0;
    std::vector<long> sync_at_write; // the write count at each sync
    std::string cut;                 // where the power went, "" when it did not
};

inline Stats read_stats(const std::filesystem::path& file) {
    Stats s;
    std::ifstream in(file);
    std::string key;
    while (in >> key) {
        if (key == "writes") in >> s.writes;
        else if (key == "syncs") in >> s.syncs;
        else if (key == "full_refusals") in >> s.full_refusals;
        else if (key == "sync_at_write") s.sync_at_write.push_back(0), in >> s.sync_at_write.back();
        else if (key == "cut") std::getline(in >> std::ws, s.cut);
    }
    return s;
}

inline RunResult run_cli(const Cut& cut, const std::vector<std::string>& args) {
    std::vector<std::string> argv = cut.prefix();
    argv.push_back(WANGGE_BINARY);
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
}

// `wangge serve` with the shim preloaded, on a free port.
struct Server {
    Background process;
    unsigned short port = 0;

    Server(const Cut& cut, const std::filesystem::path& db) : process(arguments(cut, db)) {
        const std::string line = process.read_line(60000);
        std::smatch m;
        REQUIRE(std::regex_search(line, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")));
        port = static_cast<unsigned short>(std::stoi(m[1]));
    }

private:
    static std::vector<std::string> arguments(const Cut& cut, const std::filesystem::path& db) {
        std::vector<std::string> argv = cut.prefix();
        for (std::string a : {std::string(WANGGE_BINARY), std::string("serve"), std::string("--db"), db.string(),
                              std::string("--port"), std::string("0"), std::string("--threads"), std::string("2")})
            argv.push_back(std::move(a));
        return argv;
    }
};

// A database copied with nothing beside it: the source was closed cleanly, so its WAL is gone.
inline void copy_database(const std::filesystem::path& from, const std::filesystem::path& to) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(to.string() + suffix);
    std::filesystem::copy_file(from, to);
}

// A connection of the test process itself, which never had the shim: the first to open the file
// after a cut, it recovers the WAL as a restarted machine would.
class Sqlite {
public:
    explicit Sqlite(const std::filesystem::path& db) {
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
        m_db.reset(raw);
        if (rc != SQLITE_OK) FAIL("cannot open " << db << ": " << (raw ? sqlite3_errmsg(raw) : "out of memory"));
    }

    // Every row of `sql`, each column as text (NULL as "\x01NULL").
    std::vector<std::vector<std::string>> rows(const std::string& sql) {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(m_db.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
            FAIL(sql << ": " << sqlite3_errmsg(m_db.get()));
        std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(raw, sqlite3_finalize);
        std::vector<std::vector<std::string>> out;
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
            auto& row = out.emplace_back();
            for (int c = 0; c < sqlite3_column_count(st.get()); ++c) {
                const auto* p = static_cast<const char*>(sqlite3_column_blob(st.get(), c));
                row.emplace_back(sqlite3_column_type(st.get(), c) == SQLITE_NULL
                                     ? std::string("\x01NULL")
                                     : std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(st.get(), c))));
            }
        }
        if (rc != SQLITE_DONE) FAIL(sql << ": " << sqlite3_errmsg(m_db.get()));
        return out;
    }

    std::string one(const std::string& sql) {
        const auto r = rows(sql);
        std::string out;
        for (const auto& row : r)
            for (const auto& v : row) out += (out.empty() ? "" : "; ") + v;
        return out;
    }

private:
    std::unique_ptr<sqlite3, decltype(&sqlite3_close)> m_db{nullptr, sqlite3_close};
};

// The map and its history as rows hashed per table, without timestamps (two runs of the same
// change differ only in when they ran): two databases in the same state have the same value.
using Fingerprint = std::map<std::string, std::string>;

inline Fingerprint fingerprint(Sqlite& db) {
    Fingerprint out;
    for (const std::string table : {"streets", "communities", "grids", "buildings", "roads", "units", "grid_changes",
                                    "grid_history", "grid_change_buildings", "meta"}) {
        std::string columns;
        for (const auto& c : db.rows("PRAGMA table_info(" + table + ")"))
            if (!c[1].ends_with("_at")) columns += (columns.empty() ? "" : ", ") + ("\"" + c[1] + "\"");
        std::uint64_t hash = 1469598103934665603ull; // FNV-1a over every value of every row, in rowid order
        std::size_t count = 0;
        for (const auto& row : db.rows("SELECT " + columns + " FROM " + table + " ORDER BY rowid")) {
            ++count;
            for (const auto& v : row) {
                for (unsigned char ch : v) hash = (hash ^ ch) * 1099511628211ull;
                hash = (hash ^ 0xffu) * 1099511628211ull;
            }
        }
        std::ostringstream s;
        s << count << " rows, " << std::hex << hash;
        out[table] = s.str();
    }
    return out;
}

// PRAGMA integrity_check, and rtreecheck of every spatial index (kept by triggers in the same
// transaction as the rows, so a half-applied change would show there too): "ok" when all are.
inline std::string integrity(Sqlite& db) {
    std::string out = db.one("PRAGMA integrity_check");
    for (const auto& t : db.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%rtree%'")) {
        const std::string r = db.one("SELECT rtreecheck('" + t[0] + "')");
        if (r != "ok") out += "; " + t[0] + ": " + r;
    }
    return out;
}

} // namespace wangge::test::powercut

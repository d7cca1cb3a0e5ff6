#pragma once
// A PostgreSQL cluster of one test alone (scripts/pg-cluster.sh), which the test may stop, start
// again and kill: the shared cluster of WANGGE_TEST_PG_URL is never treated so.
#include "support/process.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace wangge::test {

class PrivateCluster {
public:
    explicit PrivateCluster(const std::string& name = "cluster") {
        std::string pattern = "/tmp/wangge-" + name + "-XXXXXX";
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        m_dir = pattern;
        ::chmod(pattern.c_str(), 0755); // the postgres user, as whom root runs the cluster, must reach it
        m_url = trimmed(script("start"));
        REQUIRE(m_url.starts_with("postgresql://"));
    }
    ~PrivateCluster() {
        run({"/bin/bash", (source_dir / "scripts/pg-cluster.sh").string(), "stop", (m_dir / "pg").string()});
        std::error_code ec;
        std::filesystem::remove_all(m_dir, ec);
    }
    PrivateCluster(const PrivateCluster&) = delete;
    PrivateCluster& operator=(const PrivateCluster&) = delete;

    const std::string& url() const { return m_url; }
    void stop() { script("stop"); }
    // Starts it again on the same port (after a kill, crash recovery replays the WAL; the script
    // clears the lock files a killed postmaster leaves).
    void start() { REQUIRE(trimmed(script("start")) == m_url); }

    // SIGKILL to the postmaster and all its children at once; returns when none runs.
    void kill9() {
        std::ifstream in(m_dir / "pg/data/postmaster.pid");
        int postmaster = 0;
        REQUIRE(in >> postmaster);
        std::vector<int> victims{postmaster};
        for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
            const std::string name = entry.path().filename().string();
            if (name.find_first_not_of("0123456789") != std::string::npos) continue;
            if (parent_of(std::stoi(name)) == postmaster) victims.push_back(std::stoi(name));
        }
        for (const int pid : victims) ::kill(pid, SIGKILL);
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (const int pid : victims)
            while (state_of(pid) != 0 && state_of(pid) != 'Z') {
                REQUIRE(std::chrono::steady_clock::now() < until);
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
    }

private:
    static std::string trimmed(std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
        return s;
    }
    // The process state letter of `pid` in /proc, or 0 when it is gone.
    static char state_of(int pid) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string stat;
        if (!std::getline(in, stat)) return 0;
        const auto close = stat.rfind(')');
        return close == std::string::npos || close + 2 >= stat.size() ? 0 : stat[close + 2];
    }
    static int parent_of(int pid) {
        std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
        std::string stat;
        if (!std::getline(in, stat)) return -1;
        std::istringstream rest(stat.substr(stat.rfind(')') + 2));
        char state = 0;
        int ppid = -1;
        rest >> state >> ppid;
        return ppid;
    }
    std::string script(const std::string& action) {
        const auto r = run({"/bin/bash", (source_dir / "scripts/pg-cluster.sh").string(), action, (m_dir / "pg").string()});
        if (r.exit_code != 0) { // with the server's own words when it would not start
            std::ifstream log(m_dir / "pg/server.log");
            std::ostringstream text;
            text << log.rdbuf();
            FAIL(r.out << r.err << "\n" << text.str());
        }
        return r.out;
    }
    std::filesystem::path m_dir;
    std::string m_url;
};

} // namespace wangge::test

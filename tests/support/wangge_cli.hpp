#pragma once
// The wangge binary in end-to-end tests: run to completion, or served in the background on a
// free port. The test target defines WANGGE_BINARY (the path of the built binary).
#include "support/process.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#ifndef WANGGE_BINARY
#error "WANGGE_BINARY must name the wangge binary (target_compile_definitions)"
#endif

namespace wangge::test {

inline RunResult wangge_cli(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.begin(), WANGGE_BINARY);
    return run(args, input);
}

// Adds a user without a password (`wangge user add ... --no-password`) and returns an API token
// of theirs from `wangge token create`.
inline std::string cli_token(const std::filesystem::path& db, const std::string& name, const std::string& role,
                             const std::vector<std::string>& scopes = {}) {
    std::vector<std::string> add{"user", "add", name, "--role", role, "--no-password", "--db", db.string()};
    for (const auto& s : scopes) add.insert(add.end(), {"--scope", s});
    const RunResult added = wangge_cli(add);
    INFO(added.out << added.err);
    REQUIRE(added.exit_code == 0);
    const RunResult token = wangge_cli({"token", "create", "--user", name, "--db", db.string()});
    INFO(token.err);
    REQUIRE(token.exit_code == 0);
    std::string secret = token.out.substr(0, token.out.find('\n'));
    REQUIRE(secret.starts_with("wgt_"));
    return secret;
}

// `wangge serve --db DB --port 0 --threads 2 [extra...]`; the port is read from the line the
// server prints once it listens.
struct WanggeServer {
    Background process;
    unsigned short port = 0;

    explicit WanggeServer(const std::filesystem::path& db, const std::vector<std::string>& extra = {})
        : process(arguments(db, extra)) {
        const std::string line = process.read_line(60000);
        std::smatch m;
        REQUIRE(std::regex_search(line, m, std::regex(R"(http://127\.0\.0\.1:(\d+)/)")));
        port = static_cast<unsigned short>(std::stoi(m[1]));
    }

private:
    static std::vector<std::string> arguments(const std::filesystem::path& db, const std::vector<std::string>& extra) {
        std::vector<std::string> argv{WANGGE_BINARY, "serve", "--db", db.string(), "--port", "0", "--threads", "2"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return argv;
    }
};

} // namespace wangge::test

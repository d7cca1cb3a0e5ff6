#pragma once
// Runs the wangge binary in tests: to completion (capturing its output), or in the background
// (a server) until stopped with a signal.
#include <string>
#include <vector>

namespace wangge::test {

struct RunResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `argv` (argv[0] is the executable path) with `input` on its standard input, and waits for it.
RunResult run(const std::vector<std::string>& argv, const std::string& input = {});

// A child process whose standard output is readable line by line; killed on destruction.
class Background {
public:
    explicit Background(const std::vector<std::string>& argv);
    ~Background();
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

    // The next line of standard output; throws std::runtime_error after `timeout_ms` or at EOF.
    std::string read_line(int timeout_ms);
    // Sends `sig` and waits; returns the exit code (128 + n when killed by signal n).
    int stop(int sig);

private:
    int m_pid = -1;
    int m_out = -1;
    std::string m_buffer;
};

} // namespace wangge::test

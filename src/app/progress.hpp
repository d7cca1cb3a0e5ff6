#pragma once
// A progress bar for long CLI work. It draws on standard error only when that is a terminal;
// in pipes and CI it stays silent and the command's summary says what happened.
#include <chrono>
#include <cstddef>
#include <string>

namespace wangge::app {

class ProgressBar {
public:
    explicit ProgressBar(std::string label);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    // `total` 0 means unknown: a counter is shown instead of a bar.
    void update(std::size_t done, std::size_t total);
    void set_label(std::string label);
    void finish();

private:
    std::string m_label;
    bool m_enabled;
    bool m_drawn = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last_draw;
};

} // namespace wangge::app

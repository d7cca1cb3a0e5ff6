#include "app/progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace wangge::app {

ProgressBar::ProgressBar(std::string label)
    : m_label(std::move(label)), m_enabled(isatty(fileno(stderr)) == 1), m_start(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::set_label(std::string label) {
    if (label == m_label) return;
    finish();
    m_label = std::move(label);
    m_start = std::chrono::steady_clock::now();
}

void ProgressBar::update(std::size_t done, std::size_t total) {
    if (!m_enabled) return;
    auto now = std::chrono::steady_clock::now();
    // Redraw at most 10 times a second; the final state always draws.
    if (m_drawn && done != total && now - m_last_draw < std::chrono::milliseconds(100)) return;
    m_last_draw = now;
    double seconds = std::chrono::duration<double>(now - m_start).count();
    if (total > 0) {
        constexpr int width = 30;
        double frac = static_cast<double>(done) / static_cast<double>(total);
        if (frac > 1.0) frac = 1.0;
        int filled = static_cast<int>(frac * width);
        std::string bar(static_cast<std::size_t>(filled), '#');
        bar.resize(width, '.');
        std::fprintf(stderr, "\r%-14s [%s] %5.1f%%  %zu/%zu  %.1fs ", m_label.c_str(), bar.c_str(), frac * 100.0,
                     done, total, seconds);
    } else {
        std::fprintf(stderr, "\r%-14s %zu  %.1fs ", m_label.c_str(), done, seconds);
    }
    std::fflush(stderr);
    m_drawn = true;
}

void ProgressBar::finish() {
    if (m_enabled && m_drawn) {
        std::fputc('\n', stderr);
        m_drawn = false;
    }
}

} // namespace wangge::app

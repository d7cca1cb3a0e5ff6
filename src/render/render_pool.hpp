#pragma once
// Rendering on threads of its own. A cold tile costs tens of milliseconds of CPU; the pool caps
// how many render at once, so that a burst of cold tiles cannot take every core from the HTTP
// threads that answer locate and the other cheap requests.
#include "render/renderer.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace wangge::render {

class RenderPool {
public:
    // threads >= 1 render at once; at most queue_capacity renders wait behind them, and submit
    // blocks while the queue is full (back-pressure instead of unbounded memory).
    RenderPool(std::shared_ptr<const Renderer> renderer, std::size_t threads, std::size_t queue_capacity = 256);
    // Renders still queued fail with Error(internal, "render_pool_stopped"); running ones finish.
    ~RenderPool();
    RenderPool(const RenderPool&) = delete;
    RenderPool& operator=(const RenderPool&) = delete;
    RenderPool(RenderPool&&) = delete;
    RenderPool& operator=(RenderPool&&) = delete;

    // Checks the arguments at once (throws as Renderer::require_valid), then queues the render.
    // The future yields the PNG bytes or rethrows the render's Error.
    std::future<std::string> submit(std::string style, const tiles::TileId& tile, int scale);

    // The same, calling done on a pool thread with the bytes, or with the exception; done must
    // not throw.
    using Callback = std::function<void(std::string png, std::exception_ptr error)>;
    void submit(std::string style, const tiles::TileId& tile, int scale, Callback done);

    const Renderer& renderer() const noexcept { return *m_renderer; }
    std::size_t threads() const noexcept { return m_threads.size(); }
    std::size_t queue_capacity() const noexcept { return m_capacity; }

private:
    struct Job {
        std::string style;
        tiles::TileId tile;
        int scale = 1;
        Callback done;
    };

    void enqueue(Job job);
    void run_worker();

    std::shared_ptr<const Renderer> m_renderer;
    std::size_t m_capacity;
    std::mutex m_mutex;
    std::condition_variable m_has_work;
    std::condition_variable m_has_room;
    std::deque<Job> m_queue;
    bool m_stopping = false;
    std::vector<std::thread> m_threads;
};

} // namespace wangge::render

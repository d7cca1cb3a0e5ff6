#include "render/render_pool.hpp"

#include "core/error.hpp"

#include <algorithm>

namespace wangge::render {

RenderPool::RenderPool(std::shared_ptr<const Renderer> renderer, std::size_t threads, std::size_t queue_capacity)
    : m_renderer(std::move(renderer)), m_capacity(std::max<std::size_t>(queue_capacity, 1)) {
    if (!m_renderer) throw Error(ErrorKind::internal, "no_renderer", "RenderPool needs a renderer");
    threads = std::max<std::size_t>(threads, 1);
    m_threads.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) m_threads.emplace_back([this] { run_worker(); });
}

RenderPool::~RenderPool() {
    std::deque<Job> abandoned;
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
        abandoned.swap(m_queue);
    }
    m_has_work.notify_all();
    m_has_room.notify_all();
    for (auto& thread : m_threads) thread.join();
    for (auto& job : abandoned)
        job.done({}, std::make_exception_ptr(Error(ErrorKind::internal, "render_pool_stopped",
                                                   "the render pool stopped before rendering " + tiles::to_string(job.tile))));
}

std::future<std::string> RenderPool::submit(std::string style, const tiles::TileId& tile, int scale) {
    auto promise = std::make_shared<std::promise<std::string>>();
    std::future<std::string> result = promise->get_future();
    submit(std::move(style), tile, scale, [promise](std::string png, std::exception_ptr error) {
        if (error)
            promise->set_exception(error);
        else
            promise->set_value(std::move(png));
    });
    return result;
}

void RenderPool::submit(std::string style, const tiles::TileId& tile, int scale, Callback done) {
    // Bad input fails in the caller's thread and never takes a place in the queue.
    m_renderer->require_valid(style, tile, scale);
    enqueue(Job{std::move(style), tile, scale, std::move(done)});
}

void RenderPool::enqueue(Job job) {
    {
        std::unique_lock lock(m_mutex);
        m_has_room.wait(lock, [this] { return m_stopping || m_queue.size() < m_capacity; });
        if (m_stopping)
            throw Error(ErrorKind::internal, "render_pool_stopped", "the render pool is shutting down");
        m_queue.push_back(std::move(job));
    }
    m_has_work.notify_one();
}

void RenderPool::run_worker() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(m_mutex);
            m_has_work.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
            if (m_stopping) return;
            job = std::move(m_queue.front());
            m_queue.pop_front();
        }
        m_has_room.notify_one();
        std::string png;
        std::exception_ptr error;
        try {
            png = m_renderer->render_png(job.style, job.tile, job.scale);
        } catch (...) {
            error = std::current_exception();
        }
        job.done(std::move(png), error);
    }
}

} // namespace wangge::render

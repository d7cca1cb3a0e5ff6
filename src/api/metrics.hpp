#pragma once
// The server's metrics in the Prometheus text format, for GET /metrics (docs/OPERATIONS.md):
// requests, their latency and their errors per route class and method; values read when scraped
// (the snapshot's version, the tile caches, the group commit) through gauges set by callbacks.
// prometheus-cpp (core) holds and serialises them; its types stay in metrics.cpp.
#include "api/endpoints.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace wangge::api {

class Metrics {
public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // One answered request: the class of its route (api::Access), its method, the status sent
    // and the seconds from its arrival to its answer (a deferred answer included).
    void observe(std::string_view route, std::string_view method, int status, double seconds);

    // A gauge whose value `read` gives when /metrics is scraped (a snapshot's version, a cache's
    // hits). `name` follows Prometheus' conventions (wangge_..., a unit suffix); an optional
    // label pair tells series of one name apart (`{cache="mvt"}`).
    void add_gauge(const std::string& name, const std::string& help, std::function<double()> read,
                   const std::string& label = {}, const std::string& label_value = {});

    using Labels = std::map<std::string, std::string>;

    // Adds `by` to the counter `name` with these labels, made on first use (events counted where
    // they happen: a report filed, a workflow step taken). Label values must come from small
    // fixed sets, never from what a client sent.
    void increment(const std::string& name, const std::string& help, const Labels& labels = {}, double by = 1);

    // A counter whose running total another part keeps (seconds spent in transactions) and
    // `read` gives when /metrics is scraped; it must never go down.
    void add_counter(const std::string& name, const std::string& help, std::function<double()> read,
                     const Labels& labels = {});

    // Every metric, in the Prometheus text exposition format 0.0.4.
    std::string text() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// GET /metrics (the access check lets admins only through, Access::metrics).
class MetricsEndpoints final : public Endpoints {
public:
    explicit MetricsEndpoints(std::shared_ptr<const Metrics> metrics) : m_metrics(std::move(metrics)) {}
    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    std::shared_ptr<const Metrics> m_metrics;
};

} // namespace wangge::api

#include "api/metrics.hpp"

#include "core/error.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

namespace wangge::api {

namespace {

// Status classes rather than every status keep the series few: 2xx, 3xx, 4xx, 5xx.
std::string status_class(int status) { return std::to_string(status / 100) + "xx"; }

std::string method_label(std::string_view method) {
    for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
        if (method == known) return std::string(method);
    return "other"; // a client's made-up method must not make a series of its own
}

} // namespace

struct Metrics::Impl {
    prometheus::Registry registry;
    prometheus::Family<prometheus::Counter>& requests =
        prometheus::BuildCounter()
            .Name("wangge_http_requests_total")
            .Help("HTTP requests answered, by route class, method and status class")
            .Register(registry);
    prometheus::Family<prometheus::Histogram>& latency =
        prometheus::BuildHistogram()
            .Name("wangge_http_request_duration_seconds")
            .Help("Time from a request's arrival to its answer, by route class")
            .Register(registry);
    const prometheus::Histogram::BucketBoundaries buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                          0.05,   0.1,   0.25,   0.5,   1,    2.5, 5};
    struct Gauge {
        prometheus::Gauge* gauge;
        std::function<double()> read;
    };
    struct TotalRead {
        prometheus::Counter* counter;
        std::function<double()> read;
        double last = 0;
    };
    std::map<std::string, prometheus::Family<prometheus::Gauge>*> gauge_families;
    std::map<std::string, prometheus::Family<prometheus::Counter>*> counter_families;
    std::vector<Gauge> gauges;
    std::vector<TotalRead> totals;

    prometheus::Family<prometheus::Counter>& counter_family(const std::string& name, const std::string& help) {
        auto& family = counter_families[name];
        if (!family) family = &prometheus::BuildCounter().Name(name).Help(help).Register(registry);
        return *family;
    }
    mutable std::mutex mutex; // the callbacks' list and their reading at a scrape
};

Metrics::Metrics() : m_impl(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::observe(std::string_view route, std::string_view method, int status, double seconds) {
    const std::string route_label(route);
    // prometheus-cpp's families are thread-safe: Add finds or makes the series under their lock.
    m_impl->requests.Add({{"route", route_label}, {"method", method_label(method)}, {"status", status_class(status)}})
        .Increment();
    m_impl->latency.Add({{"route", route_label}}, m_impl->buckets).Observe(seconds);
}

void Metrics::add_gauge(const std::string& name, const std::string& help, std::function<double()> read,
                        const std::string& label, const std::string& label_value) {
    std::lock_guard lock(m_impl->mutex);
    auto& family = m_impl->gauge_families[name];
    if (!family) family = &prometheus::BuildGauge().Name(name).Help(help).Register(m_impl->registry);
    prometheus::Labels labels;
    if (!label.empty()) labels.emplace(label, label_value);
    m_impl->gauges.push_back({&family->Add(labels), std::move(read)});
}

void Metrics::increment(const std::string& name, const std::string& help, const Labels& labels, double by) {
    prometheus::Counter* counter = nullptr;
    {
        std::lock_guard lock(m_impl->mutex); // the map of families; the series' Add has its own lock
        counter = &m_impl->counter_family(name, help).Add(prometheus::Labels(labels.begin(), labels.end()));
    }
    counter->Increment(by);
}

void Metrics::add_counter(const std::string& name, const std::string& help, std::function<double()> read,
                          const Labels& labels) {
    std::lock_guard lock(m_impl->mutex);
    auto& counter = m_impl->counter_family(name, help).Add(prometheus::Labels(labels.begin(), labels.end()));
    m_impl->totals.push_back({&counter, std::move(read), 0});
}

std::string Metrics::text() const {
    {
        std::lock_guard lock(m_impl->mutex);
        for (const auto& g : m_impl->gauges) g.gauge->Set(g.read());
        // prometheus-cpp's counters only go up by an amount: they take what was added since.
        for (auto& t : m_impl->totals) {
            const double now = t.read();
            if (now > t.last) t.counter->Increment(now - t.last);
            t.last = std::max(now, t.last);
        }
    }
    return prometheus::TextSerializer().Serialize(m_impl->registry.Collect());
}

std::optional<Response> MetricsEndpoints::handle(const Request& req, const grid::Snapshot&) const {
    if (req.path != "/metrics") return std::nullopt;
    if (req.method != "GET" && req.method != "HEAD")
        throw Error(ErrorKind::method_not_allowed, "method_not_allowed", "/metrics answers GET and HEAD");
    Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = m_metrics->text();
    r.set_header("Cache-Control", "no-store");
    return r;
}

} // namespace wangge::api

#include "core/log.hpp"

#include "core/error.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>

namespace wangge::log {

namespace {

// The request being answered on this thread, and the fields of the access line being written.
thread_local std::string t_request_id;
thread_local const nlohmann::json* t_fields = nullptr;
std::atomic<Format> g_format{Format::text};

std::string utc_time(spdlog::log_clock::time_point at) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[40];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string(text, n) + fmt::format(".{:06d}Z", micros % 1000000);
}

// One JSON object per line: time (UTC, microseconds), level, msg, the request's id when there is
// one, then the access line's fields. Text that is not UTF-8 is kept with U+FFFD in its place.
class JsonFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        nlohmann::json line = {{"time", utc_time(msg.time)},
                               {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                                     spdlog::level::to_string_view(msg.level).size())},
                               {"msg", std::string(msg.payload.data(), msg.payload.size())}};
        if (!t_request_id.empty()) line["request_id"] = t_request_id;
        if (t_fields)
            for (const auto& [key, value] : t_fields->items()) line[key] = value;
        const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(text.data(), text.data() + text.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// spdlog's own text, with " [request ID]" after the message while a request is answered.
class RequestIdFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
        if (t_request_id.empty()) return;
        dest.append(std::string_view(" [request "));
        dest.append(std::string_view(t_request_id));
        dest.push_back(']');
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<RequestIdFlag>(); }
};

} // namespace

Format parse_format(std::string_view name) {
    if (name == "text") return Format::text;
    if (name == "json") return Format::json;
    throw Error(ErrorKind::bad_request, "invalid_option", "--log-format is text or json, not '" + std::string(name) + "'");
}

void setup(Format format, std::ostream* to) {
    std::shared_ptr<spdlog::logger> logger;
    if (to)
        logger = std::make_shared<spdlog::logger>("wangge", std::make_shared<spdlog::sinks::ostream_sink_mt>(*to, true));
    else if (format == Format::json) // a collector reads it: no colour codes
        logger = std::make_shared<spdlog::logger>("wangge", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    else
        logger = std::make_shared<spdlog::logger>("wangge", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    if (format == Format::json) {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        auto text = std::make_unique<spdlog::pattern_formatter>();
        text->add_flag<RequestIdFlag>('Q').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v%Q");
        logger->set_formatter(std::move(text));
    }
    spdlog::set_default_logger(std::move(logger));
    g_format = format;
}

const std::string& current_request_id() noexcept { return t_request_id; }

RequestScope::RequestScope(std::string request_id) : m_outer(std::move(t_request_id)) {
    t_request_id = std::move(request_id);
}

RequestScope::~RequestScope() { t_request_id = std::move(m_outer); }

void access(const Access& a) {
    if (!spdlog::should_log(spdlog::level::info)) return;
    const nlohmann::json fields = {{"request_id", a.request_id}, {"method", a.method},  {"target", a.target},
                                   {"remote", a.remote},         {"status", a.status},  {"bytes", a.bytes},
                                   {"duration_us", a.micros}};
    // The JSON formatter adds the fields; text shows them in the message. The id is a field of
    // its own here, so the scope's copy is left out of this line.
    RequestScope none{std::string()};
    t_fields = &fields;
    try {
        if (g_format.load() == Format::json)
            spdlog::info("request");
        else
            spdlog::info("{} {} {} {} {} id={}", a.method, a.target, a.status, a.bytes, a.micros, a.request_id);
    } catch (...) {
        t_fields = nullptr;
        throw;
    }
    t_fields = nullptr;
}

} // namespace wangge::log

#pragma once
// The process's log (docs/OPERATIONS.md, "Logs"): lines on standard error, as text for a person
// at a terminal or as one JSON object per line for a log collector (`serve --log-format json`).
// A line written while a request is being answered on this thread carries the request's id, the
// one its answer names in X-Request-Id; the access log writes one line per request with its
// figures as fields. spdlog writes the lines; its types stay in log.cpp.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

namespace wangge::log {

enum class Format { text, json };

// "text" or "json"; Error(bad_request, "invalid_option") otherwise.
Format parse_format(std::string_view name);

// Makes the default logger write `format` to standard error, or to `to` when given (tests).
void setup(Format format, std::ostream* to = nullptr);

// While alive, lines logged on this thread carry `request_id` (JSON: a field; text: a suffix).
// Scopes nest; the outer id returns when an inner scope ends.
class RequestScope {
public:
    explicit RequestScope(std::string request_id);
    ~RequestScope();
    RequestScope(const RequestScope&) = delete;
    RequestScope& operator=(const RequestScope&) = delete;

private:
    std::string m_outer;
};

// The id of the request being answered on this thread; "" outside a RequestScope.
const std::string& current_request_id() noexcept;

// One answered request, for the access log.
struct Access {
    std::string_view request_id;
    std::string_view method;
    std::string_view target; // as api::loggable_target leaves it: no secrets in the query
    std::string_view remote;
    int status = 0;
    std::size_t bytes = 0;
    std::int64_t micros = 0;
};
// Writes the access line at level info: JSON fields "request_id", "method", "target", "remote",
// "status", "bytes", "duration_us" with the message "request"; text "METHOD target status bytes
// µs id=...".
void access(const Access& a);

} // namespace wangge::log

#pragma once
// The one exception type Wangge code throws for expected failures. The HTTP boundary maps
// `ErrorKind` to a status code and `code()` to the machine-readable "code" of the JSON error
// envelope; the CLI prints `what()`.
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace wangge {

enum class ErrorKind {
    bad_request,        // malformed input: 400
    not_found,          // unknown code or path: 404
    unauthorized,       // missing or wrong credentials: 401
    forbidden,          // not allowed here (a read-only server): 403
    method_not_allowed, // 405
    conflict,           // stale version, duplicate: 409
    payload_too_large,  // 413
    unsupported_media_type, // a write whose body is not JSON: 415
    unprocessable,      // well-formed but invalid (geometry, code that does not fit): 422
    too_many_requests,  // too many attempts (sign-in): 429
    unavailable,        // busy for now, retry later: 503
    io,                 // unreadable file, database failure
    internal,           // a bug
};

std::string_view to_string(ErrorKind kind) noexcept;
int http_status(ErrorKind kind) noexcept;

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string code, const std::string& message)
        : std::runtime_error(message), m_kind(kind), m_code(std::move(code)) {}

    ErrorKind kind() const noexcept { return m_kind; }
    // Short machine-readable reason, e.g. "invalid_code", "out_of_range".
    const std::string& code() const noexcept { return m_code; }
    // For too_many_requests and unavailable: when to try again (the Retry-After header).
    int retry_after_seconds() const noexcept { return m_retry_after; }
    Error&& with_retry_after(int seconds) && noexcept {
        m_retry_after = seconds;
        return std::move(*this);
    }

private:
    ErrorKind m_kind;
    std::string m_code;
    int m_retry_after = 1;
};

} // namespace wangge

#include "core/error.hpp"

namespace wangge {

std::string_view to_string(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::bad_request: return "bad_request";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::unauthorized: return "unauthorized";
    case ErrorKind::forbidden: return "forbidden";
    case ErrorKind::method_not_allowed: return "method_not_allowed";
    case ErrorKind::conflict: return "conflict";
    case ErrorKind::payload_too_large: return "payload_too_large";
    case ErrorKind::unsupported_media_type: return "unsupported_media_type";
    case ErrorKind::too_many_requests: return "too_many_requests";
    case ErrorKind::unprocessable: return "unprocessable";
    case ErrorKind::unavailable: return "unavailable";
    case ErrorKind::io: return "io";
    case ErrorKind::internal: return "internal";
    }
    return "internal";
}

int http_status(ErrorKind kind) noexcept {
    switch (kind) {
    case ErrorKind::bad_request: return 400;
    case ErrorKind::not_found: return 404;
    case ErrorKind::unauthorized: return 401;
    case ErrorKind::forbidden: return 403;
    case ErrorKind::method_not_allowed: return 405;
    case ErrorKind::conflict: return 409;
    case ErrorKind::payload_too_large: return 413;
    case ErrorKind::unsupported_media_type: return 415;
    case ErrorKind::too_many_requests: return 429;
    case ErrorKind::unprocessable: return 422;
    case ErrorKind::unavailable: return 503;
    case ErrorKind::io: return 500;
    case ErrorKind::internal: return 500;
    }
    return 500;
}

} // namespace wangge

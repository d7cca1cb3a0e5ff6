#include "api/message.hpp"

#include "core/log.hpp"
#include "core/text.hpp"
#include "core/utf8.hpp"

#include <atomic>
#include <cctype>
#include <future>
#include <random>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace wangge::api {

std::optional<std::string_view> Request::param(std::string_view name) const {
    std::optional<std::string_view> found;
    for (const auto& [k, v] : query)
        if (k == name) found = v;
    return found;
}

std::optional<std::string_view> Request::header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
        if (k == lower_name) return v;
    return std::nullopt;
}

bool Request::not_modified(std::string_view etag) const {
    auto value = header("if-none-match");
    if (!value) return false;
    std::string_view rest = *value;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view item = trim(rest.substr(0, comma));
        if (item.substr(0, 2) == "W/") item.remove_prefix(2);
        if (item == "*" || item == etag) return true;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return false;
}

void Response::set_header(std::string name, std::string value) {
    for (auto& [k, v] : headers)
        if (k == name) {
            v = std::move(value);
            return;
        }
    headers.emplace_back(std::move(name), std::move(value));
}

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
} // namespace

std::string percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
            int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                throw Error(ErrorKind::bad_request, "bad_encoding",
                            "malformed percent-encoding at position " + std::to_string(i) + " of '" +
                                std::string(text) + "'");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return out;
}

namespace {
std::string decode_utf8(std::string_view text, bool plus_is_space, std::string_view what) {
    std::string out = percent_decode(text, plus_is_space);
    if (!is_valid_utf8(out))
        throw Error(ErrorKind::bad_request, "bad_encoding",
                    "the " + std::string(what) + " decodes to bytes that are not UTF-8");
    return out;
}
} // namespace

std::string loggable_target(std::string_view target) {
    std::string out(target);
    const auto query = out.find('?');
    if (query == std::string::npos) return out;
    for (auto at = query; at < out.size();) {
        const auto end = std::min(out.find('&', at + 1), out.size());
        // Secrets in the query: Open311's api_key and a resident's receipt, their names compared
        // decoded as make_request decodes them ("api%5Fkey" is api_key too).
        std::size_t name = 0;
        if (const auto eq = out.find('=', at + 1); eq < end) {
            std::string decoded;
            try {
                decoded = percent_decode(std::string_view(out).substr(at + 1, eq - at - 1), true);
            } catch (const Error&) {
                // a malformed name: make_request refuses the request, nothing in it is a credential
            }
            if (decoded == "api_key" || decoded == "receipt") name = eq - at;
        }
        if (name > 0) {
            out.replace(at + 1 + name, end - at - 1 - name, "***");
            at += 1 + name + 3;
        } else {
            at = end;
        }
    }
    return out;
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view text, std::string_view what) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!text.empty()) {
        const auto amp = text.find('&');
        const std::string_view pair = text.substr(0, amp);
        if (!pair.empty()) {
            const auto eq = pair.find('=');
            std::string key = decode_utf8(pair.substr(0, eq), true, what);
            std::string value = eq == std::string_view::npos ? std::string() : decode_utf8(pair.substr(eq + 1), true, what);
            out.emplace_back(std::move(key), std::move(value));
        }
        if (amp == std::string_view::npos) break;
        text.remove_prefix(amp + 1);
    }
    return out;
}

Request make_request(std::string method, std::string_view target) {
    Request r;
    r.method = std::move(method);
    r.target = std::string(target);
    auto q = target.find('?');
    r.path = decode_utf8(target.substr(0, q), false, "path");
    if (q == std::string_view::npos) {
        r.route = parse_route(r.method, r.path, {});
        return r;
    }
    r.query = parse_form(target.substr(q + 1), "query");
    const bool open311 = r.path.starts_with("/open311/");
    r.route = parse_route(r.method, r.path, r.param("parent").value_or(""),
                          r.param(open311 ? "jurisdiction_id" : "code").value_or(""));
    return r;
}

Response error_response(int status, std::string_view code, std::string_view message) {
    Response res;
    res.status = status;
    // A message may quote the request (a malformed form names the text it could not decode):
    // bytes that are not UTF-8 are replaced, for dump() would throw on them.
    res.body = nlohmann::json{{"code", code}, {"message", message}}.dump(-1, ' ', false,
                                                                        nlohmann::json::error_handler_t::replace);
    return res;
}

Response error_response(const Error& e) {
    // A database that cannot be reached is named in the message (host, port, libpq's words):
    // the log keeps that, the client hears only that it is unavailable for now.
    const bool database_down = e.kind() == ErrorKind::unavailable &&
                               (e.code().starts_with("db_") || e.code().starts_with("pg_") || e.code() == "database");
    if (database_down) {
        spdlog::warn("answered 503: {} ({})", e.what(), e.code());
        Response r = error_response(503, "database_unavailable", "the database is unavailable; try again shortly");
        r.set_header("Retry-After", std::to_string(e.retry_after_seconds()));
        return r;
    }
    // A full disk: the log names the file and the statement, the client only hears to come back.
    if (e.kind() == ErrorKind::unavailable && e.code() == "disk_full") {
        spdlog::error("answered 503: {} ({})", e.what(), e.code());
        Response r = error_response(503, "disk_full", "the server's storage is full; try again later");
        r.set_header("Retry-After", std::to_string(e.retry_after_seconds()));
        return r;
    }
    // A file made read-only under the server: the store's words may quote a statement. Not
    // logged per write: the server says it once when the file changes (Writer::file_fault).
    if (e.kind() == ErrorKind::unavailable && e.code() == "database_read_only") {
        Response r = error_response(503, "database_read_only",
                                    "the database file is read-only: writes are refused until it can be written again");
        r.set_header("Retry-After", std::to_string(e.retry_after_seconds()));
        return r;
    }
    Response r = error_response(http_status(e.kind()), e.code(), e.what());
    if (e.kind() == ErrorKind::method_not_allowed) r.set_header("Allow", "GET, HEAD");
    if (e.kind() == ErrorKind::unavailable || e.kind() == ErrorKind::too_many_requests)
        r.set_header("Retry-After", std::to_string(e.retry_after_seconds()));
    if (e.kind() == ErrorKind::unauthorized) r.set_header("WWW-Authenticate", "Bearer realm=\"wangge\"");
    return r;
}

namespace {

// Ids that tie a 500 answer to its log line: a random start per process, then counting.
std::string next_request_id() {
    static std::atomic<std::uint64_t> counter{std::random_device{}() * 0x9E3779B97F4A7C15ull};
    return fmt::format("{:016x}", counter.fetch_add(1, std::memory_order_relaxed));
}

Response internal_error(std::string_view context, std::string_view detail) {
    // The request being answered on this thread (log::RequestScope) names the line and the answer.
    std::string id = log::current_request_id();
    if (id.empty()) id = next_request_id();
    spdlog::error("request {}: {}: {}", id, context, detail);
    Response r = json_response(
        nlohmann::json{{"code", "internal"}, {"message", "internal error; the server log has the details under request id " + id},
                       {"request_id", id}}
            .dump(),
        500);
    r.set_header("X-Request-Id", id);
    return r;
}

} // namespace

Response error_response(const std::exception_ptr& error, std::string_view context) {
    try {
        std::rethrow_exception(error);
    } catch (const Error& e) {
        if (http_status(e.kind()) < 500 || e.kind() == ErrorKind::unavailable) return error_response(e);
        return internal_error(context, std::string(e.what()) + " (" + e.code() + ")");
    } catch (const std::exception& e) {
        return internal_error(context, e.what());
    } catch (...) {
        return internal_error(context, "an exception that is not a std::exception");
    }
}

std::string request_origin(const Request& req) {
    if (!req.public_origin.empty()) return std::string(req.public_origin);
    const auto host = req.header("host");
    if (!host || host->empty() || host->size() > 255) return {};
    for (char c : *host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return {};
    const bool https = iequals(trim(req.header("x-forwarded-proto").value_or("")), "https");
    return std::string(https ? "https://" : "http://") + std::string(*host);
}

std::string public_origin_of(std::string_view url) {
    auto refuse = [&](std::string_view why) -> std::string {
        throw Error(ErrorKind::bad_request, "invalid_public_url",
                    "public URL '" + std::string(url) + "': " + std::string(why) +
                        " (expected http[s]://host[:port][/path])");
    };
    std::string_view rest = url;
    if (rest.starts_with("http://")) rest.remove_prefix(7);
    else if (rest.starts_with("https://")) rest.remove_prefix(8);
    else return refuse("the scheme must be http or https");
    const std::size_t slash = rest.find('/');
    const std::string_view authority = rest.substr(0, slash);
    if (authority.empty()) return refuse("no host");
    for (char c : authority)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return refuse("the host may hold letters, digits, '.', '-', a port and [IPv6] only");
    const std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
    for (char c : path)
        if (c == '?' || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' || static_cast<unsigned char>(c) <= ' ')
            return refuse("the path may not hold a query, a fragment, spaces or quotes");
    std::string out(url);
    while (out.ends_with('/')) out.pop_back();
    return out;
}

std::string request_id_for(std::optional<std::string_view> sent) {
    const auto usable = [](std::string_view id) {
        if (id.empty() || id.size() > 64) return false;
        for (char c : id)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '-'))
                return false;
        return true;
    };
    if (sent && usable(*sent)) return std::string(*sent);
    return next_request_id();
}

Response wait(Response r) {
    if (!r.deferred) return r;
    std::promise<Response> done;
    std::future<Response> answer = done.get_future();
    auto deferred = std::move(r.deferred);
    deferred([&done](Response final) { done.set_value(std::move(final)); });
    return answer.get();
}

Response json_response(std::string body, int status) {
    Response res;
    res.status = status;
    res.body = std::move(body);
    return res;
}

} // namespace wangge::api

#include "api/account_endpoints.hpp"

#include "api/header_values.hpp"
#include "api/params.hpp"
#include "core/codes.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

#include <nlohmann/json.hpp>

namespace wangge::api {

namespace {

// A sign-in body holds a name and a password; anything much larger is not one.
constexpr std::size_t max_sign_in_body = 4096;

nlohmann::json user_json(const auth::Principal& p) {
    return {{"name", p.name},
            {"display_name", p.display_name},
            {"role", auth::to_string(p.role)},
            {"scopes", p.scopes}};
}

nlohmann::json session_json(const auth::Principal& p) {
    return {{"authenticated", true},
            {"via", p.via == auth::Via::cookie ? "cookie" : "token"},
            {"expires_at", p.expires_at},
            {"user", user_json(p)}};
}

// Secure behind https, so the cookie never travels in the clear once the site is served safely.
bool served_over_https(const Request& req) { return request_origin(req).starts_with("https://"); }

std::string cookie_header(bool https, std::string_view value, long max_age) {
    std::string cookie = std::string(session_cookie) + "=" + std::string(value) +
                         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
    if (https) cookie += "; Secure";
    return cookie;
}

// A sign-in: what answering needs of the request, kept past it when the answer comes later.
struct Attempt {
    std::shared_ptr<auth::Accounts> accounts;
    std::string user, password, address, request_id;
    bool https = false;
};

// A refused sign-in, with the name tried and the reason for the audit log.
Response refused(const Attempt& a, const Error& e) {
    Response r = error_response(e);
    AuditNote note;
    note.user = a.user;
    note.detail = e.what();
    r.audit = note;
    return r;
}

// Checks the password (a tenth of a second on purpose) and opens the session.
Response answer_sign_in(const Attempt& a) {
    try {
        const auth::SignedIn done = a.accounts->sign_in(a.user, a.password, a.address);
        Response r = json_response(session_json(done.principal).dump());
        r.set_header("Set-Cookie", cookie_header(a.https, done.secret, a.accounts->session_lifetime().count()));
        r.set_header("Cache-Control", "no-store");
        AuditNote note;
        note.user = a.user;
        r.audit = note;
        return r;
    } catch (const Error& e) {
        return refused(a, e);
    }
}

std::optional<std::string> time_param(const Request& req, std::string_view name) {
    const auto text = req.param(name);
    if (!text) return std::nullopt;
    const auto t = parse_utc(*text);
    if (!t)
        throw Error(ErrorKind::bad_request, "invalid_parameter",
                    std::string(name) + "='" + std::string(*text) + "' is not a UTC date (2026-12-04) or time (2026-12-04T08:00:00Z)");
    return format_utc(*t);
}

} // namespace

std::string principal_json(const auth::Principal& p) { return user_json(p).dump(); }

AccountEndpoints::AccountEndpoints(std::shared_ptr<auth::Accounts> accounts, AccessOptions access,
                                   std::shared_ptr<auth::PasswordPool> passwords)
    : m_accounts(std::move(accounts)), m_access(std::move(access)), m_passwords(std::move(passwords)) {}

std::optional<Response> AccountEndpoints::handle(const Request& req, const grid::Snapshot&) const {
    if (req.path == "/api/v1/session") {
        if (req.method == "POST") return sign_in(req);
        if (req.method == "DELETE") return sign_out(req);
        return session(req);
    }
    if (req.path == "/api/v1/audit") return audit(req);
    return std::nullopt;
}

Response AccountEndpoints::session(const Request& req) const {
    Response r;
    if (req.principal) {
        r = json_response(session_json(*req.principal).dump());
    } else {
        nlohmann::json anonymous = nlohmann::json::array();
        for (Access a : m_access.anonymous_read) anonymous.push_back(to_string(a));
        r = json_response(nlohmann::json{{"authenticated", false}, {"anonymous_read", anonymous}}.dump());
    }
    // Who is signed in changes without the URL changing: never from a cache.
    r.set_header("Cache-Control", "no-store");
    return r;
}

Response AccountEndpoints::sign_in(const Request& req) const {
    if (req.body.size() > max_sign_in_body)
        throw Error(ErrorKind::payload_too_large, "payload_too_large",
                    "a sign-in body holds a user name and a password, at most " + std::to_string(max_sign_in_body) + " bytes");
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("user") || !body.contains("password") ||
        !body["user"].is_string() || !body["password"].is_string())
        throw Error(ErrorKind::bad_request, "invalid_body", "sign in with a JSON object {\"user\": ..., \"password\": ...}");
    auto attempt = std::make_shared<const Attempt>(Attempt{m_accounts, body["user"].get<std::string>(),
                                                           body["password"].get<std::string>(), req.remote_address,
                                                           req.request_id, served_over_https(req)});
    if (!m_passwords) return answer_sign_in(*attempt);
    // Past the sign-in limits: refused at once, without a place in the password pool's queue.
    try {
        m_accounts->refuse_if_blocked(attempt->user, attempt->address);
    } catch (const Error& e) {
        return refused(*attempt, e);
    }
    // The pool outlives every request (the server is stopped before the families go), so the
    // deferred work holds a plain pointer: a task must never hold the last reference to its pool.
    Response later;
    later.deferred = [pool = m_passwords.get(), attempt](Completion done) {
        try {
            pool->submit([attempt, done] {
                const log::RequestScope scope(attempt->request_id); // answered on a pool thread
                Response r;
                try {
                    r = answer_sign_in(*attempt);
                } catch (...) { // the store failed: 503 or 500, the internals logged, not answered
                    r = error_response(std::current_exception(), "POST /api/v1/session");
                }
                done(std::move(r));
            });
        } catch (const Error& e) { // too many waiting: 503 with Retry-After, audited with the name
            done(refused(*attempt, e));
        }
    };
    return later;
}

Response AccountEndpoints::sign_out(const Request& req) const {
    if (const auto cookie = req.header("cookie"))
        if (const auto secret = cookie_value(*cookie, session_cookie)) m_accounts->sign_out(*secret);
    Response r;
    r.status = 204;
    r.content_type.clear();
    r.set_header("Set-Cookie", cookie_header(served_over_https(req), "", 0));
    return r;
}

Response AccountEndpoints::audit(const Request& req) const {
    store::AuditFilter f;
    if (auto v = req.param("user")) f.user = std::string(*v);
    if (auto v = req.param("code")) {
        if (!level_of_code(*v))
            throw Error(ErrorKind::bad_request, "invalid_code", "code '" + std::string(*v) + "' is not a division code");
        f.code = std::string(*v);
    }
    if (auto v = req.param("action")) f.action = std::string(*v);
    f.since = time_param(req, "since");
    f.until = time_param(req, "until");
    f.limit = static_cast<int>(optional_long(req, "limit", 1, 1000).value_or(100));
    f.offset = static_cast<int>(optional_long(req, "offset", 0, 100000000).value_or(0));
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& a : m_accounts->list_audit(f)) {
        nlohmann::json e{{"id", a.id},       {"at", a.at},           {"user", a.user},     {"action", a.action},
                         {"outcome", a.outcome}, {"status", a.status}, {"method", a.method}, {"target", a.target},
                         {"codes", a.codes}, {"address", a.address}, {"detail", a.detail}};
        e["base_version"] = a.base_version ? nlohmann::json(*a.base_version) : nlohmann::json(nullptr);
        e["data_version"] = a.data_version ? nlohmann::json(*a.data_version) : nlohmann::json(nullptr);
        entries.push_back(std::move(e));
    }
    return json_response(nlohmann::json{{"entries", entries}, {"limit", f.limit}, {"offset", f.offset}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace));
}

} // namespace wangge::api

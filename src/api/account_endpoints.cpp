#include "api/account_endpoints.hpp"

#include "api/header_values.hpp"
#include "api/params.hpp"
#include "core/codes.hpp"
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
std::string cookie_header(const Request& req, std::string_view value, long max_age) {
    std::string cookie = std::string(session_cookie) + "=" + std::string(value) +
                         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age);
    if (request_origin(req).starts_with("https://")) cookie += "; Secure";
    return cookie;
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

AccountEndpoints::AccountEndpoints(std::shared_ptr<auth::Accounts> accounts, AccessOptions access)
    : m_accounts(std::move(accounts)), m_access(std::move(access)) {}

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
    if (req.principal) return json_response(session_json(*req.principal).dump());
    nlohmann::json anonymous = nlohmann::json::array();
    for (Access a : m_access.anonymous_read) anonymous.push_back(to_string(a));
    return json_response(nlohmann::json{{"authenticated", false}, {"anonymous_read", anonymous}}.dump());
}

Response AccountEndpoints::sign_in(const Request& req) const {
    if (req.body.size() > max_sign_in_body)
        throw Error(ErrorKind::payload_too_large, "payload_too_large",
                    "a sign-in body holds a user name and a password, at most " + std::to_string(max_sign_in_body) + " bytes");
    const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("user") || !body.contains("password") ||
        !body["user"].is_string() || !body["password"].is_string())
        throw Error(ErrorKind::bad_request, "invalid_body", "sign in with a JSON object {\"user\": ..., \"password\": ...}");
    const std::string user = body["user"].get<std::string>();
    AuditNote note;
    note.user = user;
    try {
        const auth::SignedIn done = m_accounts->sign_in(user, body["password"].get<std::string>(), req.remote_address);
        Response r = json_response(session_json(done.principal).dump());
        r.set_header("Set-Cookie", cookie_header(req, done.secret, m_accounts->session_lifetime().count()));
        r.set_header("Cache-Control", "no-store");
        r.audit = note;
        return r;
    } catch (const Error& e) {
        Response r = error_response(e);
        note.detail = e.what();
        r.audit = note;
        return r;
    }
}

Response AccountEndpoints::sign_out(const Request& req) const {
    if (const auto cookie = req.header("cookie"))
        if (const auto secret = cookie_value(*cookie, session_cookie)) m_accounts->sign_out(*secret);
    Response r;
    r.status = 204;
    r.content_type.clear();
    r.set_header("Set-Cookie", cookie_header(req, "", 0));
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

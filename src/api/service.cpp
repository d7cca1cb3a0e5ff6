#include "api/service.hpp"

#include "api/account_endpoints.hpp"
#include "api/header_values.hpp"
#include "api/multipart.hpp"
#include "api/open311_format.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

namespace wangge::api {

void require_read(const Request& req) {
    if (req.method != "GET" && req.method != "HEAD")
        throw Error(ErrorKind::method_not_allowed, "method_not_allowed",
                    req.method + " is not allowed on " + req.path + "; use GET");
}

Service::Service(std::shared_ptr<grid::SnapshotHolder> snapshots, std::vector<std::shared_ptr<const Endpoints>> families,
                 ServiceOptions options, std::shared_ptr<Metrics> metrics)
    : m_snapshots(std::move(snapshots)), m_families(std::move(families)), m_accounts(std::move(options.accounts)),
      m_policy(std::move(options.access)), m_incident_areas(std::move(options.incident_areas)),
      m_metrics(std::move(metrics)) {}

std::shared_ptr<const auth::Principal> Service::token_principal(std::string_view token) const {
    std::optional<auth::Principal> p;
    if (m_accounts) p = m_accounts->authenticate_token(token);
    if (!p)
        throw Error(ErrorKind::unauthorized, "invalid_token",
                    "the token is unknown, expired or revoked, or its user is disabled");
    return std::make_shared<const auth::Principal>(std::move(*p));
}

namespace {

// Open311's api_key: a query parameter, or a field of a form body (urlencoded or multipart).
std::optional<std::string> api_key_of(const Request& req) {
    if (const auto key = req.param("api_key")) return std::string(*key);
    const auto type = req.header("content-type");
    if (!req.route.accepts_form || !type) return std::nullopt;
    if (is_form_media_type(*type)) {
        for (auto& [name, value] : parse_form(req.body, "form body"))
            if (name == "api_key") return std::move(value);
    } else if (req.route.accepts_photos && is_multipart_media_type(*type)) {
        // As many parts as any endpoint takes: the endpoint enforces its own limit.
        for (const FormPart& part : parse_multipart(*type, req.body, 256))
            if (part.name == "api_key" && part.filename.empty()) return std::string(part.body);
    }
    return std::nullopt;
}

} // namespace

void Service::authenticate(Request& req) const {
    if (const auto authorization = req.header("authorization")) {
        const std::string_view value = trim(*authorization);
        if (value.size() < 7 || !iequals(value.substr(0, 7), "Bearer "))
            throw Error(ErrorKind::unauthorized, "unauthorized", "the Authorization header takes Bearer <token>");
        req.principal = token_principal(trim(value.substr(7)));
        return;
    }
    if (req.route.takes_api_key) {
        // Open311 clients are programs holding a key: a browser's cookie is no credential here,
        // so a cross-site form can never act as the signed-in user.
        if (const auto key = api_key_of(req); key && !key->empty()) req.principal = token_principal(*key);
        return;
    }
    // A cookie that names no live session (expired, signed out, another server's) is no
    // credential at all: the request goes on anonymous, and a write then gets 401.
    if (const auto cookie = req.header("cookie"); cookie && m_accounts)
        if (const auto secret = cookie_value(*cookie, session_cookie))
            if (auto p = m_accounts->authenticate_session(*secret))
                req.principal = std::make_shared<const auth::Principal>(std::move(*p));
}

namespace {

store::AuditRow audit_row(const Request& req, const Response& response, const std::string& failure) {
    store::AuditRow row;
    const AuditNote note = response.audit.value_or(AuditNote{});
    row.user = req.principal ? req.principal->name : note.user;
    row.action = note.action.empty() ? req.route.action : note.action;
    const int s = response.status;
    row.outcome = s < 400 ? "ok" : (s == 401 || s == 403 || s == 415 || s == 429) ? "denied" : "failed";
    row.status = s;
    row.method = req.method;
    row.target = loggable_target(req.target).substr(0, 500);
    row.codes = req.route.codes;
    row.base_version = note.base_version;
    row.data_version = note.data_version;
    row.address = req.remote_address;
    row.detail = note.detail.empty() ? failure : note.detail;
    return row;
}

// The message of an error envelope, for the audit log; the status when the body is none.
std::string envelope_message(const Response& r) {
    const auto body = nlohmann::json::parse(r.bytes(), nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string())
        return body["message"].get<std::string>();
    return "status " + std::to_string(r.status);
}

} // namespace

Response Service::handle(Request req) const {
    const auto arrived = std::chrono::steady_clock::now();
    Response response;
    std::string failure;
    std::shared_ptr<const grid::Snapshot> snapshot;
    try {
        authenticate(req);
        if (req.route.incident_id > 0 && m_incident_areas) {
            auto codes = m_incident_areas(req.route.incident_id);
            if (!codes) throw Error(ErrorKind::not_found, "not_found", "no case " + std::to_string(req.route.incident_id));
            req.route.codes = std::move(*codes);
        }
        m_policy.check(req);
        snapshot = m_snapshots->get();
        std::optional<Response> answer;
        for (const auto& family : m_families)
            if ((answer = family->handle(req, *snapshot))) break;
        if (!answer) throw Error(ErrorKind::not_found, "not_found", "no resource at " + req.path);
        response = std::move(*answer);
    } catch (const Error& e) {
        failure = e.what();
        response = error_response(std::current_exception(), req.method + " " + loggable_target(req.target));
        if (response.status == 405) response.set_header("Allow", req.route.allow);
    } catch (...) {
        failure = "internal error";
        response = error_response(std::current_exception(), req.method + " " + loggable_target(req.target));
    }
    if (response.deferred) return answer_later(std::move(req), std::move(snapshot), std::move(response), arrived);
    if (!failure.empty() && req.route.errors != ErrorShape::envelope) response = open311_error(response, req.route.errors);
    if (req.route.unsafe) audit(req, response, failure);
    if (m_metrics)
        m_metrics->observe(to_string(req.route.access), req.method, response.status,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - arrived).count());
    return response;
}

Response Service::answer_later(Request req, std::shared_ptr<const grid::Snapshot> snapshot, Response pending,
                               std::chrono::steady_clock::time_point arrived) const {
    req.body = std::string(); // the family has taken what it needs of it; the audit needs none
    Response later;
    later.deferred = [accounts = m_accounts, metrics = m_metrics, arrived, request = std::make_shared<const Request>(std::move(req)),
                      snapshot = std::move(snapshot), make = std::move(pending.deferred)](Completion caller) {
        // Counted and timed when the answer is final, its audit line written.
        Completion done = [metrics, arrived, request, caller = std::move(caller)](Response final) {
            if (metrics)
                metrics->observe(to_string(request->route.access), request->method, final.status,
                                 std::chrono::duration<double>(std::chrono::steady_clock::now() - arrived).count());
            caller(std::move(final));
        };
        // Holds the snapshot until the answer is made, as Endpoints promises the families.
        Completion finish = [accounts, request, snapshot, done = std::move(done)](Response final) {
            const std::string failure = final.status >= 400 ? envelope_message(final) : std::string();
            if (final.status >= 400 && request->route.errors != ErrorShape::envelope)
                final = open311_error(final, request->route.errors);
            if (!request->route.unsafe || !accounts) return done(std::move(final));
            store::AuditRow row = audit_row(*request, final, failure);
            auto answer = std::make_shared<Response>(std::move(final));
            accounts->audit(std::move(row), [done, answer] { done(std::move(*answer)); });
        };
        try {
            make(finish);
        } catch (...) { // it has not called `finish`, as a deferred response that throws promises
            finish(error_response(std::current_exception(), request->method + " " + loggable_target(request->target)));
        }
    };
    return later;
}

void Service::audit(const Request& req, const Response& response, const std::string& failure) const {
    if (!m_accounts) return;
    try {
        m_accounts->audit(audit_row(req, response, failure));
    } catch (const std::exception& e) {
        // The answer stands (a write has committed); the operator must hear of the gap.
        spdlog::error("audit log: {} {} by '{}' not recorded: {}", req.method, loggable_target(req.target),
                      req.principal ? req.principal->name : "", e.what());
    }
}

} // namespace wangge::api

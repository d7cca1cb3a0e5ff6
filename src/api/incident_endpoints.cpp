#include "api/incident_endpoints.hpp"

#include "api/header_values.hpp"
#include "api/json_values.hpp"
#include "api/params.hpp"
#include "api/phones.hpp"
#include "auth/secrets.hpp"
#include "core/log.hpp"
#include "geo/chinese_crs.hpp"
#include "incident/handling.hpp"
#include "incident/indicators.hpp"
#include "incident/receipts.hpp"
#include "incident/workflow.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>

namespace wangge::api {

namespace {

// Whether `failure` is a wangge::Error with this code.
bool is_error_code(const std::exception_ptr& failure, std::string_view code) {
    try {
        std::rethrow_exception(failure);
    } catch (const Error& e) {
        return e.code() == code;
    } catch (...) {
        return false;
    }
}

constexpr std::string_view prefix = "/api/v1/incidents";

Error invalid(std::string message) { return Error(ErrorKind::bad_request, "invalid_body", std::move(message)); }

const nlohmann::json* member(const nlohmann::json& body, const char* name) {
    auto it = body.find(name);
    return it == body.end() || it->is_null() ? nullptr : &*it;
}

std::string text_field(const nlohmann::json& body, const char* name, std::size_t max, bool required) {
    const nlohmann::json* v = member(body, name);
    if (!v) {
        if (required) throw invalid(std::string("the report needs \"") + name + "\"");
        return {};
    }
    if (!v->is_string()) throw invalid(std::string("\"") + name + "\" must be a string");
    std::string s = v->get<std::string>();
    if (s.size() > max)
        throw Error(ErrorKind::unprocessable, "too_long",
                    std::string("\"") + name + "\" has " + std::to_string(s.size()) + " bytes, at most " + std::to_string(max));
    return s;
}

// How much of its time limit an open case has used (亮灯), and who is to be told: the grid's
// leader when yellow, the community when red, the street once it has been overdue for as long
// again as its limit (stepped escalation, 逐级督办).
struct Urgency {
    incident::Light light;
    std::string escalation;
};

Urgency urgency_of(const store::IncidentRow& r, const incident::Calendar& calendar, SystemTime now) {
    const SystemTime reported = *parse_utc(r.reported_at), due = *parse_utc(r.due_at);
    const incident::Light light = calendar.light(reported, due, now);
    std::string escalation;
    if (light == incident::Light::yellow) escalation = "grid_leader";
    if (light == incident::Light::red)
        escalation = calendar.working_time_between(due, now) >= calendar.working_time_between(reported, due) ? "street"
                                                                                                           : "community";
    return {light, escalation};
}

nlohmann::json incident_json(const store::IncidentRow& r, const Request& req) {
    auto or_null = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
    nlohmann::json j{{"id", r.id},
                     {"category", r.category},
                     {"urgency", r.urgency},
                     {"description", r.description},
                     {"source", r.source},
                     {"location", {{"lon", r.lon}, {"lat", r.lat}, {"crs", "wgs84"}, {"reported_crs", r.input_crs}}},
                     {"place",
                      {{"status", r.locate_status},
                       {"street", or_null(r.street_code)},
                       {"community", or_null(r.community_code)},
                       {"grid", or_null(r.grid_code)}}},
                     {"state", r.state},
                     {"assignment", {{"level", r.assignee_level}, {"code", r.assignee_code}}},
                     {"reported_at", r.reported_at},
                     {"due_at", r.due_at},
                     {"closed_at", r.closed_at ? nlohmann::json(*r.closed_at) : nlohmann::json(nullptr)},
                     {"reporter", {{"name", r.reporter_name}, {"phone", shown_phone(r.reporter_phone, req)}}}};
    j["assignment"]["worker"] = r.assignee_worker_id ? nlohmann::json(*r.assignee_worker_id) : nlohmann::json(nullptr);
    if (r.building_id) j["building"] = *r.building_id;
    j["address"] = or_null(r.address);
    return j;
}

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

// The JSON of a write that may carry photos, and its multipart parts (none for a JSON body): a
// multipart body has the JSON in the part named `json_part`.
struct Body {
    nlohmann::json json;
    std::vector<FormPart> parts;
};

Body read_body(const Request& req, const IncidentOptions& options, const char* json_part, const char* what) {
    Body b;
    std::string_view text = req.body;
    const auto type = req.header("content-type");
    if (type && is_multipart_media_type(*type)) {
        b.parts = parse_multipart(*type, req.body, static_cast<std::size_t>(options.photo_limits.max_count) + 8);
        const FormPart* json = nullptr;
        for (const FormPart& p : b.parts) {
            if (p.name == json_part && !json) json = &p;
            else if (p.name != "photo")
                throw Error(ErrorKind::bad_request, "invalid_multipart",
                            "a multipart " + std::string(what) + " has one part \"" + json_part +
                                "\" (JSON) and parts \"photo\", not \"" + p.name + "\"");
        }
        if (!json)
            throw Error(ErrorKind::bad_request, "invalid_multipart",
                        "a multipart " + std::string(what) + " has its JSON in a part named \"" + json_part + "\"");
        text = json->body;
    }
    b.json = nlohmann::json::parse(text, nullptr, false);
    if (b.json.is_discarded() || !b.json.is_object()) throw invalid(std::string("a ") + what + " is a JSON object");
    return b;
}

nlohmann::json photos_json(const std::vector<store::PhotoRow>& photos) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : photos)
        out.push_back({{"hash", p.hash},
                       {"media_type", p.media_type},
                       {"bytes", p.bytes},
                       {"url", photo_path(p.incident_id, p.hash)}});
    return out;
}

// The steps `user` may take on the case now (incident::next_steps: the one workflow table), and
// what each asks for besides the action: a note (意见), a worker (dispatch, reassign) or a new due
// time (extend), so that a client offers the right form without a table of its own.
void add_next_steps(nlohmann::json& out, store::Database& db, const store::IncidentRow& r, const auth::Principal& user) {
    nlohmann::json next = nlohmann::json::array();
    nlohmann::json needs = nlohmann::json::object();
    const auto state = incident::parse_state(r.state);
    for (incident::Action a : incident::next_steps(db, r, user)) {
        const std::string name(incident::to_string(a));
        next.push_back(name);
        nlohmann::json what = nlohmann::json::array();
        if (const incident::Transition* t = state ? incident::find_transition(*state, a) : nullptr) {
            if (t->needs_note) what.push_back("note");
            if (t->handler_change == incident::HandlerChange::assign) what.push_back("worker");
            if (t->sets_due_time) what.push_back("due_at");
        }
        needs[name] = std::move(what);
    }
    out["next_steps"] = std::move(next);
    out["step_needs"] = std::move(needs);
}

nlohmann::json photos_json(std::int64_t incident_id, const std::vector<incident::PhotoRef>& photos) {
    std::vector<store::PhotoRow> rows;
    for (const auto& p : photos) rows.push_back({incident_id, std::nullopt, p.hash, p.media_type, p.bytes});
    return photos_json(rows);
}

} // namespace

std::string photo_path(std::int64_t incident_id, const std::string& hash) {
    return std::string(prefix) + "/" + std::to_string(incident_id) + "/photos/" + hash;
}

std::vector<incident::PhotoRef> store_photos(const IncidentOptions& options, const std::vector<FormPart>& parts) {
    std::vector<const FormPart*> uploads;
    for (const FormPart& p : parts)
        if (p.name == "photo" || p.name == "media") uploads.push_back(&p);
    if (uploads.empty()) return {};
    if (!options.photos)
        throw Error(ErrorKind::unprocessable, "photos_not_accepted", "this server is not set up to keep photos");
    if (uploads.size() > static_cast<std::size_t>(options.photo_limits.max_count))
        throw Error(ErrorKind::unprocessable, "too_many_photos",
                    std::to_string(uploads.size()) + " photos, at most " + std::to_string(options.photo_limits.max_count));
    // Every photo is checked before any is stored: a bad one stores nothing.
    std::vector<incident::Photo> checked;
    for (std::size_t i = 0; i < uploads.size(); ++i)
        checked.push_back(incident::prepare_photo(uploads[i]->body, static_cast<int>(i + 1), options.photo_limits));
    std::vector<incident::PhotoRef> refs;
    for (const incident::Photo& p : checked) {
        options.photos->put(p.hash, p.bytes);
        refs.push_back(p.ref());
    }
    return refs;
}

std::vector<std::string> incident_areas(const store::IncidentRow& r) {
    // Where it lies, as precisely as known, and who answers for it: a scope covering either may
    // see the case (a grid worker its grid's cases, not the whole community's).
    std::vector<std::string> codes;
    for (const std::string* c : {&r.grid_code, &r.community_code, &r.street_code})
        if (!c->empty()) {
            codes.push_back(*c);
            break;
        }
    if (!r.assignee_code.empty()) codes.push_back(r.assignee_code);
    return codes;
}

std::optional<std::vector<std::string>> incident_areas(store::Database& db, std::int64_t id) {
    const auto r = db.find_incident(id);
    if (!r) return std::nullopt;
    return incident_areas(*r);
}

Request without_body(const Request& req) {
    Request copy;
    copy.method = req.method;
    copy.target = req.target;
    copy.path = req.path;
    copy.query = req.query;
    copy.headers = req.headers;
    copy.public_origin = req.public_origin;
    copy.route = req.route;
    copy.principal = req.principal;
    copy.remote_address = req.remote_address;
    return copy;
}

Response file_incident(std::shared_ptr<store::GroupCommit> commits, const IncidentOptions& options, const Request& req,
                       const grid::Snapshot& snapshot, incident::Report report,
                       std::function<Response(const Filing&)> answer) {
    const auto rules = options.rules(report.category, report.urgency);
    if (!rules) throw Error(ErrorKind::unprocessable, "unknown_category", "no category '" + report.category + "'");
    if (const auto key = req.header("idempotency-key")) {
        if (key->empty() || key->size() > 200)
            throw Error(ErrorKind::bad_request, "invalid_idempotency_key", "Idempotency-Key has 1 to 200 characters");
        report.idempotency_key = std::string(*key);
    }
    report.digest = auth::digest(req.body);
    report.actor = req.principal ? req.principal->name : "";
    const SystemTime now = options.clock();
    Response pending;
    // Both intakes count as one family; Open311's paths tell its reports apart.
    const std::string channel = req.path.starts_with("/open311/") ? "open311" : "api";
    pending.deferred = [commits = std::move(commits), at = &snapshot, rules = *rules, metrics = options.metrics, channel,
                        id = req.request_id,
                        report = std::make_shared<const incident::Report>(std::move(report)), now,
                        answer = std::move(answer)](Completion done) {
        auto filing = std::make_shared<Filing>();
        store::GroupCommit::Work work = [at, rules, report, now, filing](store::Database& db) {
            filing->filed = incident::file_report(db, *at, rules, *report, now);
            if (filing->filed.replayed) filing->replayed_photos = db.photos_of(filing->filed.incident.id);
        };
        auto finish = [filing, answer, done, metrics, channel, id](std::exception_ptr failure) {
            const log::RequestScope scope(id); // answered on the committing thread
            const std::string context = "filing a report";
            if (metrics)
                metrics->increment("wangge_incidents_filed_total",
                                   "Reports filed, by channel (api, open311) and outcome (filed, replayed, failed)",
                                   {{"channel", channel},
                                    {"outcome", failure ? "failed" : filing->filed.replayed ? "replayed" : "filed"}});
            if (failure) return done(error_response(failure, context));
            Response r;
            try {
                r = answer(*filing);
            } catch (...) { // committed, yet not answered as it should be: the client hears so
                r = error_response(std::current_exception(), context);
            }
            done(std::move(r));
        };
        commits->submit(work, [commits, work, finish](std::exception_ptr failure) {
            // The same report with the same key, filed at once through another server that
            // committed first: filed once more, it finds that case and is answered as a replay.
            if (failure && is_error_code(failure, "idempotency_key_taken")) {
                try {
                    commits->submit(work, finish);
                    return;
                } catch (...) {
                    failure = std::current_exception();
                }
            }
            finish(failure);
        });
    };
    return pending;
}

IncidentEndpoints::IncidentEndpoints(std::shared_ptr<store::GroupCommit> commits, std::shared_ptr<Writer> reads,
                                     IncidentOptions options)
    : m_commits(std::move(commits)), m_reads(std::move(reads)), m_options(std::move(options)) {}

std::optional<Response> IncidentEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    // Open311 (open311_endpoints.hpp) shares the route classes on its own paths.
    if (!req.path.starts_with("/api/v1/")) return std::nullopt;
    const Route& route = req.route;
    if (route.access == Access::report_incident) return file(req, snapshot);
    if (req.path.starts_with(prefix) && req.path.ends_with("/status") && req.path.size() > prefix.size() + 8)
        return status(req);
    if (route.access == Access::incidents && route.incident_id > 0) {
        const std::string base = std::string(prefix) + "/" + std::to_string(route.incident_id);
        if (req.path == base) return one(req);
        if (req.path.starts_with(base + "/photos/")) return photo(req, std::string_view(req.path).substr(base.size() + 8));
        return std::nullopt;
    }
    if (route.access == Access::handle_incident) return transition(req);
    if (req.path == "/api/v1/supervision") return supervision(req);
    if (req.path == "/api/v1/stats") return stats(req);
    if (req.path == "/api/v1/categories" && m_options.catalogue) {
        require_read(req);
        return categories();
    }
    if (route.access == Access::incidents && req.path == prefix) return list(req);
    return std::nullopt;
}

Response IncidentEndpoints::file(const Request& req, const grid::Snapshot& snapshot) const {
    const Body sent = read_body(req, m_options, "report", "report");
    const nlohmann::json& body = sent.json;
    incident::Report report;
    report.category = text_field(body, "category", 8, true);
    if (const auto* u = member(body, "urgency")) {
        const auto urgency = u->is_string() ? incident::parse_urgency(u->get<std::string>()) : std::nullopt;
        if (!urgency) throw invalid("\"urgency\" is normal (一般) or urgent (紧急)");
        report.urgency = *urgency;
    }
    if (!m_options.rules(report.category, report.urgency))
        throw Error(ErrorKind::unprocessable, "unknown_category",
                    "no category '" + report.category + "' (GET /api/v1/categories lists them)");
    report.description = text_field(body, "description", m_options.max_description, true);
    if (report.description.empty()) throw invalid("\"description\" is empty");
    report.source = text_field(body, "source", 16, false);
    if (report.source.empty())
        report.source = req.principal && req.principal->role == auth::Role::worker ? "patrol" : "resident";
    if (report.source != "resident" && report.source != "patrol" && report.source != "hotline" && report.source != "video")
        throw invalid("\"source\" is resident, patrol, hotline or video");
    const nlohmann::json* location = member(body, "location");
    const nlohmann::json* building = member(body, "building");
    if (!location == !building) throw invalid("a report has a \"location\" or a \"building\", one of them");
    if (location) {
        if (!location->is_object() || !location->contains("lon") || !location->contains("lat") ||
            !(*location)["lon"].is_number() || !(*location)["lat"].is_number())
            throw invalid("\"location\" is {\"lon\": ..., \"lat\": ..., \"crs\": \"wgs84\"|\"gcj02\"|\"bd09\"}");
        const LonLat given{(*location)["lon"].get<double>(), (*location)["lat"].get<double>()};
        if (!(given.lon >= -180 && given.lon <= 180 && given.lat >= -90 && given.lat <= 90))
            throw Error(ErrorKind::bad_request, "out_of_range", "the location is not a longitude and latitude in range");
        const std::string crs = location->contains("crs") && (*location)["crs"].is_string()
                                    ? (*location)["crs"].get<std::string>()
                                    : std::string("wgs84");
        const auto input = geo::parse_input_crs(crs);
        if (!input) throw Error(ErrorKind::bad_request, "invalid_crs", "crs '" + crs + "' is not wgs84, gcj02 or bd09");
        report.point = geo::to_wgs84(given, *input);
        report.input_crs = std::string(geo::to_string(*input));
    } else {
        const auto id = whole_number<std::int64_t>(*building);
        if (!id) throw invalid("\"building\" is a building's id");
        report.building_id = *id;
    }
    if (const auto* reporter = member(body, "reporter")) {
        if (!reporter->is_object()) throw invalid("\"reporter\" is {\"name\": ..., \"phone\": ...}");
        report.reporter_name = text_field(*reporter, "name", 64, false);
        report.reporter_phone = text_field(*reporter, "phone", 32, false);
    }
    report.address = text_field(body, "address", 200, false);
    report.photos = store_photos(m_options, sent.parts);
    const std::vector<incident::PhotoRef> photos = report.photos;
    return file_incident(
        m_commits, m_options, req, snapshot, std::move(report),
        [asked = without_body(req), photos, receipt_key = m_options.receipt_key](const Filing& filing) {
            const incident::Filed& filed = filing.filed;
            nlohmann::json out = incident_json(filed.incident, asked);
            out["replayed"] = filed.replayed;
            // A replay shows the photos of the case as first filed.
            out["photos"] = filed.replayed ? photos_json(filing.replayed_photos) : photos_json(filed.incident.id, photos);
            if (!receipt_key.empty()) {
                // For the reporter to follow their case without an account (GET .../status?receipt=).
                const std::string receipt = incident::receipt_of(receipt_key, filed.incident.id);
                out["receipt"] = receipt;
                out["status_url"] =
                    std::string(prefix) + "/" + std::to_string(filed.incident.id) + "/status?receipt=" + receipt;
            }
            if (!filed.replayed) {
                out["assignment"]["reason"] = filed.assignment.reason;
                if (filed.assignment.worker)
                    out["assignment"]["worker"] = {{"id", filed.assignment.worker->id},
                                                   {"name", filed.assignment.worker->name}};
                nlohmann::json dupes = nlohmann::json::array();
                for (const auto& d : filed.duplicates)
                    dupes.push_back(
                        {{"id", d.id}, {"distance_m", d.distance_m}, {"state", d.state}, {"reported_at", d.reported_at}});
                out["likely_duplicates"] = dupes;
            }
            Response r = json_response(dump(out), filed.replayed ? 200 : 201);
            r.set_header("Location", std::string(prefix) + "/" + std::to_string(filed.incident.id));
            r.audit = AuditNote{"incident.report", {}, {}, {}, "case " + std::to_string(filed.incident.id)};
            return r;
        });
}

namespace {
void add_light(nlohmann::json& j, const store::IncidentRow& r, const incident::Calendar& calendar, SystemTime now) {
    const auto state = incident::parse_state(r.state);
    if (!state || !incident::is_open(*state)) return;
    const Urgency u = urgency_of(r, calendar, now);
    j["light"] = incident::to_string(u.light);
    if (!u.escalation.empty()) j["escalation"] = u.escalation;
}
} // namespace

Response IncidentEndpoints::list(const Request& req) const {
    store::Database::IncidentFilter f;
    if (auto code = req.param("code")) f.code = std::string(*code);
    if (auto state = req.param("state")) {
        if (!incident::parse_state(*state))
            throw Error(ErrorKind::bad_request, "invalid_parameter", "state '" + std::string(*state) + "' is not a case state");
        f.state = std::string(*state);
    }
    if (auto open = req.param("open")) {
        if (*open != "true" && *open != "false")
            throw Error(ErrorKind::bad_request, "invalid_parameter", "open is true or false");
        f.open_only = *open == "true";
    }
    f.limit = static_cast<int>(optional_long(req, "limit", 1, 1000).value_or(100));
    f.offset = static_cast<int>(optional_long(req, "offset", 0, 100000000).value_or(0));
    nlohmann::json items = nlohmann::json::array();
    m_reads->read([&](store::Database& db) {
        const SystemTime now = m_options.clock();
        for (const auto& r : db.list_incidents(f)) {
            items.push_back(incident_json(r, req));
            add_light(items.back(), r, *m_options.calendar, now);
        }
    });
    return json_response(dump(nlohmann::json{{"incidents", items}, {"limit", f.limit}, {"offset", f.offset}}));
}

Response IncidentEndpoints::one(const Request& req) const {
    nlohmann::json out;
    m_reads->read([&](store::Database& db) {
        const auto r = db.find_incident(req.route.incident_id);
        if (!r) throw Error(ErrorKind::not_found, "not_found", "no case " + std::to_string(req.route.incident_id));
        out = incident_json(*r, req);
        add_light(out, *r, *m_options.calendar, m_options.clock());
        const std::vector<store::PhotoRow> photos = db.photos_of(r->id);
        nlohmann::json events = nlohmann::json::array();
        for (const auto& e : db.incident_events(r->id)) {
            std::vector<store::PhotoRow> of_event;
            for (const auto& p : photos)
                if (p.event_id == e.id) of_event.push_back(p);
            events.push_back({{"at", e.at}, {"actor", e.actor}, {"action", e.action}, {"from", e.from_state},
                              {"to", e.to_state}, {"note", e.note}, {"assignee", e.assignee},
                              {"photos", photos_json(of_event)}});
        }
        out["events"] = events;
        out["photos"] = photos_json(photos);
        if (req.principal) add_next_steps(out, db, *r, *req.principal);
    });
    return json_response(dump(out));
}

Response IncidentEndpoints::transition(const Request& req) const {
    const Body sent = read_body(req, m_options, "step", "step");
    const nlohmann::json& body = sent.json;
    const std::string action_text = text_field(body, "action", 32, true);
    const auto action = incident::parse_action(action_text);
    if (!action)
        throw invalid("\"action\" '" + action_text +
                      "' is not accept, invalidate, dispatch, reassign, start, feedback, verify, rework, close, "
                      "send_back, extend or suspend");
    incident::Step step;
    step.action = *action;
    step.note = text_field(body, "note", m_options.max_description, false);
    if (const auto* w = member(body, "worker")) {
        const auto id = whole_number<std::int64_t>(*w);
        if (!id) throw invalid("\"worker\" is a worker's id");
        step.worker = *id;
    }
    if (const auto* d = member(body, "due_at")) {
        const auto t = d->is_string() ? parse_utc(d->get<std::string>()) : std::nullopt;
        if (!t) throw invalid("\"due_at\" is a UTC time such as 2026-12-05T09:30:00Z");
        step.due_at = *t;
    }
    if (const auto* rating = member(body, "rating")) {
        const auto n = whole_number<int>(*rating);
        if (!n) throw invalid("\"rating\" is a whole number from 1 to 5");
        step.rating = *n;
    }
    step.photos = store_photos(m_options, sent.parts);
    const SystemTime now = m_options.clock();
    const std::int64_t id = req.route.incident_id;
    nlohmann::json out;
    m_commits->run([&](store::Database& db) {
        const incident::Stepped done = incident::take_step(db, id, *req.principal, step, now);
        out = incident_json(done.incident, req);
        out["event"] = {{"at", done.event.at},     {"actor", done.event.actor}, {"action", done.event.action},
                        {"from", done.event.from_state}, {"to", done.event.to_state}, {"note", done.event.note},
                        {"assignee", done.event.assignee}};
        out["event"]["photos"] = photos_json(id, step.photos);
        add_next_steps(out, db, done.incident, *req.principal);
        return 0;
    });
    if (m_options.metrics) // the action was parsed and the state is the workflow's: both from fixed sets
        m_options.metrics->increment("wangge_incident_steps_total", "Workflow steps taken, by action and the state reached",
                                     {{"action", action_text}, {"to", out["event"]["to"].get<std::string>()}});
    Response r = json_response(dump(out));
    r.audit = AuditNote{"incident." + action_text, {}, {}, {}, "case " + std::to_string(id) + ": " +
                                                                 out["event"]["from"].get<std::string>() + " -> " +
                                                                 out["event"]["to"].get<std::string>()};
    return r;
}

Response IncidentEndpoints::photo(const Request& req, std::string_view hash_text) const {
    const std::string hash(hash_text);
    if (!incident::is_photo_hash(hash)) throw Error(ErrorKind::not_found, "not_found", "no photo '" + hash + "'");
    std::optional<store::PhotoRow> row;
    m_reads->read([&](store::Database& db) { row = db.find_photo(req.route.incident_id, hash); });
    if (!row || !m_options.photos)
        throw Error(ErrorKind::not_found, "not_found",
                    "case " + std::to_string(req.route.incident_id) + " has no photo " + hash);
    auto bytes = m_options.photos->get(hash);
    if (!bytes) // recorded but not on disk: the photo directory was moved or pruned by hand
        throw Error(ErrorKind::io, "photo_missing", "the file of photo " + hash + " is missing from " +
                                                        m_options.photos->dir().string());
    Response r;
    r.body = std::move(*bytes);
    r.content_type = row->media_type;
    // Named by its content: never changes; but only for whoever may see the case.
    r.set_header("Cache-Control", "private, max-age=31536000, immutable");
    r.set_header("ETag", "\"" + hash + "\"");
    r.set_header("Content-Disposition", "inline");
    return r;
}

Response IncidentEndpoints::status(const Request& req) const {
    // The path is /api/v1/incidents/{id}/status: the route left the id unparsed (an open read).
    const std::string_view rest = std::string_view(req.path).substr(prefix.size() + 1);
    std::int64_t id = 0;
    const std::string_view id_text = rest.substr(0, rest.find('/'));
    const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    const auto receipt = req.param("receipt");
    // One answer for a wrong receipt and a case that does not exist: receipts cannot be probed.
    const Error unknown(ErrorKind::not_found, "not_found", "no case with this id and receipt");
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0 || rest != std::string(id_text) + "/status")
        throw unknown;
    if (!receipt || m_options.receipt_key.empty() || !incident::receipt_matches(m_options.receipt_key, id, *receipt))
        throw unknown;
    nlohmann::json out;
    m_reads->read([&](store::Database& db) {
        const auto r = db.find_incident(id);
        if (!r) throw unknown;
        const incident::Category* category = m_options.catalogue ? m_options.catalogue->find(r->category) : nullptr;
        // What the reporter may know of their case: its kind, state, times and who answers for
        // it (an area, not a person); not the description, the reporter, notes or people's names.
        out = {{"id", r->id},
               {"category", r->category},
               {"category_name", category ? nlohmann::json(category->name) : nlohmann::json(nullptr)},
               {"state", r->state},
               {"reported_at", r->reported_at},
               {"due_at", r->due_at},
               {"closed_at", r->closed_at ? nlohmann::json(*r->closed_at) : nlohmann::json(nullptr)},
               {"handled_by", {{"level", r->assignee_level}, {"code", r->assignee_code}}}};
        nlohmann::json events = nlohmann::json::array();
        for (const auto& e : db.incident_events(id))
            events.push_back({{"at", e.at}, {"action", e.action}, {"state", e.to_state}});
        out["events"] = events;
    });
    Response r = json_response(dump(out));
    r.set_header("Cache-Control", "no-store");
    return r;
}

} // namespace wangge::api

namespace wangge::api {

Response IncidentEndpoints::categories() const {
    const incident::Catalogue& c = *m_options.catalogue;
    nlohmann::json majors = nlohmann::json::array();
    for (const auto& m : c.majors()) {
        nlohmann::json minors = nlohmann::json::array();
        for (const auto& k : c.all()) {
            if (k.major_code() != m.code) continue;
            minors.push_back({{"code", k.code},
                              {"name", k.name},
                              {"acceptance_condition", k.acceptance_condition},
                              {"closing_condition", k.closing_condition},
                              {"level", incident::to_string(k.level)},
                              {"limits",
                               {{"normal", {{"amount", k.normal_limit.amount}, {"unit", incident::to_string(k.normal_limit.unit)}}},
                                {"urgent", {{"amount", k.urgent_limit.amount}, {"unit", incident::to_string(k.urgent_limit.unit)}}}}},
                              {"duplicate_radius_m", k.duplicate_radius_m}});
        }
        majors.push_back({{"code", m.code}, {"name", m.name}, {"domain", incident::to_string(m.domain)},
                          {"categories", minors}});
    }
    Response r = json_response(dump(nlohmann::json{{"version", c.version()}, {"classes", majors}}));
    r.set_header("Cache-Control", "public, max-age=300");
    return r;
}

} // namespace wangge::api

namespace wangge::api {

namespace {

std::optional<std::string> code_param(const Request& req) {
    const auto code = req.param("code");
    if (!code) return std::nullopt;
    if (!level_of_code(*code))
        throw Error(ErrorKind::bad_request, "invalid_code", "code '" + std::string(*code) + "' is not a division code");
    return std::string(*code);
}

// Every case of an area (its street, community or grid, or the area answering for it).
std::vector<store::IncidentRow> cases_of(store::Database& db, const std::optional<std::string>& code,
                                         std::optional<std::string> state = std::nullopt) {
    store::Database::IncidentFilter f;
    f.code = code;
    f.state = std::move(state);
    f.limit = 1000000;
    return db.list_incidents(f);
}

SystemTime time_param(const Request& req, std::string_view name, SystemTime fallback) {
    const auto text = req.param(name);
    if (!text) return fallback;
    const auto t = parse_utc(*text);
    if (!t)
        throw Error(ErrorKind::bad_request, "invalid_parameter",
                    std::string(name) + "='" + std::string(*text) + "' is not a UTC date or time");
    return *t;
}

double weight_param(const Request& req, std::string_view name, double fallback) {
    const auto text = req.param(name);
    if (!text) return fallback;
    double v = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
    if (ec != std::errc() || end != text->data() + text->size())
        throw Error(ErrorKind::bad_request, "invalid_parameter", std::string(name) + " is a number");
    return v;
}

nlohmann::json rate(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json indicators_json(const incident::Indicators& i) {
    return {{"due", i.due},
            {"closed", i.closed},
            {"closed_on_time", i.closed_on_time},
            {"closing_rate", rate(i.closing_rate)},
            {"on_time_rate", rate(i.on_time_rate)},
            {"rework_rate", rate(i.rework_rate)},
            {"extension_rate", rate(i.extension_rate)},
            {"satisfaction_rate", rate(i.satisfaction_rate)},
            {"mean_handling_hours", rate(i.mean_handling_hours)},
            {"score", rate(i.score)}};
}

std::string csv_cell(const nlohmann::json& v) {
    if (v.is_null()) return "";
    if (v.is_string()) return v.get<std::string>();
    return v.dump();
}

} // namespace

Response IncidentEndpoints::supervision(const Request& req) const {
    require_read(req);
    const auto code = code_param(req);
    const SystemTime now = m_options.clock();
    struct Item {
        nlohmann::json json;
        std::string due_at;
    };
    std::vector<Item> items;
    m_reads->read([&](store::Database& db) {
        for (const auto& r : cases_of(db, code)) {
            const auto state = incident::parse_state(r.state);
            if (!state || !incident::is_open(*state)) continue;
            if (urgency_of(r, *m_options.calendar, now).light == incident::Light::green) continue;
            nlohmann::json j = incident_json(r, req);
            add_light(j, r, *m_options.calendar, now);
            items.push_back({std::move(j), r.due_at});
        }
    });
    // Most overdue first.
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.due_at < b.due_at; });
    nlohmann::json out = nlohmann::json::array();
    for (auto& i : items) out.push_back(std::move(i.json));
    return json_response(dump(nlohmann::json{{"at", format_utc(now)}, {"cases", out}}));
}

Response IncidentEndpoints::stats(const Request& req) const {
    require_read(req);
    const auto code = code_param(req);
    const SystemTime now = m_options.clock();
    const incident::Period period{time_param(req, "from", now - std::chrono::days(30)), time_param(req, "to", now)};
    const std::string by_text(req.param("by").value_or("community"));
    std::optional<incident::GroupBy> by;
    for (auto [name, value] : {std::pair{"street", incident::GroupBy::street}, {"community", incident::GroupBy::community},
                               {"grid", incident::GroupBy::grid}, {"worker", incident::GroupBy::worker},
                               {"category", incident::GroupBy::category}})
        if (by_text == name) by = value;
    if (!by) throw Error(ErrorKind::bad_request, "invalid_parameter", "by is street, community, grid, worker or category");
    incident::Weights w;
    w.closing = weight_param(req, "w_closing", w.closing);
    w.on_time = weight_param(req, "w_on_time", w.on_time);
    w.rework = weight_param(req, "w_rework", w.rework);
    w.extension = weight_param(req, "w_extension", w.extension);
    w.satisfaction = weight_param(req, "w_satisfaction", w.satisfaction);

    std::vector<incident::CaseFacts> facts;
    m_reads->read([&](store::Database& db) {
        std::map<std::int64_t, std::string> worker_names;
        for (const auto& worker : db.list_workers()) worker_names[worker.id] = worker.name;
        for (const auto& r : cases_of(db, code)) {
            incident::CaseFacts f;
            f.id = std::to_string(r.id);
            f.street = r.street_code;
            f.community = r.community_code;
            f.grid = r.grid_code;
            if (r.assignee_worker_id) f.worker = worker_names[*r.assignee_worker_id];
            f.category = r.category;
            f.reported_at = *parse_utc(r.reported_at);
            f.due_at = *parse_utc(r.due_at);
            if (r.closed_at) f.closed_at = parse_utc(*r.closed_at);
            f.state = incident::parse_state(r.state).value_or(incident::State::reported);
            f.extended = r.extended;
            f.reworks = r.reworks;
            f.rating = r.rating;
            std::optional<SystemTime> accepted;
            for (const auto& e : db.incident_events(r.id)) {
                if (e.action == "feedback") f.handled = true;
                if (e.action == "accept" && !accepted) accepted = parse_utc(e.at);
            }
            if (accepted && f.closed_at)
                f.handling_minutes = m_options.calendar->working_time_between(*accepted, *f.closed_at).count();
            facts.push_back(std::move(f));
        }
    });
    const auto total = incident::summarize(facts, period, w);
    const auto groups = incident::summarize_by(facts, period, *by, w);
    if (req.param("format") == "csv") {
        // One row per group, then the whole; the columns as in the JSON.
        std::string csv = by_text + ",due,closed,closed_on_time,closing_rate,on_time_rate,rework_rate,extension_rate,"
                                    "satisfaction_rate,mean_handling_hours,score\r\n";
        auto row = [&](const std::string& key, const incident::Indicators& i) {
            const nlohmann::json j = indicators_json(i);
            csv += "\"" + key + "\"";
            for (const char* k : {"due", "closed", "closed_on_time", "closing_rate", "on_time_rate", "rework_rate",
                                  "extension_rate", "satisfaction_rate", "mean_handling_hours", "score"})
                csv += "," + csv_cell(j[k]);
            csv += "\r\n";
        };
        for (const auto& g : groups) row(g.key, g.indicators);
        row("total", total);
        Response r = json_response(std::move(csv));
        r.content_type = "text/csv; charset=utf-8";
        r.set_header("Content-Disposition", "attachment; filename=\"wangge-stats.csv\"");
        return r;
    }
    nlohmann::json out{{"period", {{"from", format_utc(period.from)}, {"to", format_utc(period.to)}}},
                       {"by", by_text},
                       {"weights",
                        {{"closing", w.closing}, {"on_time", w.on_time}, {"rework", w.rework},
                         {"extension", w.extension}, {"satisfaction", w.satisfaction}}},
                       {"total", indicators_json(total)}};
    nlohmann::json list = nlohmann::json::array();
    for (const auto& g : groups) {
        nlohmann::json j = indicators_json(g.indicators);
        j["key"] = g.key;
        list.push_back(std::move(j));
    }
    out["groups"] = list;
    return json_response(dump(out));
}

std::array<std::size_t, 3> open_cases_by_light(store::Database& db, const incident::Calendar& calendar, SystemTime now) {
    std::array<std::size_t, 3> counts{};
    store::Database::IncidentFilter f;
    f.open_only = true;
    f.limit = std::numeric_limits<int>::max();
    for (const auto& r : db.list_incidents(f))
        ++counts[static_cast<std::size_t>(urgency_of(r, calendar, now).light)];
    return counts;
}

std::function<std::optional<std::vector<std::string>>(std::int64_t)> incident_areas_from(std::shared_ptr<Writer> reads) {
    return [reads = std::move(reads)](std::int64_t id) {
        std::optional<std::vector<std::string>> codes;
        reads->read([&](store::Database& db) { codes = incident_areas(db, id); });
        return codes;
    };
}

} // namespace wangge::api

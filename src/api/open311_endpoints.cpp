#include "api/open311_endpoints.hpp"

#include "api/header_values.hpp"
#include "api/multipart.hpp"
#include "api/open311_format.hpp"
#include "core/time.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <charconv>

namespace wangge::api {

namespace {

using Record = nlohmann::ordered_json;

constexpr std::string_view prefix = "/open311/v2/";
constexpr int max_requests = 1000; // the spec's default cap on GET requests

Error bad(std::string message) { return Error(ErrorKind::bad_request, "invalid_parameter", std::move(message)); }

std::string dump(const nlohmann::ordered_json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string xml_text(const nlohmann::ordered_json& v) {
    if (v.is_null()) return {};
    if (v.is_string()) return v.get<std::string>();
    return dump(v);
}

void write_xml(XmlWriter& x, std::string_view name, const nlohmann::ordered_json& v) {
    if (v.is_object()) {
        x.open(name);
        for (const auto& [k, item] : v.items()) write_xml(x, k, item);
        x.close();
    } else if (v.is_array()) { // only a service definition's attributes
        x.open(name);
        for (const auto& item : v) write_xml(x, "attribute", item);
        x.close();
    } else {
        x.element(name, xml_text(v));
    }
}

// `records` as a JSON array, or as <root><item>...</item>...</root>.
Response answer(const std::vector<Record>& records, std::string_view root, std::string_view item, bool xml,
                int status = 200) {
    Response r;
    r.status = status;
    if (xml) {
        XmlWriter x;
        x.open(root);
        for (const Record& rec : records) write_xml(x, item, rec);
        r.body = x.finish();
        r.content_type = "text/xml; charset=utf-8";
    } else {
        r.body = dump(nlohmann::ordered_json(records));
    }
    return r;
}

// FixMyStreet's extended statuses (docs/OPEN311.md has the table and why).
std::string_view extended_status(const store::IncidentRow& r) {
    const auto s = incident::parse_state(r.state);
    if (!s) return "open";
    switch (*s) {
    case incident::State::reported:
    case incident::State::accepted: return "open";
    case incident::State::dispatched: return "action_scheduled";
    case incident::State::in_progress: return "in_progress";
    case incident::State::handled: return "investigating";
    case incident::State::verified:
    case incident::State::closed: return "fixed";
    case incident::State::invalid: return r.duplicate_of ? "duplicate" : "not_councils_responsibility";
    case incident::State::suspended: return "no_further_action";
    }
    return "open";
}

bool is_open_state(std::string_view state) {
    const auto s = incident::parse_state(state);
    return !s || incident::is_open(*s);
}

// A W3C datetime as Open311 clients send it: "2026-12-04", "2026-12-04T10:00:00Z" or with an
// offset "2026-12-04T10:00:00+08:00"; as Wangge's UTC text, which sorts as the times do.
std::string utc_param(const Request& req, std::string_view name) {
    const auto v = req.param(name);
    if (!v) return {};
    std::string_view text = *v;
    std::optional<SystemTime> t;
    if (text.size() == 25 && (text[19] == '+' || text[19] == '-') && text[22] == ':') {
        int hours = 0, minutes = 0;
        const bool ok = std::from_chars(text.data() + 20, text.data() + 22, hours).ec == std::errc() &&
                        std::from_chars(text.data() + 23, text.data() + 25, minutes).ec == std::errc();
        t = ok ? parse_utc(std::string(text.substr(0, 19)) + "Z") : std::nullopt;
        if (t) *t -= (text[19] == '+' ? 1 : -1) * (std::chrono::hours(hours) + std::chrono::minutes(minutes));
    } else {
        t = parse_utc(text);
    }
    if (!t) throw bad(std::string(name) + " '" + std::string(text) + "' is not a date and time such as 2026-12-04T10:00:00+08:00");
    return format_utc(*t);
}

// [start_date, end_date] as UTC text; without them, the 90 days up to now (the spec's default).
std::pair<std::string, std::string> period(const Request& req, SystemTime now) {
    std::string end = req.param("end_date") ? utc_param(req, "end_date") : format_utc(now);
    std::string start = req.param("start_date") ? utc_param(req, "start_date")
                                                : format_utc(*parse_utc(end) - std::chrono::hours(24 * 90));
    return {std::move(start), std::move(end)};
}

// The items of a comma-separated parameter ("" when absent).
std::vector<std::string_view> list_param(const Request& req, std::string_view name) {
    std::vector<std::string_view> out;
    std::string_view rest = req.param(name).value_or("");
    while (!rest.empty()) {
        const std::string_view one = rest.substr(0, rest.find(','));
        out.push_back(one);
        rest.remove_prefix(std::min(rest.size(), one.size() + 1));
    }
    return out;
}

// Whether the signed-in user may see `r`: admins all; others where a scope covers the case's
// place or the area answering for it (as the access check decides for one case).
bool visible(const Request& req, const store::IncidentRow& r) {
    const auth::Principal* p = req.principal.get();
    if (!p) return false;
    if (p->role == auth::Role::admin) return true;
    for (const std::string* c : {&r.grid_code, &r.community_code, &r.street_code, &r.assignee_code})
        if (!c->empty() && p->covers(*c)) return true;
    return false;
}

Record request_record(const store::IncidentRow& r, const incident::Catalogue& catalogue, const std::string& updated,
                      const std::string& media_url) {
    const incident::Category* c = catalogue.find(r.category);
    Record j;
    j["service_request_id"] = std::to_string(r.id);
    j["status"] = is_open_state(r.state) ? "open" : "closed";
    j["status_notes"] = nullptr;
    j["service_name"] = c ? c->name : r.category;
    j["service_code"] = r.category;
    j["description"] = r.description;
    j["agency_responsible"] = r.assignee_code;
    j["service_notice"] = nullptr;
    j["requested_datetime"] = r.reported_at;
    j["updated_datetime"] = updated.empty() ? r.reported_at : updated;
    j["expected_datetime"] = r.due_at;
    j["address"] = r.address.empty() ? Record(nullptr) : Record(r.address);
    j["address_id"] = nullptr;
    j["zipcode"] = nullptr;
    j["lat"] = r.lat;
    j["long"] = r.lon;
    j["media_url"] = media_url.empty() ? Record(nullptr) : Record(media_url);
    j["extended_attributes"] = Record{{"status", extended_status(r)},
                                      {"wangge_state", r.state},
                                      {"grid", r.grid_code},
                                      {"community", r.community_code},
                                      {"street", r.street_code}};
    return j;
}

// Open311 clients fetch media_url as they find it: an absolute URL when the server knows its origin.
std::string absolute_url(const Request& req, const std::string& path) { return request_origin(req) + path; }

// The record of case `r` as it is now: when it last changed (its last event) and its first photo.
Record current_record(store::Database& db, const store::IncidentRow& r, const incident::Catalogue& catalogue,
                      const Request& req) {
    const auto events = db.incident_events(r.id);
    const auto photos = db.photos_of(r.id);
    return request_record(r, catalogue, events.empty() ? std::string() : events.back().at,
                          photos.empty() ? std::string() : absolute_url(req, photo_path(r.id, photos.front().hash)));
}

// The form fields of a POST, name -> last value.
struct Form {
    std::vector<std::pair<std::string, std::string>> fields;

    std::string get(std::string_view name) const {
        for (auto it = fields.rbegin(); it != fields.rend(); ++it)
            if (it->first == name) return it->second;
        return {};
    }
};

double coordinate(const Form& form, const char* name, double limit) {
    const std::string text = form.get(name);
    if (text.empty())
        throw bad("the request needs lat and long (WGS84): an address_string alone cannot be placed in a grid");
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !(v >= -limit && v <= limit))
        throw bad(std::string(name) + " '" + text + "' is not a WGS84 coordinate");
    return v;
}

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// 张 + 三 -> 张三; John + Smith -> John Smith.
std::string reporter_name(const std::string& first, const std::string& last) {
    if (first.empty() || last.empty()) return first + last;
    return is_ascii(first) && is_ascii(last) ? first + " " + last : last + first;
}

std::string limited(const Form& form, const char* name, std::size_t max) {
    std::string v = form.get(name);
    if (v.size() > max)
        throw Error(ErrorKind::unprocessable, "too_long",
                    std::string(name) + " has " + std::to_string(v.size()) + " bytes, at most " + std::to_string(max));
    return v;
}

} // namespace

Open311Endpoints::Open311Endpoints(std::shared_ptr<store::GroupCommit> commits, std::shared_ptr<Writer> reads,
                                   IncidentOptions options)
    : m_commits(std::move(commits)), m_reads(std::move(reads)), m_options(std::move(options)) {}

std::optional<Response> Open311Endpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    if (!req.path.starts_with(prefix)) return std::nullopt;
    std::string_view rest = std::string_view(req.path).substr(prefix.size());
    const bool xml = rest.ends_with(".xml");
    if (!xml && !rest.ends_with(".json"))
        throw Error(ErrorKind::not_found, "not_found", "Open311 resources end in .json or .xml: " + req.path);
    rest.remove_suffix(xml ? 4 : 5);
    const auto slash = rest.find('/');
    const std::string_view first = rest.substr(0, slash);
    const bool has_id = slash != std::string_view::npos;
    const std::string_view id = has_id ? rest.substr(slash + 1) : std::string_view();
    if (first == "services" && m_options.catalogue) {
        require_read(req);
        return has_id ? service_definition(id, xml) : services(xml);
    }
    if (first == "requests" && !has_id) {
        if (req.method == "POST") return file(req, snapshot, xml);
        return requests(req, xml);
    }
    if (first == "requests" && req.route.incident_id > 0) return one(req, xml);
    if (first == "tokens" && req.route.incident_id > 0) return token(req, xml);
    if (first == "servicerequestupdates" && !has_id) return updates(req, xml);
    throw Error(ErrorKind::not_found, "not_found", "no Open311 resource at " + req.path);
}

Response Open311Endpoints::services(bool xml) const {
    const incident::Catalogue& c = *m_options.catalogue;
    std::vector<Record> out;
    for (const incident::Category& k : c.all()) {
        const incident::MajorCategory* major = c.find_major(k.major_code());
        const std::string group = major ? major->name : std::string(k.major_code());
        out.push_back(Record{{"service_code", k.code},
                             {"service_name", k.name},
                             {"description", k.acceptance_condition},
                             {"metadata", false},
                             {"type", "realtime"},
                             {"keywords", k.name + "," + group},
                             {"group", group}});
    }
    Response r = answer(out, "services", "service", xml);
    r.set_header("Cache-Control", "public, max-age=300");
    return r;
}

Response Open311Endpoints::service_definition(std::string_view code, bool xml) const {
    if (!m_options.catalogue->find(code))
        throw Error(ErrorKind::not_found, "not_found", "no service '" + std::string(code) + "'");
    const Record definition{{"service_code", std::string(code)}, {"attributes", nlohmann::ordered_json::array()}};
    Response r;
    if (xml) {
        XmlWriter x;
        write_xml(x, "service_definition", definition);
        r.body = x.finish();
        r.content_type = "text/xml; charset=utf-8";
    } else {
        r.body = dump(definition);
    }
    return r;
}

Response Open311Endpoints::file(const Request& req, const grid::Snapshot& snapshot, bool xml) const {
    Form form;
    std::vector<FormPart> parts;
    const auto type = req.header("content-type");
    if (type && is_multipart_media_type(*type)) {
        // Fields as parts, and a photo in the part "media" (or "photo").
        parts = parse_multipart(*type, req.body, static_cast<std::size_t>(m_options.photo_limits.max_count) + 64);
        for (const FormPart& p : parts)
            if (p.filename.empty() && p.name != "media" && p.name != "photo")
                form.fields.emplace_back(p.name, std::string(p.body));
    } else if (type && is_json_media_type(*type)) {
        const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
        if (!body.is_object()) throw bad("a JSON request is an object of the form's fields");
        for (const auto& [k, v] : body.items())
            form.fields.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    } else {
        form.fields = parse_form(req.body, "form body");
    }
    incident::Report report;
    report.category = form.get("service_code");
    if (report.category.empty()) throw bad("the request needs service_code (GET services lists them)");
    if (!m_options.catalogue || !m_options.catalogue->find(report.category))
        throw bad("no service_code '" + report.category + "' (GET services lists them)");
    if (const std::string u = form.get("attribute[urgency]"); !u.empty()) {
        const auto urgency = incident::parse_urgency(u);
        if (!urgency) throw bad("attribute[urgency] is normal (一般) or urgent (紧急)");
        report.urgency = *urgency;
    }
    report.point = LonLat{coordinate(form, "long", 180), coordinate(form, "lat", 90)};
    report.description = limited(form, "description", m_options.max_description);
    if (report.description.empty()) throw bad("the request needs a description");
    report.source = "resident";
    report.reporter_name = reporter_name(limited(form, "first_name", 32), limited(form, "last_name", 32));
    report.reporter_phone = limited(form, "phone", 32);
    report.address = limited(form, "address_string", 200);
    // FixMyStreet retries a post it did not hear back from, with the same report id: one case.
    if (const std::string fms = limited(form, "attribute[fixmystreet_id]", 64); !fms.empty() && req.principal)
        report.idempotency_key = "open311:" + req.principal->name + ":fixmystreet:" + fms;
    report.photos = store_photos(m_options, parts);
    return file_incident(m_commits, m_options, req, snapshot, std::move(report), [xml](const Filing& filing) {
        const incident::Filed& filed = filing.filed;
        std::string notice = "filed as case " + std::to_string(filed.incident.id) + ", " + filed.incident.state;
        if (!filed.replayed && filed.assignment.worker) notice += " to " + filed.assignment.worker->name;
        notice += " (" + filed.incident.assignee_code + "), due " + filed.incident.due_at;
        Response r = answer({Record{{"service_request_id", std::to_string(filed.incident.id)},
                                    {"service_notice", notice},
                                    {"account_id", nullptr}}},
                            "service_requests", "request", xml, filed.replayed ? 200 : 201);
        r.audit = AuditNote{"incident.report", {}, {}, {}, "case " + std::to_string(filed.incident.id) + " (open311)"};
        return r;
    });
}

Response Open311Endpoints::requests(const Request& req, bool xml) const {
    std::vector<std::int64_t> ids;
    for (const std::string_view one : list_param(req, "service_request_id")) {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(one.data(), one.data() + one.size(), v);
        if (ec != std::errc() || end != one.data() + one.size() || v <= 0)
            throw bad("service_request_id is a comma-separated list of ids");
        ids.push_back(v);
    }
    const std::vector<std::string_view> codes = list_param(req, "service_code");
    const std::string status = std::string(req.param("status").value_or(""));
    if (!status.empty() && status != "open" && status != "closed") throw bad("status is open or closed");
    // Named references, not a structured binding: clang 14 cannot capture those in a lambda.
    const auto window = period(req, m_options.clock());
    const std::string& start = window.first;
    const std::string& end = window.second;
    std::vector<Record> out;
    m_reads->read([&](store::Database& db) {
        std::vector<store::IncidentRow> rows;
        if (!ids.empty()) {
            for (const std::int64_t id : ids)
                if (auto r = db.find_incident(id)) rows.push_back(std::move(*r));
        } else {
            store::Database::IncidentFilter f;
            if (const auto code = req.param("jurisdiction_id")) f.code = std::string(*code);
            f.reported_from = start;
            f.reported_to = end;
            if (status.empty() && codes.empty()) f.limit = max_requests;
            else f.limit = 1000000; // filtered below; the cap applies to what is answered
            rows = db.list_incidents(f);
        }
        for (const auto& r : rows) {
            if (!visible(req, r)) continue;
            if (!codes.empty() && std::find(codes.begin(), codes.end(), r.category) == codes.end()) continue;
            if (!status.empty() && (status == "open") != is_open_state(r.state)) continue;
            if (ids.empty() && (r.reported_at < start || r.reported_at > end)) continue;
            if (out.size() == static_cast<std::size_t>(max_requests)) break;
            out.push_back(current_record(db, r, *m_options.catalogue, req));
        }
    });
    return answer(out, "service_requests", "request", xml);
}

Response Open311Endpoints::one(const Request& req, bool xml) const {
    std::vector<Record> out;
    m_reads->read([&](store::Database& db) {
        const auto r = db.find_incident(req.route.incident_id);
        if (!r) throw Error(ErrorKind::not_found, "not_found", "no request " + std::to_string(req.route.incident_id));
        out.push_back(current_record(db, *r, *m_options.catalogue, req));
    });
    return answer(out, "service_requests", "request", xml);
}

Response Open311Endpoints::token(const Request& req, bool xml) const {
    const std::string id = std::to_string(req.route.incident_id);
    return answer({Record{{"service_request_id", id}, {"token", id}}}, "service_requests", "request", xml);
}

Response Open311Endpoints::updates(const Request& req, bool xml) const {
    // Named references, not a structured binding: clang 14 cannot capture those in a lambda.
    const auto window = period(req, m_options.clock());
    const std::string& start = window.first;
    const std::string& end = window.second;
    std::vector<Record> out;
    const std::string jurisdiction(req.param("jurisdiction_id").value_or(""));
    m_reads->read([&](store::Database& db) {
        // The log by time (oldest first), each case looked up once; read in pages, so that events
        // of cases this client may not see do not crowd out those it may.
        std::map<std::int64_t, std::optional<store::IncidentRow>> cases;
        std::string from = start;
        std::int64_t after_id = 0;
        while (out.size() < static_cast<std::size_t>(max_requests)) {
            const auto page = db.incident_events_between(from, after_id, end, 4 * max_requests);
            for (const auto& e : page) {
                from = e.at;
                after_id = e.id;
                auto [it, fresh] = cases.try_emplace(e.incident_id);
                if (fresh) it->second = db.find_incident(e.incident_id);
                if (!it->second || !visible(req, *it->second)) continue;
                store::IncidentRow r = *it->second;
                if (!jurisdiction.empty() && r.street_code != jurisdiction && r.community_code != jurisdiction &&
                    r.grid_code != jurisdiction && r.assignee_code != jurisdiction)
                    continue;
                r.state = e.to_state; // the status the case had after this event
                std::string media;
                for (const auto& p : db.photos_of(r.id))
                    if (p.event_id == e.id) {
                        media = absolute_url(req, photo_path(r.id, p.hash));
                        break;
                    }
                out.push_back(Record{{"update_id", std::to_string(e.id)},
                                     {"service_request_id", std::to_string(r.id)},
                                     {"status", extended_status(r)},
                                     {"external_status_code", e.to_state},
                                     {"updated_datetime", e.at},
                                     {"description", e.note},
                                     {"media_url", media.empty() ? Record(nullptr) : Record(media)}});
                if (out.size() == static_cast<std::size_t>(max_requests)) break;
            }
            if (page.size() < static_cast<std::size_t>(4 * max_requests)) break;
        }
    });
    return answer(out, "service_request_updates", "request_update", xml);
}

} // namespace wangge::api

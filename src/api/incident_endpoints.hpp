#pragma once
// Incidents over HTTP (docs/INCIDENTS.md, docs/API.md):
//   POST /api/v1/incidents              file a report: located, dispatched, given its due time (201)
//   GET  /api/v1/incidents?code=&state=&open=&limit=&offset=   the cases of an area
//   GET  /api/v1/categories             the category catalogue (open to all)
//   GET  /api/v1/supervision?code=      督办: the open cases of an area that are yellow or red
//   GET  /api/v1/stats?code=&from=&to=&by=&format=csv   the indicators of case handling
//   GET  /api/v1/incidents/{id}         one case with its events and the signed-in user's next steps
//   POST /api/v1/incidents/{id}/transitions   a step of the workflow: {"action", "note", "worker",
//                                       "due_at", "rating"}
//   GET  /api/v1/incidents/{id}/photos/{hash}  a photo of the case, to whoever may see the case
//   GET  /api/v1/incidents/{id}/status?receipt=  a resident's read of their own report: no
//                                       personal fields (incident/receipts.hpp)
// A report and a step may come as multipart/form-data: the JSON in the part named "report" or
// "step", each photo in a part named "photo" (incident/photos.hpp checks them).
// The access check has run before (route classes report_incident and incidents, with the case's
// areas looked up); a report is committed through a GroupCommit and answered (deferred, from the
// committing thread) only once durable; a workflow step waits for its commit on its HTTP thread.
#include "api/endpoints.hpp"
#include "api/metrics.hpp"
#include "api/multipart.hpp"
#include "store/group_commit.hpp"
#include "api/writer.hpp"
#include "incident/calendar.hpp"
#include "incident/categories.hpp"
#include "incident/intake.hpp"
#include "incident/photos.hpp"
#include "store/photo_files.hpp"

#include <array>
#include <functional>
#include <memory>
#include <optional>

namespace wangge::api {

struct IncidentOptions {
    // The rules of a category at an urgency (limit, handling level, duplicate radius); nullopt
    // for a category that does not exist.
    std::function<std::optional<incident::CaseRules>(std::string_view category, incident::Urgency)> rules;
    std::function<SystemTime()> clock = std::chrono::system_clock::now;
    // Served at GET /api/v1/categories when set.
    std::shared_ptr<const incident::Catalogue> catalogue;
    // The working calendar of traffic lights and handling times.
    std::shared_ptr<const incident::Calendar> calendar =
        std::make_shared<const incident::Calendar>(incident::Calendar::defaults());
    std::size_t max_description = 2000; // bytes
    // Where photos are kept; without it reports and steps with photos are refused (422).
    std::shared_ptr<const store::PhotoFiles> photos;
    incident::PhotoLimits photo_limits;
    // The database's receipt key (incident/receipts.hpp); without it no receipts are given.
    std::string receipt_key;
    // Where reports filed and workflow steps taken are counted (GET /metrics); none: not counted.
    std::shared_ptr<Metrics> metrics;
};

class IncidentEndpoints final : public Endpoints {
public:
    IncidentEndpoints(std::shared_ptr<store::GroupCommit> commits, std::shared_ptr<Writer> reads, IncidentOptions options);

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    Response file(const Request& req, const grid::Snapshot& snapshot) const;
    Response list(const Request& req) const;
    Response one(const Request& req) const;
    Response transition(const Request& req) const;
    Response photo(const Request& req, std::string_view hash) const;
    Response status(const Request& req) const;
    Response categories() const;
    Response supervision(const Request& req) const;
    Response stats(const Request& req) const;

    std::shared_ptr<store::GroupCommit> m_commits;
    std::shared_ptr<Writer> m_reads;
    IncidentOptions m_options;
};

// A report once its transaction has committed: the case, and for a replay the photos of the
// case as first filed.
struct Filing {
    incident::Filed filed;
    std::vector<store::PhotoRow> replayed_photos;
};

// Files `report` the way every intake does (POST /api/v1/incidents, Open311's POST requests):
// the category's rules looked up (Error(unprocessable, "unknown_category") when there are none),
// the Idempotency-Key header taken (it replaces a key the caller set), the request's body
// digested to tell a retry from a clash, the signed-in user as actor. Those checks throw at
// once; the filing itself is a deferred response: queued on `commits` (no thread waits for it),
// its completion, on the committing thread once the case is durable, receives answer(filing),
// or the envelope of why nothing was stored. `snapshot` must outlive the completion (the
// Service keeps it), and `answer` must not need `req`.
Response file_incident(std::shared_ptr<store::GroupCommit> commits, const IncidentOptions& options, const Request& req,
                       const grid::Snapshot& snapshot, incident::Report report,
                       std::function<Response(const Filing&)> answer);

// `req` without its body: what an answer made later needs of the request (who asked, links).
Request without_body(const Request& req);

// The photos among `parts` (those named "photo", or "media" as Open311 clients name them),
// checked by content, their location removed, their files stored durably; what the case records
// of them. Throws the 4xx of incident::prepare_photo, Error(unprocessable, "too_many_photos")
// above the limit and Error(unprocessable, "photos_not_accepted") when no photo store is set.
std::vector<incident::PhotoRef> store_photos(const IncidentOptions& options, const std::vector<FormPart>& parts);

// The URL path of a case's photo.
std::string photo_path(std::int64_t incident_id, const std::string& hash);

// The open cases by traffic light at `now` (calendar.hpp): [green, yellow, red]; red ones are
// overdue. What GET /metrics tells as wangge_incidents_open{light=...}.
std::array<std::size_t, 3> open_cases_by_light(store::Database& db, const incident::Calendar& calendar, SystemTime now);

// The areas a case concerns, for the access check (api::may_see_cases): where it lies (its grid,
// else its community, else its street) and the area answering for it.
std::vector<std::string> incident_areas(const store::IncidentRow& incident);
// The same of the stored case `id`; nullopt when there is no such case.
std::optional<std::vector<std::string>> incident_areas(store::Database& db, std::int64_t id);
// The access check's lookup of a case's areas (ServiceOptions::incident_areas), read through
// `reads`' connections.
std::function<std::optional<std::vector<std::string>>(std::int64_t)> incident_areas_from(std::shared_ptr<Writer> reads);

} // namespace wangge::api

#include "incident/intake.hpp"

#include "core/error.hpp"
#include "geo/geometry.hpp"

#include <cmath>

namespace wangge::incident {

namespace {

LonLat building_point(const grid::Snapshot& snapshot, std::int64_t id) {
    for (const auto& b : snapshot.buildings())
        if (b.row.id == id) return geo::point_on_surface(b.row.geom);
    throw Error(ErrorKind::unprocessable, "unknown_building", "no building with id " + std::to_string(id));
}

std::vector<LikelyDuplicate> open_cases_near(store::Database& db, const std::string& category, LonLat p, double radius_m) {
    // A box a little larger than the circle, then the exact geodesic distance.
    const double dlat = radius_m / 110000.0;
    const double dlon = dlat / std::max(0.1, std::cos(p.lat * M_PI / 180.0));
    std::vector<LikelyDuplicate> out;
    for (const auto& other : db.incidents_near(category, {p.lon - dlon, p.lat - dlat, p.lon + dlon, p.lat + dlat})) {
        const auto state = parse_state(other.state);
        if (!state || !is_open(*state)) continue;
        const double d = geo::distance_m(p, {other.lon, other.lat});
        if (d <= radius_m) out.push_back({other.id, d, other.state, other.reported_at});
    }
    return out;
}

} // namespace

Filed file_report(store::Database& db, const grid::Snapshot& snapshot, const CaseRules& rules, const Report& report,
                  SystemTime now) {
    Filed filed;
    if (report.idempotency_key) {
        if (auto earlier = db.find_incident_by_key(*report.idempotency_key)) {
            if (earlier->request_digest != report.digest)
                throw Error(ErrorKind::conflict, "idempotency_key_reused",
                            "Idempotency-Key '" + *report.idempotency_key + "' was used for another report (case " +
                                std::to_string(earlier->id) + "); use a new key for a new report");
            filed.incident = std::move(*earlier);
            filed.replayed = true;
            return filed;
        }
    }
    const LonLat p = report.point ? *report.point : building_point(snapshot, *report.building_id);
    const grid::LocateResult where = snapshot.locate(p);
    std::vector<store::WorkerRow> workers;
    const grid::GridArea* grid = where.grid ? where.grid : where.nearest_grid;
    if (grid)
        for (const auto& link : db.grid_workers_of(grid->code))
            if (auto w = db.find_worker(link.worker_id)) workers.push_back(std::move(*w));
    filed.assignment = choose_assignee(where, rules.level, workers);
    filed.duplicates = open_cases_near(db, report.category, p, rules.duplicate_radius_m);

    store::IncidentRow& r = filed.incident;
    r.category = report.category;
    r.urgency = std::string(to_string(report.urgency));
    r.description = report.description;
    r.source = report.source;
    r.lon = p.lon;
    r.lat = p.lat;
    r.input_crs = report.input_crs;
    r.building_id = report.building_id;
    if (where.street) r.street_code = where.street->code;
    if (where.community) r.community_code = where.community->code;
    if (where.grid) r.grid_code = where.grid->code;
    r.locate_status = std::string(grid::to_string(where.status));
    r.reporter_name = report.reporter_name;
    r.reporter_phone = report.reporter_phone;
    r.state = std::string(to_string(State::dispatched));
    if (filed.assignment.worker) r.assignee_worker_id = filed.assignment.worker->id;
    r.assignee_level = std::string(to_string(filed.assignment.level));
    r.assignee_code = filed.assignment.code;
    r.reported_at = format_utc(now);
    r.due_at = format_utc(rules.due(now));
    r.idempotency_key = report.idempotency_key;
    r.request_digest = report.digest;
    r.address = report.address;
    r.id = db.insert_incident(r);

    // Accepted and dispatched by the system at once: the place decides who answers, the
    // category what counts as a case (its 立案条件 stay the handler's to check: 作废 undoes it).
    const std::string assignee = filed.assignment.worker ? filed.assignment.worker->name : filed.assignment.code;
    const std::int64_t reported =
        db.insert_incident_event({0, r.id, r.reported_at, report.actor, "report", "", "reported", report.description, ""});
    attach_photos(db, r.id, reported, report.photos);
    db.insert_incident_event({0, r.id, r.reported_at, "system", "accept", "reported", "accepted", "", ""});
    db.insert_incident_event(
        {0, r.id, r.reported_at, "system", "dispatch", "accepted", "dispatched", filed.assignment.reason, assignee});
    return filed;
}

} // namespace wangge::incident

#include "incident/handling.hpp"

#include "core/error.hpp"
#include "incident/workflow.hpp"

namespace wangge::incident {

const std::string& area_code(const store::IncidentRow& incident) noexcept {
    if (!incident.grid_code.empty()) return incident.grid_code;
    if (!incident.community_code.empty()) return incident.community_code;
    return incident.street_code.empty() ? incident.assignee_code : incident.street_code;
}

bool is_handler(store::Database& db, const store::IncidentRow& incident, const auth::Principal& user) {
    if (!incident.assignee_worker_id) return false;
    const auto worker = db.find_worker(*incident.assignee_worker_id);
    return worker && worker->user_name && *worker->user_name == user.name;
}

std::vector<Action> next_steps(store::Database& db, const store::IncidentRow& incident, const auth::Principal& user) {
    const auto state = parse_state(incident.state);
    if (!state) return {};
    return allowed_actions(*state, user.role, relation_of(user, area_code(incident), is_handler(db, incident, user)),
                           incident.extended);
}

Stepped take_step(store::Database& db, std::int64_t id, const auth::Principal& user, const Step& step, SystemTime now) {
    auto found = db.find_incident(id);
    if (!found) throw Error(ErrorKind::not_found, "not_found", "no case " + std::to_string(id));
    store::IncidentRow r = std::move(*found);
    const auto from = parse_state(r.state);
    if (!from) throw Error(ErrorKind::internal, "bad_state", "case " + std::to_string(id) + " has state " + r.state);
    const Relation relation = relation_of(user, area_code(r), is_handler(db, r, user));
    const State to = apply(*from, step.action, user.role, relation, r.extended, step.note);
    const Transition& t = *find_transition(*from, step.action);

    std::string assignee;
    if (t.handler_change == HandlerChange::assign) {
        if (!step.worker)
            throw Error(ErrorKind::unprocessable, "worker_required",
                        std::string(to_string(step.action)) + " names the worker who takes the case (\"worker\": id)");
        const auto worker = db.find_worker(*step.worker);
        if (!worker) throw Error(ErrorKind::unprocessable, "unknown_worker", "no worker " + std::to_string(*step.worker));
        r.assignee_worker_id = worker->id;
        r.assignee_level = std::string(to_string(HandlingLevel::grid));
        r.assignee_code = area_code(r);
        assignee = worker->name;
    } else if (t.handler_change == HandlerChange::clear) {
        // Back to whoever dispatches for the place: its community, else its street.
        r.assignee_worker_id.reset();
        const bool community = !r.community_code.empty();
        r.assignee_level = std::string(to_string(community ? HandlingLevel::community : HandlingLevel::street));
        r.assignee_code = community ? r.community_code : (r.street_code.empty() ? r.assignee_code : r.street_code);
        assignee = r.assignee_code;
    }
    if (t.sets_due_time) {
        if (!step.due_at)
            throw Error(ErrorKind::unprocessable, "due_at_required", "extend gives the new due time (\"due_at\")");
        if (format_utc(*step.due_at) <= r.due_at)
            throw Error(ErrorKind::unprocessable, "due_at_not_later",
                        "the new due time " + format_utc(*step.due_at) + " is not later than " + r.due_at);
        r.due_at = format_utc(*step.due_at);
        r.extended = true;
    }
    if (step.action == Action::rework) ++r.reworks;
    if (step.rating) {
        if (step.action != Action::close)
            throw Error(ErrorKind::unprocessable, "rating_at_close", "a satisfaction rating is given when the case is closed");
        if (*step.rating < 1 || *step.rating > 5)
            throw Error(ErrorKind::unprocessable, "invalid_rating", "a satisfaction rating is 1 to 5");
        r.rating = *step.rating;
    }
    if (to == State::closed) r.closed_at = format_utc(now);
    r.state = std::string(to_string(to));
    db.update_incident(r);
    store::IncidentEventRow e{0, r.id, format_utc(now), user.name, std::string(to_string(step.action)),
                              std::string(to_string(*from)), r.state, step.note, assignee};
    e.id = db.insert_incident_event(e);
    attach_photos(db, r.id, e.id, step.photos);
    return {std::move(r), std::move(e)};
}

} // namespace wangge::incident

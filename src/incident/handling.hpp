#pragma once
// A step of a case's workflow as a user takes it (docs/INCIDENTS.md, "The workflow"): the
// transition table decides whether this user may (workflow.hpp); the case is updated (handler,
// due time, reworks, closing time, rating) and the step appended to its log, in the caller's
// transaction.
#include "auth/principal.hpp"
#include "core/time.hpp"
#include "incident/photos.hpp"
#include "incident/types.hpp"
#include "store/database.hpp"

#include <optional>
#include <string>
#include <vector>

namespace wangge::incident {

struct Step {
    Action action = Action::accept;
    std::string note;                      // 意见; required by some steps (suspend, rework, ...)
    std::optional<std::int64_t> worker;    // dispatch, reassign: the worker who takes the case
    std::optional<SystemTime> due_at;      // extend: the new due time, later than the current one
    std::optional<int> rating;             // close: the reporter's satisfaction, 1 to 5
    std::vector<PhotoRef> photos;          // of the work done (stored already)
};

struct Stepped {
    store::IncidentRow incident;
    store::IncidentEventRow event;
};

// Throws Error(not_found) for an unknown case, the workflow's 409/403/422 (workflow.hpp), and
// Error(unprocessable) for a step that lacks what it needs (a worker, a later due time) or a
// rating outside 1 to 5.
Stepped take_step(store::Database& db, std::int64_t id, const auth::Principal& user, const Step& step, SystemTime now);

// Whether `user` is the case's handler: the account of its assigned worker.
bool is_handler(store::Database& db, const store::IncidentRow& incident, const auth::Principal& user);
// Where the case lies, as precisely as known: its grid, else its community, else its street.
const std::string& area_code(const store::IncidentRow& incident) noexcept;
// The steps `user` may take on the case now.
std::vector<Action> next_steps(store::Database& db, const store::IncidentRow& incident, const auth::Principal& user);

} // namespace wangge::incident

#pragma once
// Filing a report (docs/INCIDENTS.md, "Intake"): located, dispatched to whoever answers for the
// place (dispatch.hpp), given its due time, checked against open cases of the same kind nearby,
// and stored with its first events, all in the caller's transaction. A report that carries an
// idempotency key is filed once: the same key again returns the case filed the first time, or a
// conflict when the key comes with another report.
#include "core/time.hpp"
#include "core/types.hpp"
#include "grid/snapshot.hpp"
#include "incident/dispatch.hpp"
#include "incident/photos.hpp"
#include "incident/types.hpp"
#include "store/database.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace wangge::incident {

// What the category says about a case of it (categories.hpp and the working calendar supply it).
struct CaseRules {
    HandlingLevel level = HandlingLevel::grid;
    double duplicate_radius_m = 50.0;
    std::function<SystemTime(SystemTime reported_at)> due; // the time limit, in working time
};

struct Report {
    std::string category;
    Urgency urgency = Urgency::normal;
    std::string description;
    std::string source; // resident | patrol | hotline | video
    std::optional<LonLat> point; // WGS84, converted already; or
    std::optional<std::int64_t> building_id; // a building's point on its footprint
    std::string input_crs = "wgs84";
    std::string reporter_name, reporter_phone;
    std::string address;          // as written by the reporter, kept with the case
    std::vector<PhotoRef> photos; // stored already (store/photo_files.hpp)
    std::optional<std::string> idempotency_key;
    std::string digest; // of the request, to tell a retry from another report under the same key
    std::string actor;  // who files it: a user name, or "open311:<client>"
};

struct LikelyDuplicate {
    std::int64_t id = 0;
    double distance_m = 0;
    std::string state;
    std::string reported_at;
};

struct Filed {
    store::IncidentRow incident;
    Assignment assignment;
    std::vector<LikelyDuplicate> duplicates;
    bool replayed = false; // the idempotency key named a case filed before: nothing was written
};

// Files `report` in the open transaction of `db`. Throws Error(unprocessable) for a building id
// that does not exist and Error(conflict, "idempotency_key_reused") for a key that came with
// another report before.
Filed file_report(store::Database& db, const grid::Snapshot& snapshot, const CaseRules& rules, const Report& report,
                  SystemTime now);

} // namespace wangge::incident

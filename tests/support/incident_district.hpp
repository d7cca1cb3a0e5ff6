#pragma once
// The small district ready for incident tests: buildings assigned to their grids, and grid
// 320102002001001 staffed by 王芳 (who signs in as "wang") first and 李强 second; and the case
// rules of two categories, 0101 handled by the grid and 1101 by the community, due 4 hours
// after the report (1 hour when urgent).
#include "grid/assign.hpp"
#include "incident/intake.hpp"
#include "store/database.hpp"
#include "support/small_district.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>

namespace wangge::test {

struct IncidentDistrict {
    std::int64_t wang = 0, li = 0; // worker ids
};

inline IncidentDistrict write_incident_district(const std::filesystem::path& path) {
    auto db = store::Database::open(path, store::OpenMode::create);
    write_small_district(*db);
    store::Transaction tx(*db);
    grid::reassign_buildings(*db);
    IncidentDistrict out;
    store::WorkerRow w;
    w.name = "王芳";
    w.role = "full_time";
    w.user_name = "wang";
    out.wang = db->insert_worker(w);
    w.name = "李强";
    w.user_name.reset();
    out.li = db->insert_worker(w);
    db->set_grid_workers("320102002001001", {out.wang, out.li});
    tx.commit();
    return out;
}

inline std::function<std::optional<incident::CaseRules>(std::string_view, incident::Urgency)> two_category_rules() {
    return [](std::string_view category, incident::Urgency urgency) -> std::optional<incident::CaseRules> {
        if (category != "0101" && category != "1101") return std::nullopt;
        incident::CaseRules r;
        r.level = category == "1101" ? incident::HandlingLevel::community : incident::HandlingLevel::grid;
        const auto limit = urgency == incident::Urgency::urgent ? std::chrono::hours(1) : std::chrono::hours(4);
        r.due = [limit](SystemTime t) { return t + limit; };
        return r;
    };
}

} // namespace wangge::test

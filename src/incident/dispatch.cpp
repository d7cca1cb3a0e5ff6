#include "incident/dispatch.hpp"

#include "core/error.hpp"

#include <fmt/format.h>

namespace wangge::incident {

namespace {

std::string street_of(const std::string& code) { return code.substr(0, 9); }
std::string community_of(const std::string& code) { return code.substr(0, 12); }

Assignment to_level(HandlingLevel level, std::string code, std::string reason) {
    return Assignment{level, std::move(code), std::nullopt, std::move(reason)};
}

} // namespace

Assignment choose_assignee(const grid::LocateResult& where, HandlingLevel category_level,
                           const std::vector<store::WorkerRow>& grid_workers, const DispatchRules& rules) {
    using Status = grid::LocateResult::Status;
    const grid::GridArea* grid = where.grid;
    std::string placed = "in grid";
    if (where.status == Status::not_covered) {
        if (!where.nearest_grid)
            throw Error(ErrorKind::unprocessable, "not_covered", "the district has no grids to answer for this place");
        if (where.nearest_distance_m > rules.nearest_grid_m)
            return to_level(HandlingLevel::street, street_of(where.nearest_grid->code),
                            fmt::format("outside every area, {:.0f} m from the nearest grid {}: its street answers (属地兜底)",
                                        where.nearest_distance_m, where.nearest_grid->code));
        grid = where.nearest_grid;
        placed = fmt::format("{:.0f} m outside the nearest grid", where.nearest_distance_m);
    }
    if (where.status == Status::no_community)
        return to_level(HandlingLevel::street, where.street->code,
                        "in street " + where.street->code + " but in no community: the street answers (属地兜底)");
    if (where.status == Status::no_grid)
        return to_level(HandlingLevel::community, where.community->code,
                        "in community " + where.community->code + " but in no grid: the community answers (属地兜底)");
    if (category_level == HandlingLevel::street)
        return to_level(HandlingLevel::street, street_of(grid->code), "the category is handled by the street");
    if (category_level == HandlingLevel::community)
        return to_level(HandlingLevel::community, community_of(grid->code), "the category is handled by the community");
    for (std::size_t i = 0; i < grid_workers.size(); ++i) {
        const auto& w = grid_workers[i];
        if (!w.on_duty) continue;
        Assignment a{HandlingLevel::grid, grid->code, w, {}};
        a.reason = i == 0 ? fmt::format("{} {}: its first-responsible worker", placed, grid->code)
                          : fmt::format("{} {}: backup {} (the first {} not on duty)", placed, grid->code, i,
                                        i == 1 ? "is" : "ones are");
        return a;
    }
    return to_level(HandlingLevel::community, community_of(grid->code),
                    fmt::format("{} {}: {}; the community answers", placed, grid->code,
                                grid_workers.empty() ? "the grid has no worker" : "no worker of the grid is on duty"));
}

} // namespace wangge::incident

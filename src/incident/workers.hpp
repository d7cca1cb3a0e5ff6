#pragma once
// The worker registry (docs/INCIDENTS.md, "Workers"): who answers for each grid, read from and
// written to spreadsheets with Chinese headers, and the staffing check of `wangge validate`.
#include "grid/snapshot.hpp"
#include "store/records.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::incident {

// 网格长, 专职网格员, 兼职网格员, 社区工作者, 街道干部.
enum class WorkerRole { grid_leader, full_time, part_time, community_worker, street_cadre };
std::string_view to_string(WorkerRole r) noexcept;     // grid_leader, ...
std::string_view chinese_name(WorkerRole r) noexcept;  // 网格长, ...
// Either name.
std::optional<WorkerRole> parse_worker_role(std::string_view text) noexcept;

// The columns of a worker sheet: the Chinese header first (what exports write), then the English
// one; imports accept either.
struct SheetColumn {
    std::string_view key, chinese, english;
};
// 姓名 name, 电话 phone, 角色 role, 网格编码 grid_code, 顺位 rank, 账号 user, 在岗 on_duty, 班次 shift.
const std::vector<SheetColumn>& worker_sheet_columns();

// One row of a sheet, as read (line: the spreadsheet's row number, the header being row 1).
struct WorkerSheetRow {
    int line = 0;
    std::map<std::string, std::string> cells; // by SheetColumn::key; absent when empty
};

struct RowError {
    int line = 0;
    std::string message;
};

// What an import would store: each worker once (a phone number, else a name, names one person
// across rows), and for each grid in the sheet its workers in order: rank 1 (or the 网格长 when no
// rank is given) first responsible, then the others by rank, then in sheet order.
struct WorkerPlan {
    std::vector<store::WorkerRow> workers;
    std::map<std::string, std::vector<std::size_t>> grids; // grid code -> indexes into workers
    std::vector<RowError> errors;                         // the import writes nothing when any
};
WorkerPlan plan_workers(const std::vector<WorkerSheetRow>& rows, const grid::Snapshot& snapshot);

// The sheet of today's registry, one row per worker and grid (and one for a worker of no grid).
std::vector<std::map<std::string, std::string>> worker_sheet(const std::vector<store::WorkerRow>& workers,
                                                             const std::vector<store::GridWorkerRow>& links);

struct StaffingRules {
    int households_per_full_time = 300; // about one full-time worker (专职网格员 or 网格长) per this many
};
struct StaffingFinding {
    std::string kind; // no_first_responsible | understaffed
    std::string code; // the grid or community
    std::string message;
};
// Every residential and unit grid needs a first-responsible worker; each community about one
// full-time worker per `households_per_full_time` households among the workers of its grids.
std::vector<StaffingFinding> check_staffing(const grid::Snapshot& snapshot, const std::vector<store::WorkerRow>& workers,
                                            const std::vector<store::GridWorkerRow>& links,
                                            const StaffingRules& rules = {});

} // namespace wangge::incident

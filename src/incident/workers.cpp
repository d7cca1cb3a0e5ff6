#include "incident/workers.hpp"

#include "core/codes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <set>

namespace wangge::incident {

namespace {

constexpr std::array<std::array<std::string_view, 2>, 5> role_names{{{"grid_leader", "网格长"},
                                                                      {"full_time", "专职网格员"},
                                                                      {"part_time", "兼职网格员"},
                                                                      {"community_worker", "社区工作者"},
                                                                      {"street_cadre", "街道干部"}}};

std::optional<std::string> cell(const WorkerSheetRow& row, const std::string& key) {
    auto it = row.cells.find(key);
    if (it == row.cells.end() || it->second.empty()) return std::nullopt;
    return it->second;
}

// A mainland mobile number (11 digits from 1) or a landline with its area code (0 and 9-11
// digits, a hyphen allowed after the area code).
bool plausible_phone(std::string_view phone) {
    std::string digits;
    for (char c : phone) {
        if (c == '-' || c == ' ') continue;
        if (c < '0' || c > '9') return false;
        digits += c;
    }
    if (digits.size() == 11 && digits[0] == '1') return true;
    return digits.size() >= 10 && digits.size() <= 12 && digits[0] == '0';
}

std::optional<bool> yes_no(std::string_view text) {
    for (std::string_view y : {"是", "在岗", "yes", "true", "1", "Y", "y"})
        if (text == y) return true;
    for (std::string_view n : {"否", "不在岗", "离岗", "no", "false", "0", "N", "n"})
        if (text == n) return false;
    return std::nullopt;
}

} // namespace

std::string_view to_string(WorkerRole r) noexcept { return role_names[static_cast<std::size_t>(r)][0]; }
std::string_view chinese_name(WorkerRole r) noexcept { return role_names[static_cast<std::size_t>(r)][1]; }

std::optional<WorkerRole> parse_worker_role(std::string_view text) noexcept {
    for (std::size_t i = 0; i < role_names.size(); ++i)
        if (text == role_names[i][0] || text == role_names[i][1]) return static_cast<WorkerRole>(i);
    return std::nullopt;
}

const std::vector<SheetColumn>& worker_sheet_columns() {
    static const std::vector<SheetColumn> columns{
        {"name", "姓名", "name"},         {"phone", "电话", "phone"},   {"role", "角色", "role"},
        {"grid_code", "网格编码", "grid_code"}, {"rank", "顺位", "rank"}, {"user", "账号", "user"},
        {"on_duty", "在岗", "on_duty"},    {"shift", "班次", "shift"}};
    return columns;
}

WorkerPlan plan_workers(const std::vector<WorkerSheetRow>& rows, const grid::Snapshot& snapshot) {
    WorkerPlan plan;
    std::map<std::string, std::size_t> by_identity; // phone, else name -> index
    struct Link {
        std::size_t worker;
        std::optional<int> rank;
        bool leader;
        int line;
    };
    std::map<std::string, std::vector<Link>> links;
    auto error = [&](int line, std::string message) { plan.errors.push_back({line, std::move(message)}); };
    for (const auto& row : rows) {
        const std::size_t before = plan.errors.size();
        const auto name = cell(row, "name");
        const auto phone = cell(row, "phone");
        const auto role_text = cell(row, "role");
        const auto grid_code = cell(row, "grid_code");
        if (!name) error(row.line, "姓名 (name) is empty");
        if (name && name->size() > 64) error(row.line, "姓名 (name) is longer than 64 bytes");
        if (phone && !plausible_phone(*phone))
            error(row.line, "电话 (phone) '" + *phone + "' is neither a mobile (11 digits) nor a landline with its area code");
        std::optional<WorkerRole> role;
        if (!role_text)
            error(row.line, "角色 (role) is empty: 网格长, 专职网格员, 兼职网格员, 社区工作者 or 街道干部");
        else if (!(role = parse_worker_role(*role_text)))
            error(row.line, "角色 (role) '" + *role_text + "' is not 网格长, 专职网格员, 兼职网格员, 社区工作者 or 街道干部");
        if (grid_code) {
            if (level_of_code(*grid_code) != Level::grid)
                error(row.line, "网格编码 (grid_code) '" + *grid_code + "' is not a 15-digit grid code");
            else if (!snapshot.find(Level::grid, *grid_code))
                error(row.line, "网格编码 (grid_code) " + *grid_code + " names no stored grid (see 'wangge list grids')");
        }
        std::optional<int> rank;
        if (const auto r = cell(row, "rank")) {
            int v = 0;
            const auto [p, ec] = std::from_chars(r->data(), r->data() + r->size(), v);
            if (ec != std::errc() || p != r->data() + r->size() || v < 1 || v > 99)
                error(row.line, "顺位 (rank) '" + *r + "' is not a whole number from 1 (first responsible) to 99");
            else
                rank = v;
        }
        std::optional<bool> on_duty = true;
        if (const auto d = cell(row, "on_duty"); d && !(on_duty = yes_no(*d)))
            error(row.line, "在岗 (on_duty) '" + *d + "' is not 是 or 否");
        if (plan.errors.size() != before) continue;

        const std::string identity = phone ? "phone:" + *phone : "name:" + *name;
        auto [it, added] = by_identity.emplace(identity, plan.workers.size());
        if (added) {
            store::WorkerRow w;
            w.name = *name;
            w.phone = phone.value_or("");
            w.role = std::string(to_string(*role));
            w.user_name = cell(row, "user");
            w.on_duty = *on_duty;
            w.shift = cell(row, "shift").value_or("");
            plan.workers.push_back(std::move(w));
        } else if (plan.workers[it->second].name != *name) {
            error(row.line, "电话 (phone) " + phone.value_or("") + " is " + plan.workers[it->second].name +
                                "'s on an earlier row, not " + *name + "'s");
            continue;
        }
        if (grid_code) links[*grid_code].push_back({it->second, rank, *role == WorkerRole::grid_leader, row.line});
    }
    for (auto& [grid, list] : links) {
        std::set<int> ranks;
        for (const auto& l : list)
            if (l.rank && !ranks.insert(*l.rank).second)
                error(l.line, fmt::format("顺位 (rank) {} is given twice for grid {}", *l.rank, grid));
        std::set<std::size_t> seen;
        for (const auto& l : list)
            if (!seen.insert(l.worker).second)
                error(l.line, "the same worker is listed twice for grid " + grid);
        // Ranked first (1 = first responsible), then the 网格长, then the others, in sheet order.
        std::stable_sort(list.begin(), list.end(), [](const Link& a, const Link& b) {
            auto key = [](const Link& l) { return std::pair(l.rank.value_or(1000), l.leader ? 0 : 1); };
            return key(a) < key(b);
        });
        for (const auto& l : list) plan.grids[grid].push_back(l.worker);
    }
    return plan;
}

std::vector<std::map<std::string, std::string>> worker_sheet(const std::vector<store::WorkerRow>& workers,
                                                             const std::vector<store::GridWorkerRow>& links) {
    std::vector<std::map<std::string, std::string>> out;
    auto row_of = [](const store::WorkerRow& w) {
        const auto role = parse_worker_role(w.role);
        std::map<std::string, std::string> row{{"name", w.name},
                                               {"phone", w.phone},
                                               {"role", std::string(role ? chinese_name(*role) : w.role)},
                                               {"on_duty", w.on_duty ? "是" : "否"},
                                               {"shift", w.shift}};
        if (w.user_name) row["user"] = *w.user_name;
        return row;
    };
    std::set<std::int64_t> linked;
    for (const auto& l : links) {
        auto w = std::find_if(workers.begin(), workers.end(), [&](const store::WorkerRow& x) { return x.id == l.worker_id; });
        if (w == workers.end()) continue;
        auto row = row_of(*w);
        row["grid_code"] = l.grid_code;
        row["rank"] = std::to_string(l.rank + 1);
        out.push_back(std::move(row));
        linked.insert(w->id);
    }
    for (const auto& w : workers)
        if (!linked.contains(w.id)) out.push_back(row_of(w));
    return out;
}

std::vector<StaffingFinding> check_staffing(const grid::Snapshot& snapshot, const std::vector<store::WorkerRow>& workers,
                                            const std::vector<store::GridWorkerRow>& links, const StaffingRules& rules) {
    std::vector<StaffingFinding> out;
    std::set<std::string> staffed;
    std::map<std::string, std::set<std::int64_t>> full_time_of; // community -> full-time workers of its grids
    std::map<std::int64_t, const store::WorkerRow*> by_id;
    for (const auto& w : workers) by_id[w.id] = &w;
    for (const auto& l : links) {
        if (l.rank == 0) staffed.insert(l.grid_code);
        const auto it = by_id.find(l.worker_id);
        if (it == by_id.end()) continue;
        const auto role = parse_worker_role(it->second->role);
        if (role == WorkerRole::full_time || role == WorkerRole::grid_leader)
            full_time_of[l.grid_code.substr(0, 12)].insert(l.worker_id);
    }
    for (const auto& g : snapshot.grids())
        if (!staffed.contains(g.code))
            out.push_back({"no_first_responsible", g.code, "grid " + g.code + " (" + g.name + ") has no first-responsible worker"});
    for (const auto& c : snapshot.communities()) {
        const long h = c.stats.households;
        const auto needed = static_cast<std::size_t>(std::ceil(static_cast<double>(h) / rules.households_per_full_time));
        const std::size_t have = full_time_of[c.code].size();
        if (have < needed)
            out.push_back({"understaffed", c.code,
                           fmt::format("community {} ({}) has {} households and {} full-time workers; about one per {} "
                                       "households makes {}",
                                       c.code, c.name, h, have, rules.households_per_full_time, needed)});
    }
    return out;
}

} // namespace wangge::incident

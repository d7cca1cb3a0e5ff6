// wangge workers import|export|list, and the staffing check of wangge validate --staffing
// (docs/INCIDENTS.md, "Workers").
#include "app/commands.hpp"

#include "auth/accounts.hpp"
#include "core/error.hpp"
#include "grid/snapshot.hpp"
#include "incident/workers.hpp"
#include "ingest/table.hpp"
#include "store/database.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>

namespace wangge::app {

namespace {

std::vector<incident::WorkerSheetRow> sheet_rows(const ingest::Table& table) {
    const auto& columns = incident::worker_sheet_columns();
    std::vector<std::pair<std::string, std::size_t>> found; // key -> column
    for (const auto& c : columns)
        if (const auto i = table.column({c.chinese, c.english})) found.emplace_back(std::string(c.key), *i);
    for (std::string_view required : {"name", "role"})
        if (std::none_of(found.begin(), found.end(), [&](const auto& f) { return f.first == required; })) {
            std::string headers;
            for (const auto& c : table.columns) headers += (headers.empty() ? "" : ", ") + c;
            throw Error(ErrorKind::unprocessable, "missing_column",
                        fmt::format("the sheet has no column 姓名/name or 角色/role (its headers: {}); the columns are "
                                    "姓名, 电话, 角色, 网格编码, 顺位, 账号, 在岗, 班次",
                                    headers.empty() ? "none" : headers));
        }
    std::vector<incident::WorkerSheetRow> rows;
    int line = 1; // the header
    for (const auto& r : table.rows) {
        incident::WorkerSheetRow row;
        row.line = ++line;
        for (const auto& [key, column] : found)
            if (column < r.size() && r[column]) row.cells[key] = *r[column];
        rows.push_back(std::move(row));
    }
    return rows;
}

} // namespace

int run_workers(const WorkersCommand& c) {
    if (c.action == "import") {
        const auto rows = sheet_rows(ingest::read_table(c.file));
        auto db = store::Database::open(c.db, store::OpenMode::read_write);
        const auto snapshot = grid::Snapshot::load(*db);
        const incident::WorkerPlan plan = incident::plan_workers(rows, *snapshot);
        if (!plan.errors.empty()) {
            for (const auto& e : plan.errors) std::fprintf(stderr, "%s, row %d: %s\n", c.file.c_str(), e.line, e.message.c_str());
            throw Error(ErrorKind::unprocessable, "invalid_rows",
                        fmt::format("{} of {} rows are wrong; nothing was imported", plan.errors.size(), rows.size()));
        }
        std::size_t added = 0, updated = 0;
        {
            store::Transaction tx(*db, store::Bump::none);
            std::vector<std::int64_t> ids;
            for (const auto& w : plan.workers) {
                std::optional<store::WorkerRow> known = w.phone.empty() ? std::nullopt : db->find_worker_by_phone(w.phone);
                if (known) {
                    store::WorkerRow row = w;
                    row.id = known->id;
                    db->update_worker(row);
                    ids.push_back(known->id);
                    ++updated;
                } else {
                    ids.push_back(db->insert_worker(w));
                    ++added;
                }
            }
            for (const auto& [grid, members] : plan.grids) {
                std::vector<std::int64_t> ranked;
                for (std::size_t i : members) ranked.push_back(ids[i]);
                db->set_grid_workers(grid, ranked);
            }
            tx.commit();
        }
        auth::Accounts(c.db).audit({0, "", "cli", "workers.import", "ok", 0, "", c.file.string(), {}, std::nullopt,
                                    std::nullopt, "cli",
                                    fmt::format("{} workers added, {} updated, {} grids", added, updated, plan.grids.size())});
        std::printf("%zu rows: %zu workers added, %zu updated; %zu grids given their workers\n", rows.size(), added,
                    updated, plan.grids.size());
        return 0;
    }
    auto db = store::Database::open(c.db, store::OpenMode::read_only);
    const auto workers = db->list_workers();
    const auto links = db->list_grid_workers();
    const auto sheet = incident::worker_sheet(workers, links);
    if (c.action == "export") {
        ingest::Table table;
        for (const auto& col : incident::worker_sheet_columns()) table.columns.emplace_back(col.chinese);
        for (const auto& row : sheet) {
            std::vector<std::optional<std::string>> cells;
            for (const auto& col : incident::worker_sheet_columns()) {
                auto it = row.find(std::string(col.key));
                cells.push_back(it == row.end() ? std::nullopt : std::optional(it->second));
            }
            table.rows.push_back(std::move(cells));
        }
        ingest::write_table(c.file, table);
        std::printf("%zu rows written to %s\n", table.rows.size(), c.file.c_str());
        return 0;
    }
    if (c.json) {
        std::printf("%s\n", nlohmann::json(sheet).dump(2).c_str());
        return 0;
    }
    for (const auto& row : sheet) {
        auto get = [&](const char* k) {
            auto it = row.find(k);
            return it == row.end() ? std::string("-") : it->second;
        };
        std::printf("%-10s %-13s %-10s %-15s %s\n", get("name").c_str(), get("phone").c_str(), get("role").c_str(),
                    get("grid_code").c_str(), get("rank").c_str());
    }
    return 0;
}

int run_staffing(const std::filesystem::path& db_path, bool json, int households_per_full_time) {
    auto db = store::Database::open(db_path, store::OpenMode::read_only);
    const auto snapshot = grid::Snapshot::load(*db);
    const auto findings = incident::check_staffing(*snapshot, db->list_workers(), db->list_grid_workers(),
                                                   {households_per_full_time});
    if (json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& f : findings) out.push_back({{"kind", f.kind}, {"code", f.code}, {"message", f.message}});
        std::printf("%s\n", nlohmann::json{{"ok", findings.empty()}, {"staffing", out}}.dump(2).c_str());
    } else {
        for (const auto& f : findings) std::printf("%s: %s\n", f.kind.c_str(), f.message.c_str());
        std::printf("staffing: %s (%zu findings)\n", findings.empty() ? "ok" : "not ok", findings.size());
    }
    return findings.empty() ? 0 : 1;
}

} // namespace wangge::app

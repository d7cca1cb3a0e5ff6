// The worker registry on the small district: sheets planned row by row with their errors, the
// staffing check, the sheet of today's registry, and dispatch to the responsible worker with
// 属地兜底 (community, street, nearest grid) when there is none.
#include "grid/assign.hpp"
#include "incident/dispatch.hpp"
#include "incident/workers.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace wangge;
using incident::WorkerSheetRow;

namespace {

struct District {
    test::TempDir dir;
    std::shared_ptr<const grid::Snapshot> snapshot;
    District() {
        auto db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
        test::write_small_district(*db);
        {
            store::Transaction tx(*db);
            grid::reassign_buildings(*db);
            tx.commit();
        }
        snapshot = grid::Snapshot::load(*db);
    }
};

WorkerSheetRow row(int line, std::map<std::string, std::string> cells) { return {line, std::move(cells)}; }

store::WorkerRow worker(std::int64_t id, std::string name, bool on_duty = true, std::string role = "full_time") {
    store::WorkerRow w;
    w.id = id;
    w.name = std::move(name);
    w.role = std::move(role);
    w.on_duty = on_duty;
    return w;
}

} // namespace

TEST_CASE("workers: a sheet becomes workers and ranked grids and one person on several rows is one worker", "[incident]") {
    District d;
    const auto plan = incident::plan_workers(
        {row(2, {{"name", "王芳"}, {"phone", "13800000001"}, {"role", "专职网格员"}, {"grid_code", "320102002001001"}}),
         row(3, {{"name", "李强"}, {"phone", "13800000002"}, {"role", "网格长"}, {"grid_code", "320102002001001"}}),
         row(4, {{"name", "王芳"}, {"phone", "13800000001"}, {"role", "专职网格员"}, {"grid_code", "320102002001002"},
                 {"rank", "1"}}),
         row(5, {{"name", "赵敏"}, {"phone", "025-84001234"}, {"role", "兼职网格员"}, {"grid_code", "320102002001002"},
                 {"rank", "2"}, {"on_duty", "否"}}),
         row(6, {{"name", "周杰"}, {"role", "社区工作者"}})},
        *d.snapshot);
    REQUIRE(plan.errors.empty());
    REQUIRE(plan.workers.size() == 4);
    CHECK(plan.workers[0].name == "王芳");
    CHECK(plan.workers[0].role == "full_time");
    CHECK(plan.workers[2].on_duty == false);
    CHECK(plan.workers[3].phone.empty());
    // Without ranks the 网格长 comes first; with ranks, the ranks decide.
    CHECK(plan.grids.at("320102002001001") == std::vector<std::size_t>{1, 0});
    CHECK(plan.grids.at("320102002001002") == std::vector<std::size_t>{0, 2});
    CHECK(plan.grids.size() == 2);
}

TEST_CASE("workers: every wrong row is reported with its line, and nothing is planned from a wrong sheet", "[incident]") {
    District d;
    const auto plan = incident::plan_workers(
        {row(2, {{"phone", "13800000001"}, {"role", "专职网格员"}}),
         row(3, {{"name", "李强"}, {"role", "组长"}}),
         row(4, {{"name", "赵敏"}, {"role", "网格长"}, {"grid_code", "320102002001009"}}),
         row(5, {{"name", "孙丽"}, {"role", "网格长"}, {"grid_code", "3201020020010"}}),
         row(6, {{"name", "钱多"}, {"role", "网格长"}, {"phone", "12345"}}),
         row(7, {{"name", "吴用"}, {"role", "网格长"}, {"rank", "first"}}),
         row(8, {{"name", "郑和"}, {"role", "网格长"}, {"on_duty", "maybe"}}),
         row(9, {{"name", "王芳"}, {"phone", "13800000009"}, {"role", "网格长"}, {"grid_code", "320102002001001"}, {"rank", "1"}}),
         row(10, {{"name", "王五"}, {"phone", "13800000009"}, {"role", "网格长"}}),
         row(11, {{"name", "李四"}, {"phone", "13800000010"}, {"role", "网格长"}, {"grid_code", "320102002001001"}, {"rank", "1"}})},
        *d.snapshot);
    std::map<int, std::string> by_line;
    for (const auto& e : plan.errors) by_line[e.line] += e.message;
    CHECK(by_line[2].find("姓名") != std::string::npos);
    CHECK(by_line[3].find("组长") != std::string::npos);
    CHECK(by_line[4].find("names no stored grid") != std::string::npos);
    CHECK(by_line[5].find("15-digit") != std::string::npos);
    CHECK(by_line[6].find("12345") != std::string::npos);
    CHECK(by_line[7].find("顺位") != std::string::npos);
    CHECK(by_line[8].find("在岗") != std::string::npos);
    CHECK(by_line[10].find("王芳") != std::string::npos); // the phone belongs to another name
    CHECK(by_line[11].find("given twice") != std::string::npos);
    CHECK_FALSE(by_line.contains(9));
}

TEST_CASE("workers: the staffing check and the exported sheet", "[incident]") {
    District d;
    std::vector<store::WorkerRow> workers{worker(1, "王芳"), worker(2, "李强", true, "part_time")};
    workers[0].phone = "13800000001";
    std::vector<store::GridWorkerRow> links{{"320102002001001", 1, 0}, {"320102002001002", 2, 0}};
    const auto findings = incident::check_staffing(*d.snapshot, workers, links, {300});
    std::map<std::string, std::string> kinds;
    for (const auto& f : findings) kinds[f.code] = f.kind;
    CHECK(kinds.at("320102002002001") == "no_first_responsible");
    CHECK_FALSE(kinds.contains("320102002001001"));
    // 西社区 holds 420 households (300 + 120): two full-time workers are needed, it has one (李强
    // is part-time). 东社区 has households and no worker at all.
    CHECK(kinds.at("320102002001") == "understaffed");
    CHECK(kinds.at("320102002002") == "understaffed");
    CHECK(incident::check_staffing(*d.snapshot, workers, links, {1000}).size() == 2); // the unstaffed grid, 东社区

    const auto sheet = incident::worker_sheet(workers, links);
    REQUIRE(sheet.size() == 2);
    CHECK(sheet[0].at("name") == "王芳");
    CHECK(sheet[0].at("role") == "专职网格员");
    CHECK(sheet[0].at("rank") == "1");
    CHECK(sheet[0].at("on_duty") == "是");
    CHECK(sheet[1].at("role") == "兼职网格员");
}

TEST_CASE("dispatch: the first-responsible worker, then backups, then the community and the street", "[incident]") {
    District d;
    const grid::Snapshot& s = *d.snapshot;
    const auto in_grid = s.locate({118.802, 32.007});
    REQUIRE(in_grid.status == grid::LocateResult::Status::grid);
    const std::vector<store::WorkerRow> both{worker(1, "王芳"), worker(2, "李强")};

    auto a = incident::choose_assignee(in_grid, incident::HandlingLevel::grid, both);
    CHECK(a.level == incident::HandlingLevel::grid);
    CHECK(a.code == "320102002001001");
    REQUIRE(a.worker);
    CHECK(a.worker->name == "王芳");
    CHECK(a.reason.find("first-responsible") != std::string::npos);

    a = incident::choose_assignee(in_grid, incident::HandlingLevel::grid, {worker(1, "王芳", false), worker(2, "李强")});
    REQUIRE(a.worker);
    CHECK(a.worker->name == "李强");
    CHECK(a.reason.find("backup 1") != std::string::npos);

    a = incident::choose_assignee(in_grid, incident::HandlingLevel::grid, {worker(1, "王芳", false)});
    CHECK_FALSE(a.worker);
    CHECK(a.level == incident::HandlingLevel::community);
    CHECK(a.code == "320102002001");
    CHECK(a.reason.find("no worker of the grid is on duty") != std::string::npos);

    a = incident::choose_assignee(in_grid, incident::HandlingLevel::community, both);
    CHECK_FALSE(a.worker);
    CHECK(a.code == "320102002001");

    // East of 东社区's only grid: in the community, in no grid.
    const auto gap = s.locate({118.8175, 32.0025});
    REQUIRE(gap.status == grid::LocateResult::Status::no_grid);
    a = incident::choose_assignee(gap, incident::HandlingLevel::grid, {});
    CHECK(a.level == incident::HandlingLevel::community);
    CHECK(a.code == "320102002002");
    CHECK(a.reason.find("属地兜底") != std::string::npos);

    // Just outside the district (about 90 m west): the nearest grid's case; far away: its street's.
    const auto near = s.locate({118.799, 32.007});
    REQUIRE(near.status == grid::LocateResult::Status::not_covered);
    a = incident::choose_assignee(near, incident::HandlingLevel::grid, both);
    CHECK(a.code == "320102002001001");
    CHECK(a.worker);
    const auto far = s.locate({118.70, 32.007});
    a = incident::choose_assignee(far, incident::HandlingLevel::grid, both);
    CHECK(a.level == incident::HandlingLevel::street);
    CHECK(a.code == "320102002");
    CHECK_FALSE(a.worker);
}

// Workers, their grids, incidents, the incident log and photos on both backends of the store: the
// same calls give the same values, in the same order, and fail the same way
// (tests/store/backends.hpp).
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "store/backends.hpp"

#include <cmath>
#include <tuple>
#include <utility>

using namespace wangge;

namespace {

const std::string street = "320102002";
const std::string west = "320102002001";
const std::string east = "320102002002";
const std::string west_grid = "320102002001001";
const std::string east_grid = "320102002002001";

store::WorkerRow worker(const std::string& name, const std::string& phone, const std::string& role = "full_time") {
    store::WorkerRow w;
    w.name = name;
    w.phone = phone;
    w.role = role;
    w.shift = "08:30-17:30";
    return w;
}

// A case with every optional field empty, in the west grid.
store::IncidentRow incident(double lon, double lat, const std::string& category = "0101",
                            const std::string& state = "dispatched") {
    store::IncidentRow r;
    r.category = category;
    r.urgency = "normal";
    r.description = "描述 " + category;
    r.source = "resident";
    r.lon = lon;
    r.lat = lat;
    r.input_crs = "wgs84";
    r.street_code = street;
    r.community_code = west;
    r.grid_code = west_grid;
    r.locate_status = "grid";
    r.state = state;
    r.assignee_level = "grid";
    r.assignee_code = west_grid;
    r.reported_at = "2026-12-05T08:00:00Z";
    r.due_at = "2026-12-05T10:00:00Z";
    return r;
}

void check_worker(const store::WorkerRow& got, const store::WorkerRow& want) {
    CHECK(got.id == want.id);
    CHECK(got.name == want.name);
    CHECK(got.phone == want.phone);
    CHECK(got.role == want.role);
    CHECK(got.user_name == want.user_name);
    CHECK(got.on_duty == want.on_duty);
    CHECK(got.shift == want.shift);
}

void check_incident(const store::IncidentRow& got, const store::IncidentRow& want) {
    CHECK(got.id == want.id);
    CHECK(got.category == want.category);
    CHECK(got.urgency == want.urgency);
    CHECK(got.description == want.description);
    CHECK(got.source == want.source);
    CHECK(got.lon == want.lon); // exactly: the same double back
    CHECK(got.lat == want.lat);
    CHECK(got.input_crs == want.input_crs);
    CHECK(got.building_id == want.building_id);
    CHECK(got.street_code == want.street_code);
    CHECK(got.community_code == want.community_code);
    CHECK(got.grid_code == want.grid_code);
    CHECK(got.locate_status == want.locate_status);
    CHECK(got.reporter_name == want.reporter_name);
    CHECK(got.reporter_phone == want.reporter_phone);
    CHECK(got.state == want.state);
    CHECK(got.assignee_worker_id == want.assignee_worker_id);
    CHECK(got.assignee_level == want.assignee_level);
    CHECK(got.assignee_code == want.assignee_code);
    CHECK(got.reported_at == want.reported_at);
    CHECK(got.due_at == want.due_at);
    CHECK(got.closed_at == want.closed_at);
    CHECK(got.extended == want.extended);
    CHECK(got.reworks == want.reworks);
    CHECK(got.rating == want.rating);
    CHECK(got.duplicate_of == want.duplicate_of);
    CHECK(got.idempotency_key == want.idempotency_key);
    CHECK(got.request_digest == want.request_digest);
    CHECK(got.address == want.address);
}

std::vector<std::int64_t> ids_of(const std::vector<store::WorkerRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

std::vector<std::int64_t> ids_of(const std::vector<store::IncidentRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

std::vector<std::int64_t> ids_of(const std::vector<store::IncidentEventRow>& rows) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(r.id);
    return out;
}

using Link = std::tuple<std::string, std::int64_t, int>;

std::vector<Link> links_of(const std::vector<store::GridWorkerRow>& rows) {
    std::vector<Link> out;
    for (const auto& r : rows) out.emplace_back(r.grid_code, r.worker_id, r.rank);
    return out;
}

using Ids = std::vector<std::int64_t>;

} // namespace

TEST_CASE("workers on both backends: a worker round-trips field by field, a phone given is unique", "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    auto wang = worker("王芳", "13800000001", "grid_leader");
    wang.user_name = "wangfang";
    auto li = worker("李强", "", "part_time");
    li.on_duty = false;
    li.shift = "";
    auto zhao = worker("赵敏", "", "street_cadre"); // a second worker without a phone
    {
        store::Transaction tx(db, store::Bump::none);
        wang.id = db.insert_worker(wang);
        li.id = db.insert_worker(li);
        zhao.id = db.insert_worker(zhao);
        tx.commit();
    }
    CHECK(wang.id > 0);
    CHECK(li.id > wang.id);
    CHECK(zhao.id > li.id);
    CHECK(db.data_version() == 0);

    const auto found_wang = db.find_worker(wang.id);
    REQUIRE(found_wang);
    check_worker(*found_wang, wang);
    const auto found_li = db.find_worker(li.id);
    REQUIRE(found_li);
    check_worker(*found_li, li);
    CHECK_FALSE(found_li->user_name);
    CHECK_FALSE(found_li->on_duty);
    CHECK_FALSE(db.find_worker(std::int64_t{999999}));

    const auto by_phone = db.find_worker_by_phone("13800000001");
    REQUIRE(by_phone);
    check_worker(*by_phone, wang);
    CHECK_FALSE(db.find_worker_by_phone("")); // no phone finds nobody
    CHECK_FALSE(db.find_worker_by_phone("13800000009"));

    const auto all = db.list_workers();
    CHECK(ids_of(all) == Ids{wang.id, li.id, zhao.id});
    REQUIRE(all.size() == 3);
    check_worker(all[2], zhao);

    // A taken phone fails the statement as SQLite fails it, on both backends.
    {
        store::Transaction tx(db, store::Bump::none);
        CHECK_WANGGE_ERROR(db.insert_worker(worker("重复", "13800000001")), ErrorKind::io, "database");
    }
    CHECK(db.list_workers().size() == 3);

    // Every field changes; the account goes.
    auto changed = wang;
    changed.name = "王芳芳";
    changed.phone = "13800000002";
    changed.role = "community_worker";
    changed.user_name.reset();
    changed.on_duty = false;
    changed.shift = "夜班";
    auto li_changed = li;
    li_changed.phone = "13800000001"; // free again
    li_changed.user_name = "liqiang";
    li_changed.on_duty = true;
    {
        store::Transaction tx(db, store::Bump::none);
        db.update_worker(changed);
        db.update_worker(li_changed);
        auto nobody = worker("无人", "13800000007");
        nobody.id = 999999;
        db.update_worker(nobody); // no such worker: nothing happens
        tx.commit();
    }
    check_worker(*db.find_worker(wang.id), changed);
    check_worker(*db.find_worker(li.id), li_changed);
    CHECK(db.find_worker_by_phone("13800000001")->id == li.id);
    CHECK(db.find_worker_by_phone("13800000002")->id == wang.id);
    CHECK_FALSE(db.find_worker_by_phone("13800000007"));
    CHECK(db.list_workers().size() == 3);

    // An update to another worker's phone fails as an insert does.
    {
        store::Transaction tx(db, store::Bump::none);
        auto clash = zhao;
        clash.phone = "13800000002";
        CHECK_WANGGE_ERROR(db.update_worker(clash), ErrorKind::io, "database");
    }
    CHECK(db.find_worker(zhao.id)->phone.empty());
}

TEST_CASE("grid workers on both backends: set_grid_workers replaces a grid's workers and ranks them",
          "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    std::int64_t w1 = 0, w2 = 0, w3 = 0, w4 = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        w1 = db.insert_worker(worker("一", "13900000001"));
        w2 = db.insert_worker(worker("二", "13900000002"));
        w3 = db.insert_worker(worker("三", "13900000003"));
        w4 = db.insert_worker(worker("四", "13900000004"));
        // The east grid first, so that listing by code is not the order of writing.
        db.set_grid_workers(east_grid, {w4});
        db.set_grid_workers(west_grid, {w3, w1, w2});
        tx.commit();
    }
    CHECK(links_of(db.grid_workers_of(west_grid)) == std::vector<Link>{{west_grid, w3, 0}, {west_grid, w1, 1}, {west_grid, w2, 2}});
    CHECK(links_of(db.grid_workers_of(east_grid)) == std::vector<Link>{{east_grid, w4, 0}});
    CHECK(db.grid_workers_of("320102002009001").empty());
    CHECK(links_of(db.list_grid_workers()) ==
          std::vector<Link>{{west_grid, w3, 0}, {west_grid, w1, 1}, {west_grid, w2, 2}, {east_grid, w4, 0}});

    // Replacing: the old list goes, the new one is ranked as given; the other grid keeps its own.
    {
        store::Transaction tx(db, store::Bump::none);
        db.set_grid_workers(west_grid, {w2, w4});
        tx.commit();
    }
    CHECK(links_of(db.grid_workers_of(west_grid)) == std::vector<Link>{{west_grid, w2, 0}, {west_grid, w4, 1}});
    CHECK(links_of(db.list_grid_workers()) ==
          std::vector<Link>{{west_grid, w2, 0}, {west_grid, w4, 1}, {east_grid, w4, 0}});

    // The same worker twice in a grid fails, and the grid keeps its workers.
    {
        store::Transaction tx(db, store::Bump::none);
        CHECK_WANGGE_ERROR(db.set_grid_workers(west_grid, {w1, w1}), ErrorKind::io, "database");
    }
    CHECK(links_of(db.grid_workers_of(west_grid)) == std::vector<Link>{{west_grid, w2, 0}, {west_grid, w4, 1}});

    // An empty list clears the grid.
    {
        store::Transaction tx(db, store::Bump::none);
        db.set_grid_workers(east_grid, {});
        tx.commit();
    }
    CHECK(db.grid_workers_of(east_grid).empty());
    CHECK(links_of(db.list_grid_workers()) == std::vector<Link>{{west_grid, w2, 0}, {west_grid, w4, 1}});
    CHECK(db.data_version() == 0);
}

TEST_CASE("incidents on both backends: a case round-trips field by field, lon and lat exactly, keys unique",
          "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    // Doubles that a decimal form of fewer than 17 digits, or a float, would not give back.
    const std::vector<std::pair<double, double>> points = {
        {118.80123456789012, 31.951234567890123},
        {0.1 + 0.2, 1.0 / 3.0},
        {std::nextafter(180.0, 0.0), -std::nextafter(90.0, 0.0)},
        {118.0, 32.0},
        {-73.98551234567891, 1e-300},
    };

    std::int64_t worker_id = 0;
    store::IncidentRow bare = incident(points[0].first, points[0].second);
    store::IncidentRow full = incident(points[1].first, points[1].second, "0202", "closed");
    std::vector<store::IncidentRow> more;
    {
        store::Transaction tx(db, store::Bump::none);
        worker_id = db.insert_worker(worker("王芳", "13800000001"));
        bare.id = db.insert_incident(bare);

        full.urgency = "urgent";
        full.description = "井盖缺失, \"深\"\n第二行 '引号' \\ 反斜杠";
        full.source = "hotline";
        full.input_crs = "gcj02";
        full.building_id = 4242;
        full.street_code = street;
        full.community_code = east;
        full.grid_code = east_grid;
        full.reporter_name = "张三";
        full.reporter_phone = "13700000000";
        full.assignee_worker_id = worker_id;
        full.assignee_level = "community";
        full.assignee_code = east;
        full.reported_at = "2026-12-05T08:10:00Z";
        full.due_at = "2026-12-06T08:10:00Z";
        full.closed_at = "2026-12-05T12:00:00Z";
        full.extended = true;
        full.reworks = 2;
        full.rating = 4;
        full.duplicate_of = bare.id;
        full.idempotency_key = "key-1";
        full.request_digest = "sha256:abcdef";
        full.address = "中山路 1 号";
        full.id = db.insert_incident(full);

        for (std::size_t i = 2; i < points.size(); ++i) {
            auto r = incident(points[i].first, points[i].second);
            r.locate_status = "not_covered";
            r.street_code = r.community_code = r.grid_code = "";
            r.assignee_level = "street";
            r.assignee_code = street;
            r.id = db.insert_incident(r);
            more.push_back(r);
        }
        tx.commit();
    }
    CHECK(bare.id > 0);
    CHECK(full.id > bare.id);
    CHECK(db.data_version() == 0);

    const auto got_bare = db.find_incident(bare.id);
    REQUIRE(got_bare);
    check_incident(*got_bare, bare);
    CHECK_FALSE(got_bare->building_id);
    CHECK_FALSE(got_bare->assignee_worker_id);
    CHECK_FALSE(got_bare->closed_at);
    CHECK_FALSE(got_bare->rating);
    CHECK_FALSE(got_bare->duplicate_of);
    CHECK_FALSE(got_bare->idempotency_key);
    CHECK_FALSE(got_bare->extended);
    CHECK(got_bare->reworks == 0);
    CHECK(got_bare->address.empty());

    const auto got_full = db.find_incident(full.id);
    REQUIRE(got_full);
    check_incident(*got_full, full);
    for (const auto& r : more) {
        const auto got = db.find_incident(r.id);
        REQUIRE(got);
        INFO(r.lon << " " << r.lat);
        check_incident(*got, r);
    }
    CHECK_FALSE(db.find_incident(std::int64_t{999999}));

    const auto by_key = db.find_incident_by_key("key-1");
    REQUIRE(by_key);
    check_incident(*by_key, full);
    CHECK_FALSE(db.find_incident_by_key("key-2"));
    CHECK_FALSE(db.find_incident_by_key(""));

    // A key is unique: a second case with it fails the same way on both backends; cases without
    // one are any number.
    {
        store::Transaction tx(db, store::Bump::none);
        auto again = incident(118.8, 32.0);
        again.idempotency_key = "key-1";
        CHECK_WANGGE_ERROR(db.insert_incident(again), ErrorKind::conflict, "idempotency_key_taken");
    }
    CHECK(db.list_incidents({}).size() == 2 + more.size());

    // An update writes every field: the optional ones set and cleared, lon and lat exactly.
    auto bare2 = bare;
    bare2.lon = points[4].first;
    bare2.lat = points[2].second;
    bare2.state = "in_progress";
    bare2.building_id = 7;
    bare2.assignee_worker_id = worker_id;
    bare2.closed_at = "2026-12-07T00:00:00Z";
    bare2.extended = true;
    bare2.reworks = 1;
    bare2.rating = 5;
    bare2.idempotency_key = "key-2";
    bare2.request_digest = "d2";
    bare2.address = "地址";
    bare2.description = "改过";
    bare2.urgency = "urgent";
    bare2.assignee_level = "street";
    bare2.assignee_code = street;
    auto full2 = full;
    full2.building_id.reset();
    full2.assignee_worker_id.reset();
    full2.closed_at.reset();
    full2.rating.reset();
    full2.duplicate_of.reset();
    full2.idempotency_key.reset();
    full2.extended = false;
    full2.lon = points[3].first;
    full2.lat = points[3].second;
    {
        store::Transaction tx(db, store::Bump::none);
        db.update_incident(bare2);
        db.update_incident(full2);
        tx.commit();
    }
    check_incident(*db.find_incident(bare.id), bare2);
    check_incident(*db.find_incident(full.id), full2);
    CHECK(db.find_incident_by_key("key-2")->id == bare.id);
    CHECK_FALSE(db.find_incident_by_key("key-1"));

    // An update to a key another case has fails as an insert does.
    {
        store::Transaction tx(db, store::Bump::none);
        auto clash = full2;
        clash.idempotency_key = "key-2";
        CHECK_WANGGE_ERROR(db.update_incident(clash), ErrorKind::io, "database");
    }
    CHECK_FALSE(db.find_incident(full.id)->idempotency_key);
}

TEST_CASE("incidents on both backends: incidents_near and incidents_in include the box's edges, by category and open state",
          "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    const BBox box{118.80, 32.00, 118.81, 32.01};
    std::int64_t corner_min = 0, corner_max = 0, suspended = 0, east_out = 0, south_out = 0, invalid = 0,
                 corner_se = 0, west_out = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        corner_min = db.insert_incident(incident(118.80, 32.00, "0101", "dispatched"));
        corner_max = db.insert_incident(incident(118.81, 32.01, "0101", "closed"));
        suspended = db.insert_incident(incident(118.805, 32.005, "0202", "suspended"));
        east_out = db.insert_incident(incident(std::nextafter(118.81, 200.0), 32.005, "0101", "dispatched"));
        south_out = db.insert_incident(incident(118.805, std::nextafter(32.00, 0.0), "0101", "accepted"));
        invalid = db.insert_incident(incident(118.805, 32.005, "0101", "invalid"));
        corner_se = db.insert_incident(incident(118.81, 32.00, "0101", "in_progress"));
        west_out = db.insert_incident(incident(std::nextafter(118.80, 0.0), 32.01, "0202", "reported"));
        tx.commit();
    }

    // Newest first, whatever their state.
    CHECK(ids_of(db.incidents_near("0101", box)) == Ids{corner_se, invalid, corner_max, corner_min});
    CHECK(ids_of(db.incidents_near("0202", box)) == Ids{suspended});
    CHECK(db.incidents_near("9999", box).empty());
    CHECK(ids_of(db.incidents_near("0101", BBox{118.79, 31.99, 118.82, 32.02})) ==
          Ids{corner_se, invalid, south_out, east_out, corner_max, corner_min});
    const auto near = db.incidents_near("0101", BBox{118.80, 32.00, 118.80, 32.00}); // a point
    REQUIRE(near.size() == 1);
    check_incident(near[0], [&] {
        auto r = incident(118.80, 32.00, "0101", "dispatched");
        r.id = corner_min;
        return r;
    }());

    // By id; the open ones only unless closed ones are asked for (closed, invalid, suspended).
    CHECK(ids_of(db.incidents_in(box, true)) == Ids{corner_min, corner_max, suspended, invalid, corner_se});
    CHECK(ids_of(db.incidents_in(box, false)) == Ids{corner_min, corner_se});
    CHECK(ids_of(db.incidents_in(BBox{118.79, 31.99, 118.82, 32.02}, false)) ==
          Ids{corner_min, east_out, south_out, corner_se, west_out});
    CHECK(ids_of(db.incidents_in(BBox{118.81, 32.01, 118.81, 32.01}, true)) == Ids{corner_max});
    CHECK(db.incidents_in(BBox{118.81, 32.01, 118.81, 32.01}, false).empty());
    CHECK(db.incidents_in(BBox{}, true).empty()); // an empty box (min above max)
    CHECK(db.incidents_in(BBox{118.81, 32.00, 118.80, 32.01}, true).empty());
}

TEST_CASE("incidents on both backends: list_incidents filters by code, state, open, worker and time, newest first, in pages",
          "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    std::int64_t w1 = 0, w2 = 0, i1 = 0, i2 = 0, i3 = 0, i4 = 0, i5 = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        w1 = db.insert_worker(worker("一", "13900000001"));
        w2 = db.insert_worker(worker("二", "13900000002"));

        auto r1 = incident(118.801, 32.001, "0101", "dispatched");
        r1.assignee_worker_id = w1;
        r1.reported_at = "2026-12-01T08:00:00Z";
        i1 = db.insert_incident(r1);

        auto r2 = incident(118.802, 32.002, "0101", "closed"); // in the community, no grid
        r2.grid_code = "";
        r2.locate_status = "no_grid";
        r2.assignee_level = "community";
        r2.assignee_code = west;
        r2.reported_at = "2026-12-02T08:00:00Z";
        i2 = db.insert_incident(r2);

        auto r3 = incident(118.812, 32.003, "0202", "in_progress");
        r3.community_code = east;
        r3.grid_code = east_grid;
        r3.assignee_code = east_grid;
        r3.assignee_worker_id = w2;
        r3.reported_at = "2026-12-03T08:00:00Z";
        i3 = db.insert_incident(r3);

        auto r4 = incident(118.803, 32.006, "0101", "suspended"); // in the west grid, the street answers
        r4.assignee_level = "street";
        r4.assignee_code = street;
        r4.assignee_worker_id = w1;
        r4.reported_at = "2026-12-03T08:00:00Z";
        i4 = db.insert_incident(r4);

        auto r5 = incident(118.9, 32.1, "0303", "invalid"); // outside everything
        r5.street_code = r5.community_code = r5.grid_code = "";
        r5.locate_status = "not_covered";
        r5.assignee_level = "street";
        r5.assignee_code = street;
        r5.reported_at = "2026-12-04T08:00:00Z";
        i5 = db.insert_incident(r5);
        tx.commit();
    }
    using Filter = store::Database::IncidentFilter;
    const auto list = [&](Filter f) { return ids_of(db.list_incidents(f)); };

    CHECK(list({}) == Ids{i5, i4, i3, i2, i1});
    const auto all = db.list_incidents({});
    REQUIRE(all.size() == 5);
    CHECK(all[4].assignee_worker_id == std::optional<std::int64_t>(w1));
    CHECK(all[4].lon == 118.801);

    // A code is the case's street, community or grid, or the code answering for it; whole codes.
    Filter f;
    f.code = west_grid;
    CHECK(list(f) == Ids{i4, i1});
    f.code = west;
    CHECK(list(f) == Ids{i4, i2, i1});
    f.code = east;
    CHECK(list(f) == Ids{i3});
    f.code = street;
    CHECK(list(f) == Ids{i5, i4, i3, i2, i1});
    f.code = "320102";
    CHECK(list(f).empty());
    f.code = "32010200200";
    CHECK(list(f).empty());

    Filter s;
    s.state = "closed";
    CHECK(list(s) == Ids{i2});
    s.state = "in_progress";
    CHECK(list(s) == Ids{i3});
    s.state = "handled";
    CHECK(list(s).empty());

    Filter open;
    open.open_only = true;
    CHECK(list(open) == Ids{i3, i1});
    open.code = west;
    CHECK(list(open) == Ids{i1});

    Filter w;
    w.worker = w1;
    CHECK(list(w) == Ids{i4, i1});
    w.worker = w2;
    CHECK(list(w) == Ids{i3});
    w.state = "dispatched";
    CHECK(list(w).empty());
    w.worker = w1;
    CHECK(list(w) == Ids{i1});
    w.worker = 999999;
    w.state.reset();
    CHECK(list(w).empty());

    // Times as text, byte by byte, both ends included.
    Filter t;
    t.reported_from = "2026-12-03T08:00:00Z";
    CHECK(list(t) == Ids{i5, i4, i3});
    t.reported_to = "2026-12-03T08:00:00Z";
    CHECK(list(t) == Ids{i4, i3});
    t.reported_from.reset();
    CHECK(list(t) == Ids{i4, i3, i2, i1});
    t.reported_to = "2026-12-02"; // before "2026-12-02T08:00:00Z"
    CHECK(list(t) == Ids{i1});
    t.reported_to.reset();
    t.reported_from = "2026-12-02";
    CHECK(list(t) == Ids{i5, i4, i3, i2});
    t.reported_from = "2026-12-05";
    CHECK(list(t).empty());

    // Pages.
    Filter p;
    p.limit = 2;
    CHECK(list(p) == Ids{i5, i4});
    p.offset = 2;
    CHECK(list(p) == Ids{i3, i2});
    p.offset = 4;
    CHECK(list(p) == Ids{i1});
    p.offset = 5;
    CHECK(list(p).empty());
    p.limit = 0;
    p.offset = 0;
    CHECK(list(p).empty());
    // As SQLite takes them: a negative limit is none, a negative offset none.
    p.limit = -1;
    p.offset = 1;
    CHECK(list(p) == Ids{i4, i3, i2, i1});
    p.limit = 2;
    p.offset = -3;
    CHECK(list(p) == Ids{i5, i4});
    // Filters and pages together.
    Filter both;
    both.code = street;
    both.open_only = true;
    both.limit = 1;
    both.offset = 1;
    CHECK(list(both) == Ids{i1});
}

TEST_CASE("incident log on both backends: events by case, and by time in pages that continue across equal times",
          "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    const std::string t0 = "2026-12-01T07:00:00Z", t1 = "2026-12-01T08:00:00Z", t2 = "2026-12-01T09:00:00Z",
                      t3 = "2026-12-01T10:00:00Z", t4 = "2026-12-01T12:00:00Z";
    std::int64_t x = 0, y = 0;
    std::vector<store::IncidentEventRow> events;
    {
        store::Transaction tx(db, store::Bump::none);
        x = db.insert_incident(incident(118.801, 32.001));
        y = db.insert_incident(incident(118.802, 32.002));
        const auto add = [&](std::int64_t incident_id, const std::string& at, const std::string& action) {
            store::IncidentEventRow e{0, incident_id, at, "王芳", action, "dispatched", "in_progress", "备注 " + action,
                                      "王芳"};
            e.id = db.insert_incident_event(e);
            events.push_back(e);
        };
        add(x, t2, "report");   // e1
        add(y, t1, "report");   // e2
        add(x, t2, "accept");   // e3
        add(y, t2, "accept");   // e4
        add(x, t3, "start");    // e5
        add(y, t4, "start");    // e6, after `to`
        add(x, t0, "comment");  // e7, before `from`
        // The fields that may be empty.
        store::IncidentEventRow bare{0, y, t3, "system", "remind", "", "dispatched", "", ""};
        bare.id = db.insert_incident_event(bare);
        events.push_back(bare); // e8
        tx.commit();
    }
    const auto id = [&](std::size_t n) { return events[n - 1].id; };
    CHECK(id(2) > id(1));
    CHECK(id(8) > id(7));

    const auto of_x = db.incident_events(x);
    CHECK(ids_of(of_x) == Ids{id(1), id(3), id(5), id(7)});
    const auto of_y = db.incident_events(y);
    CHECK(ids_of(of_y) == Ids{id(2), id(4), id(6), id(8)});
    REQUIRE(of_x.size() == 4);
    REQUIRE(of_y.size() == 4);
    CHECK(db.incident_events(999999).empty());
    for (const auto& [got, want] : {std::pair{of_x[0], events[0]}, std::pair{of_y[3], events[7]}}) {
        CHECK(got.id == want.id);
        CHECK(got.incident_id == want.incident_id);
        CHECK(got.at == want.at);
        CHECK(got.actor == want.actor);
        CHECK(got.action == want.action);
        CHECK(got.from_state == want.from_state);
        CHECK(got.to_state == want.to_state);
        CHECK(got.note == want.note);
        CHECK(got.assignee == want.assignee);
    }

    // By time, then id; both ends included.
    const Ids in_order{id(2), id(1), id(3), id(4), id(5), id(8)};
    CHECK(ids_of(db.incident_events_between(t1, 0, t3, 100)) == in_order);
    CHECK(ids_of(db.incident_events_between(t0, 0, t4, -1)) ==
          Ids{id(7), id(2), id(1), id(3), id(4), id(5), id(8), id(6)});
    CHECK(ids_of(db.incident_events_between(t1, 0, t1, 100)) == Ids{id(2)});
    CHECK(db.incident_events_between(t4, id(6), t4, 100).empty());
    CHECK(db.incident_events_between("2026-12-02", 0, "2026-12-03", 100).empty());
    // after_id counts only at `from` itself.
    CHECK(ids_of(db.incident_events_between(t2, id(4), t3, 100)) == Ids{id(5), id(8)});
    CHECK(ids_of(db.incident_events_between(t2, id(1), t3, 100)) == Ids{id(3), id(4), id(5), id(8)});

    // Pages of two: the first ends inside the events at t2, the next goes on from there.
    auto page = db.incident_events_between(t1, 0, t3, 2);
    CHECK(ids_of(page) == Ids{id(2), id(1)});
    page = db.incident_events_between(page.back().at, page.back().id, t3, 2);
    CHECK(ids_of(page) == Ids{id(3), id(4)});
    page = db.incident_events_between(page.back().at, page.back().id, t3, 2);
    CHECK(ids_of(page) == Ids{id(5), id(8)});
    page = db.incident_events_between(page.back().at, page.back().id, t3, 2);
    CHECK(page.empty());

    // Pages of one give every event once, in order.
    Ids walked;
    std::string from = t1;
    std::int64_t after = 0;
    for (int guard = 0; guard < 20; ++guard) {
        const auto one = db.incident_events_between(from, after, t3, 1);
        if (one.empty()) break;
        REQUIRE(one.size() == 1);
        walked.push_back(one[0].id);
        from = one[0].at;
        after = one[0].id;
    }
    CHECK(walked == in_order);
    CHECK(db.incident_events_between(t1, 0, t3, 0).empty());
    CHECK(db.data_version() == 0);
}

TEST_CASE("photos on both backends: a photo is kept once per case, in the order stored", "[store][pg]") {
    const std::string backend = GENERATE(as<std::string>{}, "sqlite", "postgresql");
    INFO(backend);
    test::TestStore store(backend);
    store::Database& db = store.db();

    const std::string a(64, 'f'), b(64, '0'), c = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    std::int64_t x = 0, y = 0, event = 0;
    {
        store::Transaction tx(db, store::Bump::none);
        x = db.insert_incident(incident(118.801, 32.001));
        y = db.insert_incident(incident(118.802, 32.002));
        event = db.insert_incident_event({0, x, "2026-12-01T08:00:00Z", "王芳", "handle", "in_progress", "handled", "", ""});
        CHECK(db.insert_photo({x, event, a, "image/jpeg", 1000}));
        CHECK(db.insert_photo({x, std::nullopt, b, "image/png", 20}));
        // The same photo again for the same case: kept once, as first stored.
        CHECK_FALSE(db.insert_photo({x, std::nullopt, a, "image/webp", 5}));
        CHECK(db.insert_photo({y, std::nullopt, a, "image/jpeg", 1000})); // another case may have it
        CHECK(db.insert_photo({x, event, c, "image/webp", 3}));
        // What the table's checks refuse is skipped as SQLite's INSERT OR IGNORE skips it.
        CHECK_FALSE(db.insert_photo({x, std::nullopt, std::string(64, 'e'), "image/gif", 10}));
        CHECK_FALSE(db.insert_photo({x, std::nullopt, "abc", "image/png", 10}));
        CHECK_FALSE(db.insert_photo({x, std::nullopt, std::string(64, 'd'), "image/png", 0}));
        tx.commit();
    }
    CHECK(db.data_version() == 0);

    const auto of_x = db.photos_of(x);
    REQUIRE(of_x.size() == 3);
    CHECK(of_x[0].hash == a);
    CHECK(of_x[1].hash == b);
    CHECK(of_x[2].hash == c);
    CHECK(of_x[0].incident_id == x);
    CHECK(of_x[0].event_id == std::optional<std::int64_t>(event));
    CHECK(of_x[0].media_type == "image/jpeg");
    CHECK(of_x[0].bytes == 1000);
    CHECK_FALSE(of_x[1].event_id);
    CHECK(of_x[1].media_type == "image/png");
    CHECK(of_x[1].bytes == 20);
    CHECK(of_x[2].event_id == std::optional<std::int64_t>(event));

    const auto of_y = db.photos_of(y);
    REQUIRE(of_y.size() == 1);
    CHECK(of_y[0].incident_id == y);
    CHECK(of_y[0].hash == a);
    CHECK_FALSE(of_y[0].event_id);
    CHECK(db.photos_of(999999).empty());

    const auto found = db.find_photo(x, b);
    REQUIRE(found);
    CHECK(found->incident_id == x);
    CHECK_FALSE(found->event_id);
    CHECK(found->hash == b);
    CHECK(found->media_type == "image/png");
    CHECK(found->bytes == 20);
    const auto first = db.find_photo(x, a);
    REQUIRE(first);
    CHECK(first->media_type == "image/jpeg");
    CHECK(first->event_id == std::optional<std::int64_t>(event));
    CHECK_FALSE(db.find_photo(y, b));
    CHECK_FALSE(db.find_photo(999999, a));
}

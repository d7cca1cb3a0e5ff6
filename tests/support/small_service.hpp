#pragma once
// The small district (support/small_district.hpp), its buildings assigned to their grids, loaded
// into a snapshot and served by an api::Service with the given endpoint families: the fixture of
// the tests that call the API without sockets. Its anonymous clients may read the validation
// report too (the tests of access itself configure their own).
#include "api/service.hpp"
#include "grid/assign.hpp"
#include "support/small_district.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <vector>

namespace wangge::test {

struct SmallService {
    TempDir dir;
    std::unique_ptr<store::Database> db = store::Database::open(dir / "w.sqlite", store::OpenMode::create);
    std::unique_ptr<api::Service> service;

    // Requests may name the host example.test (links are made on it).
    explicit SmallService(std::vector<std::shared_ptr<const api::Endpoints>> families,
                          api::ServiceOptions options = {{}, {{api::Access::map, api::Access::tiles, api::Access::ogc,
                                                               api::Access::locate, api::Access::validate},
                                                              {"example.test"}},
                                                             {}}) {
        write_small_district(*db);
        {
            store::Transaction tx(*db);
            grid::reassign_buildings(*db);
            tx.commit();
        }
        service = std::make_unique<api::Service>(std::make_shared<grid::SnapshotHolder>(grid::Snapshot::load(*db)),
                                                 std::move(families), std::move(options));
    }
};

} // namespace wangge::test

#pragma once
// The REST API of Wangge as a pure function Request -> Response over the current snapshot.
// Endpoints (docs/API.md):
//   GET /healthz
//   GET /api/v1/locate?lon=&lat=[&crs=wgs84|gcj02|bd09]
//   GET /api/v1/{streets|communities|grids|buildings}?bbox=&parent=&limit=&offset=
//   GET /api/v1/{streets|communities|grids}/{code}
//   GET /api/v1/validate
#include "api/message.hpp"
#include "grid/snapshot.hpp"
#include "grid/validate.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>

namespace wangge::api {

class Service {
public:
    explicit Service(std::shared_ptr<grid::SnapshotHolder> snapshots);

    // Never throws: every failure becomes a JSON error envelope.
    Response handle(const Request& req) const;

private:
    Response route(const Request& req) const;
    Response healthz(const grid::Snapshot& snap) const;
    Response locate(const Request& req, const grid::Snapshot& snap) const;
    Response list_areas(const Request& req, const grid::Snapshot& snap, Level level) const;
    Response list_buildings(const Request& req, const grid::Snapshot& snap) const;
    Response one_area(const grid::Snapshot& snap, Level level, const std::string& code) const;
    Response validate(const grid::Snapshot& snap) const;

    std::shared_ptr<grid::SnapshotHolder> m_snapshots;
    // Validation of a whole district takes a while: keep the last report, keyed by version.
    mutable std::mutex m_validation_mutex;
    mutable std::shared_ptr<const std::string> m_validation_json;
    mutable std::int64_t m_validation_version = -1;
};

nlohmann::json to_json(const grid::ValidationReport& report);

} // namespace wangge::api

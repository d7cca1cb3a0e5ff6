#pragma once
// The REST API of Wangge (docs/API.md):
//   GET /healthz   the server runs and serves its snapshot (the map, from memory)
//   GET /readyz    ... and its database answers, so it can take writes (reports, sign-ins)
//   GET /api/v1/locate?lon=&lat=[&crs=wgs84|gcj02|bd09]
//   GET /api/v1/{streets|communities|grids|buildings}?bbox=&parent=&limit=&offset=
//   GET /api/v1/{streets|communities|grids}/{code}
//   GET /api/v1/validate
#include "api/endpoints.hpp"
#include "grid/validate.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <future>
#include <mutex>

namespace wangge::api {

class RestEndpoints final : public Endpoints {
public:
    // Why the server cannot take writes now (its database does not answer), or nullopt when it
    // can. Without one, /readyz answers as /healthz.
    using Readiness = std::function<std::optional<std::string>()>;
    explicit RestEndpoints(Readiness readiness = {}) : m_readiness(std::move(readiness)) {}

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    Response healthz(const grid::Snapshot& snap) const;
    Response readyz(const grid::Snapshot& snap) const;
    Response locate(const Request& req, const grid::Snapshot& snap) const;
    Response list_areas(const Request& req, const grid::Snapshot& snap, Level level) const;
    Response list_buildings(const Request& req, const grid::Snapshot& snap) const;
    Response one_area(const grid::Snapshot& snap, Level level, const std::string& code) const;
    Response validate(const grid::Snapshot& snap) const;

    // Validation of a whole city takes seconds: it runs once per data version, outside the
    // lock, and concurrent requests share its result.
    mutable std::mutex m_validation_mutex;
    mutable std::shared_future<std::shared_ptr<const std::string>> m_validation_json;
    mutable std::int64_t m_validation_version = -1;
    Readiness m_readiness;
};

nlohmann::json to_json(const grid::ValidationReport& report);

} // namespace wangge::api

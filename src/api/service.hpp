#pragma once
// Wangge's HTTP API as a pure function Request -> Response over the current snapshot. The
// Service takes the snapshot once per request (readers never lock), asks each endpoint family
// in turn, and is the boundary where a failure of any of them becomes the JSON envelope (through
// error_response, which makes it).
#include "api/endpoints.hpp"

#include <memory>
#include <vector>

namespace wangge::api {

class Service {
public:
    Service(std::shared_ptr<grid::SnapshotHolder> snapshots, std::vector<std::shared_ptr<const Endpoints>> families);

    // Never throws: every failure becomes a JSON error envelope.
    Response handle(const Request& req) const;

private:
    std::shared_ptr<grid::SnapshotHolder> m_snapshots;
    std::vector<std::shared_ptr<const Endpoints>> m_families;
};

} // namespace wangge::api

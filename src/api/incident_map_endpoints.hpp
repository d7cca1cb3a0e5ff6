#pragma once
// What the web map shows of cases and the people who handle them (docs/API.md, docs/TILES.md):
//   GET /tiles/incidents/{z}/{x}/{y}.mvt[?closed=true]   the incidents layer of the signed-in
//       user: the open cases (with closed=true every case) that user may see (may_see_cases),
//       coloured by light, clustered below z15; made per request, never cached or shared
//   GET /api/v1/grids/{code}/workers   the grid's workers in rank order, phones masked for viewers
// The access check has run before (route classes incident_tiles and grid_workers). Ask this
// family before the vector tiles and the REST API, which would take these paths for their own.
#include "api/endpoints.hpp"
#include "api/incident_endpoints.hpp"
#include "api/writer.hpp"
#include "tiles/incident_tiles.hpp"

#include <memory>

namespace wangge::api {

class IncidentMapEndpoints final : public Endpoints {
public:
    // The calendar and clock of `incidents` give each case its light.
    IncidentMapEndpoints(std::shared_ptr<Writer> reads, IncidentOptions incidents, tiles::IncidentTileOptions tiles = {});

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    Response tile(const Request& req, const tiles::TileId& id) const;
    Response workers(const Request& req, const grid::Snapshot& snapshot) const;

    std::shared_ptr<Writer> m_reads;
    IncidentOptions m_incidents;
    tiles::IncidentTileOptions m_tiles;
};

} // namespace wangge::api

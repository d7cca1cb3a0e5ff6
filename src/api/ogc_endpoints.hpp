#pragma once
// OGC API - Features - Part 1: Core (OGC 17-069r4) under /ogc, so that GIS software (QGIS, GDAL's
// OAPIF driver) reads Wangge as layers:
//   GET /ogc                                           landing page
//   GET /ogc/api                                       OpenAPI 3.0 description
//   GET /ogc/conformance                               core, geojson, oas30
//   GET /ogc/collections                               streets, communities, grids, buildings
//   GET /ogc/collections/{id}
//   GET /ogc/collections/{id}/items?bbox=&limit=&offset=&datetime=
//   GET /ogc/collections/{id}/items/{featureId}        area code, or building id
// JSON for metadata, GeoJSON for features; docs/OGC.md says what each answers and why.
#include "api/endpoints.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace wangge::api {

class OgcEndpoints final : public Endpoints {
public:
    // Page size of items without `limit`, and the largest one served (a larger `limit` is
    // lowered to it, as the standard requires).
    static constexpr long default_limit = 10;
    static constexpr long max_limit = 10000;

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;
};

namespace detail {
// The media type of the OpenAPI description (OGC 17-069r4, /req/oas30/oas-impl).
inline constexpr const char* openapi_type = "application/vnd.oai.openapi+json;version=3.0";
// The OpenAPI 3.0 document describing the /ogc endpoints, served from `server_url` (e.g.
// "http://host:8080/ogc"). Lives in ogc_openapi.cpp: it is long and changes with the API only.
nlohmann::json ogc_openapi(const std::string& server_url);
} // namespace detail

} // namespace wangge::api

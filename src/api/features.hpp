#pragma once
// GeoJSON (RFC 7946) features of the hierarchy: properties as JSON, geometry written straight
// from GEOS by geo::append_geojson.
#include "grid/snapshot.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace wangge::api {

nlohmann::json area_properties(const grid::Snapshot& snap, Level level, const grid::Area& area);
nlohmann::json building_properties(const grid::Building& b);

// Appends {"type":"Feature","id":...,"properties":...,"geometry":...}.
void append_feature(std::string& out, const std::string& id, const nlohmann::json& properties,
                    const geo::Geometry& geom);

} // namespace wangge::api

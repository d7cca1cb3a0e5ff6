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
// An area (a building) as a feature, as every endpoint that lists or shows one writes it: the
// area's code (the building's id) as the id, area_properties (building_properties).
void append_area_feature(std::string& out, const grid::Snapshot& snap, Level level, const grid::Area& area);
void append_building_feature(std::string& out, const grid::Building& b);

} // namespace wangge::api

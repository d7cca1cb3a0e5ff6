#pragma once
// Importing user data (anything GDAL's vector drivers read) into the store: one layer of one
// file becomes streets, communities, grids, buildings or roads, reprojected to WGS84, with
// geometries validated and repaired, in one transaction. docs/IMPORT.md is the user's guide.
#include "grid/assign.hpp"
#include "grid/estimate.hpp"
#include "store/database.hpp"

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::ingest {

enum class Target { streets, communities, grids, buildings, roads, units };

// "streets" | "communities" | "grids" | "buildings" | "roads" | "units" (singular forms too); nullopt
// otherwise.
std::optional<Target> parse_target(std::string_view text);
std::string_view to_string(Target target) noexcept;

struct ImportOptions {
    Target target = Target::buildings;
    std::filesystem::path path; // GeoJSON, Shapefile, GeoPackage, OSM .osm/.pbf, anything OGR reads
    // Default: the file's only layer; for OSM files multipolygons (polygon targets) or lines
    // (roads).
    std::optional<std::string> layer;
    // Source CRS, overriding the file's ("EPSG:4547", a WKT or PROJ string); required when the
    // file has none. "gcj02" / "bd09" declare lon/lat from Chinese map apps, converted per vertex.
    std::optional<std::string> crs;
    // Wangge field -> source column, e.g. {"code", "GRID_ID"}; overrides the default columns.
    std::map<std::string, std::string> field_map;
    bool replace = false; // overwrite streets/communities/grids whose code is stored; replace all buildings/roads
    // Buildings only: change stored buildings instead of adding, each matched by its source id
    // (or by Wangge's building id), only the fields the file gives (docs/IMPORT.md, "Updating").
    bool update = false;
    enum class Key { source_id, id } update_key = Key::source_id;
    grid::EstimatorConfig estimator = grid::EstimatorConfig::defaults();
    std::function<void(std::size_t done, std::size_t total)> progress; // total 0 when unknown
};

// A feature that was repaired (skipped == false) or left out (skipped == true).
struct FeatureIssue {
    std::size_t index = 0; // 0-based position of the feature in the layer
    std::string id;        // its code or source id, when it has one
    std::string reason;
    bool skipped = false;
};

struct ImportReport {
    std::size_t read = 0; // features of the target read (OSM: with a building/highway tag)
    std::size_t stored = 0;
    std::size_t repaired = 0;  // invalid geometries repaired and stored
    std::size_t skipped = 0;   // buildings/roads left out (listed in `issues`)
    std::size_t estimated = 0; // buildings whose households were estimated
    std::vector<FeatureIssue> issues;
    grid::AssignmentReport assignment; // filled when buildings or grids were imported
    long households_total = 0;         // buildings: sum of households stored (updated)
    long households_before = 0;        // --update: sum of households of the updated buildings before
    std::optional<BBox> extent;        // of what was stored, WGS84
};

// Imports one layer in one transaction: on any exception the database is left as it was.
// Throws Error(bad_request) for unusable options (missing CRS, unknown layer or column),
// Error(io) for an unreadable file, Error(unprocessable) for a feature that does not fit a
// strict target (streets/communities/grids), for coordinates outside WGS84 after reprojection,
// or when no feature at all could be stored, and Error(conflict) for a code already stored
// without `replace`. With `update`, a feature that matches no stored building (or several) is
// skipped and listed; Error(bad_request, "invalid_option") for `update` with another target or
// with `replace`.
ImportReport import_file(store::MapStore& db, const ImportOptions& options);

// The union of every polygon in a file (any format and CRS, as import_file reads it), in WGS84:
// a boundary given as a file, e.g. a street office's area for `wangge bootstrap`. Throws as
// import_file does, and Error(unprocessable, "no_polygons") when the file holds none.
geo::Geometry read_boundary(const std::filesystem::path& path, const std::optional<std::string>& crs = std::nullopt,
                            const std::optional<std::string>& layer = std::nullopt);

} // namespace wangge::ingest

#pragma once
// The map (streets, communities, grids, buildings, roads) read in one consistent moment from
// either store: a SpatiaLite file or a PostgreSQL + PostGIS database (docs/POSTGRESQL.md). The
// commands that only read the map (info, validate, locate, list) and the snapshot take it, so
// they run on both backends.
#include "store/records.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wangge::store {

struct MapRows {
    std::int64_t version = 0; // the data version the rows are of
    std::vector<StreetRow> streets;
    std::vector<CommunityRow> communities;
    std::vector<GridRow> grids;
    std::vector<BuildingRow> buildings;
    std::vector<RoadRow> roads;
};

class MapSource {
public:
    virtual ~MapSource() = default;
    // Every layer as of one data version (a read transaction spans the reads).
    virtual MapRows read_map() = 0;
    virtual int schema_version() = 0;
    // The file, or the URL without its password.
    virtual std::string name() const = 0;
};

// Opens `db` read-only: a postgresql:// (or postgres://) URL, else a SpatiaLite file. Throws as
// Database::open and PgDatabase::open do.
std::unique_ptr<MapSource> open_map_source(const std::string& db);

} // namespace wangge::store

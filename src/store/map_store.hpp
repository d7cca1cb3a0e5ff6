#pragma once
// Writing the map (streets, communities, grids, buildings, roads, units) to either store: what an
// import needs, so that `wangge import` writes a SpatiaLite file or a PostgreSQL database alike
// (docs/POSTGRESQL.md). store::Database extends it; its two backends implement both.
#include "core/codes.hpp"
#include "core/types.hpp"
#include "store/records.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace wangge::store {

class MapStore {
public:
    virtual ~MapStore() = default;

    // One write transaction at a time; its commit moves the data version on.
    virtual void begin_write() = 0;
    virtual void commit_write() = 0;
    virtual void rollback_write() noexcept = 0;

    virtual bool has_code(Level level, const std::string& code) = 0;
    // Stores an area; without `replace` a stored code is Error(conflict, "duplicate_code"). A
    // malformed code, or one that does not start with its parent's, is Error(bad_request).
    virtual void put_street(const StreetRow& row, bool replace) = 0;
    virtual void put_community(const CommunityRow& row, bool replace) = 0;
    virtual void put_grid(const GridRow& row, bool replace) = 0; // version: the next data version
    virtual std::int64_t insert_building(const BuildingRow& row) = 0;
    virtual std::int64_t insert_road(const RoadRow& row) = 0;
    virtual std::int64_t insert_unit(const UnitRow& row) = 0;
    virtual std::optional<BuildingRow> find_building(std::int64_t id) = 0;
    virtual std::vector<BuildingRow> find_buildings(const std::string& source_id) = 0;
    virtual void update_building(const BuildingRow& row) = 0;
    virtual void set_building_grid(std::int64_t id, const std::optional<std::string>& grid_code) = 0;
    virtual void delete_all_buildings() = 0;
    virtual void delete_all_roads() = 0;
    virtual void delete_all_units() = 0;
    virtual std::vector<GridRow> load_grids() = 0;
    // Streams buildings in id order; the visitor must not write to the store.
    virtual void for_each_building(const std::function<void(BuildingRow&&)>& visit) = 0;
    // The box of everything stored with a geometry, or nullopt when nothing is.
    virtual std::optional<BBox> extent() = 0;
};

// A write transaction on a MapStore: rolled back unless committed.
class MapWrite {
public:
    explicit MapWrite(MapStore& store) : m_store(&store) { m_store->begin_write(); }
    ~MapWrite() {
        if (!m_done) m_store->rollback_write();
    }
    MapWrite(const MapWrite&) = delete;
    MapWrite& operator=(const MapWrite&) = delete;
    void commit() {
        m_store->commit_write();
        m_done = true;
    }

private:
    MapStore* m_store;
    bool m_done = false;
};

} // namespace wangge::store

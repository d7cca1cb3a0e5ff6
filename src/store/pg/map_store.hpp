#pragma once
// The map written to PostgreSQL + PostGIS (store::MapStore; docs/POSTGRESQL.md): what
// `wangge import --db postgresql://...` writes through. A write transaction locks the data
// version's row (SELECT ... FOR UPDATE), so writers from several processes take turns as
// SQLite's BEGIN IMMEDIATE makes them, and its commit moves the version on.
#include "store/map_store.hpp"
#include "store/pg/database.hpp"

#include <memory>
#include <string>

namespace wangge::store {

class PgMapStore final : public MapStore {
public:
    // Opens (and migrates) the database at `url`; throws as PgDatabase::open.
    explicit PgMapStore(const std::string& url);

    void begin_write() override;
    void commit_write() override;
    void rollback_write() noexcept override;

    bool has_code(Level level, const std::string& code) override;
    void put_street(const StreetRow& row, bool replace) override;
    void put_community(const CommunityRow& row, bool replace) override;
    void put_grid(const GridRow& row, bool replace) override;
    std::int64_t insert_building(const BuildingRow& row) override;
    std::int64_t insert_road(const RoadRow& row) override;
    std::int64_t insert_unit(const UnitRow& row) override;
    std::optional<BuildingRow> find_building(std::int64_t id) override;
    std::vector<BuildingRow> find_buildings(const std::string& source_id) override;
    void update_building(const BuildingRow& row) override;
    void set_building_grid(std::int64_t id, const std::optional<std::string>& grid_code) override;
    void delete_all_buildings() override;
    void delete_all_roads() override;
    void delete_all_units() override;
    std::vector<GridRow> load_grids() override;
    void for_each_building(const std::function<void(BuildingRow&&)>& visit) override;
    std::optional<BBox> extent() override;

private:
    PgConnection& conn() { return m_db->connection(); }
    std::unique_ptr<PgDatabase> m_db;
    bool m_in_write = false;
};

} // namespace wangge::store

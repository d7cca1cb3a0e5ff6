#include "store/map_source.hpp"

#include "store/database.hpp"

namespace wangge::store {

namespace {

class StoreMap final : public MapSource {
public:
    explicit StoreMap(const std::string& where) : m_db(Database::open(where, OpenMode::read_only)) {}

    MapRows read_map() override {
        MapRows out;
        ReadTransaction consistent(*m_db); // a commit between two reads must not mix versions
        out.version = m_db->data_version();
        out.streets = m_db->load_streets();
        out.communities = m_db->load_communities();
        out.grids = m_db->load_grids();
        out.buildings = m_db->load_buildings();
        out.roads = m_db->load_roads();
        return out;
    }
    int schema_version() override { return m_db->schema_version(); }
    std::string name() const override { return m_db->name(); }

private:
    std::unique_ptr<Database> m_db;
};

} // namespace

std::unique_ptr<MapSource> open_map_source(const std::string& db) { return std::make_unique<StoreMap>(db); }

} // namespace wangge::store

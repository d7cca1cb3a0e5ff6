#pragma once
// The hierarchy in memory: an immutable snapshot of streets, communities, grids, buildings and
// roads at one data version, with spatial indexes of prepared geometries. Readers hold a
// shared_ptr<const Snapshot> and never lock; a write builds a new snapshot and swaps it in
// (SnapshotHolder), so a reader never sees half a change.
#include "core/codes.hpp"
#include "grid/cell_index.hpp"
#include "geo/geometry.hpp"
#include "store/database.hpp"
#include "store/map_source.hpp"
#include "store/records.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace wangge::grid {

// The household band of a residential grid (configurable; 250-500 by default).
struct Band {
    int min = 250;
    int max = 500;
};
enum class Load { below, in_band, above, unit };
std::string_view to_string(Load load) noexcept;

struct Stats {
    long households = 0;
    std::size_t buildings = 0;
    std::size_t estimated_buildings = 0; // buildings whose households are estimated
    std::size_t children = 0;            // communities of a street, grids of a community
};

struct Area {
    std::string code;
    std::string parent_code; // empty for a street
    std::string name;
    geo::Geometry geom;
    BBox bbox;
    double area_m2 = 0.0;
    // Where the area's name is drawn, once, by the vector tiles' `labels` layer and the rendered
    // tiles: the pole of inaccessibility of its largest part (the point inside farthest from its
    // outline, so inside even for a C-shaped or holed area), and that farthest distance, the
    // radius of the largest circle around the label that stays inside the area.
    LonLat label;
    double label_room_m = 0.0;
    Stats stats;
    std::int32_t parent_index = -1; // index of the parent in its level's vector; -1 when not stored
};

struct GridArea : Area {
    store::GridKind kind = store::GridKind::residential;
    std::int64_t version = 0;
    Load load = Load::in_band;
};

struct Building {
    store::BuildingRow row;
    BBox bbox;
};

// A road centre line, drawn on maps at community level and followed by grid boundaries.
struct Road {
    store::RoadRow row;
    BBox bbox;
};

struct LocateResult {
    enum class Status {
        grid,         // inside a grid
        no_grid,      // inside a community but in none of its grids (属地兜底: the community answers)
        no_community, // inside a street office but in no community (the street answers)
        not_covered,  // outside everything
    };
    Status status = Status::not_covered;
    const Area* street = nullptr;
    const Area* community = nullptr;
    const GridArea* grid = nullptr;
    // For not_covered: the nearest grid and the geodesic distance to it.
    const GridArea* nearest_grid = nullptr;
    double nearest_distance_m = 0.0;
};
std::string_view to_string(LocateResult::Status s) noexcept;

class Snapshot {
public:
    struct Input {
        std::int64_t version = 0;
        std::vector<store::StreetRow> streets;
        std::vector<store::CommunityRow> communities;
        std::vector<store::GridRow> grids;
        std::vector<store::BuildingRow> buildings;
        std::vector<store::RoadRow> roads;
        Band band;
    };
    static std::shared_ptr<const Snapshot> build(Input input);
    static std::shared_ptr<const Snapshot> load(store::Database& db, Band band = {});
    // From either backend (a SpatiaLite file or PostgreSQL), as of one data version.
    static std::shared_ptr<const Snapshot> load(store::MapSource& source, Band band = {});

    std::int64_t version() const noexcept { return m_version; }
    const Band& band() const noexcept { return m_band; }

    const std::vector<Area>& streets() const noexcept { return m_streets; }
    const std::vector<Area>& communities() const noexcept { return m_communities; }
    const std::vector<GridArea>& grids() const noexcept { return m_grids; }
    const std::vector<Building>& buildings() const noexcept { return m_buildings; }
    // Roads in id order.
    const std::vector<Road>& roads() const noexcept { return m_roads; }
    // The areas of a level, sorted by code (grids as their Area base).
    std::vector<const Area*> areas(Level level) const;

    const Area* find(Level level, std::string_view code) const;
    const Area* find_street(std::string_view code) const { return find(Level::street, code); }
    const Area* find_community(std::string_view code) const { return find(Level::community, code); }
    const GridArea* find_grid(std::string_view code) const;

    // Indices of areas of `level` whose bounding box intersects `box`.
    std::vector<std::uint32_t> query(Level level, const BBox& box) const;
    std::vector<std::uint32_t> query_buildings(const BBox& box) const;
    std::vector<std::uint32_t> query_roads(const BBox& box) const;
    // Indices of buildings assigned to a grid, or to any grid of a community or street.
    const std::vector<std::uint32_t>& buildings_of_grid(std::string_view grid_code) const;

    // Throws Error(bad_request) for coordinates out of range.
    LocateResult locate(LonLat p) const;

    long total_households() const noexcept { return m_total_households; }

private:
    Snapshot() = default;
    struct LevelIndex {
        geo::SpatialIndex index;
        std::vector<geo::PreparedGeometry> prepared;
        std::unordered_map<std::string, std::uint32_t> by_code;
    };
    const LevelIndex& level_index(Level level) const;
    // Smallest-code area of `level` covering the point, if any.
    std::optional<std::uint32_t> covering(Level level, const geo::Geometry& point) const;

    std::int64_t m_version = 0;
    Band m_band;
    std::vector<Area> m_streets;
    std::vector<Area> m_communities;
    std::vector<GridArea> m_grids;
    std::vector<Building> m_buildings;
    LevelIndex m_street_index;
    LevelIndex m_community_index;
    LevelIndex m_grid_index;
    CellIndex m_grid_cells; // the fast path of locate()
    geo::SpatialIndex m_building_index;
    std::vector<Road> m_roads;
    geo::SpatialIndex m_road_index;
    std::unordered_map<std::string, std::vector<std::uint32_t>> m_buildings_by_grid;
    long m_total_households = 0;
};

// Holds the current snapshot; readers load it without locking, the writer swaps it.
class SnapshotHolder {
public:
    explicit SnapshotHolder(std::shared_ptr<const Snapshot> initial) : m_current(std::move(initial)) {}
    std::shared_ptr<const Snapshot> get() const { return m_current.load(std::memory_order_acquire); }
    void set(std::shared_ptr<const Snapshot> next) { m_current.store(std::move(next), std::memory_order_release); }

private:
    std::atomic<std::shared_ptr<const Snapshot>> m_current;
};

} // namespace wangge::grid

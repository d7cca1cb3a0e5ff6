#include "tiles/changes.hpp"

#include <type_traits>
#include <unordered_map>

namespace wangge::tiles {

namespace detail {

bool same_geometry(const geo::Geometry& a, const geo::Geometry& b) {
    if (a.num_points() != b.num_points()) return false;
    return geo::to_wkb(a) == geo::to_wkb(b);
}

bool same_area(const grid::Area& a, const grid::Area& b) {
    return a.name == b.name && a.parent_code == b.parent_code && a.stats.households == b.stats.households &&
           a.stats.buildings == b.stats.buildings && same_geometry(a.geom, b.geom);
}

bool same_grid(const grid::GridArea& a, const grid::GridArea& b) {
    return a.kind == b.kind && a.load == b.load && a.version == b.version && same_area(a, b);
}

bool same_building(const grid::Building& a, const grid::Building& b) {
    const store::BuildingRow &x = a.row, &y = b.row;
    return x.name == y.name && x.use == y.use && x.floors == y.floors && x.households == y.households &&
           x.households_estimated == y.households_estimated && x.grid_code == y.grid_code &&
           same_geometry(x.geom, y.geom);
}

bool same_road(const grid::Road& a, const grid::Road& b) {
    return a.row.name == b.row.name && a.row.kind == b.row.kind && same_geometry(a.row.geom, b.row.geom);
}

// Compares two collections matched by key; `box` gives an item's bounds.
template <typename T, typename Key, typename Same, typename Box>
void compare(const std::vector<T>& before, const std::vector<T>& after, Key key, Same same, Box box,
             std::vector<BBox>& out) {
    std::unordered_map<std::decay_t<decltype(key(before[0]))>, const T*> old;
    old.reserve(before.size());
    for (const T& x : before) old.emplace(key(x), &x);
    for (const T& x : after) {
        auto it = old.find(key(x));
        if (it == old.end()) {
            out.push_back(box(x));
            continue;
        }
        if (!same(*it->second, x)) {
            out.push_back(box(*it->second));
            out.push_back(box(x));
        }
        old.erase(it);
    }
    for (const auto& [k, x] : old) out.push_back(box(*x)); // removed
}

} // namespace detail

std::vector<BBox> changed_bounds(const grid::Snapshot& before, const grid::Snapshot& after) {
    std::vector<BBox> out;
    auto code = [](const auto& a) -> const std::string& { return a.code; };
    auto area_box = [](const auto& a) { return a.bbox; };
    detail::compare(before.streets(), after.streets(), code, detail::same_area, area_box, out);
    detail::compare(before.communities(), after.communities(), code, detail::same_area, area_box, out);
    detail::compare(before.grids(), after.grids(), code, detail::same_grid, area_box, out);
    detail::compare(
        before.buildings(), after.buildings(), [](const grid::Building& b) { return b.row.id; },
        detail::same_building, [](const grid::Building& b) { return b.bbox; }, out);
    detail::compare(
        before.roads(), after.roads(), [](const grid::Road& r) { return r.row.id; }, detail::same_road,
        [](const grid::Road& r) { return r.bbox; }, out);
    return out;
}

} // namespace wangge::tiles

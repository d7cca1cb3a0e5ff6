#pragma once
// Rows of a generated demo district in a form tests can compare: one string per row, household
// sums per grid.
#include "demo/generator.hpp"
#include "geo/geometry.hpp"

#include <map>
#include <string>
#include <vector>

namespace wangge::test {

inline std::string hex(const geo::Geometry& g) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : geo::to_wkb(g)) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

// Every attribute of every row, one string per row, geometries as WKB bytes.
inline std::vector<std::string> dump(const demo::DemoDistrict& d) {
    std::vector<std::string> rows;
    for (const auto& s : d.streets) rows.push_back(s.code + "|" + s.name + "|" + hex(s.geom));
    for (const auto& c : d.communities)
        rows.push_back(c.code + "|" + c.street_code + "|" + c.name + "|" + hex(c.geom));
    for (const auto& g : d.grids)
        rows.push_back(g.code + "|" + g.community_code + "|" + g.name + "|" +
                       std::string(store::to_string(g.kind)) + "|" + hex(g.geom));
    for (const auto& b : d.buildings)
        rows.push_back(b.source_id + "|" + b.name + "|" + b.use + "|" + b.address + "|" +
                       std::to_string(b.floors.value_or(-1)) + "|" + std::to_string(b.height_m.value_or(-1)) +
                       "|" + std::to_string(b.households) + "|" + b.grid_code.value_or("") + "|" +
                       hex(b.geom));
    for (const auto& r : d.roads)
        rows.push_back(r.source_id + "|" + r.name + "|" + r.kind + "|" + hex(r.geom));
    return rows;
}

inline std::map<std::string, long> households_by_grid(const demo::DemoDistrict& d) {
    std::map<std::string, long> out;
    for (const auto& g : d.grids) out[g.code] = 0;
    for (const auto& b : d.buildings) out[b.grid_code.value()] += b.households;
    return out;
}

} // namespace wangge::test

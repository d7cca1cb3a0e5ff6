#pragma once
// Validation of the hierarchy's topology and codes: grids must tile their community and
// communities their street (全域覆盖, 无缝拼接), every child must lie inside its parent, every
// code must have its parent, and every community must have grids.
#include "grid/snapshot.hpp"

#include <string>
#include <vector>

namespace wangge::grid {

enum class FindingKind {
    gap,            // part of a parent covered by none of its children
    overlap,        // two siblings share area
    outside_parent, // part of a child lies outside its parent
    no_children,    // a community without grids
    missing_parent, // a code whose parent code is not stored
};
std::string_view to_string(FindingKind kind) noexcept;

struct Finding {
    FindingKind kind;
    Level level;                    // level of the children concerned (grid or community)
    std::vector<std::string> codes; // the areas concerned (overlap: the two siblings)
    std::string parent;             // the parent whose tiling is concerned
    double area_m2 = 0.0;           // gap, overlap or outside area
    std::optional<LonLat> location; // a point inside the problem area
    std::string message;            // human-readable, names codes and area
};

struct ValidationOptions {
    // Differences below this area (m²) are floating-point noise of shared boundaries, not gaps.
    double min_area_m2 = 1.0;
};

struct ValidationReport {
    std::int64_t version = 0;
    std::vector<Finding> findings;
    std::size_t streets = 0, communities = 0, grids = 0;
    bool ok() const noexcept { return findings.empty(); }
    std::size_t count(FindingKind kind) const;
};

ValidationReport validate(const Snapshot& snapshot, const ValidationOptions& options = {});

} // namespace wangge::grid

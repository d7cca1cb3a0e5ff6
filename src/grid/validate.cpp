#include "grid/validate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace wangge::grid {

std::string_view to_string(FindingKind kind) noexcept {
    switch (kind) {
    case FindingKind::gap: return "gap";
    case FindingKind::overlap: return "overlap";
    case FindingKind::outside_parent: return "outside_parent";
    case FindingKind::no_children: return "no_children";
    case FindingKind::missing_parent: return "missing_parent";
    }
    return "gap";
}

std::size_t ValidationReport::count(FindingKind kind) const {
    return static_cast<std::size_t>(
        std::count_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.kind == kind; }));
}

namespace {

std::string format_area(double m2) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.1f m²", m2);
    return buf;
}

std::string label(Level level, const std::string& code) { return std::string(to_string(level)) + " " + code; }

// Checks that `children` (all with parent `parent`) tile `parent`: no gaps, no overlaps, nothing
// outside. Each gap, overlap and outside part is its own finding with its area and location.
void check_tiling(const Area& parent, Level child_level, const std::vector<const Area*>& children,
                  const ValidationOptions& opt, std::vector<Finding>& out) {
    std::vector<const geo::Geometry*> parts;
    for (const Area* c : children) parts.push_back(&c->geom);
    geo::Geometry covered = geo::union_all(parts);
    geo::Geometry gaps = geo::drop_slivers(geo::difference(parent.geom, covered), opt.min_area_m2);
    const Level parent_level = child_level == Level::grid ? Level::community : Level::street;
    for (const geo::Geometry& gap : geo::polygons(gaps)) {
        double a = geo::area_m2(gap);
        out.push_back({FindingKind::gap, child_level, {}, parent.code, a, geo::point_on_surface(gap),
                       label(parent_level, parent.code) + " has a gap of " + format_area(a) +
                           " covered by none of its " + std::string(to_string(child_level)) + "s"});
    }
    for (std::size_t i = 0; i < children.size(); ++i) {
        const Area& a = *children[i];
        geo::Geometry outside = geo::drop_slivers(geo::difference(a.geom, parent.geom), opt.min_area_m2);
        if (!outside.is_empty()) {
            double m2 = geo::area_m2(outside);
            out.push_back({FindingKind::outside_parent, child_level, {a.code}, parent.code, m2,
                           geo::point_on_surface(outside),
                           label(child_level, a.code) + " extends " + format_area(m2) + " outside " +
                               label(parent_level, parent.code)});
        }
        for (std::size_t j = i + 1; j < children.size(); ++j) {
            const Area& b = *children[j];
            if (!a.bbox.intersects(b.bbox) || !geo::intersects(a.geom, b.geom)) continue;
            geo::Geometry shared = geo::drop_slivers(geo::intersection(a.geom, b.geom), opt.min_area_m2);
            if (shared.is_empty()) continue;
            double m2 = geo::area_m2(shared);
            out.push_back({FindingKind::overlap, child_level, {a.code, b.code}, parent.code, m2,
                           geo::point_on_surface(shared),
                           label(child_level, a.code) + " and " + b.code + " overlap by " + format_area(m2)});
        }
    }
}

template <typename Child>
std::map<std::string, std::vector<const Area*>> group_by_parent(const std::vector<Child>& children) {
    std::map<std::string, std::vector<const Area*>> groups;
    for (const auto& c : children) groups[c.parent_code].push_back(&c);
    return groups;
}

} // namespace

ValidationReport validate(const Snapshot& snap, const ValidationOptions& opt) {
    ValidationReport r;
    r.version = snap.version();
    r.streets = snap.streets().size();
    r.communities = snap.communities().size();
    r.grids = snap.grids().size();

    auto communities_by_street = group_by_parent(snap.communities());
    auto grids_by_community = group_by_parent(snap.grids());

    for (const auto& [street_code, communities] : communities_by_street) {
        const Area* street = snap.find_street(street_code);
        if (!street) {
            for (const Area* c : communities)
                r.findings.push_back({FindingKind::missing_parent, Level::community, {c->code}, street_code, 0.0,
                                      std::nullopt,
                                      "community " + c->code + " belongs to street " + street_code +
                                          ", which is not stored"});
            continue;
        }
        check_tiling(*street, Level::community, communities, opt, r.findings);
    }
    for (const auto& [community_code, grids] : grids_by_community) {
        const Area* community = snap.find_community(community_code);
        if (!community) {
            for (const Area* g : grids)
                r.findings.push_back({FindingKind::missing_parent, Level::grid, {g->code}, community_code, 0.0,
                                      std::nullopt,
                                      "grid " + g->code + " belongs to community " + community_code +
                                          ", which is not stored"});
            continue;
        }
        check_tiling(*community, Level::grid, grids, opt, r.findings);
    }
    for (const auto& c : snap.communities()) {
        if (grids_by_community.contains(c.code)) continue;
        r.findings.push_back({FindingKind::no_children, Level::grid, {c.code}, c.code, 0.0, std::nullopt,
                              "community " + c.code + " (" + c.name + ") has no grids"});
    }
    return r;
}

} // namespace wangge::grid

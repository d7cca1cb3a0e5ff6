#include "balance/rebalance.hpp"

#include "balance/graph.hpp"
#include "balance/holdings.hpp"
#include "core/codes.hpp"
#include "core/error.hpp"
#include "grid/assign.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <unordered_map>

namespace wangge::balance {

bool Proposal::changes_anything() const {
    if (!removed.empty()) return true;
    return std::any_of(grids.begin(), grids.end(), [](const ProposedGrid& g) { return g.changed; });
}

namespace {

std::size_t at(int i) { return static_cast<std::size_t>(i); }

struct Atom {
    std::vector<std::size_t> buildings; // indices into the snapshot's buildings
    int current = -1;                   // index into today's grids
};

// Road centre lines near the community, as one MultiLineString (or empty).
geo::Geometry roads_near(const grid::Snapshot& snap, const BBox& box) {
    std::vector<std::vector<LonLat>> lines;
    for (std::uint32_t i : snap.query_roads(box))
        for (auto& line : geo::line_strings(snap.roads()[i].row.geom)) lines.push_back(std::move(line));
    if (lines.empty()) return geo::Geometry();
    return geo::make_multi_line_string(lines);
}

struct Shape {
    double area_m2 = 0, perimeter_m = 0, polsby_popper = 0, road_share = 0;
};

Shape shape_of(const geo::Geometry& g, const geo::Geometry& road_zone) {
    Shape s;
    s.area_m2 = geo::area_m2(g);
    s.perimeter_m = geo::length_m(g);
    s.polsby_popper = s.perimeter_m > 0 ? 4 * 3.14159265358979323846 * s.area_m2 / (s.perimeter_m * s.perimeter_m) : 0;
    if (road_zone && !road_zone.is_empty() && s.perimeter_m > 0) {
        const geo::Geometry along = geo::intersection(geo::boundary(g), road_zone);
        s.road_share = std::min(1.0, geo::length_m(along) / s.perimeter_m);
    }
    return s;
}

ProposalSummary summarise(const std::vector<ProposedGrid>& grids, const grid::Band& band) {
    ProposalSummary s;
    for (const ProposedGrid& g : grids) {
        if (g.kind == store::GridKind::unit) continue;
        ++s.grids;
        s.households += g.households;
        if (g.households < band.min) {
            ++s.below;
            s.outside += band.min - g.households;
        } else if (g.households > band.max) {
            ++s.above;
            s.outside += g.households - band.max;
        } else {
            ++s.in_band;
        }
        s.mean_polsby_popper += g.polsby_popper;
        s.mean_road_share += g.road_share;
    }
    if (s.grids > 0) {
        s.mean_polsby_popper /= s.grids;
        s.mean_road_share /= s.grids;
    }
    return s;
}

// The grids `rows` holding `held` described: households, shape, and the reason of each
// residential grid out of the band, read off what it holds; `fill` sets kept, changed, moved.
template <typename Fill>
std::vector<ProposedGrid> describe(std::vector<store::GridRow>& rows, const std::vector<Holding>& held,
                                   const grid::Band& band, const geo::Geometry& road_zone, Fill fill) {
    int residential_rows = 0;
    for (const store::GridRow& r : rows) residential_rows += r.kind == store::GridKind::residential ? 1 : 0;
    // Grids below the band that touch no other residential grid: parts of the community alone.
    std::vector<char> alone(rows.size(), 0);
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (rows[r].kind != store::GridKind::residential || held[r].households >= band.min) continue;
        alone[r] = 1;
        for (std::size_t n = 0; n < rows.size() && alone[r]; ++n)
            if (n != r && rows[n].kind == store::GridKind::residential &&
                geo::shared_boundary_m(rows[r].geom, rows[n].geom) >= 0.5)
                alone[r] = 0;
    }
    std::vector<ProposedGrid> out;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        ProposedGrid g;
        g.code = rows[r].code;
        g.name = rows[r].name;
        g.kind = rows[r].kind;
        g.households = held[r].households;
        g.buildings = held[r].buildings;
        fill(r, g);
        const Shape s = shape_of(rows[r].geom, road_zone);
        g.area_m2 = s.area_m2;
        g.perimeter_m = s.perimeter_m;
        g.polsby_popper = s.polsby_popper;
        g.road_share = s.road_share;
        if (g.kind == store::GridKind::residential) {
            g.violation = reason(held[r], alone[r], residential_rows == 1, band);
            g.explanation = explain(g.violation, held[r], band);
        }
        g.geom = std::move(rows[r].geom);
        out.push_back(std::move(g));
    }
    return out;
}

// The 3-digit number of a grid code (its last three digits).
int grid_number(const std::string& code) { return std::stoi(code.substr(12)); }

} // namespace

bool improves(const ProposalSummary& before, const ProposalSummary& after) {
    if (before.grids == 0) return after.grids > 0;
    if (after.in_band != before.in_band) return after.in_band > before.in_band;
    if (after.outside != before.outside) return after.outside < before.outside;
    return after.mean_polsby_popper >= before.mean_polsby_popper + 0.01;
}

Proposal propose_rebalance(const grid::Snapshot& snap, const std::string& community_code, const RebalanceOptions& o) {
    if (o.band.min <= 0 || o.band.min > o.band.max)
        throw Error(ErrorKind::bad_request, "invalid_band",
                    "the household band needs 0 < min <= max, not " + std::to_string(o.band.min) + "-" +
                        std::to_string(o.band.max));
    require_code(Level::community, community_code);
    const grid::Area* community = snap.find_community(community_code);
    if (!community) throw Error(ErrorKind::not_found, "unknown_code", "no community " + community_code);

    Proposal out;
    out.community_code = community_code;
    out.community_name = community->name;
    out.base_version = snap.version();
    out.band = o.band;

    // Today's grids: those to divide, and unit grids that stay as they are.
    std::vector<const grid::GridArea*> today, fixed;
    int max_number = 0;
    for (const grid::GridArea& g : snap.grids()) {
        if (g.parent_code != community_code) continue;
        max_number = std::max(max_number, grid_number(g.code));
        (g.kind == store::GridKind::unit && !o.include_unit_grids ? fixed : today).push_back(&g);
    }
    for (const std::string& code : o.retired_codes)
        if (code.size() == 15 && code.compare(0, 12, community_code) == 0) max_number = std::max(max_number, grid_number(code));
    std::unordered_map<std::string, int> today_index;
    for (std::size_t i = 0; i < today.size(); ++i) today_index[today[i]->code] = static_cast<int>(i);

    // Today's grids must tile the community for grids to be kept: otherwise divide from nothing.
    // Grids that do not tile it gain from any division.
    bool today_tiles = true;
    if (!today.empty()) {
        std::vector<const geo::Geometry*> parts;
        double sum = 0;
        for (const grid::GridArea* g : today) parts.push_back(&g->geom);
        for (const grid::GridArea* g : fixed) parts.push_back(&g->geom);
        for (const geo::Geometry* g : parts) sum += geo::area_m2(*g);
        const geo::Geometry covered = geo::union_all(parts);
        const double covered_m2 = geo::area_m2(covered);
        const double gap_m2 = geo::area_m2(geo::difference(community->geom, covered));
        const double overlap_m2 = sum - covered_m2;
        const double tolerance = 1.0 + 1e-6 * community->area_m2;
        today_tiles = gap_m2 <= tolerance && overlap_m2 <= tolerance;
        if (!today_tiles && !o.from_scratch) {
            char detail[160];
            std::snprintf(detail, sizeof detail, "gaps of %.0f m2 and overlaps of %.0f m2", gap_m2, overlap_m2);
            throw Error(ErrorKind::unprocessable, "invalid_grids",
                        "the grids of community " + community_code + " do not tile it (" + detail +
                            "; see `wangge validate`): fix them, or divide it from nothing (--from-scratch)");
        }
    }

    geo::Geometry region = community->geom.clone();
    for (const grid::GridArea* u : fixed) region = geo::difference(region, u->geom);
    region = geo::to_multi_polygon(geo::drop_slivers(geo::polygonal_part(region), 0.01));
    if (region.is_empty())
        throw Error(ErrorKind::unprocessable, "nothing_to_divide",
                    "community " + community_code + " is covered by its unit grids: nothing to divide");

    const geo::Geometry roads = roads_near(snap, community->bbox);
    const geo::Geometry road_zone = roads ? geo::buffer_m(roads, road_tolerance_m) : geo::Geometry();

    // --- atoms: the community's buildings (those in today's grids, or in none and standing here) ---
    const geo::PreparedGeometry region_prepared(region);
    const geo::PreparedGeometry community_prepared(community->geom);
    std::vector<CellInput> inputs;
    std::vector<std::size_t> fixed_buildings;
    for (std::uint32_t bi : snap.query_buildings(community->bbox)) {
        const grid::Building& b = snap.buildings()[bi];
        const auto& code = b.row.grid_code;
        int current = -1;
        if (code) {
            if (code->compare(0, 12, community_code) != 0) continue; // another community's
            auto it = today_index.find(*code);
            if (it == today_index.end()) {
                fixed_buildings.push_back(bi); // in a fixed unit grid
                continue;
            }
            current = it->second;
        } else {
            // A building in no grid belongs to the community holding most of its footprint.
            if (!community_prepared.intersects(b.row.geom)) continue;
            if (!community_prepared.contains(b.row.geom) &&
                2 * geo::area_m2(geo::intersection(b.row.geom, community->geom)) < geo::area_m2(b.row.geom))
                continue;
        }
        const std::optional<LonLat> site = site_in(b.row.geom, region, region_prepared);
        if (!site) continue; // stands outside what is divided
        inputs.push_back({*site, b.row.households, current, bi, &b.row.geom});
    }
    Cells cells = make_cells(inputs, region);
    if (inputs.empty() && !today.empty()) cells.current[0] = 0;
    std::vector<AtomShape>& shapes = cells.shapes;
    std::vector<Atom> atoms(shapes.size());
    for (std::size_t i = 0; i < atoms.size(); ++i) atoms[i] = {cells.sources[i], cells.current[i]};

    const AtomGraph graph = build_graph(shapes, roads ? &roads : nullptr);
    std::vector<int> current(atoms.size(), -1);
    for (std::size_t i = 0; i < atoms.size(); ++i) current[i] = atoms[i].current;

    PartitionOptions po;
    po.band = o.band;
    po.seed = o.seed;
    if (!o.from_scratch) po.current = current;
    const Partition p = partition(graph, po);
    std::vector<int> label = match_zones(graph, current, p.zone_of, p.zones);
    // A unit grid (divided only when asked) keeps its code only while it holds just its own
    // buildings: a zone that takes in homes from residential grids is a residential grid.
    for (std::size_t a = 0; a < atoms.size(); ++a) {
        const int z = p.zone_of[a];
        const int l = label[at(z)];
        if (l >= 0 && today[at(l)]->kind == store::GridKind::unit && atoms[a].current >= 0 && atoms[a].current != l)
            label[at(z)] = -1;
    }

    // Zones that are today's grid unchanged keep today's boundary.
    std::vector<char> unchanged(at(p.zones), 0);
    if (!o.from_scratch) {
        std::vector<char> ok(at(p.zones), 1);
        for (std::size_t a = 0; a < atoms.size(); ++a) {
            const int z = p.zone_of[a];
            if (label[at(z)] < 0) ok[at(z)] = 0;
            else if (atoms[a].current >= 0 && atoms[a].current != label[at(z)]) ok[at(z)] = 0;
        }
        for (std::size_t a = 0; a < atoms.size(); ++a)
            if (atoms[a].current >= 0) {
                // Every atom of today's grid must have stayed with it.
                for (int z = 0; z < p.zones; ++z)
                    if (label[at(z)] == atoms[a].current && p.zone_of[a] != z) ok[at(z)] = 0;
            }
        unchanged = ok;
    }

    // --- geometry of the changed zones: cells of their atoms inside the area the others leave ---
    geo::Geometry free_area = region.clone();
    for (int z = 0; z < p.zones; ++z)
        if (unchanged[at(z)]) free_area = geo::difference(free_area, today[at(label[at(z)])]->geom);
    free_area = geo::to_multi_polygon(geo::drop_slivers(geo::polygonal_part(free_area), 0.01));
    std::vector<geo::Geometry> zone_geom(at(p.zones));
    {
        std::vector<CellSeed> changed_seeds;
        std::vector<int> changed_zone;
        for (std::size_t a = 0; a < atoms.size(); ++a)
            if (!unchanged[at(p.zone_of[a])]) {
                CellSeed seed{shapes[a].site, {}};
                for (std::size_t bi : atoms[a].buildings) seed.footprints.push_back(&snap.buildings()[bi].row.geom);
                changed_seeds.push_back(std::move(seed));
                changed_zone.push_back(p.zone_of[a]);
            }
        if (!changed_seeds.empty() && !free_area.is_empty()) {
            std::vector<geo::Geometry> changed_cells = footprint_cells(changed_seeds, free_area);
            std::vector<std::vector<const geo::Geometry*>> parts(at(p.zones));
            for (std::size_t i = 0; i < changed_cells.size(); ++i)
                if (changed_cells[i] && !changed_cells[i].is_empty()) parts[at(changed_zone[i])].push_back(&changed_cells[i]);
            for (int z = 0; z < p.zones; ++z)
                if (!parts[at(z)].empty()) zone_geom[at(z)] = union_within(parts[at(z)], community->geom, community_prepared);
        }
    }

    // --- codes: kept by largest overlap, new ones west to east, north to south ---
    std::set<std::string> used;
    for (const grid::GridArea* g : today) used.insert(g->code);
    std::vector<int> fresh;
    for (int z = 0; z < p.zones; ++z) {
        if (label[at(z)] >= 0) continue;
        if (!unchanged[at(z)] && (!zone_geom[at(z)] || zone_geom[at(z)].is_empty())) continue;
        fresh.push_back(z);
    }
    std::vector<LonLat> fresh_point(at(p.zones));
    for (int z : fresh) fresh_point[at(z)] = geo::point_on_surface(zone_geom[at(z)]);
    // Rows of about 200 m from north to south, west to east within a row.
    std::sort(fresh.begin(), fresh.end(), [&](int l, int r) {
        const auto row = [&](int z) { return -std::floor(fresh_point[at(z)].lat / 0.0018); };
        return std::make_pair(row(l), fresh_point[at(l)].lon) < std::make_pair(row(r), fresh_point[at(r)].lon);
    });
    std::vector<std::string> zone_code(at(p.zones));
    std::vector<std::string> zone_name(at(p.zones));
    for (int z = 0; z < p.zones; ++z)
        if (label[at(z)] >= 0) {
            zone_code[at(z)] = today[at(label[at(z)])]->code;
            zone_name[at(z)] = today[at(label[at(z)])]->name;
        }
    int next = max_number;
    for (int z : fresh) {
        if (++next > 999)
            throw Error(ErrorKind::unprocessable, "codes_exhausted",
                        "community " + community_code + " has no grid numbers left (001-999)");
        char suffix[16];
        std::snprintf(suffix, sizeof suffix, "%03d", next);
        zone_code[at(z)] = community_code + suffix;
        zone_name[at(z)] = community->name + "第" + std::to_string(next) + "网格";
    }

    // --- the proposed grids: fixed unit grids, unchanged and changed zones ---
    std::vector<store::GridRow> rows;
    std::vector<int> row_zone; // zone of each row, -1 for a fixed grid
    for (const grid::GridArea* g : fixed) {
        rows.push_back({g->code, community_code, g->name, g->kind, g->version, g->geom.clone()});
        row_zone.push_back(-1);
    }
    for (int z = 0; z < p.zones; ++z) {
        if (zone_code[at(z)].empty()) continue;
        const grid::GridArea* was = label[at(z)] >= 0 ? today[at(label[at(z)])] : nullptr;
        geo::Geometry geom = unchanged[at(z)] ? was->geom.clone() : std::move(zone_geom[at(z)]);
        if (!geom || geom.is_empty()) continue; // a zone that lost all its area (only fragments)
        rows.push_back({zone_code[at(z)], community_code, zone_name[at(z)],
                        was ? was->kind : store::GridKind::residential, was ? was->version : 0, std::move(geom)});
        row_zone.push_back(z);
    }

    // Buildings go where most of their footprint stands, as the store assigns them.
    std::vector<std::size_t> divided; // the buildings of this community, snapshot indices
    for (const Atom& a : atoms) divided.insert(divided.end(), a.buildings.begin(), a.buildings.end());
    divided.insert(divided.end(), fixed_buildings.begin(), fixed_buildings.end());
    std::vector<const store::BuildingRow*> divided_rows;
    for (std::size_t bi : divided) divided_rows.push_back(&snap.buildings()[bi].row);
    // Residential grids that would hold nobody (empty land) join a neighbour, the grids being
    // redrawn first (docs/BALANCE.md, "Empty land").
    std::vector<char> row_grown(rows.size(), 0);
    {
        std::vector<Holding> held = holdings(rows, divided_rows);
        std::vector<char> preferred(rows.size(), 0);
        for (std::size_t r = 0; r < rows.size(); ++r) preferred[r] = row_zone[r] >= 0 && !unchanged[at(row_zone[r])];
        const Joined joined = join_empty_grids(rows, held, preferred);
        std::vector<int> zones;
        for (std::size_t k : joined.index) zones.push_back(row_zone[k]);
        row_zone = std::move(zones);
        row_grown = joined.took_in;
    }
    std::vector<std::optional<std::size_t>> where;
    const std::vector<Holding> held = holdings(rows, divided_rows, &where);
    std::vector<long> row_moved(rows.size(), 0);
    for (std::size_t i = 0; i < divided.size(); ++i) {
        if (!where[i]) continue;
        const store::BuildingRow& b = *divided_rows[i];
        const std::string& code = rows[*where[i]].code;
        if (b.grid_code != code) out.building_moves.push_back({b.id, b.grid_code, code});
        if (b.grid_code && *b.grid_code != code) row_moved[*where[i]] += b.households;
    }
    // Today's grids as they stand, counted the same way: the "before" of the proposal, and what
    // is proposed when the division found is no better.
    std::vector<store::GridRow> today_rows;
    for (const grid::GridArea* g : fixed) today_rows.push_back({g->code, community_code, g->name, g->kind, g->version, g->geom.clone()});
    for (const grid::GridArea* g : today) today_rows.push_back({g->code, community_code, g->name, g->kind, g->version, g->geom.clone()});
    const std::vector<Holding> today_held = holdings(today_rows, divided_rows);

    std::vector<ProposedGrid> after = describe(rows, held, o.band, road_zone, [&](std::size_t r, ProposedGrid& g) {
        g.kept = row_zone[r] < 0 || label[at(row_zone[r])] >= 0;
        g.changed = row_zone[r] >= 0 && (!unchanged[at(row_zone[r])] || row_grown[r]);
        g.households_moved = row_moved[r];
    });
    std::vector<ProposedGrid> before = describe(today_rows, today_held, o.band, road_zone, [](std::size_t, ProposedGrid& g) {
        g.kept = true;
        g.changed = false;
    });
    out.before = summarise(before, o.band);
    out.after = summarise(after, o.band);

    std::set<std::string> surviving;
    for (const ProposedGrid& g : after) surviving.insert(g.code);
    for (const grid::GridArea* g : today)
        if (!surviving.count(g->code)) out.removed.push_back(g->code);
    // Homes in no grid today that the division takes in are a gain of their own.
    bool takes_in_homes = false;
    for (std::size_t i = 0; i < divided.size(); ++i)
        if (where[i] && !divided_rows[i]->grid_code && divided_rows[i]->households > 0) takes_in_homes = true;
    out.grids = std::move(after);
    for (ProposedGrid& g : out.grids) out.households_moved += g.households_moved;
    if (!out.changes_anything()) {
        out.note = out.after.in_band == out.after.grids ? "no change: every grid is in the band"
                                                        : "no change: no better division was found";
    } else if (today_tiles && !takes_in_homes && !improves(out.before, out.after)) {
        char found[256];
        std::snprintf(found, sizeof found,
                      "nothing better was found: the best division found has %d in band, %d below, %d above "
                      "(mean compactness %.2f), today's grids %d in band, %d below, %d above (%.2f)",
                      out.after.in_band, out.after.below, out.after.above, out.after.mean_polsby_popper,
                      out.before.in_band, out.before.below, out.before.above, out.before.mean_polsby_popper);
        out.note = found;
        out.grids = std::move(before);
        out.removed.clear();
        out.building_moves.clear();
        out.households_moved = 0;
        out.after = out.before;
    }
    std::sort(out.grids.begin(), out.grids.end(), [](const ProposedGrid& l, const ProposedGrid& r) { return l.code < r.code; });
    return out;
}

std::string to_json(const Proposal& p, bool geometry) {
    auto summary = [](const ProposalSummary& s) {
        return nlohmann::json{{"grids", s.grids},
                              {"in_band", s.in_band},
                              {"below", s.below},
                              {"above", s.above},
                              {"households", s.households},
                              {"households_outside_band", s.outside},
                              {"mean_polsby_popper", std::round(s.mean_polsby_popper * 1000) / 1000},
                              {"mean_road_share", std::round(s.mean_road_share * 1000) / 1000}};
    };
    nlohmann::json grids = nlohmann::json::array();
    for (const ProposedGrid& g : p.grids) {
        nlohmann::json j{{"code", g.code},
                         {"name", g.name},
                         {"kind", store::to_string(g.kind)},
                         {"kept", g.kept},
                         {"changed", g.changed},
                         {"households", g.households},
                         {"buildings", g.buildings},
                         {"area_m2", std::round(g.area_m2)},
                         {"perimeter_m", std::round(g.perimeter_m)},
                         {"polsby_popper", std::round(g.polsby_popper * 1000) / 1000},
                         {"road_share", std::round(g.road_share * 1000) / 1000},
                         {"households_moved", g.households_moved},
                         {"in_band", g.violation == Violation::none}};
        if (g.violation != Violation::none) {
            j["violation"] = std::string(to_string(g.violation));
            j["explanation"] = g.explanation;
        }
        if (geometry) j["geometry"] = nlohmann::json::parse(geo::to_geojson(g.geom));
        grids.push_back(std::move(j));
    }
    nlohmann::json j{{"community", {{"code", p.community_code}, {"name", p.community_name}}},
                     {"base_version", p.base_version},
                     {"band", {{"min", p.band.min}, {"max", p.band.max}}},
                     {"changes", p.changes_anything()},
                     {"note", p.note},
                     {"before", summary(p.before)},
                     {"after", summary(p.after)},
                     {"households_moved", p.households_moved},
                     {"removed", p.removed},
                     {"grids", std::move(grids)}};
    return j.dump();
}

std::string to_table(const Proposal& p) {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "Community %s %s (data version %lld), band %d-%d households\n",
                  p.community_code.c_str(), p.community_name.c_str(), static_cast<long long>(p.base_version), p.band.min,
                  p.band.max);
    out += line;
    out += "code             households  buildings   area m2  compact  on roads  moved  state\n";
    for (const ProposedGrid& g : p.grids) {
        const char* state = !g.kept ? "new" : g.changed ? "redrawn" : "unchanged";
        if (g.kind == store::GridKind::unit) state = "unit (fixed)";
        std::snprintf(line, sizeof line, "%-15s  %10d  %9d  %8.0f  %7.2f  %7.0f%%  %5ld  %s%s%s\n", g.code.c_str(),
                      g.households, g.buildings, g.area_m2, g.polsby_popper, g.road_share * 100, g.households_moved,
                      state, g.explanation.empty() ? "" : " - ", g.explanation.c_str());
        out += line;
    }
    for (const std::string& code : p.removed) out += code + "  removed\n";
    auto summary = [&](const char* name, const ProposalSummary& s) {
        std::snprintf(line, sizeof line,
                      "%-7s %3d grids: %3d in band, %3d below, %3d above; mean compactness %.2f, on roads %.0f%%\n",
                      name, s.grids, s.in_band, s.below, s.above, s.mean_polsby_popper, s.mean_road_share * 100);
        out += line;
    };
    summary("before", p.before);
    summary("after", p.after);
    std::snprintf(line, sizeof line, "households moved: %ld of %ld\n", p.households_moved, p.after.households);
    out += line;
    if (!p.note.empty()) out += p.note + "\n";
    return out;
}

} // namespace wangge::balance

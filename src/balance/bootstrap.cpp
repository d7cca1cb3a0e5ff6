#include "balance/bootstrap.hpp"

#include "balance/graph.hpp"
#include "balance/holdings.hpp"
#include "core/codes.hpp"
#include "core/error.hpp"
#include "grid/assign.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

namespace wangge::balance {

namespace {

std::size_t at(int i) { return static_cast<std::size_t>(i); }

// The fields of one CSV line (double quotes around a field, no quotes inside).
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out;
    std::string field;
    bool quoted = false;
    for (char c : line) {
        if (c == '"') quoted = !quoted;
        else if (c == ',' && !quoted) out.push_back(std::move(field)), field.clear();
        else if (c != '\r') field += c;
    }
    out.push_back(std::move(field));
    return out;
}

std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw Error(ErrorKind::io, "unreadable", "cannot read " + path.string());
    std::vector<std::vector<std::string>> rows;
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line))
        if (!line.empty()) rows.push_back(csv_fields(line));
    return rows;
}

// Zones in reading order: rows of about 200 m from north to south, west to east within a row.
std::vector<int> reading_order(const std::vector<LonLat>& points) {
    std::vector<int> order(points.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int l, int r) {
        const auto row = [&](int z) { return -std::floor(points[at(z)].lat / 0.0018); };
        return std::make_pair(row(l), points[at(l)].lon) < std::make_pair(row(r), points[at(r)].lon);
    });
    return order;
}

std::string with_number(const std::string& prefix, int n) {
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%03d", n);
    return prefix + suffix;
}

// Partitions a subset of atoms (indices into `cells`) and returns the zone of each.
Partition divide(const Cells& cells, const std::vector<int>& subset, const geo::Geometry& roads, const grid::Band& band,
                 std::uint64_t seed) {
    std::vector<AtomShape> shapes;
    shapes.reserve(subset.size());
    for (int a : subset) shapes.push_back({cells.shapes[at(a)].cell.clone(), cells.shapes[at(a)].site, cells.shapes[at(a)].households});
    const AtomGraph graph = build_graph(shapes, roads && !roads.is_empty() ? &roads : nullptr);
    PartitionOptions o;
    o.band = band;
    o.seed = seed;
    return partition(graph, o);
}

} // namespace

CodeList read_code_list(const std::filesystem::path& dir, const std::string& street_code) {
    require_code(Level::street, street_code);
    CodeList list;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) throw Error(ErrorKind::io, "unreadable", dir.string() + " is not a directory");
    bool street_seen = false;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > 12 && name.substr(name.size() - 12) == "_streets.csv") {
            for (const auto& row : read_csv(entry.path()))
                if (row.size() >= 2 && row[0] == street_code) {
                    list.street_name = row[1];
                    street_seen = true;
                }
        } else if (name.size() > 16 && name.substr(name.size() - 16) == "_communities.csv") {
            for (const auto& row : read_csv(entry.path()))
                if (row.size() >= 3 && row[2] == street_code && row[0].size() == 12) list.communities.emplace_back(row[0], row[1]);
        }
    }
    if (!street_seen && list.communities.empty())
        throw Error(ErrorKind::not_found, "unknown_code", "street " + street_code + " is not in the code lists of " + dir.string());
    std::sort(list.communities.begin(), list.communities.end());
    return list;
}

BootstrapResult bootstrap_street(const BootstrapInput& in, const BootstrapOptions& o) {
    require_code(Level::street, in.street_code);
    if (o.band.min <= 0 || o.band.min > o.band.max)
        throw Error(ErrorKind::bad_request, "invalid_band", "the household band needs 0 < min <= max");
    if (o.community_households < o.band.max)
        throw Error(ErrorKind::bad_request, "invalid_option",
                    "a community must hold at least one grid's households (--community-households >= --max)");
    const geo::Geometry boundary = geo::to_multi_polygon(geo::polygonal_part(in.boundary));
    if (boundary.is_empty()) throw Error(ErrorKind::unprocessable, "empty_boundary", "the street boundary has no area");

    BootstrapResult out;
    out.band = o.band;
    out.street = {in.street_code, in.street_name.empty() ? in.codes.street_name : in.street_name, boundary.clone()};

    // Cells of every building inside the street, and the street's graph.
    const geo::PreparedGeometry prepared(boundary);
    std::vector<CellInput> inputs;
    for (std::size_t i = 0; i < in.buildings.size(); ++i) {
        const store::BuildingRow& b = *in.buildings[i];
        if (auto site = site_in(b.geom, boundary, prepared)) inputs.push_back({*site, b.households, -1, i, &b.geom});
    }
    out.buildings = inputs.size();
    const Cells cells = make_cells(inputs, boundary);

    // Communities: the same partitioner with the community band.
    const grid::Band community_band{static_cast<int>(std::lround(o.community_households * 0.7)),
                                    static_cast<int>(std::lround(o.community_households * 1.3))};
    std::vector<int> all(cells.shapes.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    const Partition communities = divide(cells, all, in.roads, community_band, o.seed);

    std::vector<std::vector<int>> members(at(communities.zones));
    for (std::size_t a = 0; a < cells.shapes.size(); ++a) members[at(communities.zone_of[a])].push_back(static_cast<int>(a));
    std::vector<geo::Geometry> community_geom(members.size());
    std::vector<LonLat> community_point(members.size());
    for (std::size_t c = 0; c < members.size(); ++c) {
        std::vector<const geo::Geometry*> parts;
        for (int a : members[c]) parts.push_back(&cells.shapes[at(a)].cell);
        community_geom[c] = union_within(parts, boundary, prepared);
        community_point[c] = geo::point_on_surface(community_geom[c]);
    }

    // Codes: the list's, in reading order, then new numbers after the highest used.
    int next = 0;
    for (const auto& [code, name] : in.codes.communities)
        if (code.compare(0, 9, in.street_code) == 0) next = std::max(next, std::stoi(code.substr(9)));
    std::size_t listed = 0;
    for (int c : reading_order(community_point)) {
        std::string code, name;
        while (listed < in.codes.communities.size() && in.codes.communities[listed].first.compare(0, 9, in.street_code) != 0)
            ++listed;
        if (listed < in.codes.communities.size()) {
            std::tie(code, name) = in.codes.communities[listed++];
        } else {
            if (++next > 999) throw Error(ErrorKind::unprocessable, "codes_exhausted", "no community numbers left in " + in.street_code);
            code = with_number(in.street_code, next);
            name = out.street.name + "第" + std::to_string(next) + "社区";
        }
        long households = 0;
        for (int a : members[at(c)]) households += cells.shapes[at(a)].households;
        out.communities.push_back({code, in.street_code, name, community_geom[at(c)].clone()});
        out.community_households.push_back(static_cast<int>(households));

        // Grids of the community.
        const Partition grids = divide(cells, members[at(c)], in.roads, o.band, o.seed + static_cast<std::uint64_t>(c) + 1);
        const geo::PreparedGeometry community_prepared(community_geom[at(c)]);
        std::vector<std::vector<const geo::Geometry*>> grid_parts(at(grids.zones));
        for (std::size_t i = 0; i < members[at(c)].size(); ++i) {
            const int a = members[at(c)][i];
            grid_parts[at(grids.zone_of[i])].push_back(&cells.shapes[at(a)].cell);
        }
        std::vector<store::GridRow> zone_rows;
        for (std::size_t g = 0; g < grid_parts.size(); ++g)
            zone_rows.push_back(
                {"", code, "", store::GridKind::residential, 0, union_within(grid_parts[g], community_geom[at(c)], community_prepared)});
        // Grids that would hold nobody (empty land) join a neighbour (docs/BALANCE.md, "Empty land").
        std::vector<const store::BuildingRow*> community_buildings;
        for (int a : members[at(c)])
            for (std::size_t bi : cells.sources[at(a)]) community_buildings.push_back(in.buildings[bi]);
        std::vector<Holding> held = holdings(zone_rows, community_buildings);
        std::vector<char> preferred(zone_rows.size(), 1);
        join_empty_grids(zone_rows, held, preferred);
        std::vector<LonLat> grid_point;
        for (const store::GridRow& z : zone_rows) grid_point.push_back(geo::point_on_surface(z.geom));
        int number = 0;
        for (int g : reading_order(grid_point)) {
            ++number;
            out.grids.push_back({with_number(code, number), code, name + "第" + std::to_string(number) + "网格",
                                 store::GridKind::residential, 0, std::move(zone_rows[at(g)].geom)});
        }
    }
    // Buildings to their grids, as the store assigns them (largest overlap), and what each grid
    // then holds: the report says what is stored.
    std::vector<std::optional<std::size_t>> where;
    const std::vector<Holding> held = holdings(out.grids, in.buildings, &where);
    for (std::size_t i = 0; i < in.buildings.size(); ++i) {
        const store::BuildingRow* b = in.buildings[i];
        std::optional<std::string> code;
        if (where[i]) code = out.grids[*where[i]].code;
        else if (!b->grid_code || b->grid_code->compare(0, 9, in.street_code) != 0) continue; // another street's
        if (code != b->grid_code) out.building_moves.push_back({b->id, b->grid_code, code});
    }
    for (std::size_t g = 0; g < out.grids.size(); ++g) {
        bool alone = held[g].households < o.band.min;
        int siblings = 0;
        for (std::size_t n = 0; n < out.grids.size(); ++n) {
            if (n == g || out.grids[n].community_code != out.grids[g].community_code) continue;
            ++siblings;
            if (alone && geo::shared_boundary_m(out.grids[g].geom, out.grids[n].geom) >= 0.5) alone = false;
        }
        out.grid_households.push_back(held[g].households);
        out.grid_violations.push_back(reason(held[g], alone, siblings == 0, o.band));
        out.grid_explanations.push_back(explain(out.grid_violations.back(), held[g], o.band));
    }
    for (std::size_t c = 0; c < out.communities.size(); ++c) {
        long households = 0;
        for (std::size_t g = 0; g < out.grids.size(); ++g)
            if (out.grids[g].community_code == out.communities[c].code) households += held[g].households;
        out.community_households[c] = static_cast<int>(households);
    }
    return out;
}

} // namespace wangge::balance

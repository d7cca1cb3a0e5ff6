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
#include <optional>
#include <set>

namespace wangge::balance {

namespace {

std::size_t at(int i) { return static_cast<std::size_t>(i); }

// The fields of one CSV line (RFC 4180: a field in double quotes may hold commas and "" for a quote).
std::vector<std::string> csv_fields(const std::string& line) {
    std::vector<std::string> out;
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == '"') {
            if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else {
                quoted = !quoted;
            }
        } else if (c == ',' && !quoted) {
            out.push_back(std::move(field));
            field.clear();
        } else if (c != '\r') {
            field += c;
        }
    }
    out.push_back(std::move(field));
    for (std::string& f : out) {
        const auto first = f.find_first_not_of(" \t"), last = f.find_last_not_of(" \t");
        f = first == std::string::npos ? std::string() : f.substr(first, last - first + 1);
    }
    return out;
}

// The name of an area from the name of its office, as division code lists give them:
// 梅园新村社区居委会 -> 梅园新村社区, 新街口街道办事处 -> 新街口街道, 某某村村委会 -> 某某村.
std::string area_name(std::string name) {
    for (const std::string suffix : {"居民委员会", "村民委员会", "居委会", "村委会", "办事处"})
        if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            name.resize(name.size() - suffix.size());
            break;
        }
    return name;
}

bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// What one file of a code list held, for the message when the street is not found.
struct ListedFile {
    std::string name;
    std::size_t streets = 0, communities = 0;      // rows of 9- and 12-digit codes
    std::size_t in_county = 0;                     // rows of the street's county (its first 6 digits)
    std::string skipped;                           // why the file was not used, or ""
};
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
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".csv") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    std::vector<ListedFile> seen;
    bool street_seen = false;
    std::set<std::string> taken;
    for (const auto& path : files) {
        ListedFile file{path.filename().string(), 0, 0, 0, ""};
        std::ifstream in(path);
        if (!in) throw Error(ErrorKind::io, "unreadable", "cannot read " + path.string());
        std::string line;
        std::getline(in, line);
        if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3); // a UTF-8 byte order mark
        // Columns by their names in the header, in any order: code, name and, for communities
        // (villages), the code of their street.
        const std::vector<std::string> header = csv_fields(line);
        auto column = [&](std::initializer_list<const char*> names) -> std::optional<std::size_t> {
            for (std::size_t i = 0; i < header.size(); ++i)
                for (const char* n : names)
                    if (header[i] == n) return i;
            return std::nullopt;
        };
        const auto code_col = column({"code", "代码", "区划代码", "统计用区划代码"});
        const auto name_col = column({"name", "名称"});
        const auto street_col = column({"streetCode", "street_code", "streetcode", "街道代码"});
        if (!code_col || !name_col) {
            file.skipped = "no columns code and name in its header";
            seen.push_back(std::move(file));
            continue;
        }
        while (std::getline(in, line)) {
            if (line.empty() || line == "\r") continue;
            const std::vector<std::string> row = csv_fields(line);
            if (*code_col >= row.size() || *name_col >= row.size()) continue;
            const std::string& code = row[*code_col];
            if (!all_digits(code)) continue;
            if (code.compare(0, 6, street_code, 0, 6) == 0) ++file.in_county;
            if (code.size() == 9) {
                ++file.streets;
                if (code == street_code) {
                    list.street_name = area_name(row[*name_col]);
                    street_seen = true;
                }
            } else if (code.size() == 12) {
                ++file.communities;
                // Communities of the street: by their street column where there is one, else by prefix.
                const bool of_street = street_col && *street_col < row.size() ? row[*street_col] == street_code
                                                                              : code.compare(0, 9, street_code) == 0;
                if (of_street && taken.insert(code).second) list.communities.emplace_back(code, area_name(row[*name_col]));
            }
        }
        seen.push_back(std::move(file));
    }
    if (!street_seen && list.communities.empty()) {
        std::string what;
        for (const ListedFile& f : seen) {
            what += "\n  " + f.name + ": ";
            if (!f.skipped.empty()) what += "not read (" + f.skipped + ")";
            else
                what += std::to_string(f.streets) + " streets (9 digits), " + std::to_string(f.communities) +
                        " communities (12 digits), " + std::to_string(f.in_county) + " in county " +
                        street_code.substr(0, 6);
        }
        if (seen.empty()) what = " (no .csv file there)";
        throw Error(ErrorKind::not_found, "unknown_code",
                    "street " + street_code + " is not in the code lists of " + dir.string() +
                        "; read:" + what);
    }
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

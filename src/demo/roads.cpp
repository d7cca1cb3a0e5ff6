#include "demo/roads.hpp"

#include <cstdint>

namespace wangge::demo::detail {

namespace {

void add_road(std::vector<LonLat> line, std::string name, std::string kind,
              std::vector<store::RoadRow>& out) {
    store::RoadRow road;
    road.source_id = "demo-road-" + std::to_string(out.size() + 1);
    road.name = std::move(name);
    road.kind = std::move(kind);
    road.geom = geo::make_multi_line_string({std::move(line)});
    out.push_back(std::move(road));
}

std::vector<LonLat> along_column_line(const Lattice& l, int col, int row_from, int row_to) {
    std::vector<LonLat> line;
    for (int r = row_from; r <= row_to; ++r)
        line.push_back({l.lon[static_cast<std::size_t>(col)], l.lat[static_cast<std::size_t>(r)]});
    return line;
}

std::vector<LonLat> along_row_line(const Lattice& l, int row, int col_from, int col_to) {
    std::vector<LonLat> line;
    for (int c = col_from; c <= col_to; ++c)
        line.push_back({l.lon[static_cast<std::size_t>(c)], l.lat[static_cast<std::size_t>(row)]});
    return line;
}

// Calls emit(first, last) for each maximal run of superblock positions in [0, count) for which
// beside(i) holds.
template <typename Beside, typename Emit>
void for_each_run(int count, Beside beside, Emit emit) {
    for (int i = 0; i < count;) {
        if (!beside(i)) {
            ++i;
            continue;
        }
        int j = i;
        while (j + 1 < count && beside(j + 1)) ++j;
        emit(i, j);
        i = j + 1;
    }
}

} // namespace

bool is_primary_line(std::size_t line) noexcept { return line % 3 == 0; }

void add_arterials(const Lattice& l, const std::vector<char>& present, const ArterialNames& names,
                   std::vector<store::RoadRow>& out) {
    const int rows = l.block_rows(), cols = l.block_cols();
    auto exists = [&](int r, int c) {
        return r >= 0 && r < rows && c >= 0 && c < cols && present[static_cast<std::size_t>(r * cols + c)];
    };
    auto kind = [](std::size_t line) { return is_primary_line(line) ? "primary" : "secondary"; };
    for (int j = 0; j <= cols; ++j) {
        auto line = static_cast<std::size_t>(j);
        int col = l.block_col[line];
        for_each_run(
            rows, [&](int r) { return exists(r, j - 1) || exists(r, j); },
            [&](int first, int last) {
                add_road(along_column_line(l, col, l.block_row[static_cast<std::size_t>(first)],
                                           l.block_row[static_cast<std::size_t>(last + 1)]),
                         names.north_south[line], kind(line), out);
            });
    }
    for (int i = 0; i <= rows; ++i) {
        auto line = static_cast<std::size_t>(i);
        int row = l.block_row[line];
        for_each_run(
            cols, [&](int c) { return exists(i - 1, c) || exists(i, c); },
            [&](int first, int last) {
                add_road(along_row_line(l, row, l.block_col[static_cast<std::size_t>(first)],
                                        l.block_col[static_cast<std::size_t>(last + 1)]),
                         names.east_west[line], kind(line), out);
            });
    }
}

void add_local_road(const Lattice& l, CellIndex from, CellIndex to, std::string name,
                    std::vector<store::RoadRow>& out) {
    std::vector<LonLat> line = from.col == to.col ? along_column_line(l, from.col, from.row, to.row)
                                                  : along_row_line(l, from.row, from.col, to.col);
    add_road(std::move(line), std::move(name), "residential", out);
}

} // namespace wangge::demo::detail

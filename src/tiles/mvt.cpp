#include "tiles/mvt.hpp"

#include <protozero/pbf_writer.hpp>
#include <protozero/varint.hpp>

#include <algorithm>

namespace wangge::tiles::mvt {

namespace detail {

// Field numbers of vector_tile.proto (spec 2.1).
enum TileTag : protozero::pbf_tag_type { tile_layers = 3 };
enum LayerTag : protozero::pbf_tag_type {
    layer_name = 1,
    layer_features = 2,
    layer_keys = 3,
    layer_values = 4,
    layer_extent = 5,
    layer_version = 15
};
enum FeatureTag : protozero::pbf_tag_type { feature_id = 1, feature_tags = 2, feature_type = 3, feature_geometry = 4 };
enum ValueTag : protozero::pbf_tag_type {
    value_string = 1,
    value_double = 3,
    value_uint = 5,
    value_sint = 6,
    value_bool = 7
};
enum GeomType : int { geom_point = 1, geom_linestring = 2, geom_polygon = 3 };
enum Command : std::uint32_t { cmd_move_to = 1, cmd_line_to = 2, cmd_close_path = 7 };

std::uint32_t command(Command id, std::size_t count) {
    return (static_cast<std::uint32_t>(id) & 0x7u) | (static_cast<std::uint32_t>(count) << 3);
}

std::uint32_t zigzag(std::int32_t n) { return protozero::encode_zigzag32(n); }

// Writes command integers; the cursor carries over between parts of one feature (spec 4.3.1).
class GeometryWriter {
public:
    void move_to(Point p) {
        m_out.push_back(command(cmd_move_to, 1));
        delta(p);
    }
    void line_to(const std::vector<Point>& points, std::size_t from) {
        m_out.push_back(command(cmd_line_to, points.size() - from));
        for (std::size_t i = from; i < points.size(); ++i) delta(points[i]);
    }
    void close_path() { m_out.push_back(command(cmd_close_path, 1)); }
    const std::vector<std::uint32_t>& data() const noexcept { return m_out; }

private:
    void delta(Point p) {
        m_out.push_back(zigzag(p.x - m_cursor.x));
        m_out.push_back(zigzag(p.y - m_cursor.y));
        m_cursor = p;
    }
    std::vector<std::uint32_t> m_out;
    Point m_cursor;
};

// Drops consecutive repeats (and, for rings, a closing point equal to the first).
std::vector<Point> without_repeats(const std::vector<Point>& in, bool ring) {
    std::vector<Point> out;
    out.reserve(in.size());
    for (const Point& p : in)
        if (out.empty() || !(out.back() == p)) out.push_back(p);
    while (ring && out.size() > 1 && out.front() == out.back()) out.pop_back();
    return out;
}

// The ring cleaned and wound as the spec wants, or empty when it has no area.
Ring oriented(const Ring& in, bool exterior) {
    Ring r = without_repeats(in, true);
    if (r.size() < 3) return {};
    std::int64_t a = doubled_area(r);
    if (a == 0) return {};
    if ((a > 0) != exterior) std::reverse(r.begin() + 1, r.end());
    return r;
}

std::string encode_value(const Value& value) {
    std::string out;
    protozero::pbf_writer w{out};
    std::visit(
        [&w](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) w.add_string(value_string, v);
            else if constexpr (std::is_same_v<T, double>) w.add_double(value_double, v);
            else if constexpr (std::is_same_v<T, bool>) w.add_bool(value_bool, v);
            else if (v >= 0) w.add_uint64(value_uint, static_cast<std::uint64_t>(v));
            else w.add_sint64(value_sint, v);
        },
        value);
    return out;
}

} // namespace detail

std::int64_t doubled_area(const Ring& ring) noexcept {
    std::int64_t sum = 0;
    for (std::size_t i = 0, n = ring.size(); i < n; ++i) {
        const Point& a = ring[i];
        const Point& b = ring[(i + 1) % n];
        sum += std::int64_t{a.x} * b.y - std::int64_t{b.x} * a.y;
    }
    return sum;
}

LayerBuilder::LayerBuilder(std::string name, std::uint32_t extent) : m_name(std::move(name)), m_extent(extent) {}

bool LayerBuilder::add_polygons(std::optional<std::uint64_t> id, const std::vector<Polygon>& polygons,
                                const std::vector<Property>& properties) {
    detail::GeometryWriter g;
    for (const Polygon& polygon : polygons) {
        for (std::size_t i = 0; i < polygon.size(); ++i) {
            Ring r = detail::oriented(polygon[i], i == 0);
            if (r.empty()) {
                if (i == 0) break; // no shell: its holes go with it
                continue;
            }
            g.move_to(r[0]);
            g.line_to(r, 1);
            g.close_path();
        }
    }
    return write_feature(id, detail::geom_polygon, g.data(), properties);
}

bool LayerBuilder::add_lines(std::optional<std::uint64_t> id, const std::vector<Line>& lines,
                             const std::vector<Property>& properties) {
    detail::GeometryWriter g;
    for (const Line& line : lines) {
        Line l = detail::without_repeats(line, false);
        if (l.size() < 2) continue;
        g.move_to(l[0]);
        g.line_to(l, 1);
    }
    return write_feature(id, detail::geom_linestring, g.data(), properties);
}

bool LayerBuilder::add_points(std::optional<std::uint64_t> id, const std::vector<Point>& points,
                              const std::vector<Property>& properties) {
    std::vector<std::uint32_t> geometry;
    if (!points.empty()) {
        geometry.push_back(detail::command(detail::cmd_move_to, points.size()));
        Point cursor;
        for (const Point& p : points) {
            geometry.push_back(detail::zigzag(p.x - cursor.x));
            geometry.push_back(detail::zigzag(p.y - cursor.y));
            cursor = p;
        }
    }
    return write_feature(id, detail::geom_point, geometry, properties);
}

bool LayerBuilder::write_feature(std::optional<std::uint64_t> id, int type, const std::vector<std::uint32_t>& geometry,
                                 const std::vector<Property>& properties) {
    if (geometry.empty()) return false;
    std::vector<std::uint32_t> tags;
    tags.reserve(2 * properties.size());
    for (const Property& p : properties) {
        tags.push_back(key_index(p.key));
        tags.push_back(value_index(p.value));
    }
    protozero::pbf_writer layer{m_feature_data};
    protozero::pbf_writer feature{layer, detail::layer_features};
    if (id) feature.add_uint64(detail::feature_id, *id);
    if (!tags.empty()) feature.add_packed_uint32(detail::feature_tags, tags.begin(), tags.end());
    feature.add_enum(detail::feature_type, type);
    feature.add_packed_uint32(detail::feature_geometry, geometry.begin(), geometry.end());
    ++m_features;
    return true;
}

std::uint32_t LayerBuilder::key_index(std::string_view key) {
    auto [it, added] = m_key_index.try_emplace(std::string(key), static_cast<std::uint32_t>(m_keys.size()));
    if (added) m_keys.emplace_back(key);
    return it->second;
}

std::uint32_t LayerBuilder::value_index(const Value& value) {
    // Deduplicated by encoded bytes, so 1 (integer) and 1.0 (double) stay distinct values.
    std::string encoded = detail::encode_value(value);
    auto [it, added] = m_value_index.try_emplace(encoded, static_cast<std::uint32_t>(m_values.size()));
    if (added) m_values.push_back(std::move(encoded));
    return it->second;
}

std::string LayerBuilder::serialize() const {
    // Field order as vtzero and mapnik-vector-tile write it: header, features, then the tables.
    std::string out;
    out.reserve(m_feature_data.size() + 64 * (m_keys.size() + m_values.size()) + 64);
    protozero::pbf_writer layer{out};
    layer.add_uint32(detail::layer_version, 2);
    layer.add_string(detail::layer_name, m_name);
    layer.add_uint32(detail::layer_extent, m_extent);
    out += m_feature_data;
    for (const std::string& k : m_keys) layer.add_string(detail::layer_keys, k);
    for (const std::string& v : m_values) layer.add_message(detail::layer_values, v);
    return out;
}

std::string serialize_tile(const std::vector<LayerBuilder>& layers) {
    std::string out;
    protozero::pbf_writer tile{out};
    for (const LayerBuilder& layer : layers)
        if (!layer.empty()) tile.add_message(detail::tile_layers, layer.serialize());
    return out;
}

} // namespace wangge::tiles::mvt

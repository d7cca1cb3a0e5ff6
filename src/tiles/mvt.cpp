#include "tiles/mvt.hpp"

#include <protozero/pbf_writer.hpp>
#include <protozero/varint.hpp>

#include <algorithm>
#include <bit>
#include <functional>
#include <type_traits>

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

// Appends the delta from `cursor` to `p` and moves the cursor (it carries over between the
// parts of one feature, spec 4.3.1).
void delta(std::vector<std::uint32_t>& out, Point& cursor, Point p) {
    out.push_back(zigzag(p.x - cursor.x));
    out.push_back(zigzag(p.y - cursor.y));
    cursor = p;
}

// Appends a MoveTo and a LineTo of points[0..n) (n >= 2).
void move_and_line_to(std::vector<std::uint32_t>& out, Point& cursor, const Point* points, std::size_t n) {
    out.push_back(command(cmd_move_to, 1));
    delta(out, cursor, points[0]);
    out.push_back(command(cmd_line_to, n - 1));
    for (std::size_t i = 1; i < n; ++i) delta(out, cursor, points[i]);
}

// `out` = `in` without consecutive repeats (and, for rings, without a closing point equal to
// the first).
void without_repeats(const std::vector<Point>& in, bool ring, std::vector<Point>& out) {
    out.clear();
    for (const Point& p : in)
        if (out.empty() || !(out.back() == p)) out.push_back(p);
    while (ring && out.size() > 1 && out.front() == out.back()) out.pop_back();
}

// Spreads the bits of a value over its hash (the first half of MurmurHash3's finaliser): the
// table indexes its slots by the top bits.
std::uint64_t mix(std::uint64_t h) noexcept {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

} // namespace detail

std::int64_t doubled_area(const Ring& ring) noexcept {
    const std::size_t n = ring.size();
    if (n == 0) return 0;
    auto cross = [](const Point& a, const Point& b) { return std::int64_t{a.x} * b.y - std::int64_t{b.x} * a.y; };
    std::int64_t sum = cross(ring[n - 1], ring[0]);
    for (std::size_t i = 0; i + 1 < n; ++i) sum += cross(ring[i], ring[i + 1]);
    return sum;
}

ValueTable::Entry ValueTable::entry_of(const Value& value, std::string_view& text) noexcept {
    Entry e;
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string_view>) text = v;
            else if constexpr (std::is_same_v<T, std::int64_t>) e.kind = Kind::integer, e.bits = std::bit_cast<std::uint64_t>(v);
            else if constexpr (std::is_same_v<T, double>) e.kind = Kind::real, e.bits = std::bit_cast<std::uint64_t>(v);
            else e.kind = Kind::boolean, e.bits = v ? 1 : 0;
        },
        value);
    return e;
}

bool ValueTable::same(const Entry& stored, const Entry& e, std::string_view text) const noexcept {
    return stored.kind == e.kind && stored.bits == e.bits &&
           (e.kind != Kind::text || std::string_view(m_text).substr(stored.offset, stored.length) == text);
}

bool ValueTable::holds(std::size_t i, const Value& value) const noexcept {
    std::string_view text;
    return same(m_entries[i], entry_of(value, text), text);
}

std::uint32_t ValueTable::index(const Value& value) {
    std::string_view text;
    Entry e = entry_of(value, text);
    e.hash = detail::mix((e.kind == Kind::text ? std::hash<std::string_view>{}(text) : e.bits) +
                         static_cast<std::uint64_t>(e.kind));
    if (2 * (m_entries.size() + 1) > m_slots.size()) grow();
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t i = e.hash >> m_shift;; i = (i + 1) & mask) {
        const std::uint32_t slot = m_slots[i];
        if (slot == 0) {
            if (e.kind == Kind::text) {
                e.offset = static_cast<std::uint32_t>(m_text.size());
                e.length = static_cast<std::uint32_t>(text.size());
                m_text += text;
            }
            m_entries.push_back(e);
            m_slots[i] = static_cast<std::uint32_t>(m_entries.size());
            return static_cast<std::uint32_t>(m_entries.size() - 1);
        }
        const Entry& x = m_entries[slot - 1];
        if (x.hash == e.hash && same(x, e, text)) return slot - 1;
    }
}

void ValueTable::grow() {
    const std::size_t capacity = std::max<std::size_t>(32, 2 * m_slots.size());
    m_slots.assign(capacity, 0);
    m_shift = 64 - std::countr_zero(capacity);
    const std::size_t mask = capacity - 1;
    for (std::size_t k = 0; k < m_entries.size(); ++k) {
        std::size_t i = m_entries[k].hash >> m_shift;
        while (m_slots[i] != 0) i = (i + 1) & mask;
        m_slots[i] = static_cast<std::uint32_t>(k + 1);
    }
}

Value ValueTable::operator[](std::size_t i) const {
    const Entry& e = m_entries[i];
    switch (e.kind) {
    case Kind::text: return std::string_view(m_text).substr(e.offset, e.length);
    case Kind::integer: return std::bit_cast<std::int64_t>(e.bits);
    case Kind::real: return std::bit_cast<double>(e.bits);
    case Kind::boolean: return e.bits != 0;
    }
    return false;
}

LayerBuilder::LayerBuilder(std::string name, std::uint32_t extent) : m_name(std::move(name)), m_extent(extent) {}

bool LayerBuilder::write_ring(const Ring& ring, bool exterior) {
    detail::without_repeats(ring, true, m_ring);
    if (m_ring.size() < 3) return false;
    const std::int64_t a = doubled_area(m_ring);
    if (a == 0) return false;
    if ((a > 0) != exterior) std::reverse(m_ring.begin() + 1, m_ring.end());
    detail::move_and_line_to(m_geometry, m_cursor, m_ring.data(), m_ring.size());
    m_geometry.push_back(detail::command(detail::cmd_close_path, 1));
    return true;
}

bool LayerBuilder::add_polygons(std::optional<std::uint64_t> id, const std::vector<Polygon>& polygons,
                                const std::vector<Property>& properties) {
    m_geometry.clear();
    m_cursor = {};
    for (const Polygon& polygon : polygons)
        for (std::size_t i = 0; i < polygon.size(); ++i)
            if (!write_ring(polygon[i], i == 0) && i == 0) break; // no shell: its holes go with it
    return write_feature(id, detail::geom_polygon, properties);
}

bool LayerBuilder::add_lines(std::optional<std::uint64_t> id, const std::vector<Line>& lines,
                             const std::vector<Property>& properties) {
    m_geometry.clear();
    m_cursor = {};
    for (const Line& line : lines) {
        detail::without_repeats(line, false, m_ring);
        if (m_ring.size() >= 2) detail::move_and_line_to(m_geometry, m_cursor, m_ring.data(), m_ring.size());
    }
    return write_feature(id, detail::geom_linestring, properties);
}

bool LayerBuilder::add_points(std::optional<std::uint64_t> id, const std::vector<Point>& points,
                              const std::vector<Property>& properties) {
    m_geometry.clear();
    m_cursor = {};
    if (!points.empty()) {
        m_geometry.push_back(detail::command(detail::cmd_move_to, points.size()));
        for (const Point& p : points) detail::delta(m_geometry, m_cursor, p);
    }
    return write_feature(id, detail::geom_point, properties);
}

bool LayerBuilder::write_feature(std::optional<std::uint64_t> id, int type, const std::vector<Property>& properties) {
    if (m_geometry.empty()) return false;
    m_tags.clear();
    for (const Property& p : properties) {
        const std::size_t at = m_tags.size();
        const bool again = at + 1 < m_last_tags.size();
        m_tags.push_back(again && m_keys.holds(m_last_tags[at], p.key) ? m_last_tags[at] : m_keys.index(p.key));
        m_tags.push_back(again && m_values.holds(m_last_tags[at + 1], p.value) ? m_last_tags[at + 1]
                                                                                : m_values.index(p.value));
    }
    m_last_tags = m_tags;
    protozero::pbf_writer layer{m_feature_data};
    protozero::pbf_writer feature{layer, detail::layer_features};
    if (id) feature.add_uint64(detail::feature_id, *id);
    if (!m_tags.empty()) feature.add_packed_uint32(detail::feature_tags, m_tags.begin(), m_tags.end());
    feature.add_enum(detail::feature_type, type);
    feature.add_packed_uint32(detail::feature_geometry, m_geometry.begin(), m_geometry.end());
    ++m_features;
    return true;
}

std::string LayerBuilder::head() const {
    std::string out;
    protozero::pbf_writer layer{out};
    layer.add_uint32(detail::layer_version, 2);
    layer.add_string(detail::layer_name, m_name);
    layer.add_uint32(detail::layer_extent, m_extent);
    return out;
}

std::string LayerBuilder::tables() const {
    std::string out;
    out.reserve(32 * (m_keys.size() + m_values.size()));
    protozero::pbf_writer layer{out};
    for (std::size_t i = 0; i < m_keys.size(); ++i) {
        const auto key = std::get<std::string_view>(m_keys[i]);
        layer.add_string(detail::layer_keys, key.data(), key.size());
    }
    for (std::size_t i = 0; i < m_values.size(); ++i) {
        protozero::pbf_writer v{layer, detail::layer_values};
        std::visit(
            [&v](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, std::string_view>) v.add_string(detail::value_string, x.data(), x.size());
                else if constexpr (std::is_same_v<T, double>) v.add_double(detail::value_double, x);
                else if constexpr (std::is_same_v<T, bool>) v.add_bool(detail::value_bool, x);
                else if (x >= 0) v.add_uint64(detail::value_uint, static_cast<std::uint64_t>(x));
                else v.add_sint64(detail::value_sint, x);
            },
            m_values[i]);
    }
    return out;
}

std::string LayerBuilder::serialize() const {
    // Field order as vtzero and mapnik-vector-tile write it: header, features, then the tables.
    return head() + m_feature_data + tables();
}

std::string serialize_tile(const std::vector<LayerBuilder>& layers) {
    std::size_t size = 0;
    for (const LayerBuilder& layer : layers) size += layer.m_feature_data.size() + 64;
    std::string out;
    out.reserve(size);
    protozero::pbf_writer tile{out};
    for (const LayerBuilder& layer : layers) {
        if (layer.empty()) continue;
        // Each layer's features are copied once, straight into the tile.
        const std::string head = layer.head(), tables = layer.tables();
        tile.add_bytes_vectored(detail::tile_layers, head, layer.m_feature_data, tables);
    }
    return out;
}

} // namespace wangge::tiles::mvt

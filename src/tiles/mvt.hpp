#pragma once
// A Mapbox Vector Tile 2.1 encoder (https://github.com/mapbox/vector-tile-spec/tree/master/2.1)
// written with protozero. It knows nothing of Wangge's data: callers hand it geometry already in
// integer tile coordinates (x right, y down, 0..extent plus a buffer) and typed properties.
//
// The encoder enforces what the spec requires of the geometry it writes: no repeated points
// (zero-length LineTo), rings of at least three points with a non-zero area, exterior rings with
// positive area in tile coordinates (clockwise on screen) and holes negative, each polygon's
// holes right after its shell. Parts that cannot satisfy this are dropped, not written.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wangge::tiles::mvt {

inline constexpr std::uint32_t default_extent = 4096;

struct Point {
    std::int32_t x = 0;
    std::int32_t y = 0;
    friend bool operator==(const Point&, const Point&) = default;
};
// A ring is open: its first point is not repeated at the end.
using Ring = std::vector<Point>;
using Line = std::vector<Point>;
// A polygon is its exterior ring followed by its holes.
using Polygon = std::vector<Ring>;

// A property value; integers are written as uint_value when non-negative, sint_value otherwise.
// Text is viewed, not owned: it must live until the feature has been added (the layer keeps its
// own copy of each distinct value).
using Value = std::variant<std::string_view, std::int64_t, double, bool>;
struct Property {
    std::string_view key;
    Value value;
};

// The distinct values of a layer (or its keys, as text values), each numbered in the order first
// seen. Values of different types stay distinct (1 and 1.0 and true are three values), as do
// doubles of different bits (0.0 and -0.0). A hash table over typed values: no value is encoded
// or copied to be looked up, only the first time it is seen.
class ValueTable {
public:
    // The index of `value`, added when new.
    std::uint32_t index(const Value& value);
    std::size_t size() const noexcept { return m_entries.size(); }
    // The value at `i` (< size()); text views the table's own copy.
    Value operator[](std::size_t i) const;
    // True when the value at `i` (< size()) is `value`, by the rules of index().
    bool holds(std::size_t i, const Value& value) const noexcept;

private:
    enum class Kind : std::uint8_t { text, integer, real, boolean };
    struct Entry {
        std::uint64_t hash = 0;
        std::uint64_t bits = 0;      // integer, double or bool; 0 for text
        std::uint32_t offset = 0;    // text: where it is in m_text
        std::uint32_t length = 0;
        Kind kind = Kind::text;
    };
    // `value` as an entry without its hash; `text` set for text.
    static Entry entry_of(const Value& value, std::string_view& text) noexcept;
    bool same(const Entry& stored, const Entry& e, std::string_view text) const noexcept;
    void grow();

    std::vector<Entry> m_entries;
    std::string m_text;
    std::vector<std::uint32_t> m_slots; // entry index + 1, 0 when empty; at most half full
    int m_shift = 64;
};

// Twice the signed area (surveyor's formula) of an open ring in tile coordinates; positive for an
// exterior ring as the spec defines it. Exact for tile coordinates (64-bit integers).
std::int64_t doubled_area(const Ring& ring) noexcept;

// One layer of a tile. Features are encoded as they are added; the key and value tables are
// deduplicated across the layer's features and written when the tile is serialised.
class LayerBuilder {
public:
    explicit LayerBuilder(std::string name, std::uint32_t extent = default_extent);

    // Each return true when the feature was written, false when no valid geometry was left.
    bool add_polygons(std::optional<std::uint64_t> id, const std::vector<Polygon>& polygons,
                      const std::vector<Property>& properties);
    bool add_lines(std::optional<std::uint64_t> id, const std::vector<Line>& lines,
                   const std::vector<Property>& properties);
    bool add_points(std::optional<std::uint64_t> id, const std::vector<Point>& points,
                    const std::vector<Property>& properties);

    const std::string& name() const noexcept { return m_name; }
    std::size_t feature_count() const noexcept { return m_features; }
    bool empty() const noexcept { return m_features == 0; }

    // The Layer message (without the enclosing Tile field).
    std::string serialize() const;

private:
    friend std::string serialize_tile(const std::vector<LayerBuilder>& layers);
    // The fields of the Layer message before its features (version, name, extent) and after
    // them (the key and value tables).
    std::string head() const;
    std::string tables() const;
    bool write_feature(std::optional<std::uint64_t> id, int type, const std::vector<Property>& properties);
    // Appends the ring to m_geometry cleaned (no repeated points) and wound as the spec wants;
    // false, writing nothing, when it has no area.
    bool write_ring(const Ring& ring, bool exterior);

    std::string m_name;
    std::uint32_t m_extent;
    std::string m_feature_data; // encoded Feature fields of the Layer message, in order added
    std::size_t m_features = 0;
    ValueTable m_keys;
    ValueTable m_values;
    // Reused from feature to feature: the geometry commands being written, their cursor, the
    // tags, and a ring being cleaned.
    std::vector<std::uint32_t> m_geometry;
    Point m_cursor;
    std::vector<std::uint32_t> m_tags;
    Ring m_ring;
    // The tags of the last feature: the features of a layer mostly list the same keys in the
    // same order and often repeat values, which are then found without hashing.
    std::vector<std::uint32_t> m_last_tags;
};

// The Tile message: the non-empty layers in the order given. A tile without features is the
// empty string (a valid, empty tile).
std::string serialize_tile(const std::vector<LayerBuilder>& layers);

} // namespace wangge::tiles::mvt

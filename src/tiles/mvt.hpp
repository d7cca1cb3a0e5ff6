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
#include <unordered_map>
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
using Value = std::variant<std::string, std::int64_t, double, bool>;
struct Property {
    std::string_view key;
    Value value;
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
    bool write_feature(std::optional<std::uint64_t> id, int type, const std::vector<std::uint32_t>& geometry,
                       const std::vector<Property>& properties);
    std::uint32_t key_index(std::string_view key);
    std::uint32_t value_index(const Value& value);

    std::string m_name;
    std::uint32_t m_extent;
    std::string m_feature_data; // encoded Feature fields of the Layer message, in order added
    std::size_t m_features = 0;
    std::vector<std::string> m_keys;
    std::unordered_map<std::string, std::uint32_t> m_key_index;
    std::vector<std::string> m_values; // encoded Value messages
    std::unordered_map<std::string, std::uint32_t> m_value_index;
};

// The Tile message: the non-empty layers in the order given. A tile without features is the
// empty string (a valid, empty tile).
std::string serialize_tile(const std::vector<LayerBuilder>& layers);

} // namespace wangge::tiles::mvt

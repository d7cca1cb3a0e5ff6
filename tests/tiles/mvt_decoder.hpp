#pragma once
// A small Mapbox Vector Tile 2.1 decoder for tests, written from the spec with protozero and
// independent of Wangge's encoder, so that the tests check the encoder against the format rather
// than against itself.
#include <protozero/pbf_reader.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace wangge::test::mvt {

using Value = std::variant<std::string, float, double, std::int64_t, std::uint64_t, bool>;

struct Point {
    std::int64_t x = 0, y = 0;
};
// A MoveTo starts a part; for polygons a part is a ring (closed by ClosePath, not repeated).
using Part = std::vector<Point>;

struct Feature {
    std::optional<std::uint64_t> id;
    int type = 0; // 1 point, 2 linestring, 3 polygon
    std::map<std::string, Value> properties;
    std::vector<Part> parts;
    std::size_t close_paths = 0;

    bool has(const std::string& key) const { return properties.count(key) != 0; }
    std::string text(const std::string& key) const { return std::get<std::string>(properties.at(key)); }
    // Any integer value as int64.
    std::int64_t integer(const std::string& key) const {
        const Value& v = properties.at(key);
        if (auto* u = std::get_if<std::uint64_t>(&v)) return static_cast<std::int64_t>(*u);
        return std::get<std::int64_t>(v);
    }
};

struct Layer {
    std::string name;
    std::uint32_t version = 1;
    std::uint32_t extent = 4096;
    std::vector<std::string> keys;
    std::vector<Value> values;
    std::vector<Feature> features;

    const Feature* find(std::uint64_t id) const {
        for (const auto& f : features)
            if (f.id == id) return &f;
        return nullptr;
    }
};

// Twice the signed area by the surveyor's formula in tile coordinates (y down): the spec calls a
// ring with positive area exterior.
inline double doubled_area(const Part& ring) {
    double sum = 0;
    for (std::size_t i = 0; i < ring.size(); ++i) {
        const Point& a = ring[i];
        const Point& b = ring[(i + 1) % ring.size()];
        sum += double(a.x) * double(b.y) - double(b.x) * double(a.y);
    }
    return sum;
}

namespace detail {

inline Value decode_value(protozero::pbf_reader msg) {
    Value v;
    while (msg.next()) {
        switch (msg.tag()) {
        case 1: v = msg.get_string(); break;
        case 2: v = msg.get_float(); break;
        case 3: v = msg.get_double(); break;
        case 4: v = msg.get_int64(); break;
        case 5: v = msg.get_uint64(); break;
        case 6: v = msg.get_sint64(); break;
        case 7: v = msg.get_bool(); break;
        default: msg.skip();
        }
    }
    return v;
}

inline void decode_geometry(Feature& f, const std::vector<std::uint32_t>& g) {
    std::int64_t x = 0, y = 0;
    std::size_t i = 0;
    auto param = [&](std::size_t k) {
        std::uint32_t v = g.at(k);
        return std::int64_t{static_cast<std::int32_t>((v >> 1) ^ (~(v & 1) + 1))};
    };
    while (i < g.size()) {
        std::uint32_t cmd = g[i] & 0x7, count = g[i] >> 3;
        ++i;
        if (cmd == 1 || cmd == 2) {
            for (std::uint32_t k = 0; k < count; ++k, i += 2) {
                x += param(i);
                y += param(i + 1);
                if (cmd == 1 && f.type != 1) f.parts.emplace_back();
                if (f.parts.empty()) f.parts.emplace_back();
                f.parts.back().push_back({x, y});
            }
        } else if (cmd == 7) {
            ++f.close_paths;
        } else {
            throw std::runtime_error("unknown geometry command " + std::to_string(cmd));
        }
    }
}

inline Feature decode_feature(protozero::pbf_reader msg, const Layer& layer) {
    Feature f;
    std::vector<std::uint32_t> tags, geometry;
    while (msg.next()) {
        switch (msg.tag()) {
        case 1: f.id = msg.get_uint64(); break;
        case 2: {
            auto r = msg.get_packed_uint32();
            tags.assign(r.begin(), r.end());
            break;
        }
        case 3: f.type = msg.get_enum(); break;
        case 4: {
            auto r = msg.get_packed_uint32();
            geometry.assign(r.begin(), r.end());
            break;
        }
        default: msg.skip();
        }
    }
    if (tags.size() % 2) throw std::runtime_error("odd number of tags");
    for (std::size_t i = 0; i < tags.size(); i += 2)
        f.properties[layer.keys.at(tags[i])] = layer.values.at(tags[i + 1]);
    decode_geometry(f, geometry);
    return f;
}

} // namespace detail

inline std::vector<Layer> decode(std::string_view data) {
    std::vector<Layer> layers;
    protozero::pbf_reader tile(data.data(), data.size());
    while (tile.next(3)) {
        // Keys and values may follow the features: read the tables first, then the features.
        protozero::pbf_reader msg = tile.get_message();
        Layer layer;
        std::vector<protozero::pbf_reader> features;
        while (msg.next()) {
            switch (msg.tag()) {
            case 1: layer.name = msg.get_string(); break;
            case 2: features.push_back(msg.get_message()); break;
            case 3: layer.keys.push_back(msg.get_string()); break;
            case 4: layer.values.push_back(detail::decode_value(msg.get_message())); break;
            case 5: layer.extent = msg.get_uint32(); break;
            case 15: layer.version = msg.get_uint32(); break;
            default: msg.skip();
            }
        }
        for (auto& f : features) layer.features.push_back(detail::decode_feature(f, layer));
        layers.push_back(std::move(layer));
    }
    return layers;
}

inline const Layer* find_layer(const std::vector<Layer>& layers, std::string_view name) {
    for (const auto& l : layers)
        if (l.name == name) return &l;
    return nullptr;
}

} // namespace wangge::test::mvt

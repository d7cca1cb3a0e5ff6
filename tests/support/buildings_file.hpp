#pragma once
// A GeoJSON file of small buildings for the import tests: `count` rectangles of about 20 x 17 m,
// 20 to a row, from 118.801 E, 31.961 N (over the demo district, whatever its seed), 12
// households each; an import assigns those that fall in a grid to it.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace wangge::test {

inline void write_buildings_geojson(const std::filesystem::path& file, int count) {
    std::string features;
    for (int i = 0; i < count; ++i) {
        const double lon = 118.801 + (i % 20) * 9e-4, lat = 31.961 + (i / 20) * 5e-4;
        char ring[256];
        std::snprintf(ring, sizeof ring, "[[%.5f,%.5f],[%.5f,%.5f],[%.5f,%.5f],[%.5f,%.5f],[%.5f,%.5f]]", lon, lat,
                      lon + 2e-4, lat, lon + 2e-4, lat + 1.5e-4, lon, lat + 1.5e-4, lon, lat);
        features += std::string(i ? "," : "") + R"({"type":"Feature","properties":{"households":12},)" +
                    R"("geometry":{"type":"Polygon","coordinates":[)" + ring + "]}}";
    }
    std::ofstream(file) << R"({"type":"FeatureCollection","features":[)" << features << "]}";
}

} // namespace wangge::test

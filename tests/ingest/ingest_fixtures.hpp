#pragma once
// Small real files for the import tests: GeoJSON written as text, Shapefiles and GeoPackages
// written through GDAL's API, and a fresh SpatiaLite store in a temporary directory.
#include "geo/geometry.hpp"
#include "ingest/gdal_source.hpp"
#include "ingest/importer.hpp"
#include "store/database.hpp"
#include "support/temp_dir.hpp"

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace wangge::test {

struct Xy {
    double x = 0.0;
    double y = 0.0;
};

inline std::string number(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.12g", v);
    return buf;
}

// A closed GeoJSON ring "[[x,y],...]" from open or closed vertices.
inline std::string ring_json(std::vector<Xy> ring) {
    if (ring.front().x != ring.back().x || ring.front().y != ring.back().y) ring.push_back(ring.front());
    std::string out = "[";
    for (std::size_t i = 0; i < ring.size(); ++i)
        out += (i ? ",[" : "[") + number(ring[i].x) + "," + number(ring[i].y) + "]";
    return out + "]";
}

inline std::vector<Xy> rect(double x0, double y0, double x1, double y1) {
    return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}};
}

inline std::string polygon_geometry(const std::vector<Xy>& ring) {
    return R"({"type":"Polygon","coordinates":[)" + ring_json(ring) + "]}";
}

inline std::string point_geometry(Xy p) {
    return R"({"type":"Point","coordinates":[)" + number(p.x) + "," + number(p.y) + "]}";
}

inline std::string line_geometry(const std::vector<Xy>& line) {
    std::string out = R"({"type":"LineString","coordinates":[)";
    for (std::size_t i = 0; i < line.size(); ++i)
        out += (i ? ",[" : "[") + number(line[i].x) + "," + number(line[i].y) + "]";
    return out + "]}";
}

// `properties` is the inside of the properties object, e.g. R"("code":"320102001")".
inline std::string feature(const std::string& properties, const std::string& geometry) {
    return R"({"type":"Feature","properties":{)" + properties + R"(},"geometry":)" + geometry + "}";
}

inline std::string collection(const std::vector<std::string>& features) {
    std::string out = R"({"type":"FeatureCollection","features":[)";
    for (std::size_t i = 0; i < features.size(); ++i) out += (i ? ",\n" : "\n") + features[i];
    return out + "\n]}\n";
}

inline std::filesystem::path write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// One feature for write_layer: WKT geometry and string attributes in column order.
struct GdalFeature {
    std::string wkt;
    std::vector<std::string> values;
};

// Writes a layer with GDAL (driver "ESRI Shapefile", "GPKG", ...), adding it to the file when
// the file exists already; no CRS when `epsg` is empty (a Shapefile then has no .prj).
inline void write_layer(const std::filesystem::path& path, const char* driver_name, std::optional<int> epsg,
                        OGRwkbGeometryType type, const std::vector<std::string>& columns,
                        const std::vector<GdalFeature>& features, const char* layer_name = "data") {
    ingest::detail::register_gdal();
    GDALDatasetUniquePtr ds;
    if (std::filesystem::exists(path)) {
        ds.reset(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_UPDATE));
    } else if (GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name)) {
        ds.reset(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    }
    if (!ds) throw std::runtime_error("cannot write " + path.string() + ": " + CPLGetLastErrorMsg());
    OGRSpatialReference srs;
    if (epsg) srs.importFromEPSG(*epsg);
    const char* utf8[] = {"ENCODING=UTF-8", nullptr}; // Shapefiles default to ISO-8859-1
    const bool shapefile = std::string(driver_name) == "ESRI Shapefile";
    OGRLayer* layer =
        ds->CreateLayer(layer_name, epsg ? &srs : nullptr, type, shapefile ? const_cast<char**>(utf8) : nullptr);
    for (const auto& c : columns) {
        OGRFieldDefn field(c.c_str(), OFTString);
        layer->CreateField(&field);
    }
    for (const auto& f : features) {
        OGRFeatureUniquePtr out(OGRFeature::CreateFeature(layer->GetLayerDefn()));
        for (std::size_t i = 0; i < f.values.size(); ++i) out->SetField(static_cast<int>(i), f.values[i].c_str());
        OGRGeometry* g = nullptr;
        OGRGeometryFactory::createFromWkt(f.wkt.c_str(), nullptr, &g);
        out->SetGeometryDirectly(g);
        if (layer->CreateFeature(out.get()) != OGRERR_NONE)
            throw std::runtime_error("cannot write a feature to " + path.string());
    }
}

inline std::string wkt_polygon(const std::vector<Xy>& ring) {
    std::string out = "POLYGON ((";
    for (std::size_t i = 0; i <= ring.size(); ++i) {
        const Xy& p = ring[i % ring.size()];
        out += (i ? ", " : "") + number(p.x) + " " + number(p.y);
    }
    return out + "))";
}

// Every vertex of a geometry, read back from its WKT.
inline std::vector<Xy> vertices(const geo::Geometry& g) {
    std::string wkt = geo::to_wkt(g, 12);
    static const std::regex pair(R"((-?[0-9.]+(?:e-?[0-9]+)?) (-?[0-9.]+(?:e-?[0-9]+)?))");
    std::vector<Xy> out;
    for (std::sregex_iterator it(wkt.begin(), wkt.end(), pair), end; it != end; ++it)
        out.push_back({std::stod((*it)[1]), std::stod((*it)[2])});
    return out;
}

// The distance in degrees from `p` to the nearest vertex of `g`.
inline double nearest_vertex_deg(const geo::Geometry& g, Xy p) {
    double best = 1e9;
    for (const Xy& v : vertices(g)) best = std::min(best, std::max(std::abs(v.x - p.x), std::abs(v.y - p.y)));
    return best;
}

struct Counts {
    std::size_t streets, communities, grids, buildings, roads;
    std::int64_t version;
    bool operator==(const Counts&) const = default;
};

inline Counts counts(store::Database& db) {
    return {db.count(Level::street), db.count(Level::community), db.count(Level::grid), db.building_count(),
            db.road_count(),         db.data_version()};
}

// A store in a fresh temporary directory, with the files of one test beside it.
struct Workspace {
    TempDir dir;
    std::unique_ptr<store::Database> db = store::Database::open(dir / "wangge.sqlite", store::OpenMode::create);

    std::filesystem::path file(const std::string& name, const std::string& text) {
        return write_file(dir / name, text);
    }

    ingest::ImportReport run(ingest::Target target, const std::filesystem::path& path,
                             std::map<std::string, std::string> field_map = {}, bool replace = false) {
        ingest::ImportOptions o;
        o.target = target;
        o.path = path;
        o.field_map = std::move(field_map);
        o.replace = replace;
        return ingest::import_file(*db, o);
    }
};

} // namespace wangge::test

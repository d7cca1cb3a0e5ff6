// GeoJSON and WKB input and geometry repair (src/geo/geometry.hpp): what an import, a grid
// written over the API and a stored row go through. The first byte chooses the codec (even:
// GeoJSON, odd: WKB); a geometry that parses is checked, repaired as the importer repairs it,
// made a MultiPolygon, measured, and written back out: what Wangge writes must read back.
// Only wangge::Error may leave the geometry code.
#include "core/error.hpp"
#include "fuzz_support.hpp"
#include "geo/geometry.hpp"

#include <cmath>
#include <span>
#include <string>
#include <vector>

using namespace wangge;

namespace {

bool finite_text(const std::string& json) {
    return json.find("nan") == std::string::npos && json.find("inf") == std::string::npos;
}

void round_trip(const geo::Geometry& g) {
    try {
        (void)geo::from_wkb(geo::to_wkb(g));
    } catch (const Error& e) {
        fuzz::fail("to_wkb wrote WKB that from_wkb refuses", e.what());
    }
    // Non-finite coordinates have no GeoJSON; Wangge stores none (the importer refuses vertices
    // outside WGS84), so only finite geometries must come back from their GeoJSON.
    const std::string json = geo::to_geojson(g);
    if (!finite_text(json)) return;
    try {
        (void)geo::from_geojson(json);
    } catch (const Error& e) {
        fuzz::fail("to_geojson wrote GeoJSON that from_geojson refuses", json + " / " + e.what());
    }
}

void exercise(const geo::Geometry& g) {
    (void)g.type_name();
    (void)g.num_points();
    (void)g.bbox();
    const std::string reason = geo::invalid_reason(g);
    round_trip(g);
    const geo::Geometry fixed = geo::make_valid_polygonal(g);
    if (!fixed.is_polygonal() && !fixed.is_empty()) fuzz::fail("make_valid_polygonal left a non-polygonal geometry", fixed.type_name());
    const geo::Geometry multi = geo::to_multi_polygon(fixed);
    if (multi.type() != geo::GeometryType::multi_polygon) fuzz::fail("to_multi_polygon gave", multi.type_name());
    // What the importer and the snapshot do with a repaired polygon.
    (void)geo::area_m2(multi);
    (void)geo::polygon_rings(multi);
    (void)geo::polygon_count(multi);
    if (reason.empty() && g.is_polygonal()) (void)geo::polygonal_part(g);
    round_trip(multi);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const fuzz::Input in(data, size);
    try {
        const geo::Geometry g =
            in.choice % 2 == 0
                ? geo::from_geojson(in.rest)
                : geo::from_wkb(std::span(reinterpret_cast<const unsigned char*>(in.rest.data()), in.rest.size()));
        exercise(g);
    } catch (const Error&) {
        // refused with a reason: expected for malformed input
    }
    return 0;
}

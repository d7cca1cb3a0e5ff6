#include "geo/geometry.hpp"

#include "core/error.hpp"

#include <geodesic.h>
#include <geos_c.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace wangge::geo {

namespace {

// One GEOS context per thread; GEOS reports errors through the handler, which keeps the last
// message so that the thrown Error can say what GEOS said.
struct Context {
    GEOSContextHandle_t handle = nullptr;
    std::string last_error;

    Context() {
        handle = GEOS_init_r();
        GEOSContext_setErrorMessageHandler_r(handle, &Context::on_error, this);
    }
    ~Context() { GEOS_finish_r(handle); }
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    static void on_error(const char* message, void* self) {
        static_cast<Context*>(self)->last_error = message;
    }
};

Context& context() {
    thread_local Context ctx;
    return ctx;
}

GEOSContextHandle_t h() { return context().handle; }

[[noreturn]] void fail(const char* what) {
    throw Error(ErrorKind::internal, "geos", std::string(what) + ": " + context().last_error);
}

template <typename T>
T* check(T* p, const char* what) {
    if (!p) fail(what);
    return p;
}

const geod_geodesic& wgs84() {
    static const geod_geodesic g = [] {
        geod_geodesic geod{};
        geod_init(&geod, 6378137.0, 1.0 / 298.257223563);
        return geod;
    }();
    return g;
}

double ring_area_m2(const GEOSGeometry* ring) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h(), ring);
    unsigned int n = 0;
    GEOSCoordSeq_getSize_r(h(), seq, &n);
    if (n < 4) return 0.0;
    geod_polygon poly{};
    geod_polygon_init(&poly, 0);
    for (unsigned int i = 0; i + 1 < n; ++i) { // the closing point repeats the first
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(h(), seq, i, &x, &y);
        geod_polygon_addpoint(&wgs84(), &poly, y, x);
    }
    double area = 0, perimeter = 0;
    geod_polygon_compute(&wgs84(), &poly, 0, 1, &area, &perimeter);
    return std::abs(area);
}

double polygon_area_m2(const GEOSGeometry* poly) {
    double a = ring_area_m2(GEOSGetExteriorRing_r(h(), poly));
    int holes = GEOSGetNumInteriorRings_r(h(), poly);
    for (int i = 0; i < holes; ++i) a -= ring_area_m2(GEOSGetInteriorRingN_r(h(), poly, i));
    return a;
}

// Signed shoelace area of a ring in coordinate units; positive when counter-clockwise.
double ring_signed_area(const GEOSCoordSequence* seq, unsigned int n) {
    double sum = 0;
    double x0 = 0, y0 = 0;
    GEOSCoordSeq_getXY_r(h(), seq, 0, &x0, &y0);
    double px = 0, py = 0;
    for (unsigned int i = 1; i < n; ++i) {
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(h(), seq, i, &x, &y);
        sum += (px) * (y - y0) - (x - x0) * (py);
        px = x - x0;
        py = y - y0;
    }
    return sum / 2.0;
}

void append_number(std::string& out, double v, int precision) {
    // 40 bytes hold every WGS84 coordinate; a larger value (up to 309 digits in %f) is written
    // to the heap rather than read past the end of `buf`.
    char small[40];
    std::string large;
    char* buf = small;
    int n = std::snprintf(small, sizeof small, "%.*f", precision, v);
    if (n < 0) return;
    if (static_cast<std::size_t>(n) >= sizeof small) {
        large.resize(static_cast<std::size_t>(n) + 1);
        std::snprintf(large.data(), large.size(), "%.*f", precision, v);
        buf = large.data();
    }
    // Trim trailing zeros ("118.7900000" -> "118.79") to keep output small.
    while (n > 1 && buf[n - 1] == '0') --n;
    if (n > 0 && buf[n - 1] == '.') --n;
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        n = 1;
    }
    out.append(buf, static_cast<std::size_t>(n));
}

void append_sequence(std::string& out, const GEOSCoordSequence* seq, int precision, bool reverse) {
    unsigned int n = 0;
    GEOSCoordSeq_getSize_r(h(), seq, &n);
    out += '[';
    for (unsigned int k = 0; k < n; ++k) {
        unsigned int i = reverse ? n - 1 - k : k;
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(h(), seq, i, &x, &y);
        if (k) out += ',';
        out += '[';
        append_number(out, x, precision);
        out += ',';
        append_number(out, y, precision);
        out += ']';
    }
    out += ']';
}

void append_ring(std::string& out, const GEOSGeometry* ring, int precision, bool shell) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h(), ring);
    unsigned int n = 0;
    GEOSCoordSeq_getSize_r(h(), seq, &n);
    bool ccw = n >= 4 && ring_signed_area(seq, n) > 0;
    // RFC 7946 section 3.1.6: shells counter-clockwise, holes clockwise.
    append_sequence(out, seq, precision, shell ? !ccw : ccw);
}

void append_polygon_coords(std::string& out, const GEOSGeometry* poly, int precision) {
    out += '[';
    // An empty polygon has no rings (`[]`), not one empty ring, which no reader takes back.
    if (GEOSisEmpty_r(h(), poly)) {
        out += ']';
        return;
    }
    append_ring(out, GEOSGetExteriorRing_r(h(), poly), precision, true);
    int holes = GEOSGetNumInteriorRings_r(h(), poly);
    for (int i = 0; i < holes; ++i) {
        out += ',';
        append_ring(out, GEOSGetInteriorRingN_r(h(), poly, i), precision, false);
    }
    out += ']';
}

void append_geometry(std::string& out, const GEOSGeometry* g, int precision) {
    int type = GEOSGeomTypeId_r(h(), g);
    auto open = [&](const char* name) {
        out += "{\"type\":\"";
        out += name;
        out += "\",\"coordinates\":";
    };
    switch (type) {
    case GEOS_POINT:
        if (GEOSisEmpty_r(h(), g)) {
            out += "{\"type\":\"Point\",\"coordinates\":[]}";
            return;
        }
        open("Point");
        {
            std::string tmp;
            append_sequence(tmp, GEOSGeom_getCoordSeq_r(h(), g), precision, false);
            out.append(tmp, 1, tmp.size() - 2); // a point is one position, not a list
        }
        break;
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
        open("LineString");
        append_sequence(out, GEOSGeom_getCoordSeq_r(h(), g), precision, false);
        break;
    case GEOS_POLYGON:
        open("Polygon");
        if (GEOSisEmpty_r(h(), g)) out += "[]";
        else append_polygon_coords(out, g, precision);
        break;
    case GEOS_MULTIPOINT:
    case GEOS_MULTILINESTRING:
    case GEOS_MULTIPOLYGON: {
        open(type == GEOS_MULTIPOINT ? "MultiPoint"
             : type == GEOS_MULTILINESTRING ? "MultiLineString" : "MultiPolygon");
        out += '[';
        int n = GEOSGetNumGeometries_r(h(), g);
        for (int i = 0; i < n; ++i) {
            if (i) out += ',';
            const GEOSGeometry* part = GEOSGetGeometryN_r(h(), g, i);
            if (type == GEOS_MULTIPOLYGON) {
                append_polygon_coords(out, part, precision);
            } else if (type == GEOS_MULTIPOINT) {
                std::string tmp;
                append_sequence(tmp, GEOSGeom_getCoordSeq_r(h(), part), precision, false);
                out.append(tmp, 1, tmp.size() - 2);
            } else {
                append_sequence(out, GEOSGeom_getCoordSeq_r(h(), part), precision, false);
            }
        }
        out += ']';
        break;
    }
    default: {
        out += "{\"type\":\"GeometryCollection\",\"geometries\":[";
        int n = GEOSGetNumGeometries_r(h(), g);
        for (int i = 0; i < n; ++i) {
            if (i) out += ',';
            append_geometry(out, GEOSGetGeometryN_r(h(), g, i), precision);
        }
        out += "]}";
        return;
    }
    }
    out += '}';
}

void collect_polygons(const GEOSGeometry* g, std::vector<GEOSGeometry*>& out) {
    int type = GEOSGeomTypeId_r(h(), g);
    if (type == GEOS_POLYGON) {
        if (!GEOSisEmpty_r(h(), g)) out.push_back(check(GEOSGeom_clone_r(h(), g), "clone"));
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h(), g);
        for (int i = 0; i < n; ++i) collect_polygons(GEOSGetGeometryN_r(h(), g, i), out);
    }
}

Geometry multi_polygon_of(std::vector<GEOSGeometry*>& polys) {
    return Geometry(GEOSGeom_createCollection_r(h(), GEOS_MULTIPOLYGON, polys.data(),
                                                static_cast<unsigned int>(polys.size())));
}

} // namespace

namespace detail {
void GeometryDeleter::operator()(GEOSGeometry* g) const noexcept { GEOSGeom_destroy_r(h(), g); }
} // namespace detail

Geometry::Geometry(GEOSGeometry* g) : m_ptr(check(g, "GEOS operation failed")) {}

Geometry Geometry::clone() const { return Geometry(GEOSGeom_clone_r(h(), get())); }

GeometryType Geometry::type() const {
    switch (GEOSGeomTypeId_r(h(), get())) {
    case GEOS_POINT: return GeometryType::point;
    case GEOS_LINESTRING: return GeometryType::line_string;
    case GEOS_LINEARRING: return GeometryType::linear_ring;
    case GEOS_POLYGON: return GeometryType::polygon;
    case GEOS_MULTIPOINT: return GeometryType::multi_point;
    case GEOS_MULTILINESTRING: return GeometryType::multi_line_string;
    case GEOS_MULTIPOLYGON: return GeometryType::multi_polygon;
    case GEOS_GEOMETRYCOLLECTION: return GeometryType::collection;
    default: return GeometryType::unknown;
    }
}

std::string Geometry::type_name() const {
    char* t = GEOSGeomType_r(h(), get());
    std::string s = t ? t : "unknown";
    GEOSFree_r(h(), t);
    return s;
}

bool Geometry::is_empty() const { return GEOSisEmpty_r(h(), get()) == 1; }

bool Geometry::is_polygonal() const {
    auto t = type();
    return t == GeometryType::polygon || t == GeometryType::multi_polygon;
}

BBox Geometry::bbox() const {
    BBox b;
    if (is_empty()) return b;
    double xmin = 0, ymin = 0, xmax = 0, ymax = 0;
    if (!GEOSGeom_getXMin_r(h(), get(), &xmin) || !GEOSGeom_getYMin_r(h(), get(), &ymin) ||
        !GEOSGeom_getXMax_r(h(), get(), &xmax) || !GEOSGeom_getYMax_r(h(), get(), &ymax))
        fail("bounding box");
    return BBox{xmin, ymin, xmax, ymax};
}

std::size_t Geometry::num_points() const {
    int n = GEOSGetNumCoordinates_r(h(), get());
    return n < 0 ? 0 : static_cast<std::size_t>(n);
}

Geometry make_point(LonLat p) { return Geometry(GEOSGeom_createPointFromXY_r(h(), p.lon, p.lat)); }

Geometry make_rectangle(const BBox& b) {
    return Geometry(GEOSGeom_createRectangle_r(h(), b.min_lon, b.min_lat, b.max_lon, b.max_lat));
}

Geometry make_polygon(const std::vector<std::vector<LonLat>>& rings) {
    if (rings.empty()) return Geometry(GEOSGeom_createEmptyPolygon_r(h()));
    std::vector<GEOSGeometry*> made;
    for (const auto& r : rings) {
        if (r.size() < 3) {
            for (auto* g : made) GEOSGeom_destroy_r(h(), g);
            throw Error(ErrorKind::unprocessable, "invalid_geometry", "a polygon ring needs at least 3 points");
        }
        bool closed = r.front().lon == r.back().lon && r.front().lat == r.back().lat;
        auto n = static_cast<unsigned int>(r.size() + (closed ? 0 : 1));
        GEOSCoordSequence* seq = check(GEOSCoordSeq_create_r(h(), n, 2), "coordinate sequence");
        for (unsigned int i = 0; i < r.size(); ++i) GEOSCoordSeq_setXY_r(h(), seq, i, r[i].lon, r[i].lat);
        if (!closed) GEOSCoordSeq_setXY_r(h(), seq, n - 1, r[0].lon, r[0].lat);
        made.push_back(check(GEOSGeom_createLinearRing_r(h(), seq), "linear ring"));
    }
    GEOSGeometry* shell = made[0];
    return Geometry(GEOSGeom_createPolygon_r(h(), shell, made.data() + 1,
                                             static_cast<unsigned int>(made.size() - 1)));
}

Geometry make_multi_line_string(const std::vector<std::vector<LonLat>>& lines) {
    std::vector<GEOSGeometry*> parts;
    for (const auto& line : lines) {
        auto n = static_cast<unsigned int>(line.size());
        GEOSCoordSequence* seq = check(GEOSCoordSeq_create_r(h(), n, 2), "coordinate sequence");
        for (unsigned int i = 0; i < n; ++i) GEOSCoordSeq_setXY_r(h(), seq, i, line[i].lon, line[i].lat);
        parts.push_back(check(GEOSGeom_createLineString_r(h(), seq), "line string"));
    }
    return Geometry(GEOSGeom_createCollection_r(h(), GEOS_MULTILINESTRING, parts.data(),
                                                static_cast<unsigned int>(parts.size())));
}

Geometry from_wkb(std::span<const unsigned char> wkb) {
    GEOSWKBReader* r = check(GEOSWKBReader_create_r(h()), "WKB reader");
    GEOSGeometry* g = GEOSWKBReader_read_r(h(), r, wkb.data(), wkb.size());
    GEOSWKBReader_destroy_r(h(), r);
    if (!g) throw Error(ErrorKind::unprocessable, "invalid_wkb", "unreadable WKB: " + context().last_error);
    return Geometry(g);
}

std::vector<unsigned char> to_wkb(const Geometry& g) {
    GEOSWKBWriter* w = check(GEOSWKBWriter_create_r(h()), "WKB writer");
    std::size_t size = 0;
    unsigned char* buf = GEOSWKBWriter_write_r(h(), w, g.get(), &size);
    GEOSWKBWriter_destroy_r(h(), w);
    check(buf, "WKB write");
    std::vector<unsigned char> out(buf, buf + size);
    GEOSFree_r(h(), buf);
    return out;
}

Geometry from_wkt(std::string_view wkt) {
    GEOSWKTReader* r = check(GEOSWKTReader_create_r(h()), "WKT reader");
    std::string s(wkt);
    GEOSGeometry* g = GEOSWKTReader_read_r(h(), r, s.c_str());
    GEOSWKTReader_destroy_r(h(), r);
    if (!g) throw Error(ErrorKind::bad_request, "invalid_wkt", "unreadable WKT: " + context().last_error);
    return Geometry(g);
}

std::string to_wkt(const Geometry& g, int precision) {
    GEOSWKTWriter* w = check(GEOSWKTWriter_create_r(h()), "WKT writer");
    GEOSWKTWriter_setRoundingPrecision_r(h(), w, precision);
    GEOSWKTWriter_setTrim_r(h(), w, 1);
    char* s = GEOSWKTWriter_write_r(h(), w, g.get());
    GEOSWKTWriter_destroy_r(h(), w);
    check(s, "WKT write");
    std::string out = s;
    GEOSFree_r(h(), s);
    return out;
}

namespace {

// GEOS 3.11's GeoJSON reader takes a position's first two numbers without looking whether it has
// them: a position `[]` or `[1]` in a line or ring makes it read past the end (a `[]` crashes the
// process). So every position is checked to hold at least two numbers before GEOS reads it.
// `depth`: how many arrays down the positions are; `rings`: the arrays one above them are rings,
// which GEOS also reads a first position of (an empty ring `[]` crashes it too).
bool positions_ok(const nlohmann::json& c, int depth, bool rings = false) {
    if (!c.is_array()) return true; // GEOS refuses it with a message
    if (depth == 1 && rings && c.empty()) return false;
    if (depth == 0) {
        if (c.size() < 2) return false;
        for (const auto& n : c)
            if (!n.is_number()) return false;
        return true;
    }
    for (const auto& e : c)
        if (!positions_ok(e, depth - 1, rings)) return false;
    return true;
}

bool geojson_positions_ok(const nlohmann::json& g) {
    if (!g.is_object()) return true;
    const auto type = g.find("type");
    if (type == g.end() || !type->is_string()) return true;
    const std::string& t = type->get_ref<const std::string&>();
    if (t == "GeometryCollection") {
        const auto parts = g.find("geometries");
        if (parts != g.end() && parts->is_array())
            for (const auto& part : *parts)
                if (!geojson_positions_ok(part)) return false;
        return true;
    }
    const auto c = g.find("coordinates");
    if (c == g.end()) return true;
    if (t == "Point") return c->is_array() && c->empty() ? true : positions_ok(*c, 0);
    const int depth = t == "LineString" || t == "MultiPoint" ? 1 : t == "Polygon" || t == "MultiLineString" ? 2
                      : t == "MultiPolygon"                   ? 3
                                                              : -1;
    return depth < 0 || positions_ok(*c, depth, t == "Polygon" || t == "MultiPolygon");
}

} // namespace

Geometry from_geojson(std::string_view json) {
    if (!geojson_positions_ok(nlohmann::json::parse(json, nullptr, false)))
        throw Error(ErrorKind::bad_request, "invalid_geojson",
                    "malformed GeoJSON geometry: a ring without positions, or a position without two numbers");
    GEOSGeoJSONReader* r = check(GEOSGeoJSONReader_create_r(h()), "GeoJSON reader");
    std::string s(json);
    GEOSGeometry* g = GEOSGeoJSONReader_readGeometry_r(h(), r, s.c_str());
    GEOSGeoJSONReader_destroy_r(h(), r);
    if (!g)
        throw Error(ErrorKind::bad_request, "invalid_geojson",
                    "malformed GeoJSON geometry: " + context().last_error);
    return Geometry(g);
}

void append_geojson(std::string& out, const Geometry& g, int precision) {
    append_geometry(out, g.get(), precision);
}

std::string to_geojson(const Geometry& g, int precision) {
    std::string out;
    append_geojson(out, g, precision);
    return out;
}

std::string invalid_reason(const Geometry& g) {
    char* reason = nullptr;
    GEOSGeometry* location = nullptr;
    char valid = GEOSisValidDetail_r(h(), g.get(), 0, &reason, &location);
    std::string out;
    if (valid == 0) {
        out = reason ? reason : "invalid";
        if (location) {
            double x = 0, y = 0;
            GEOSGeomGetX_r(h(), location, &x);
            GEOSGeomGetY_r(h(), location, &y);
            char buf[80];
            std::snprintf(buf, sizeof buf, " at (%.7f %.7f)", x, y);
            out += buf;
        }
    } else if (valid == 2) {
        fail("validity check");
    }
    if (reason) GEOSFree_r(h(), reason);
    if (location) GEOSGeom_destroy_r(h(), location);
    return out;
}

Geometry make_valid_polygonal(const Geometry& g) {
    GEOSMakeValidParams* params = check(GEOSMakeValidParams_create_r(h()), "make-valid params");
    GEOSMakeValidParams_setMethod_r(h(), params, GEOS_MAKE_VALID_STRUCTURE);
    GEOSMakeValidParams_setKeepCollapsed_r(h(), params, 0);
    GEOSGeometry* fixed = GEOSMakeValidWithParams_r(h(), g.get(), params);
    GEOSMakeValidParams_destroy_r(h(), params);
    Geometry repaired(fixed);
    return polygonal_part(repaired);
}

Geometry polygonal_part(const Geometry& g) {
    std::vector<GEOSGeometry*> polys;
    collect_polygons(g.get(), polys);
    return multi_polygon_of(polys);
}

Geometry to_multi_polygon(const Geometry& g) { return polygonal_part(g); }

Geometry intersection(const Geometry& a, const Geometry& b) {
    return Geometry(GEOSIntersection_r(h(), a.get(), b.get()));
}

Geometry difference(const Geometry& a, const Geometry& b) {
    return Geometry(GEOSDifference_r(h(), a.get(), b.get()));
}

Geometry union_all(const std::vector<const Geometry*>& parts) {
    std::vector<GEOSGeometry*> clones;
    clones.reserve(parts.size());
    for (const Geometry* p : parts) collect_polygons(p->get(), clones);
    Geometry collection = multi_polygon_of(clones);
    if (collection.is_empty()) return collection;
    Geometry merged(GEOSUnaryUnion_r(h(), collection.get()));
    return polygonal_part(merged);
}

bool intersects(const Geometry& a, const Geometry& b) {
    char r = GEOSIntersects_r(h(), a.get(), b.get());
    if (r == 2) fail("intersects");
    return r == 1;
}

LonLat point_on_surface(const Geometry& g) {
    Geometry p(GEOSPointOnSurface_r(h(), g.get()));
    double x = 0, y = 0;
    GEOSGeomGetX_r(h(), p.get(), &x);
    GEOSGeomGetY_r(h(), p.get(), &y);
    return {x, y};
}

double planar_area(const Geometry& g) {
    double a = 0;
    if (!GEOSArea_r(h(), g.get(), &a)) fail("area");
    return a;
}

std::vector<Geometry> polygons(const Geometry& g) {
    std::vector<GEOSGeometry*> polys;
    collect_polygons(g.get(), polys);
    std::vector<Geometry> out;
    out.reserve(polys.size());
    for (GEOSGeometry* p : polys) out.emplace_back(p);
    return out;
}

std::size_t polygon_count(const Geometry& g) {
    int type = GEOSGeomTypeId_r(h(), g.get());
    if (type == GEOS_POLYGON) return g.is_empty() ? 0 : 1;
    if (type == GEOS_MULTIPOLYGON) return static_cast<std::size_t>(GEOSGetNumGeometries_r(h(), g.get()));
    return 0;
}

Geometry drop_slivers(const Geometry& g, double min_area_m2) {
    std::vector<GEOSGeometry*> polys;
    collect_polygons(g.get(), polys);
    std::vector<GEOSGeometry*> kept;
    for (GEOSGeometry* p : polys) {
        if (polygon_area_m2(p) >= min_area_m2) kept.push_back(p);
        else GEOSGeom_destroy_r(h(), p);
    }
    return multi_polygon_of(kept);
}

double area_m2(const Geometry& g) {
    std::vector<GEOSGeometry*> polys;
    collect_polygons(g.get(), polys);
    double a = 0;
    for (GEOSGeometry* p : polys) {
        a += polygon_area_m2(p);
        GEOSGeom_destroy_r(h(), p);
    }
    return a;
}

double distance_m(LonLat a, LonLat b) {
    double s12 = 0, azi1 = 0, azi2 = 0;
    geod_inverse(&wgs84(), a.lat, a.lon, b.lat, b.lon, &s12, &azi1, &azi2);
    return s12;
}

Nearest nearest_m(LonLat p, const Geometry& g) {
    Geometry pt = make_point(p);
    GEOSCoordSequence* seq = check(GEOSNearestPoints_r(h(), pt.get(), g.get()), "nearest points");
    double x = 0, y = 0;
    GEOSCoordSeq_getXY_r(h(), seq, 1, &x, &y);
    GEOSCoordSeq_destroy_r(h(), seq);
    return {distance_m(p, {x, y}), {x, y}};
}

double planar_distance(LonLat p, const Geometry& g) {
    Geometry pt = make_point(p);
    double d = 0;
    if (!GEOSDistance_r(h(), pt.get(), g.get(), &d)) fail("distance");
    return d;
}

// --- PreparedGeometry ---

PreparedGeometry::PreparedGeometry(const Geometry& g)
    : m_prep(check(GEOSPrepare_r(h(), g.get()), "prepare geometry")) {
    // Force the lazily built point-in-area index now, while only this thread sees the object.
    if (!g.is_empty()) {
        LonLat inside = point_on_surface(g);
        (void)covers(inside);
    }
}

PreparedGeometry::~PreparedGeometry() {
    if (m_prep) GEOSPreparedGeom_destroy_r(h(), m_prep);
}

PreparedGeometry::PreparedGeometry(PreparedGeometry&& o) noexcept : m_prep(o.m_prep) { o.m_prep = nullptr; }

PreparedGeometry& PreparedGeometry::operator=(PreparedGeometry&& o) noexcept {
    if (this != &o) {
        if (m_prep) GEOSPreparedGeom_destroy_r(h(), m_prep);
        m_prep = o.m_prep;
        o.m_prep = nullptr;
    }
    return *this;
}

bool PreparedGeometry::covers(LonLat p) const { return intersects(make_point(p)); }

bool PreparedGeometry::intersects(const Geometry& g) const {
    char r = GEOSPreparedIntersects_r(h(), m_prep, g.get());
    if (r == 2) fail("prepared intersects");
    return r == 1;
}

bool PreparedGeometry::contains(const Geometry& g) const {
    char r = GEOSPreparedCovers_r(h(), m_prep, g.get());
    if (r == 2) fail("prepared covers");
    return r == 1;
}

// --- SpatialIndex ---

struct SpatialIndex::Tree {
    GEOSSTRtree* tree = nullptr;
};

namespace {
void* id_to_item(std::uint32_t id) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(id) + 1); }
std::uint32_t item_to_id(const void* item) {
    return static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(item) - 1);
}
void visit_item(void* item, void* userdata) {
    (*static_cast<const std::function<void(std::uint32_t)>*>(userdata))(item_to_id(item));
}
} // namespace

SpatialIndex::SpatialIndex() : m_tree(new Tree) {
    m_tree->tree = check(GEOSSTRtree_create_r(h(), 10), "STRtree");
}

SpatialIndex::~SpatialIndex() {
    if (m_tree) {
        GEOSSTRtree_destroy_r(h(), m_tree->tree);
        delete m_tree;
    }
}

SpatialIndex::SpatialIndex(SpatialIndex&& o) noexcept : m_tree(o.m_tree), m_size(o.m_size) {
    o.m_tree = nullptr;
    o.m_size = 0;
}

SpatialIndex& SpatialIndex::operator=(SpatialIndex&& o) noexcept {
    if (this != &o) {
        this->~SpatialIndex();
        m_tree = o.m_tree;
        m_size = o.m_size;
        o.m_tree = nullptr;
        o.m_size = 0;
    }
    return *this;
}

void SpatialIndex::insert(const Geometry& g, std::uint32_t id) {
    GEOSSTRtree_insert_r(h(), m_tree->tree, g.get(), id_to_item(id));
    ++m_size;
}

void SpatialIndex::finish() {
    // GEOS builds the tree on the first query; do that now, single-threaded.
    query(BBox{0, 0, 0, 0}, [](std::uint32_t) {});
}

void SpatialIndex::query(const Geometry& q, const std::function<void(std::uint32_t)>& visit) const {
    if (m_size == 0) return;
    GEOSSTRtree_query_r(h(), m_tree->tree, q.get(), &visit_item,
                        const_cast<std::function<void(std::uint32_t)>*>(&visit));
}

void SpatialIndex::query(const BBox& box, const std::function<void(std::uint32_t)>& visit) const {
    if (m_size == 0) return;
    Geometry q = box.min_lon == box.max_lon && box.min_lat == box.max_lat
                     ? make_point({box.min_lon, box.min_lat})
                     : make_rectangle(box);
    query(q, visit);
}

std::optional<std::uint32_t> SpatialIndex::nearest(
    LonLat p, const std::function<double(std::uint32_t)>& distance) const {
    if (m_size == 0) return std::nullopt;
    Geometry pt = make_point(p);
    struct Data {
        const std::function<double(std::uint32_t)>* distance;
    } data{&distance};
    static const int query_marker = 0;
    auto fn = [](const void* a, const void* b, double* d, void* userdata) -> int {
        auto* dd = static_cast<Data*>(userdata);
        const void* item = (a == &query_marker) ? b : a;
        *d = (*dd->distance)(item_to_id(item));
        return 1; // GEOS treats a zero return as failure, whatever its header says
    };
    const void* found = GEOSSTRtree_nearest_generic_r(h(), m_tree->tree, &query_marker, pt.get(), fn, &data);
    if (!found) return std::nullopt;
    return item_to_id(found);
}

// --- clipping and coordinate access ---

namespace {

Coordinates coordinates_of(const GEOSGeometry* line) {
    const GEOSCoordSequence* seq = check(GEOSGeom_getCoordSeq_r(h(), line), "coordinate sequence");
    unsigned int n = 0;
    GEOSCoordSeq_getSize_r(h(), seq, &n);
    // One bulk copy rather than a call per point: tiles read many thousands of rings.
    std::vector<double> xy(2 * std::size_t{n});
    if (n > 0 && !GEOSCoordSeq_copyToBuffer_r(h(), seq, xy.data(), 0, 0)) fail("copy coordinates");
    Coordinates out(n);
    for (unsigned int i = 0; i < n; ++i) out[i] = {xy[2 * i], xy[2 * i + 1]};
    return out;
}

void collect_rings(const GEOSGeometry* g, std::vector<std::vector<Coordinates>>& out) {
    int type = GEOSGeomTypeId_r(h(), g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h(), g)) return;
        std::vector<Coordinates> rings{coordinates_of(GEOSGetExteriorRing_r(h(), g))};
        int holes = GEOSGetNumInteriorRings_r(h(), g);
        for (int i = 0; i < holes; ++i) rings.push_back(coordinates_of(GEOSGetInteriorRingN_r(h(), g, i)));
        out.push_back(std::move(rings));
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h(), g);
        for (int i = 0; i < n; ++i) collect_rings(GEOSGetGeometryN_r(h(), g, i), out);
    }
}

void collect_lines(const GEOSGeometry* g, std::vector<Coordinates>& out) {
    int type = GEOSGeomTypeId_r(h(), g);
    if (type == GEOS_LINESTRING) {
        if (!GEOSisEmpty_r(h(), g)) out.push_back(coordinates_of(g));
    } else if (type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
        int n = GEOSGetNumGeometries_r(h(), g);
        for (int i = 0; i < n; ++i) collect_lines(GEOSGetGeometryN_r(h(), g, i), out);
    }
}

} // namespace

Geometry clip_by_rect(const Geometry& g, const BBox& box) {
    return Geometry(GEOSClipByRect_r(h(), g.get(), box.min_lon, box.min_lat, box.max_lon, box.max_lat));
}

std::vector<std::vector<Coordinates>> polygon_rings(const Geometry& g) {
    std::vector<std::vector<Coordinates>> out;
    collect_rings(g.get(), out);
    return out;
}

std::vector<Coordinates> line_strings(const Geometry& g) {
    std::vector<Coordinates> out;
    collect_lines(g.get(), out);
    return out;
}


// --- partitions of space: Voronoi cells, shared boundaries, coverage union ---

namespace {

int scale_x(double* x, double* /*y*/, void* userdata) {
    *x *= *static_cast<const double*>(userdata);
    return 1;
}

// Multiplies every x by `factor` (lon -> lon * cos(lat0) makes degrees locally isotropic).
Geometry scaled_x(const GEOSGeometry* g, double factor) {
    return Geometry(GEOSGeom_transformXY_r(h(), g, &scale_x, &factor));
}

double line_length_m(const GEOSGeometry* line) {
    const GEOSCoordSequence* seq = GEOSGeom_getCoordSeq_r(h(), line);
    unsigned int n = 0;
    if (!seq || !GEOSCoordSeq_getSize_r(h(), seq, &n) || n < 2) return 0;
    double length = 0, px = 0, py = 0;
    GEOSCoordSeq_getXY_r(h(), seq, 0, &px, &py);
    for (unsigned int i = 1; i < n; ++i) {
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(h(), seq, i, &x, &y);
        length += distance_m({px, py}, {x, y});
        px = x;
        py = y;
    }
    return length;
}

double lines_length_m(const GEOSGeometry* g) {
    const int type = GEOSGeomTypeId_r(h(), g);
    if (type == GEOS_LINESTRING || type == GEOS_LINEARRING) return line_length_m(g);
    if (type == GEOS_POLYGON) {
        double total = lines_length_m(GEOSGetExteriorRing_r(h(), g));
        const int holes = GEOSGetNumInteriorRings_r(h(), g);
        for (int i = 0; i < holes; ++i) total += lines_length_m(GEOSGetInteriorRingN_r(h(), g, i));
        return total;
    }
    if (type == GEOS_MULTILINESTRING || type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        double total = 0;
        const int parts = GEOSGetNumGeometries_r(h(), g);
        for (int i = 0; i < parts; ++i) total += lines_length_m(GEOSGetGeometryN_r(h(), g, i));
        return total;
    }
    return 0;
}

} // namespace

std::vector<Geometry> voronoi_cells(const std::vector<LonLat>& sites, const Geometry& clip) {
    std::vector<Geometry> cells(sites.size());
    if (sites.empty() || clip.is_empty()) return cells;
    const BBox box = clip.bbox();
    const double factor = std::cos((box.min_lat + box.max_lat) / 2 * 3.14159265358979323846 / 180);
    // Distinct sites only (GEOS merges coincident ones); a repeated site gets an empty cell.
    std::vector<std::size_t> order(sites.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return sites[a].lon != sites[b].lon ? sites[a].lon < sites[b].lon : sites[a].lat < sites[b].lat;
    });
    std::vector<std::size_t> distinct;
    for (std::size_t k = 0; k < order.size(); ++k)
        if (k == 0 || sites[order[k]].lon != sites[order[k - 1]].lon || sites[order[k]].lat != sites[order[k - 1]].lat)
            distinct.push_back(order[k]);
    const Geometry scaled_clip = scaled_x(clip.get(), factor);
    if (distinct.size() == 1) {
        cells[distinct[0]] = clip.clone();
        return cells;
    }
    std::vector<GEOSGeometry*> points;
    points.reserve(distinct.size());
    for (std::size_t i : distinct) {
        GEOSCoordSequence* seq = check(GEOSCoordSeq_create_r(h(), 1, 2), "coordinate sequence");
        GEOSCoordSeq_setXY_r(h(), seq, 0, sites[i].lon * factor, sites[i].lat);
        points.push_back(check(GEOSGeom_createPoint_r(h(), seq), "point"));
    }
    Geometry multipoint(GEOSGeom_createCollection_r(h(), GEOS_MULTIPOINT, points.data(),
                                                    static_cast<unsigned int>(points.size())));
    // The diagram's frame must hold the whole clip area.
    Geometry frame(GEOSBuffer_r(h(), scaled_clip.get(), (box.max_lat - box.min_lat + (box.max_lon - box.min_lon) * factor), 1));
    Geometry diagram(GEOSVoronoiDiagram_r(h(), multipoint.get(), frame.get(), 0.0, 0));
    // GEOS 3.11 does not keep the input order: find each cell's site.
    SpatialIndex index;
    std::vector<Geometry> site_points;
    for (std::size_t k = 0; k < distinct.size(); ++k) {
        const LonLat s = sites[distinct[k]];
        site_points.push_back(make_point({s.lon * factor, s.lat}));
        index.insert(site_points.back(), static_cast<std::uint32_t>(k));
    }
    index.finish();
    const int parts = GEOSGetNumGeometries_r(h(), diagram.get());
    for (int c = 0; c < parts; ++c) {
        const GEOSGeometry* cell = GEOSGetGeometryN_r(h(), diagram.get(), c);
        Geometry cell_geometry(check(GEOSGeom_clone_r(h(), cell), "clone"));
        std::optional<std::uint32_t> owner;
        index.query(cell_geometry, [&](std::uint32_t k) {
            if (!owner && GEOSIntersects_r(h(), cell, site_points[k].get()) == 1) owner = k;
        });
        if (!owner) continue;
        Geometry clipped(GEOSIntersection_r(h(), cell, scaled_clip.get()));
        cells[distinct[*owner]] = to_multi_polygon(polygonal_part(scaled_x(clipped.get(), 1 / factor)));
    }
    return cells;
}

double length_m(const Geometry& g) { return g.is_empty() ? 0 : lines_length_m(g.get()); }

double shared_boundary_m(const Geometry& a, const Geometry& b) {
    Geometry ba(GEOSBoundary_r(h(), a.get()));
    Geometry bb(GEOSBoundary_r(h(), b.get()));
    Geometry common(GEOSIntersection_r(h(), ba.get(), bb.get()));
    return lines_length_m(common.get());
}

Geometry coverage_union(const std::vector<const Geometry*>& parts) {
    std::vector<GEOSGeometry*> clones;
    for (const Geometry* p : parts) collect_polygons(p->get(), clones);
    if (clones.empty()) return Geometry(GEOSGeom_createEmptyPolygon_r(h()));
    Geometry collection(GEOSGeom_createCollection_r(h(), GEOS_GEOMETRYCOLLECTION, clones.data(),
                                                    static_cast<unsigned int>(clones.size())));
    GEOSGeometry* merged = GEOSCoverageUnion_r(h(), collection.get());
    if (!merged) merged = GEOSUnaryUnion_r(h(), collection.get()); // not an exact coverage
    return to_multi_polygon(polygonal_part(Geometry(merged)));
}

Geometry boundary(const Geometry& g) { return Geometry(GEOSBoundary_r(h(), g.get())); }

Geometry convex_hull(const Geometry& g) { return Geometry(GEOSConvexHull_r(h(), g.get())); }

Geometry buffer_m(const Geometry& g, double metres) {
    if (g.is_empty()) return g.clone();
    const BBox box = g.bbox();
    const double factor = std::cos((box.min_lat + box.max_lat) / 2 * 3.14159265358979323846 / 180);
    const Geometry scaled = scaled_x(g.get(), factor);
    const Geometry grown(GEOSBuffer_r(h(), scaled.get(), metres / 111320.0, 8));
    return scaled_x(grown.get(), 1 / factor);
}

} // namespace wangge::geo

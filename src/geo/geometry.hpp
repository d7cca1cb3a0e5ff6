#pragma once
// Geometry for the rest of Wangge. GEOS is reached through its stable, reentrant C API with one
// context per thread; nothing outside `geo` sees a GEOS type except this opaque pointer.
// All coordinates are WGS84 lon/lat degrees; areas and distances in metres are geodesic
// (computed on the WGS84 ellipsoid with PROJ's geodesic routines), so no local CRS is needed.
#include "core/types.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

typedef struct GEOSGeom_t GEOSGeometry;
typedef struct GEOSPrepGeom_t GEOSPreparedGeometry;

namespace wangge::geo {

enum class GeometryType { point, line_string, linear_ring, polygon, multi_point, multi_line_string,
                          multi_polygon, collection, unknown };

namespace detail {
struct GeometryDeleter {
    void operator()(GEOSGeometry* g) const noexcept;
};
} // namespace detail

// Move-only owner of a GEOS geometry.
class Geometry {
public:
    Geometry() = default;
    // Takes ownership; throws Error(internal) with GEOS's message if `g` is null.
    explicit Geometry(GEOSGeometry* g);

    const GEOSGeometry* get() const noexcept { return m_ptr.get(); }
    explicit operator bool() const noexcept { return static_cast<bool>(m_ptr); }

    Geometry clone() const;
    GeometryType type() const;
    std::string type_name() const;
    bool is_empty() const;
    bool is_polygonal() const; // Polygon or MultiPolygon
    BBox bbox() const;
    std::size_t num_points() const;

private:
    std::unique_ptr<GEOSGeometry, detail::GeometryDeleter> m_ptr;
};

// --- construction and codecs ---
Geometry make_point(LonLat p);
Geometry make_rectangle(const BBox& b);
// A polygon from rings (the first is the shell); rings are closed automatically.
Geometry make_polygon(const std::vector<std::vector<LonLat>>& rings);
Geometry make_multi_line_string(const std::vector<std::vector<LonLat>>& lines);
Geometry from_wkb(std::span<const unsigned char> wkb);
std::vector<unsigned char> to_wkb(const Geometry& g);
Geometry from_wkt(std::string_view wkt);
std::string to_wkt(const Geometry& g, int precision = 7);
// Parses a GeoJSON geometry object (not a Feature); throws Error(bad_request) on malformed input.
Geometry from_geojson(std::string_view json);
// Appends an RFC 7946 geometry: rings wound right-handed (shell counter-clockwise),
// coordinates rounded to `precision` decimals (7 decimals is about 1 cm).
void append_geojson(std::string& out, const Geometry& g, int precision = 7);
std::string to_geojson(const Geometry& g, int precision = 7);

// --- validity ---
// Empty string when valid, otherwise GEOS's reason with its location.
std::string invalid_reason(const Geometry& g);
// Repairs an invalid geometry (GEOS MakeValid, "structure" method keeping areas) and keeps only
// its polygonal part; the result may be empty when nothing areal is left.
Geometry make_valid_polygonal(const Geometry& g);
// Polygon/MultiPolygon parts of any geometry, as one MultiPolygon (possibly empty).
Geometry polygonal_part(const Geometry& g);
// Turns a Polygon into a one-part MultiPolygon; a MultiPolygon is returned as a copy.
Geometry to_multi_polygon(const Geometry& g);

// --- operations ---
Geometry intersection(const Geometry& a, const Geometry& b);
Geometry difference(const Geometry& a, const Geometry& b);
// Union of many geometries at once (cascaded); empty MultiPolygon for no input.
Geometry union_all(const std::vector<const Geometry*>& parts);
bool intersects(const Geometry& a, const Geometry& b);
LonLat point_on_surface(const Geometry& g);
// Planar area in square degrees: only for comparing areas of nearby geometries.
double planar_area(const Geometry& g);
// The polygons of a Polygon or MultiPolygon (or of a collection), each as its own Polygon.
std::vector<Geometry> polygons(const Geometry& g);
// Number of polygons of a Polygon (1) or MultiPolygon (n); 0 for anything else.
std::size_t polygon_count(const Geometry& g);
// Removes parts thinner than `min_width_m` metres (noise from floating-point overlays) by
// keeping the polygons whose area exceeds `min_area_m2`. The result is a MultiPolygon.
Geometry drop_slivers(const Geometry& g, double min_area_m2);

// --- geodesic measures on WGS84 ---
double area_m2(const Geometry& g);
double distance_m(LonLat a, LonLat b);
// Distance from a point to the nearest point of `g` in metres, and that nearest point.
struct Nearest {
    double metres = 0.0;
    LonLat point;
};
Nearest nearest_m(LonLat p, const Geometry& g);

// A geometry prepared for repeated predicates. Build it on one thread; `warm()` forces GEOS's
// lazily built internal indexes so that concurrent const use afterwards is read-only.
class PreparedGeometry {
public:
    explicit PreparedGeometry(const Geometry& g);
    ~PreparedGeometry();
    PreparedGeometry(PreparedGeometry&& o) noexcept;
    PreparedGeometry& operator=(PreparedGeometry&& o) noexcept;
    PreparedGeometry(const PreparedGeometry&) = delete;
    PreparedGeometry& operator=(const PreparedGeometry&) = delete;

    // True when the point lies inside or on the boundary.
    bool covers(LonLat p) const;
    bool intersects(const Geometry& g) const;
    // True when `g` lies wholly inside or on the boundary (GEOS covers).
    bool contains(const Geometry& g) const;

private:
    const GEOSPreparedGeometry* m_prep = nullptr;
};

// GEOS's STRtree over integer ids. Insert everything, then `finish()` once on the building
// thread (GEOS builds the tree lazily on first use); after that, queries are read-only and may run
// on any number of threads.
class SpatialIndex {
public:
    SpatialIndex();
    ~SpatialIndex();
    SpatialIndex(SpatialIndex&& o) noexcept;
    SpatialIndex& operator=(SpatialIndex&& o) noexcept;
    SpatialIndex(const SpatialIndex&) = delete;
    SpatialIndex& operator=(const SpatialIndex&) = delete;

    void insert(const Geometry& g, std::uint32_t id);
    void finish();
    std::size_t size() const noexcept { return m_size; }

    // Calls visit(id) for each entry whose envelope intersects `query`'s envelope.
    void query(const Geometry& query, const std::function<void(std::uint32_t)>& visit) const;
    void query(const BBox& box, const std::function<void(std::uint32_t)>& visit) const;
    // The id minimising distance(id) (a lower bound by envelope is used for pruning by GEOS);
    // nullopt when the index is empty. `distance` must return planar degrees to `p`.
    std::optional<std::uint32_t> nearest(LonLat p,
                                         const std::function<double(std::uint32_t)>& distance) const;

private:
    struct Tree;
    Tree* m_tree = nullptr;
    std::size_t m_size = 0;
};

// Planar distance in degrees between a point and a geometry (for nearest-neighbour ranking).
double planar_distance(LonLat p, const Geometry& g);

// --- clipping and coordinate access (for encoders of other formats, e.g. vector tiles) ---
// Clips to an axis-aligned box with GEOS ClipByRect: much faster than an intersection, exact on
// the box edges, but the result may be invalid where a polygon only grazes the box.
Geometry clip_by_rect(const Geometry& g, const BBox& box);
// A ring or line as coordinates; a ring repeats its first point last.
using Coordinates = std::vector<LonLat>;
// Each polygon of a Polygon, MultiPolygon or collection as its rings, shell first (holes after);
// non-polygonal parts are skipped.
std::vector<std::vector<Coordinates>> polygon_rings(const Geometry& g);
// Each line of a LineString, MultiLineString or collection; other parts are skipped.
std::vector<Coordinates> line_strings(const Geometry& g);

// --- partitions of space (grid division) ---
// The Voronoi cell of each site clipped to `clip`, as MultiPolygons in the order of `sites`
// (computed with lon scaled by cos(latitude), so cells are those of ground distance). A site that
// repeats an earlier one gets an empty geometry. Neighbouring cells share their edges exactly, so
// the cells of a clip polygon form a coverage of it.
std::vector<Geometry> voronoi_cells(const std::vector<LonLat>& sites, const Geometry& clip);
// Geodesic length in metres of the lines of `g` (the rings of polygons: their perimeter).
double length_m(const Geometry& g);
// Geodesic length in metres of the boundary that two polygonal geometries share.
double shared_boundary_m(const Geometry& a, const Geometry& b);
// The union of polygons that meet only along shared edges (GEOS coverage union, falling back
// to a full union when they do not form an exact coverage); a MultiPolygon.
Geometry coverage_union(const std::vector<const Geometry*>& parts);
// `g` grown by about `metres` on the ground (buffered in degrees scaled by cos(latitude)).
Geometry buffer_m(const Geometry& g, double metres);
// The convex hull of a geometry.
Geometry convex_hull(const Geometry& g);
// The boundary of a geometry (rings of polygons as lines).
Geometry boundary(const Geometry& g);

} // namespace wangge::geo

#include "ingest/gdal_source.hpp"

#include "core/text.hpp"

#include "core/error.hpp"
#include "core/types.hpp"
#include "ingest/feature.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <mutex>
#include <vector>

namespace wangge::ingest::detail {

namespace {

std::string gdal_message(const char* fallback) {
    const char* msg = CPLGetLastErrorMsg();
    return (msg && *msg) ? msg : fallback;
}

std::string coordinate(double x, double y) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "(%.10g %.10g)", x, y);
    return buf;
}

std::string describe(const OGRSpatialReference& crs) {
    std::string out = crs.GetName() ? crs.GetName() : "unnamed CRS";
    const char* authority = crs.GetAuthorityName(nullptr);
    const char* code = crs.GetAuthorityCode(nullptr);
    if (authority && code) out += std::string(" (") + authority + ":" + code + ")";
    return out;
}

bool readable(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) return true; // a Shapefile folder, a FileGDB
    return std::ifstream(path).good();
}

GDALDatasetUniquePtr open_dataset(const std::filesystem::path& path, GdalErrors& errors) {
    const std::string name = path.string();
    const bool virtual_file = name.starts_with("/vsi"); // GDAL's virtual files: /vsizip/ etc.
    VSIStatBufL stat;
    if (VSIStatExL(name.c_str(), &stat, VSI_STAT_EXISTS_FLAG) != 0)
        throw Error(ErrorKind::io, "file_not_found", "cannot import " + name + ": the file does not exist");
    errors.take("");
    GDALDatasetUniquePtr ds(GDALDataset::Open(name.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR));
    if (ds) return ds;
    std::string why = errors.take("GDAL cannot open it");
    if (!virtual_file && !readable(path))
        throw Error(ErrorKind::io, "unreadable_file", "cannot read " + name + ": " + why);
    throw Error(ErrorKind::bad_request, "unreadable_data", name + " is not a vector file GDAL can read: " + why);
}

std::string layer_list(GDALDataset& ds) {
    std::string out;
    for (int i = 0; i < ds.GetLayerCount(); ++i) {
        if (i) out += ", ";
        out += ds.GetLayer(i)->GetName();
    }
    return out.empty() ? "(none)" : out;
}

OGRLayer* choose_layer(GDALDataset& ds, const ImportOptions& options, bool osm) {
    const std::string file = options.path.string();
    std::optional<std::string> name = options.layer;
    // The OSM driver always offers five layers; the target says which one holds its features.
    if (!name && osm) name = options.target == Target::roads ? "lines" : "multipolygons";
    if (name) {
        if (OGRLayer* layer = ds.GetLayerByName(name->c_str())) return layer;
        throw Error(ErrorKind::bad_request, "unknown_layer",
                    file + " has no layer '" + *name + "'; its layers are " + layer_list(ds));
    }
    if (ds.GetLayerCount() == 1) return ds.GetLayer(0);
    if (ds.GetLayerCount() == 0) throw Error(ErrorKind::bad_request, "no_layer", file + " has no vector layer");
    throw Error(ErrorKind::bad_request, "ambiguous_layer",
                file + " has " + std::to_string(ds.GetLayerCount()) + " layers (" + layer_list(ds) +
                    "); choose one with --layer NAME");
}

OGRSpatialReference source_crs(const OGRSpatialReference* file_crs, const std::optional<std::string>& crs_option,
                               const std::string& file, std::optional<geo::InputCrs>& offset) {
    OGRSpatialReference crs;
    if (!crs_option) {
        if (!file_crs) throw Error(ErrorKind::bad_request, "missing_crs", file + " has no CRS; pass --crs EPSG:n");
        crs = *file_crs;
        return crs;
    }
    if (auto input = geo::parse_input_crs(*crs_option)) {
        // GCJ-02 and BD-09 are WGS84 lon/lat with an offset removed after the (identity) transform.
        crs.importFromEPSG(4326);
        if (*input != geo::InputCrs::wgs84) offset = *input;
        return crs;
    }
    CPLErrorReset();
    // No network or file access: a CRS option must not make the importer fetch anything.
    if (crs.SetFromUserInput(crs_option->c_str(), OGRSpatialReference::SET_FROM_USER_INPUT_LIMITATIONS_get()) !=
        OGRERR_NONE)
        throw Error(ErrorKind::bad_request, "invalid_crs",
                    "--crs " + *crs_option +
                        " is not a CRS GDAL knows (e.g. EPSG:4547, gcj02, bd09): " + gdal_message("unrecognised"));
    return crs;
}

} // namespace

void register_gdal() {
    static std::once_flag once;
    std::call_once(once, [] { GDALAllRegister(); });
}

// --- GdalErrors ---

GdalErrors::GdalErrors() { CPLPushErrorHandlerEx(&GdalErrors::collect, this); }

GdalErrors::~GdalErrors() { CPLPopErrorHandler(); }

void CPL_STDCALL GdalErrors::collect(CPLErr level, CPLErrorNum, const char* message) {
    if (level < CE_Failure) return; // warnings (e.g. a ring closed for us) are not failures
    auto* self = static_cast<GdalErrors*>(CPLGetErrorHandlerUserData());
    self->m_messages.emplace_back(message ? message : "");
}

std::string GdalErrors::take(const char* fallback) {
    std::string out;
    for (const auto& m : m_messages) out += (out.empty() ? "" : "; ") + m;
    m_messages.clear();
    return out.empty() ? fallback : out;
}

// --- Reprojection ---

Reprojection::Reprojection(const OGRSpatialReference* file_crs, const std::optional<std::string>& crs_option,
                           const std::string& file) {
    OGRSpatialReference source = source_crs(file_crs, crs_option, file, m_offset);
    source.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReference wgs84;
    wgs84.importFromEPSG(4326);
    wgs84.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    m_source_name = m_offset ? std::string(geo::to_string(*m_offset)) + " (WGS84 lon/lat with a Chinese map offset)"
                             : describe(source);
    CPLErrorReset();
    m_transform.reset(OGRCreateCoordinateTransformation(&source, &wgs84));
    if (!m_transform)
        throw Error(ErrorKind::bad_request, "invalid_crs",
                    "cannot transform " + file + " from " + m_source_name +
                        " to WGS84: " + gdal_message("no transformation"));
}

std::optional<Reprojection::BadVertex> Reprojection::apply_points(double* xs, double* ys, int n) const {
    const std::vector<double> source_x(xs, xs + n), source_y(ys, ys + n);
    std::vector<int> ok(static_cast<std::size_t>(n), TRUE);
    m_transform->Transform(n, xs, ys, nullptr, ok.data());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t i = 0; i < ok.size(); ++i) {
        if (!ok[i]) return BadVertex{source_x[i], source_y[i], nan, nan};
        LonLat p{xs[i], ys[i]};
        if (!in_wgs84_range(p)) return BadVertex{source_x[i], source_y[i], p.lon, p.lat};
        if (m_offset) {
            p = geo::to_wgs84(p, *m_offset);
            xs[i] = p.lon;
            ys[i] = p.lat;
        }
    }
    return std::nullopt;
}

std::optional<Reprojection::BadVertex> Reprojection::apply_curve(OGRSimpleCurve& curve) const {
    const int n = curve.getNumPoints();
    if (n == 0) return std::nullopt;
    std::vector<double> xs(static_cast<std::size_t>(n)), ys(static_cast<std::size_t>(n));
    curve.getPoints(xs.data(), sizeof(double), ys.data(), sizeof(double));
    if (auto bad = apply_points(xs.data(), ys.data(), n)) return bad;
    curve.setPoints(n, xs.data(), ys.data());
    return std::nullopt;
}

std::optional<Reprojection::BadVertex> Reprojection::apply(OGRGeometry& g) const {
    switch (wkbFlatten(g.getGeometryType())) {
    case wkbPoint: {
        OGRPoint& p = *g.toPoint();
        if (p.IsEmpty()) return std::nullopt;
        double x = p.getX(), y = p.getY();
        if (auto bad = apply_points(&x, &y, 1)) return bad;
        p.setX(x);
        p.setY(y);
        return std::nullopt;
    }
    case wkbLineString: return apply_curve(*g.toSimpleCurve());
    case wkbPolygon:
        for (OGRLinearRing* ring : *g.toPolygon())
            if (auto bad = apply_curve(*ring)) return bad;
        return std::nullopt;
    case wkbMultiPoint:
    case wkbMultiLineString:
    case wkbMultiPolygon:
    case wkbGeometryCollection:
        for (OGRGeometry* part : *g.toGeometryCollection())
            if (auto bad = apply(*part)) return bad;
        return std::nullopt;
    default:
        throw Rejected("unsupported_geometry",
                       std::string("geometry type ") + g.getGeometryName() + " is not supported");
    }
}

// --- Source ---

Source::Source(const ImportOptions& options) : m_where(options.path.string()) {
    register_gdal();
    m_dataset = open_dataset(options.path, m_errors);
    const bool osm = EQUAL(m_dataset->GetDriver()->GetDescription(), "OSM");
    m_layer = choose_layer(*m_dataset, options, osm);
    if (m_dataset->GetLayerCount() > 1) m_where += ", layer " + std::string(m_layer->GetName());
    if (osm) {
        // The OSM driver reads all layers in one pass; declaring interest in one layer keeps it
        // from buffering the features of the others (which fails on large .pbf files).
        m_dataset->ExecuteSQL(("SET interest_layers = " + std::string(m_layer->GetName())).c_str(), nullptr, nullptr);
        if (options.target == Target::buildings) m_filter_column = schema().GetFieldIndex("building");
        if (options.target == Target::roads) m_filter_column = schema().GetFieldIndex("highway");
        // Units: the areas whose amenity, military or landuse tag names a unit (a campus, a
        // school, barracks); the other multipolygons (buildings, parks) are not of the layer.
        if (options.target == Target::units)
            for (const char* tag : {"amenity", "military", "landuse"})
                if (const int i = schema().GetFieldIndex(tag); i >= 0) m_unit_columns.push_back(i);
    }
    // A layer without geometry (a CSV of households for --update) needs no CRS.
    if (m_layer->GetLayerDefn()->GetGeomFieldCount() > 0 || options.crs)
        m_reprojection.emplace(m_layer->GetSpatialRef(), options.crs, options.path.string());
}

std::size_t Source::feature_count() const {
    GIntBig n = m_layer->GetFeatureCount(FALSE); // FALSE: -1 rather than a full scan
    return n > 0 ? static_cast<std::size_t>(n) : 0;
}

OGRFeatureUniquePtr Source::next() {
    m_errors.take("");
    CPLErrorReset();
    OGRFeatureUniquePtr feature(m_layer->GetNextFeature());
    if (!feature && CPLGetLastErrorType() >= CE_Failure)
        throw Error(ErrorKind::bad_request, "unreadable_data",
                    m_where + ": reading failed: " + m_errors.take("GDAL gave no reason"));
    return feature;
}

bool Source::wanted(const OGRFeature& feature) const {
    if (!m_unit_columns.empty()) {
        for (const int i : m_unit_columns)
            if (feature.IsFieldSetAndNotNull(i) && store::parse_unit_kind(to_lower(feature.GetFieldAsString(i))))
                return true;
        return false;
    }
    if (m_filter_column < 0) return true;
    return feature.IsFieldSetAndNotNull(m_filter_column) && *feature.GetFieldAsString(m_filter_column) != '\0';
}

std::optional<geo::Geometry> Source::geometry(OGRFeature& feature, const std::string& label) const {
    OGRGeometry* g = feature.GetGeometryRef();
    if (!g || !m_reprojection) return std::nullopt;
    OGRGeometryUniquePtr converted;
    if (g->hasCurveGeometry()) { // arcs: GEOS has none, so approximate them by segments
        converted.reset(g->getLinearGeometry());
        g = converted.get();
    }
    const auto type = wkbFlatten(g->getGeometryType());
    if (type == wkbPolyhedralSurface || type == wkbTIN) {
        OGRGeometry* polygons = OGRGeometryFactory::forceToMultiPolygon(g->clone());
        converted.reset(polygons);
        g = polygons;
    }
    g->flattenTo2D();
    g->setMeasured(FALSE);
    if (auto bad = m_reprojection->apply(*g)) {
        std::string landed = std::isnan(bad->lon)
                                 ? "cannot be transformed to WGS84"
                                 : "lands at " + coordinate(bad->lon, bad->lat) + ", outside the WGS84 range";
        throw Error(ErrorKind::unprocessable, "out_of_range",
                    label + ": vertex " + coordinate(bad->x, bad->y) + " read in " + m_reprojection->source_name() +
                        " " + landed + "; the CRS is probably wrong: pass the right one with --crs EPSG:n");
    }
    std::vector<unsigned char> wkb(g->WkbSize());
    if (g->exportToWkb(wkbNDR, wkb.data(), wkbVariantIso) != OGRERR_NONE)
        throw Rejected("invalid_geometry", "GDAL cannot write the geometry as WKB");
    try {
        return geo::from_wkb(wkb);
    } catch (const Error& e) { // e.g. a ring of fewer than four points, which GEOS refuses
        throw Rejected("invalid_geometry", e.what());
    }
}

} // namespace wangge::ingest::detail

#pragma once
// The one place Wangge talks to GDAL: opening a file, choosing its layer, reading features and
// bringing their geometries into WGS84 lon/lat. Every GDAL handle is owned by a unique_ptr with
// GDAL's deleter, and GDAL's own error output is collected while a Source lives: what GDAL says
// goes into the thrown Error instead of stderr.
#include "geo/chinese_crs.hpp"
#include "geo/geometry.hpp"
#include "ingest/importer.hpp"

#include <cpl_error.h>
#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::ingest::detail {

// Registers GDAL's drivers; safe to call from any thread, registers only once.
void register_gdal();

struct TransformDeleter {
    void operator()(OGRCoordinateTransformation* t) const noexcept { OGRCoordinateTransformation::DestroyCT(t); }
};
using TransformPtr = std::unique_ptr<OGRCoordinateTransformation, TransformDeleter>;

// Brings coordinates from the source CRS into WGS84 lon/lat (traditional GIS axis order on both
// sides), then removes a GCJ-02/BD-09 offset when the data comes from a Chinese map app.
class Reprojection {
public:
    // Throws Error(bad_request) for a missing or unusable CRS. `file` is for messages.
    Reprojection(const OGRSpatialReference* file_crs, const std::optional<std::string>& crs_option,
                 const std::string& file);

    // A vertex that could not be brought into WGS84 range: its source coordinate, and where
    // it landed (NaN when the transformation failed outright).
    struct BadVertex {
        double x, y, lon, lat;
    };
    // Transforms every vertex of `g` in place; returns the first bad vertex, if any.
    std::optional<BadVertex> apply(OGRGeometry& g) const;
    // The source CRS as a user would recognise it, e.g. "CGCS2000 / 3-degree Gauss-Kruger CM 117E
    // (EPSG:4547)".
    const std::string& source_name() const noexcept { return m_source_name; }

private:
    std::optional<BadVertex> apply_points(double* xs, double* ys, int n) const;
    std::optional<BadVertex> apply_curve(OGRSimpleCurve& curve) const;

    TransformPtr m_transform;
    std::optional<geo::InputCrs> m_offset; // gcj02 or bd09
    std::string m_source_name;
};

// Collects GDAL's error messages on this thread while it lives (GDAL's handler stack is per
// thread), so that they end up in the Error that explains a failure.
class GdalErrors {
public:
    GdalErrors();
    ~GdalErrors();
    GdalErrors(const GdalErrors&) = delete;
    GdalErrors& operator=(const GdalErrors&) = delete;
    GdalErrors(GdalErrors&&) = delete;
    GdalErrors& operator=(GdalErrors&&) = delete;

    // The failure messages collected since the last call, joined; `fallback` when there were none.
    std::string take(const char* fallback);

private:
    static void CPL_STDCALL collect(CPLErr level, CPLErrorNum number, const char* message);
    std::vector<std::string> m_messages;
};

class Source {
public:
    // Opens options.path and chooses the layer. Throws Error(io) for a missing or unreadable
    // file, Error(bad_request) for a file GDAL cannot read, an unknown or ambiguous layer and a
    // missing CRS.
    explicit Source(const ImportOptions& options);

    // "FILE" or "FILE, layer NAME" for messages.
    const std::string& where() const noexcept { return m_where; }
    const OGRFeatureDefn& schema() const { return *m_layer->GetLayerDefn(); }
    // The layer's feature count when the driver knows it cheaply, else 0.
    std::size_t feature_count() const;
    // The next feature, or null at the end; throws Error(bad_request) when reading fails midway
    // (malformed data).
    OGRFeatureUniquePtr next();
    // False for features of an OSM layer that are not of the target (no building / highway tag).
    bool wanted(const OGRFeature& feature) const;
    // The feature's geometry in WGS84, nullopt when it has none. Throws Rejected for a geometry
    // that cannot be converted and Error(unprocessable, "out_of_range") when a vertex does not
    // land in WGS84 range (the CRS is wrong: that concerns every feature, so it is never
    // skipped). `label` names the feature in that error.
    std::optional<geo::Geometry> geometry(OGRFeature& feature, const std::string& label) const;

private:
    GdalErrors m_errors; // first member: it must outlive every GDAL call of the others
    std::string m_where;
    GDALDatasetUniquePtr m_dataset;
    OGRLayer* m_layer = nullptr; // owned by m_dataset
    int m_filter_column = -1;    // OSM: the tag a feature must have to be of the target
    std::vector<int> m_unit_columns; // OSM units: tags one of which must name a unit kind
    std::optional<Reprojection> m_reprojection;
};

} // namespace wangge::ingest::detail

#include "ingest/importer.hpp"

#include "core/error.hpp"
#include "ingest/feature.hpp"
#include "ingest/fields.hpp"
#include "ingest/gdal_source.hpp"
#include "ingest/writer.hpp"

#include <algorithm>

namespace wangge::ingest {

namespace {

// One pass over the layer, within the caller's transaction.
class LayerImport {
public:
    LayerImport(detail::Source& source, const detail::Columns& columns, detail::Writer& writer,
                const ImportOptions& options, ImportReport& report)
        : m_source(source), m_columns(columns), m_writer(writer), m_options(options), m_report(report) {}

    void run() {
        const std::size_t total = m_source.feature_count();
        // About every 1% of a known total, every 1000 features when the driver cannot count cheaply.
        const std::size_t step = total ? std::max<std::size_t>(1, total / 100) : 1000;
        std::size_t index = 0;
        while (OGRFeatureUniquePtr ogr = m_source.next()) {
            if (m_source.wanted(*ogr)) import_feature(*ogr, index);
            ++index;
            if (m_options.progress && index % step == 0) m_options.progress(index, total);
        }
        if (m_options.progress && index % step != 0) m_options.progress(index, total);
    }

private:
    // A rejected feature fails a strict import and is skipped (and listed) by a lenient one.
    void import_feature(OGRFeature& ogr, std::size_t index) {
        detail::Feature f;
        f.index = index;
        f.record = m_columns.read(ogr);
        f.id = f.record.get(detail::id_field(m_options.target)).value_or("");
        ++m_report.read;
        try {
            f.geom = m_source.geometry(ogr, label(f));
            m_writer.write(f);
            ++m_report.stored;
            if (f.geom && !f.geom->is_empty()) {
                const BBox b = f.geom->bbox();
                m_report.extent = m_report.extent ? BBox{std::min(m_report.extent->min_lon, b.min_lon),
                                                         std::min(m_report.extent->min_lat, b.min_lat),
                                                         std::max(m_report.extent->max_lon, b.max_lon),
                                                         std::max(m_report.extent->max_lat, b.max_lat)}
                                                  : b;
            }
        } catch (const detail::Rejected& r) {
            if (detail::is_strict(m_options.target)) throw Error(r.kind(), r.code(), label(f) + ": " + r.what());
            m_report.issues.push_back({index, f.id, r.what(), true});
            ++m_report.skipped;
        }
    }

    std::string label(const detail::Feature& f) const {
        return m_source.where() + ", feature " + std::to_string(f.index) + (f.id.empty() ? "" : " (id " + f.id + ")");
    }

    detail::Source& m_source;
    const detail::Columns& m_columns;
    detail::Writer& m_writer;
    const ImportOptions& m_options;
    ImportReport& m_report;
};

[[noreturn]] void fail_nothing_stored(const detail::Source& source, const ImportReport& report) {
    std::string message = source.where() + ": no feature could be imported (" + std::to_string(report.read) + " read)";
    if (!report.issues.empty()) {
        const FeatureIssue& first = report.issues.front();
        message += "; feature " + std::to_string(first.index) + ", for one, was skipped: " + first.reason;
    }
    throw Error(ErrorKind::unprocessable, "nothing_imported", message);
}

} // namespace

std::optional<Target> parse_target(std::string_view text) {
    if (text == "streets" || text == "street") return Target::streets;
    if (text == "communities" || text == "community") return Target::communities;
    if (text == "grids" || text == "grid") return Target::grids;
    if (text == "buildings" || text == "building") return Target::buildings;
    if (text == "roads" || text == "road") return Target::roads;
    if (text == "units" || text == "unit") return Target::units;
    return std::nullopt;
}

std::string_view to_string(Target target) noexcept {
    switch (target) {
    case Target::streets: return "streets";
    case Target::communities: return "communities";
    case Target::grids: return "grids";
    case Target::buildings: return "buildings";
    case Target::roads: return "roads";
    case Target::units: return "units";
    }
    return "buildings";
}

ImportReport import_file(store::MapStore& db, const ImportOptions& options) {
    // Everything that can be checked without the database (file, layer, CRS, --map) is checked
    // before the write transaction starts.
    if (options.update && options.target != Target::buildings)
        throw Error(ErrorKind::bad_request, "invalid_option",
                    "--update changes stored buildings; for " + std::string(to_string(options.target)) +
                        " import with --replace");
    if (options.update && options.replace)
        throw Error(ErrorKind::bad_request, "invalid_option", "--update and --replace exclude each other");
    detail::Source source(options);
    detail::Columns columns(source.schema(), detail::fields_of(options.target), options.field_map, source.where());

    ImportReport report;
    store::MapWrite transaction(db);
    // Buildings, roads and units have no code to match on: replacing swaps the whole stored layer.
    if (options.replace && options.target == Target::buildings) db.delete_all_buildings();
    if (options.replace && options.target == Target::roads) db.delete_all_roads();
    if (options.replace && options.target == Target::units) db.delete_all_units();
    detail::Writer writer(db, options, report);
    LayerImport(source, columns, writer, options, report).run();
    if (report.stored == 0) fail_nothing_stored(source, report);
    if (options.target == Target::grids || options.target == Target::buildings)
        report.assignment = grid::reassign_buildings(db);
    transaction.commit();
    return report;
}

} // namespace wangge::ingest

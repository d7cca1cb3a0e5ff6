#include "ingest/table.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "core/utf8.hpp"
#include "ingest/fields.hpp"
#include "ingest/gdal_source.hpp"

#include <cpl_conv.h>

namespace wangge::ingest {

std::optional<std::size_t> Table::column(std::initializer_list<std::string_view> names) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
        for (std::string_view name : names)
            if (trim(columns[i]) == name) return i;
    return std::nullopt;
}

Table read_table(const std::filesystem::path& path) {
    detail::register_gdal();
    detail::GdalErrors errors;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw Error(ErrorKind::io, "file_not_found", "cannot read " + path.string() + ": the file does not exist");
    // Spreadsheets: the first row is the header even when every cell is text. The drivers read
    // the sheet lazily, so the options hold until the table is read.
    struct HeaderOptions {
        HeaderOptions() {
            CPLSetThreadLocalConfigOption("OGR_XLSX_HEADERS", "FORCE");
            CPLSetThreadLocalConfigOption("OGR_ODS_HEADERS", "FORCE");
        }
        ~HeaderOptions() {
            CPLSetThreadLocalConfigOption("OGR_XLSX_HEADERS", nullptr);
            CPLSetThreadLocalConfigOption("OGR_ODS_HEADERS", nullptr);
        }
        HeaderOptions(const HeaderOptions&) = delete;
        HeaderOptions& operator=(const HeaderOptions&) = delete;
    } header_options;
    GDALDatasetUniquePtr ds(GDALDataset::Open(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR));
    if (!ds || ds->GetLayerCount() == 0)
        throw Error(ErrorKind::bad_request, "unreadable_data",
                    path.string() + " is not a table GDAL can read (XLSX, ODS, CSV): " + errors.take("no sheet in it"));
    OGRLayer* layer = ds->GetLayer(0);
    Table table;
    const OGRFeatureDefn& defn = *layer->GetLayerDefn();
    for (int i = 0; i < defn.GetFieldCount(); ++i) table.columns.push_back(to_valid_utf8(defn.GetFieldDefn(i)->GetNameRef()));
    layer->ResetReading();
    while (OGRFeatureUniquePtr f{layer->GetNextFeature()}) {
        std::vector<std::optional<std::string>> row;
        bool any = false;
        for (int i = 0; i < defn.GetFieldCount(); ++i) {
            row.push_back(detail::column_text(*f, i));
            any = any || row.back().has_value();
        }
        if (any) table.rows.push_back(std::move(row)); // a blank line is not a row
    }
    return table;
}

void write_table(const std::filesystem::path& path, const Table& table) {
    detail::register_gdal();
    detail::GdalErrors errors;
    const std::string ext = to_lower(path.extension().string());
    const char* driver_name = ext == ".xlsx" ? "XLSX" : ext == ".ods" ? "ODS" : ext == ".csv" ? "CSV" : nullptr;
    if (!driver_name)
        throw Error(ErrorKind::bad_request, "invalid_option", "write a table as .xlsx, .ods or .csv, not '" + ext + "'");
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name);
    if (!driver) throw Error(ErrorKind::io, "no_driver", std::string("GDAL has no ") + driver_name + " driver here");
    std::error_code ec;
    std::filesystem::remove(path, ec);
    GDALDatasetUniquePtr ds(driver->Create(path.c_str(), 0, 0, 0, GDT_Unknown, nullptr));
    if (!ds) throw Error(ErrorKind::io, "write_failed", "cannot create " + path.string() + ": " + errors.take("GDAL failed"));
    OGRLayer* layer = ds->CreateLayer(path.stem().c_str(), nullptr, wkbNone, nullptr);
    if (!layer) throw Error(ErrorKind::io, "write_failed", "cannot create a sheet in " + path.string());
    for (const auto& name : table.columns) {
        OGRFieldDefn field(name.c_str(), OFTString);
        if (layer->CreateField(&field) != OGRERR_NONE)
            throw Error(ErrorKind::io, "write_failed", "cannot add column '" + name + "' to " + path.string());
    }
    for (const auto& row : table.rows) {
        OGRFeatureUniquePtr f(OGRFeature::CreateFeature(layer->GetLayerDefn()));
        for (std::size_t i = 0; i < row.size() && i < table.columns.size(); ++i)
            if (row[i]) f->SetField(static_cast<int>(i), row[i]->c_str());
        if (layer->CreateFeature(f.get()) != OGRERR_NONE)
            throw Error(ErrorKind::io, "write_failed", "cannot write a row to " + path.string() + ": " + errors.take(""));
    }
    CPLErrorReset();
    ds.reset(); // closing writes the file; GDAL reports a failure here as an error
    if (CPLGetLastErrorType() >= CE_Failure || !std::filesystem::exists(path, ec))
        throw Error(ErrorKind::io, "write_failed", "cannot finish " + path.string() + ": " + errors.take("GDAL failed"));
}

} // namespace wangge::ingest

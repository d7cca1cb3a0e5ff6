#pragma once
// Turning one feature (its record and WGS84 geometry) into a stored row of the import's target.
// Nothing here knows GDAL.
#include "core/codes.hpp"
#include "ingest/feature.hpp"
#include "ingest/fields.hpp"
#include "ingest/importer.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::ingest::detail {

// The unit kind a feature names (its kind column, else OSM amenity, military or landuse).
std::optional<store::UnitKind> unit_kind_of(const Record& r);

// The target's fields with their default columns (docs/IMPORT.md lists them for users).
std::vector<FieldSpec> fields_of(Target target);
// The field that identifies a feature in messages and issues: its code or source id.
std::string_view id_field(Target target) noexcept;
// Hierarchy levels are strict: one unusable feature fails the whole import.
bool is_strict(Target target) noexcept;

class Writer {
public:
    // Writes into `db` within the caller's transaction and counts into `report`.
    Writer(store::MapStore& db, const ImportOptions& options, ImportReport& report);

    // Stores one feature; throws Rejected when it cannot be used.
    void write(const Feature& f);

private:
    void write_street(const Feature& f);
    void write_community(const Feature& f);
    void write_grid(const Feature& f);
    void write_building(const Feature& f);
    void update_building(const Feature& f);
    void write_road(const Feature& f);
    void write_unit(const Feature& f);

    // A valid MultiPolygon from the feature's geometry, repaired (and reported) when invalid.
    geo::Geometry polygonal(const Feature& f);
    // The feature's code, checked for shape, uniqueness in the file and (without --replace) in
    // the database.
    std::string checked_code(Level level, const Feature& f);
    // The parent code the code implies, checked against the feature's parent column if it has one.
    std::string checked_parent(Level level, const Feature& f, std::string_view field, const std::string& code);

    store::MapStore& m_db;
    const ImportOptions& m_options;
    ImportReport& m_report;
    std::map<std::string, std::size_t> m_seen_codes; // code -> index of the feature that had it
};

} // namespace wangge::ingest::detail

#include "ingest/writer.hpp"

#include "core/text.hpp"

#include "core/error.hpp"
#include "grid/estimate.hpp"

#include <cctype>
#include <cmath>

namespace wangge::ingest::detail {

namespace {

// Library checks (require_code and friends) throw Error; for a feature they mean "reject it".
template <typename Check>
void as_rejection(Check&& check) {
    try {
        check();
    } catch (const Error& e) {
        throw Rejected(e.code(), e.what(), e.kind());
    }
}

// Spreadsheets and text columns of mixed type hand codes over as "320102001.0".
std::optional<std::string> code_value(const Record& r, std::string_view field) {
    std::optional<std::string> v = r.get(field);
    if (!v) return v;
    auto dot = v->find('.');
    if (dot != std::string::npos && dot > 0 && v->find_first_not_of("0123456789") == dot &&
        v->find_first_not_of('0', dot + 1) == std::string::npos)
        v->erase(dot);
    return v;
}

std::optional<int> counted_households(const std::optional<std::string>& text) {
    std::optional<double> v = text ? parse_number(*text) : std::nullopt;
    if (!v || *v < 0 || *v > 1e9) return std::nullopt; // negative means "unknown" in many sources
    return static_cast<int>(std::lround(*v));
}

std::optional<int> positive_levels(const std::optional<std::string>& text) {
    std::optional<double> v = text ? parse_number(*text) : std::nullopt;
    if (!v || std::lround(*v) < 1 || *v > 1000) return std::nullopt; // 0 or less: underground only
    return static_cast<int>(std::lround(*v));
}

std::optional<double> positive_height(const std::optional<std::string>& text) {
    std::optional<double> v = text ? parse_number(*text) : std::nullopt;
    if (!v || *v <= 0) return std::nullopt;
    return v;
}

// The households_estimated column (as Wangge exports it): true, 1, yes.
bool marked_estimated(const Record& r) {
    const auto v = r.get("households_estimated");
    if (!v) return false;
    const std::string t = to_lower(*v);
    return t == "true" || t == "1" || t == "yes" || t == "t";
}

bool has_address(const Record& r) { return r.get("address") || r.get("addr_street") || r.get("addr_housenumber"); }

std::string address_of(const Record& r) {
    if (auto address = r.get("address")) return *address;
    std::string street = r.get("addr_street").value_or("");
    std::string number = r.get("addr_housenumber").value_or("");
    if (street.empty() || number.empty()) return street + number;
    // Chinese addresses run together (中山路8号); Latin ones take a space (Main Street 8).
    bool latin = static_cast<unsigned char>(street.back()) < 0x80;
    return street + (latin ? " " : "") + number;
}

} // namespace

std::vector<FieldSpec> fields_of(Target target) {
    switch (target) {
    case Target::streets: return {{"code", {"code"}}, {"name", {"name"}}};
    case Target::communities: return {{"code", {"code"}}, {"name", {"name"}}, {"street_code", {"street_code"}}};
    case Target::grids:
        return {{"code", {"code"}}, {"name", {"name"}}, {"community_code", {"community_code"}}, {"kind", {"kind"}}};
    case Target::buildings:
        return {{"source_id", {"source_id", "osm_id", "osm_way_id", "id"}, {}, "id"},
                {"name", {"name"}},
                {"use", {"use", "building"}},
                {"floors", {"floors", "building_levels", "building:levels", "levels"}, "building:levels"},
                {"height", {"height", "height_m"}, "height"},
                {"households", {"households", "hh"}},
                {"households_estimated", {"households_estimated"}},
                {"building_id", {"building_id", "id"}},
                {"address", {"address"}},
                {"addr_street", {"addr_street", "addr:street"}, "addr:street"},
                {"addr_housenumber", {"addr_housenumber", "addr:housenumber"}, "addr:housenumber"}};
    case Target::roads:
        return {
            {"source_id", {"source_id", "osm_id", "id"}, {}, "id"}, {"name", {"name"}}, {"kind", {"kind", "highway"}}};
    case Target::units:
        // The kind from the layer's own column, else from OSM's tags (amenity, military, landuse).
        return {{"source_id", {"source_id", "osm_id", "osm_way_id", "id"}, {}, "id"},
                {"name", {"name"}},
                {"kind", {"kind", "unit_kind"}},
                {"amenity", {"amenity"}},
                {"military", {"military"}},
                {"landuse", {"landuse"}}};
    }
    return {};
}

std::string_view id_field(Target target) noexcept { return is_strict(target) ? "code" : "source_id"; }

bool is_strict(Target target) noexcept {
    return target == Target::streets || target == Target::communities || target == Target::grids;
}

Writer::Writer(store::MapStore& db, const ImportOptions& options, ImportReport& report)
    : m_db(db), m_options(options), m_report(report) {}

void Writer::write(const Feature& f) {
    switch (m_options.target) {
    case Target::streets: return write_street(f);
    case Target::communities: return write_community(f);
    case Target::grids: return write_grid(f);
    case Target::buildings: return m_options.update ? update_building(f) : write_building(f);
    case Target::roads: return write_road(f);
    case Target::units: return write_unit(f);
    }
}

geo::Geometry Writer::polygonal(const Feature& f) {
    if (!f.geom) throw Rejected("no_geometry", "it has no geometry");
    const geo::Geometry& g = *f.geom;
    if (!g.is_polygonal())
        throw Rejected("not_polygonal", "its geometry is a " + g.type_name() + ", not a Polygon or MultiPolygon");
    if (g.is_empty()) throw Rejected("empty_geometry", "its geometry is empty");
    std::string reason = geo::invalid_reason(g);
    if (reason.empty()) return geo::to_multi_polygon(g);
    geo::Geometry repaired = geo::make_valid_polygonal(g);
    if (repaired.is_empty())
        throw Rejected("empty_after_repair", "its invalid geometry (" + reason + ") has no area left after repair");
    m_report.issues.push_back({f.index, f.id, reason, false});
    ++m_report.repaired;
    return repaired;
}

std::string Writer::checked_code(Level level, const Feature& f) {
    std::optional<std::string> code = code_value(f.record, "code");
    if (!code) throw Rejected("missing_code", "it has no code (name the code column with --map code=COLUMN)");
    as_rejection([&] { require_code(level, *code); });
    auto [first, fresh] = m_seen_codes.emplace(*code, f.index);
    if (!fresh)
        throw Rejected("duplicate_code", "code " + *code + " appears twice in the file (also at feature " +
                                             std::to_string(first->second) + ")");
    if (!m_options.replace && m_db.has_code(level, *code))
        throw Rejected("duplicate_code",
                       std::string(to_string(level)) + " " + *code +
                           " is already stored (import with --replace to overwrite it)",
                       ErrorKind::conflict);
    return *code;
}

std::string Writer::checked_parent(Level level, const Feature& f, std::string_view field, const std::string& code) {
    std::string derived = parent_code(level, code);
    std::optional<std::string> given = code_value(f.record, field);
    if (given && *given != derived)
        throw Rejected("code_parent_mismatch", std::string(to_string(level)) + " code " + code +
                                                   " does not start with its " + std::string(field) + " " + *given);
    return derived;
}

void Writer::write_street(const Feature& f) {
    store::StreetRow row{checked_code(Level::street, f), f.record.get("name").value_or(""), polygonal(f)};
    m_db.put_street(row, m_options.replace);
}

void Writer::write_community(const Feature& f) {
    store::CommunityRow row;
    row.code = checked_code(Level::community, f);
    row.street_code = checked_parent(Level::community, f, "street_code", row.code);
    row.name = f.record.get("name").value_or("");
    row.geom = polygonal(f);
    m_db.put_community(row, m_options.replace);
}

void Writer::write_grid(const Feature& f) {
    store::GridRow row;
    row.code = checked_code(Level::grid, f);
    row.community_code = checked_parent(Level::grid, f, "community_code", row.code);
    row.name = f.record.get("name").value_or("");
    std::string kind = f.record.get("kind").value_or("");
    auto parsed = store::parse_grid_kind(kind);
    if (!parsed)
        throw Rejected("invalid_kind", "its kind '" + kind + "' is neither residential/居民区网格 nor unit/单位网格");
    row.kind = *parsed;
    row.geom = polygonal(f);
    m_db.put_grid(row, m_options.replace);
}

void Writer::write_building(const Feature& f) {
    store::BuildingRow row;
    row.geom = polygonal(f);
    row.source_id = f.id;
    row.name = f.record.get("name").value_or("");
    // Building types are OSM-like keywords; matching the estimator's lists must not depend on case.
    row.use = to_lower(f.record.get("use").value_or("yes"));
    row.address = address_of(f.record);
    row.floors = positive_levels(f.record.get("floors"));
    row.height_m = positive_height(f.record.get("height"));
    if (auto counted = counted_households(f.record.get("households"))) {
        row.households = *counted;
        row.households_estimated = marked_estimated(f.record); // an export's estimate stays one
    } else {
        auto estimate =
            grid::estimate_households(m_options.estimator, geo::area_m2(row.geom), row.use, row.floors, row.height_m,
                                      row.name);
        row.households = estimate.households;
        row.households_estimated = true;
        ++m_report.estimated;
    }
    m_db.insert_building(row);
    m_report.households_total += row.households;
}

void Writer::update_building(const Feature& f) {
    std::vector<store::BuildingRow> matches;
    if (m_options.update_key == ImportOptions::Key::id) {
        const auto text = f.record.get("building_id");
        if (!text) throw Rejected("missing_id", "it has no building id (column id, or --map building_id=COLUMN)");
        const auto id = code_value(f.record, "building_id");
        if (!id || id->empty() || id->size() > 18 || id->find_first_not_of("0123456789") != std::string::npos)
            throw Rejected("invalid_id", "its building id '" + *text + "' is not a number");
        if (auto row = m_db.find_building(std::stoll(*id))) matches.push_back(std::move(*row));
        if (matches.empty()) throw Rejected("unknown_building", "no stored building has id " + *id);
    } else {
        if (f.id.empty())
            throw Rejected("missing_id", "it has no source id (column source_id, osm_id or id; or match by "
                                         "Wangge's building id with --key id)");
        matches = m_db.find_buildings(f.id);
        if (matches.empty()) throw Rejected("unknown_building", "no stored building has source id " + f.id);
        if (matches.size() > 1)
            throw Rejected("ambiguous_source_id", std::to_string(matches.size()) + " stored buildings have source id " +
                                                      f.id + ": update them by building id (--key id)");
    }
    store::BuildingRow row = std::move(matches.front());
    m_report.households_before += row.households;
    // Only the fields given change; what the estimate reads from changes it when it was one.
    bool estimate_inputs = false;
    if (auto v = f.record.get("name")) {
        row.name = *v;
        estimate_inputs = true;
    }
    if (auto v = f.record.get("use")) {
        row.use = to_lower(*v);
        estimate_inputs = true;
    }
    if (has_address(f.record)) row.address = address_of(f.record);
    if (auto v = f.record.get("floors")) {
        row.floors = positive_levels(v);
        estimate_inputs = true;
    }
    if (auto v = f.record.get("height")) {
        row.height_m = positive_height(v);
        estimate_inputs = true;
    }
    if (f.geom) {
        row.geom = polygonal(f);
        estimate_inputs = true;
    }
    const auto given = f.record.get("households");
    if (auto counted = counted_households(given)) {
        row.households = *counted;
        row.households_estimated = marked_estimated(f.record);
    } else if (given || (row.households_estimated && estimate_inputs)) {
        // A negative count ("unknown") asks for an estimate; an estimate follows its inputs.
        row.households = grid::estimate_households(m_options.estimator, geo::area_m2(row.geom), row.use, row.floors,
                                                   row.height_m, row.name)
                             .households;
        row.households_estimated = true;
        ++m_report.estimated;
    }
    m_db.update_building(row);
    m_report.households_total += row.households;
}

std::optional<store::UnitKind> unit_kind_of(const Record& r) {
    for (const char* field : {"kind", "amenity", "military", "landuse"})
        if (const auto value = r.get(field))
            if (const auto kind = store::parse_unit_kind(to_lower(*value))) return kind;
    return std::nullopt;
}

void Writer::write_unit(const Feature& f) {
    store::UnitRow row;
    row.source_id = f.id;
    row.name = f.record.get("name").value_or("");
    const auto given = f.record.get("kind");
    if (const auto kind = unit_kind_of(f.record)) row.kind = *kind;
    else if (given)
        throw Rejected("invalid_kind", "its kind '" + *given +
                                           "' is not a unit kind (university, school, hospital, military, "
                                           "industrial, other, or 大学, 学校, 医院, 部队, 园区, 单位)");
    row.geom = polygonal(f);
    m_db.insert_unit(row);
}

void Writer::write_road(const Feature& f) {
    if (!f.geom) throw Rejected("no_geometry", "it has no geometry");
    auto type = f.geom->type();
    if (type != geo::GeometryType::line_string && type != geo::GeometryType::multi_line_string)
        throw Rejected("not_a_line",
                       "its geometry is a " + f.geom->type_name() + ", not a LineString or MultiLineString");
    if (f.geom->is_empty()) throw Rejected("empty_geometry", "its geometry is empty");
    store::RoadRow row{0, f.id, f.record.get("name").value_or(""), f.record.get("kind").value_or(""), f.geom->clone()};
    m_db.insert_road(row);
}

} // namespace wangge::ingest::detail

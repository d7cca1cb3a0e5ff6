#pragma once
// Which source column feeds which Wangge field, and reading a feature's values as text.
// Every value is read as text first (codes may arrive as numbers, levels as strings), and the
// writers parse what they need from it.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

class OGRFeature;
class OGRFeatureDefn;

namespace wangge::ingest::detail {

// A Wangge field and where its value is looked for when --map names no column for it.
struct FieldSpec {
    std::string_view name;
    // Default columns, matched case-insensitively; per feature the first non-empty one wins
    // (an OSM multipolygon has either osm_id or osm_way_id).
    std::vector<std::string_view> columns;
    // Key in the OSM driver's `other_tags` column (an hstore string), tried after the columns.
    std::string_view other_tag = {};
    // Another name accepted as the --map key ("id" for "source_id").
    std::string_view alias = {};
};

// The non-empty values of one feature, by Wangge field name.
class Record {
public:
    std::optional<std::string> get(std::string_view field) const;
    void set(std::string_view field, std::string value);

private:
    std::map<std::string, std::string, std::less<>> m_values;
};

// The columns of one layer bound to the target's fields.
class Columns {
public:
    // Throws Error(bad_request) for a --map key that is not a field of the target, or a mapped
    // column the layer lacks (the message lists the layer's columns). `where` names the layer.
    Columns(const OGRFeatureDefn& defn, const std::vector<FieldSpec>& fields,
            const std::map<std::string, std::string>& field_map, const std::string& where);

    Record read(const OGRFeature& feature) const;

private:
    struct Binding {
        std::string field;
        std::vector<int> columns;
        std::string other_tag;
    };
    std::vector<Binding> m_bindings;
    int m_other_tags = -1;
};

// A number as plain digits, without exponent or a trailing ".0" (codes stored as Real).
std::string format_number(double value);

// A field's value as text: trimmed, valid UTF-8, numbers without a needless ".0"; nullopt when
// the field is unset, null or blank.
std::optional<std::string> column_text(const OGRFeature& feature, int column);
// Parses the OSM driver's other_tags: "building:levels"=>"6","height"=>"20". Malformed input
// yields the pairs read before the fault.
std::map<std::string, std::string, std::less<>> parse_hstore(std::string_view text);
// "20", " 20.5 ", "20 m", "65 ft" (converted to metres); nullopt for anything else.
std::optional<double> parse_number(std::string_view text);

} // namespace wangge::ingest::detail

#include "ingest/fields.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "core/utf8.hpp"

#include <ogr_feature.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace wangge::ingest::detail {

namespace {

constexpr std::string_view whitespace = " \t\r\n";


std::string column_list(const OGRFeatureDefn& defn) {
    std::string out;
    for (int i = 0; i < defn.GetFieldCount(); ++i) {
        if (i) out += ", ";
        out += defn.GetFieldDefn(i)->GetNameRef();
    }
    return out.empty() ? "(none)" : out;
}

std::string field_list(const std::vector<FieldSpec>& fields) {
    std::string out;
    for (const auto& f : fields) {
        if (!out.empty()) out += ", ";
        out += f.name;
        if (!f.alias.empty()) out += " (or " + std::string(f.alias) + ")";
    }
    return out;
}

// Every --map key must name a field of the target, so that a typo is not silently ignored.
void check_map_keys(const std::vector<FieldSpec>& fields, const std::map<std::string, std::string>& field_map) {
    for (const auto& [key, column] : field_map) {
        bool known = false;
        for (const auto& f : fields) known = known || key == f.name || (!f.alias.empty() && key == f.alias);
        if (!known)
            throw Error(ErrorKind::bad_request, "unknown_field",
                        "--map " + key + "=" + column + ": '" + key +
                            "' is not a field of this target; its fields are " + field_list(fields));
    }
}

const std::string* mapped_column(const FieldSpec& spec, const std::map<std::string, std::string>& field_map) {
    auto it = field_map.find(std::string(spec.name));
    auto alias = spec.alias.empty() ? field_map.end() : field_map.find(std::string(spec.alias));
    if (it != field_map.end() && alias != field_map.end())
        throw Error(ErrorKind::bad_request, "ambiguous_map",
                    "--map names a column for both " + std::string(spec.name) + " and " + std::string(spec.alias) +
                        "; give only one");
    if (it != field_map.end()) return &it->second;
    if (alias != field_map.end()) return &alias->second;
    return nullptr;
}


// A double-quoted hstore string starting at `pos`; advances `pos` past the closing quote.
std::optional<std::string> hstore_string(std::string_view text, std::size_t& pos) {
    if (pos >= text.size() || text[pos] != '"') return std::nullopt;
    std::string out;
    for (++pos; pos < text.size(); ++pos) {
        char c = text[pos];
        if (c == '"') {
            ++pos;
            return out;
        }
        if (c == '\\' && pos + 1 < text.size()) c = text[++pos];
        out += c;
    }
    return std::nullopt; // unterminated
}

} // namespace

std::optional<std::string> column_text(const OGRFeature& feature, int column) {
    if (!feature.IsFieldSetAndNotNull(column)) return std::nullopt;
    switch (feature.GetFieldDefnRef(column)->GetType()) {
    case OFTInteger:
    case OFTInteger64: return std::to_string(feature.GetFieldAsInteger64(column));
    case OFTReal: return format_number(feature.GetFieldAsDouble(column));
    default: break;
    }
    std::string_view text = trim(feature.GetFieldAsString(column));
    if (text.empty()) return std::nullopt;
    // Names must be valid UTF-8 to be served as JSON; a file in another encoding that GDAL did
    // not recognise keeps its readable parts.
    return to_valid_utf8(text);
}

std::optional<std::string> Record::get(std::string_view field) const {
    auto it = m_values.find(field);
    if (it == m_values.end()) return std::nullopt;
    return it->second;
}

void Record::set(std::string_view field, std::string value) {
    m_values.insert_or_assign(std::string(field), std::move(value));
}

Columns::Columns(const OGRFeatureDefn& defn, const std::vector<FieldSpec>& fields,
                 const std::map<std::string, std::string>& field_map, const std::string& where) {
    check_map_keys(fields, field_map);
    for (const auto& spec : fields) {
        Binding b{std::string(spec.name), {}, {}};
        if (const std::string* column = mapped_column(spec, field_map)) {
            int i = defn.GetFieldIndex(column->c_str());
            if (i < 0)
                throw Error(ErrorKind::bad_request, "unknown_column",
                            "--map " + b.field + "=" + *column + ": " + where + " has no column '" + *column +
                                "'; its columns are " + column_list(defn));
            b.columns.push_back(i);
        } else {
            for (std::string_view name : spec.columns) {
                int i = defn.GetFieldIndex(std::string(name).c_str()); // case-insensitive
                if (i >= 0 && std::find(b.columns.begin(), b.columns.end(), i) == b.columns.end())
                    b.columns.push_back(i);
            }
            b.other_tag = spec.other_tag;
        }
        m_bindings.push_back(std::move(b));
    }
    m_other_tags = defn.GetFieldIndex("other_tags");
}

Record Columns::read(const OGRFeature& feature) const {
    Record record;
    std::optional<std::map<std::string, std::string, std::less<>>> tags; // parsed when first needed
    for (const auto& b : m_bindings) {
        std::optional<std::string> value;
        for (int column : b.columns)
            if ((value = column_text(feature, column))) break;
        if (!value && !b.other_tag.empty() && m_other_tags >= 0) {
            if (!tags) tags = parse_hstore(column_text(feature, m_other_tags).value_or(""));
            if (auto it = tags->find(b.other_tag); it != tags->end() && !trim(it->second).empty())
                value = std::string(trim(it->second));
        }
        if (value) record.set(b.field, std::move(*value));
    }
    return record;
}

std::string format_number(double value) {
    char buf[400]; // fixed notation of the largest double fits
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
    if (ec != std::errc()) return std::to_string(value);
    return std::string(buf, end);
}

std::map<std::string, std::string, std::less<>> parse_hstore(std::string_view text) {
    std::map<std::string, std::string, std::less<>> out;
    std::size_t pos = 0;
    auto skip = [&](std::string_view chars) {
        while (pos < text.size() && chars.find(text[pos]) != std::string_view::npos) ++pos;
    };
    while (true) {
        skip(" \t\r\n,");
        auto key = hstore_string(text, pos);
        if (!key) break;
        skip(whitespace);
        if (text.substr(pos, 2) != "=>") break;
        pos += 2;
        skip(whitespace);
        if (text.substr(pos, 4) == "NULL") { // hstore's SQL NULL: the key has no value
            pos += 4;
            continue;
        }
        auto value = hstore_string(text, pos);
        if (!value) break;
        out.insert_or_assign(std::move(*key), std::move(*value));
    }
    return out;
}

std::optional<double> parse_number(std::string_view text) {
    text = trim(text);
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
    std::string_view unit = trim(text.substr(static_cast<std::size_t>(end - text.data())));
    if (unit.empty() || unit == "m") return value;
    if (unit == "ft" || unit == "feet") return value * 0.3048;
    return std::nullopt;
}

} // namespace wangge::ingest::detail

#include "incident/categories.hpp"

#include "incident/data_file.hpp"

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>

namespace wangge::incident {

namespace {

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
    throw Error(ErrorKind::unprocessable, "invalid_categories", "categories: " + where + ": " + what);
}

bool all_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void no_unknown_keys(const nlohmann::json& object, std::initializer_list<std::string_view> known,
                     const std::string& where) {
    if (const auto key = detail::unknown_key(object, known)) invalid(where, "unknown key '" + *key + "'");
}

// A required, non-empty string member.
std::string text_at(const nlohmann::json& object, const char* key, const std::string& where) {
    const auto it = object.find(key);
    if (it == object.end()) invalid(where, std::string("'") + key + "' is missing");
    if (!it->is_string() || it->get_ref<const std::string&>().empty())
        invalid(where, std::string("'") + key + "' must be a non-empty string");
    return it->get<std::string>();
}

// "大类 '01' (市容环境)", or "大类 #3" before the code and name are known to be there.
std::string label(std::string_view kind, const nlohmann::json& entry, std::size_t index) {
    const auto code = entry.find("code");
    const auto name = entry.find("name");
    if (code == entry.end() || !code->is_string()) return std::string(kind) + " #" + std::to_string(index + 1);
    std::string out = std::string(kind) + " '" + code->get<std::string>() + "'";
    if (name != entry.end() && name->is_string()) out += " (" + name->get<std::string>() + ")";
    return out;
}

Limit parse_limit(const nlohmann::json& j, std::string_view urgency, const std::string& where) {
    const std::string which = "the " + std::string(urgency) + " limit";
    if (!j.is_object()) invalid(where, which + " must be an object {\"amount\", \"unit\"}");
    no_unknown_keys(j, {"amount", "unit"}, where + ", " + which);
    const auto amount = j.find("amount");
    if (amount == j.end()) invalid(where, which + " has no amount");
    if (!amount->is_number_integer() || amount->get<long long>() <= 0 || amount->get<long long>() > 10000)
        invalid(where, which + " has amount " + amount->dump() + "; it must be a whole number from 1 to 10000");
    const auto unit = j.find("unit");
    if (unit == j.end()) invalid(where, which + " has no unit");
    const auto parsed = unit->is_string() ? parse_limit_unit(unit->get<std::string>()) : std::nullopt;
    if (!parsed) invalid(where, which + " has an unknown unit " + unit->dump() + " (working_hours or working_days)");
    return {static_cast<int>(amount->get<long long>()), *parsed};
}

void parse_limits(const nlohmann::json& j, Category& c, const std::string& where) {
    if (!j.is_object()) invalid(where, "'limits' must be an object {\"normal\": ..., \"urgent\": ...}");
    bool normal = false, urgent = false;
    for (const auto& [key, value] : j.items()) {
        const auto u = parse_urgency(key);
        if (!u) invalid(where, "'limits' has an unknown urgency '" + key + "' (normal/一般 or urgent/紧急)");
        bool& seen = *u == Urgency::urgent ? urgent : normal;
        if (seen) invalid(where, "'limits' gives the " + std::string(to_string(*u)) + " limit twice");
        seen = true;
        (*u == Urgency::urgent ? c.urgent_limit : c.normal_limit) = parse_limit(value, key, where);
    }
    if (!normal) invalid(where, "the 一般 (normal) limit is missing");
    if (!urgent) invalid(where, "the 紧急 (urgent) limit is missing");
}

Category parse_category(const nlohmann::json& j, const MajorCategory& major, const std::string& where) {
    if (!j.is_object()) invalid(where, "must be an object");
    no_unknown_keys(j,
                    {"code", "name", "acceptance_condition", "closing_condition", "level", "limits",
                     "duplicate_radius_m"},
                    where);
    Category c;
    c.code = text_at(j, "code", where);
    c.name = text_at(j, "name", where);
    if (c.code.size() != 4 || !all_digits(c.code)) invalid(where, "the code must be four digits (大类 + 小类)");
    if (c.major_code() != major.code) invalid(where, "the code must begin with its 大类 code " + major.code);
    if (c.code.ends_with("00")) invalid(where, "the last two digits of a 小类 code must not be 00");
    c.acceptance_condition = text_at(j, "acceptance_condition", where);
    c.closing_condition = text_at(j, "closing_condition", where);
    const auto level_text = text_at(j, "level", where);
    const auto level = parse_handling_level(level_text);
    if (!level) invalid(where, "unknown level '" + level_text + "' (grid/网格, community/社区 or street/街道)");
    c.level = *level;
    const auto limits = j.find("limits");
    if (limits == j.end()) invalid(where, "'limits' is missing");
    parse_limits(*limits, c, where);
    c.duplicate_radius_m = Catalogue::default_duplicate_radius_m;
    if (const auto r = j.find("duplicate_radius_m"); r != j.end()) {
        if (!r->is_number() || !std::isfinite(r->get<double>()) || r->get<double>() <= 0)
            invalid(where, "'duplicate_radius_m' must be a positive number of metres");
        c.duplicate_radius_m = r->get<double>();
    }
    return c;
}

MajorCategory parse_major(const nlohmann::json& j, const std::string& where) {
    MajorCategory m;
    m.code = text_at(j, "code", where);
    m.name = text_at(j, "name", where);
    if (m.code.size() != 2 || !all_digits(m.code) || m.code == "00")
        invalid(where, "the code must be two digits, 01 to 99");
    const auto domain_text = text_at(j, "domain", where);
    const auto domain = parse_domain(domain_text);
    if (!domain) invalid(where, "unknown domain '" + domain_text + "' (event/事件 or community/社区事务)");
    m.domain = *domain;
    return m;
}

template <typename T>
const T* find_by_code(const std::vector<T>& sorted, std::string_view code) noexcept {
    const auto it = std::lower_bound(sorted.begin(), sorted.end(), code,
                                     [](const T& item, std::string_view c) { return item.code < c; });
    return it != sorted.end() && it->code == code ? &*it : nullptr;
}

} // namespace

std::string_view to_string(Domain d) noexcept { return d == Domain::event ? "event" : "community"; }

std::optional<Domain> parse_domain(std::string_view text) noexcept {
    if (text == "event" || text == "事件") return Domain::event;
    if (text == "community" || text == "社区事务") return Domain::community;
    return std::nullopt;
}

Catalogue Catalogue::load(const std::filesystem::path& path) {
    return detail::load_data_file<Catalogue>(path, "category catalogue", [](std::string_view text) { return parse(text); });
}

Catalogue Catalogue::parse(std::string_view json_text) {
    const nlohmann::json j = detail::parse_data_object(json_text, "invalid_categories", "categories");
    no_unknown_keys(j, {"version", "source", "classes"}, "top level");
    Catalogue cat;
    cat.m_version = text_at(j, "version", "top level");
    const auto classes = j.find("classes");
    if (classes == j.end() || !classes->is_array() || classes->empty())
        invalid("top level", "'classes' must be a non-empty array of 大类");

    for (std::size_t i = 0; i < classes->size(); ++i) {
        const auto& entry = (*classes)[i];
        if (!entry.is_object()) invalid("大类 #" + std::to_string(i + 1), "must be an object");
        const std::string where = label("大类", entry, i);
        no_unknown_keys(entry, {"code", "name", "domain", "subclasses"}, where);
        auto major = parse_major(entry, where);
        if (const auto* other = find_by_code(cat.m_majors, major.code))
            invalid(where, "the code " + major.code + " is already used by " + other->name);
        const auto subclasses = entry.find("subclasses");
        if (subclasses == entry.end() || !subclasses->is_array() || subclasses->empty())
            invalid(where, "'subclasses' must be a non-empty array of 小类");
        for (std::size_t k = 0; k < subclasses->size(); ++k) {
            const auto& sub = (*subclasses)[k];
            const std::string sub_where =
                (sub.is_object() ? label("小类", sub, k) : "小类 #" + std::to_string(k + 1)) + " under 大类 " + major.code;
            auto category = parse_category(sub, major, sub_where);
            if (const auto* other = find_by_code(cat.m_categories, category.code))
                invalid(sub_where, "the code " + category.code + " is already used by " + other->name);
            // Kept sorted as it grows, so duplicates are found by the same search as find().
            const auto at = std::upper_bound(cat.m_categories.begin(), cat.m_categories.end(), category.code,
                                             [](const std::string& c, const Category& x) { return c < x.code; });
            cat.m_categories.insert(at, std::move(category));
        }
        const auto at = std::upper_bound(cat.m_majors.begin(), cat.m_majors.end(), major.code,
                                         [](const std::string& c, const MajorCategory& x) { return c < x.code; });
        cat.m_majors.insert(at, std::move(major));
    }
    return cat;
}

const Category* Catalogue::find(std::string_view code) const noexcept { return find_by_code(m_categories, code); }

const MajorCategory* Catalogue::find_major(std::string_view code) const noexcept {
    return find_by_code(m_majors, code);
}

} // namespace wangge::incident

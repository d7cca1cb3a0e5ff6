#pragma once
// The catalogue of case categories (docs/INCIDENTS.md, "Categories"): 大类 (major classes) of
// two digits, each with its 小类 (minor classes) of four digits that begin with the 大类 code.
// A 小类 carries what the procedure needs: the 立案条件 (when a report is accepted as a case),
// the 结案条件 (when a case may be closed), the level that handles it, its time limit per
// urgency and the radius within which a new report is suspected to duplicate an open case.
// Limits differ by city, so the catalogue is data (data/categories.json) with a version.
#include "incident/calendar.hpp"
#include "incident/types.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::incident {

// 事件 (urban-management events, codes 01-05 in the shipped catalogue) or 社区事务 (community
// affairs handled by the grid, codes 11-16).
enum class Domain { event, community };
std::string_view to_string(Domain d) noexcept;
std::optional<Domain> parse_domain(std::string_view text) noexcept;

// 大类
struct MajorCategory {
    std::string code; // two digits, e.g. "01"
    std::string name; // e.g. 市容环境
    Domain domain = Domain::event;
};

// 小类
struct Category {
    std::string code;                 // four digits beginning with the 大类 code, e.g. "0101"
    std::string name;                 // e.g. 暴露垃圾
    std::string acceptance_condition; // 立案条件
    std::string closing_condition;    // 结案条件
    HandlingLevel level = HandlingLevel::grid;
    Limit normal_limit;  // 一般
    Limit urgent_limit;  // 紧急
    double duplicate_radius_m = 50.0;

    std::string_view major_code() const noexcept { return std::string_view(code).substr(0, 2); }
    const Limit& limit(Urgency u) const noexcept { return u == Urgency::urgent ? urgent_limit : normal_limit; }
};

class Catalogue {
public:
    static constexpr double default_duplicate_radius_m = 50.0;

    // Reads data/categories.json. Throws Error(io, "unreadable_file") when the file cannot be
    // read and Error(unprocessable, "invalid_categories") naming the wrong entry when it is
    // invalid: a code of the wrong shape, a 小类 not under its 大类, a duplicate code, an unknown
    // unit or level, a missing or non-positive limit, an unknown key.
    static Catalogue load(const std::filesystem::path& path);
    static Catalogue parse(std::string_view json_text);

    const std::string& version() const noexcept { return m_version; }
    // 小类 by code; nullptr when unknown. The pointer lives as long as the catalogue.
    const Category* find(std::string_view code) const noexcept;
    const MajorCategory* find_major(std::string_view code) const noexcept;
    // Sorted by code.
    const std::vector<Category>& all() const noexcept { return m_categories; }
    const std::vector<MajorCategory>& majors() const noexcept { return m_majors; }

private:
    std::string m_version;
    std::vector<MajorCategory> m_majors;
    std::vector<Category> m_categories;
};

} // namespace wangge::incident

#include "grid/estimate.hpp"

#include "core/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace wangge::grid {

std::string_view to_string(LevelsSource s) noexcept {
    switch (s) {
    case LevelsSource::tag: return "tag";
    case LevelsSource::height: return "height";
    case LevelsSource::use_default: return "use_default";
    case LevelsSource::fallback: return "fallback";
    }
    return "fallback";
}

EstimatorConfig EstimatorConfig::defaults() {
    EstimatorConfig c;
    c.default_levels_by_use = {{"apartments", 6}, {"residential", 6}, {"dormitory", 5}, {"house", 2},
                               {"detached", 2},   {"terrace", 3},     {"yes", 3}};
    // The same lists as data/estimator.json (a test checks that they agree).
    c.non_residential_uses = {"school", "university", "college", "kindergarten", "hospital", "clinic",
                              "commercial", "retail", "office", "industrial", "warehouse", "government",
                              "public", "civic", "church", "temple", "mosque", "religious",
                              "train_station", "transportation", "garage", "garages", "parking", "hotel",
                              "supermarket", "service", "shed", "roof", "construction", "sports_centre",
                              "stadium", "museum", "library", "kiosk", "toilets", "sports_hall",
                              "grandstand", "pavilion", "theatre", "cinema", "exhibition_hall", "fire_station",
                              "police", "courthouse", "townhall", "mall", "gymnasium", "arena",
                              "bus_station", "railway_station", "station"};
    c.non_residential_name_keywords = {"大厦", "中心", "广场", "酒店", "宾馆", "饭店", "银行", "商场", "商厦", "医院",
                              "学校", "大学", "学院", "中学", "小学", "幼儿园", "政府", "写字楼", "办公楼", "图书馆",
                              "博物馆", "美术馆", "展览馆", "纪念馆", "科技馆", "体育馆", "体育场", "体育中心", "游泳馆", "剧院",
                              "剧场", "影院", "电影院", "音乐厅", "会堂", "礼堂", "会展", "车站", "火车站", "汽车站",
                              "地铁站", "机场", "航站楼", "商城", "购物中心", "百货", "市场", "派出所", "消防", "法院",
                              "检察院"};
    return c;
}

EstimatorConfig EstimatorConfig::load(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in)
        throw Error(ErrorKind::io, "unreadable_file", "cannot read estimator configuration " + path.string());
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::bad_request, "invalid_config", path.string() + ": " + e.what());
    }
    EstimatorConfig c = defaults();
    auto positive = [&](const char* key, double v) {
        if (!(v > 0))
            throw Error(ErrorKind::bad_request, "invalid_config",
                        path.string() + ": '" + key + "' must be positive");
        return v;
    };
    try {
        for (auto& [key, value] : j.items()) {
            if (key == "usable_ratio") c.usable_ratio = positive("usable_ratio", value.get<double>());
            else if (key == "dwelling_m2") c.dwelling_m2 = positive("dwelling_m2", value.get<double>());
            else if (key == "storey_height_m") c.storey_height_m = positive("storey_height_m", value.get<double>());
            else if (key == "min_footprint_m2") c.min_footprint_m2 = value.get<double>();
            else if (key == "default_levels") c.default_levels = static_cast<int>(positive("default_levels", value.get<int>()));
            else if (key == "max_levels") c.max_levels = static_cast<int>(positive("max_levels", value.get<int>()));
            else if (key == "default_levels_by_use") {
                c.default_levels_by_use.clear();
                for (auto& [use, levels] : value.items()) c.default_levels_by_use[use] = levels.get<int>();
            } else if (key == "non_residential_name_keywords") {
                c.non_residential_name_keywords = value.get<std::vector<std::string>>();
            } else if (key == "non_residential_uses") {
                c.non_residential_uses.clear();
                for (auto& use : value) c.non_residential_uses.insert(use.get<std::string>());
            } else if (key.empty() || key[0] != '_') { // keys starting with '_' are comments
                throw Error(ErrorKind::bad_request, "invalid_config",
                            path.string() + ": unknown key '" + key + "'");
            }
        }
    } catch (const nlohmann::json::exception& e) {
        throw Error(ErrorKind::bad_request, "invalid_config", path.string() + ": " + e.what());
    }
    if (c.usable_ratio > 1.0)
        throw Error(ErrorKind::bad_request, "invalid_config", path.string() + ": 'usable_ratio' must be at most 1");
    return c;
}

HouseholdEstimate estimate_households(const EstimatorConfig& config, double footprint_m2,
                                      std::string_view use, std::optional<int> levels,
                                      std::optional<double> height_m, std::string_view name) {
    HouseholdEstimate e;
    if (levels && *levels > 0) {
        e.levels = *levels;
        e.levels_source = LevelsSource::tag;
    } else if (height_m && *height_m > 0) {
        e.levels = std::max(1, static_cast<int>(std::lround(*height_m / config.storey_height_m)));
        e.levels_source = LevelsSource::height;
    } else if (auto it = config.default_levels_by_use.find(use); it != config.default_levels_by_use.end()) {
        e.levels = it->second;
        e.levels_source = LevelsSource::use_default;
    } else {
        e.levels = config.default_levels;
        e.levels_source = LevelsSource::fallback;
    }
    e.levels = std::min(e.levels, config.max_levels);
    e.residential = !config.non_residential_uses.contains(use);
    for (const auto& keyword : config.non_residential_name_keywords)
        if (!keyword.empty() && name.find(keyword) != std::string_view::npos) e.residential = false;
    if (!e.residential || footprint_m2 < config.min_footprint_m2) return e;
    double h = footprint_m2 * e.levels * config.usable_ratio / config.dwelling_m2;
    e.households = static_cast<int>(std::lround(h));
    return e;
}

} // namespace wangge::grid

#pragma once
// Chinese names for the demo district. A pool hands out bare names (翠湖, 中山, 锦绣) that the
// caller completes with the suffix of what it names (社区, 大道, 花园), never the same one twice.
#include "demo/rng.hpp"

#include <string>
#include <vector>

namespace wangge::demo::detail {

enum class NameStock {
    place,    // two-character place names for streets and communities: 东山, 翠湖, 龙门
    road,     // road names: 中山, 建设, 汉中, then place names
    compound, // residential compound names: 锦绣, 金陵, 翠苑
};

class NamePool {
public:
    NamePool(NameStock stock, Rng& rng);

    // A name not handed out before by this pool. Once the stock runs out the names come round
    // again with a prefix (新, 东, ...) and then a number, so any district size is served.
    std::string next();

private:
    std::vector<std::string> m_bases;
    std::size_t m_next = 0;
};

} // namespace wangge::demo::detail

#include "demo/names.hpp"

#include <array>
#include <string_view>

namespace wangge::demo::detail {

namespace {

// Characters are listed as UTF-8 strings and split into code points, which keeps the lists
// readable as Chinese text.
std::vector<std::string> code_points(std::string_view text) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < text.size();) {
        auto lead = static_cast<unsigned char>(text[i]);
        std::size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
        out.emplace_back(text.substr(i, len));
        i += len;
    }
    return out;
}

std::vector<std::string> pairs(std::string_view first, std::string_view second, Rng& rng) {
    std::vector<std::string> out;
    for (const auto& a : code_points(first))
        for (const auto& b : code_points(second))
            if (a != b) out.push_back(a + b);
    rng.shuffle(out);
    return out;
}

std::vector<std::string> words(std::initializer_list<std::string_view> list, Rng& rng) {
    std::vector<std::string> out(list.begin(), list.end());
    rng.shuffle(out);
    return out;
}

constexpr std::string_view place_first =
    "东西南北中新长安和平兴华光明春阳江湖山河龙凤金银锦翠瑞祥福康宁泰丰裕盛德仁文武清";
constexpr std::string_view place_second = "山湖桥门园林港湾坊里庄塘营岗洲关亭台泉溪峰岭滩苑城浦井村坝圩";
constexpr std::string_view compound_first = "翠锦金银华碧紫绿青丽雅馨怡悦康泰御景瑞嘉";
constexpr std::string_view compound_second = "苑庭府湾郡轩居城岸林洲阁";

std::vector<std::string> stock_of(NameStock stock, Rng& rng) {
    std::vector<std::string> out;
    std::vector<std::string> tail = pairs(place_first, place_second, rng);
    switch (stock) {
    case NameStock::place:
        return tail;
    case NameStock::road:
        out = words({"中山", "建设", "解放", "人民", "和平", "胜利", "长江", "黄河", "汉中", "北京",
                     "上海", "广州", "江东", "龙蟠", "虎踞", "秦淮", "云南", "湖南", "珠江", "太平",
                     "中华", "建邺", "集庆", "应天", "江宁", "金陵", "新华", "友谊", "文化", "学府",
                     "科技", "创业", "兴业", "振兴", "复兴", "光明", "团结", "东风", "红旗", "迎宾",
                     "滨江", "环湖", "青年", "工农", "育才", "丰收", "幸福", "健康", "安德", "瑞金"},
                    rng);
        break;
    case NameStock::compound:
        out = words({"锦绣", "金陵", "翠苑", "龙江", "清凉", "华侨", "银城", "月牙", "碧水", "紫金",
                     "阳光", "绿洲", "书香", "康乐", "幸福", "和谐", "明珠", "东方", "天润", "怡景",
                     "雅居", "丽景", "南湖", "莫愁", "凤凰", "朝天", "五福", "瑞金", "苜蓿", "梅园"},
                    rng);
        tail = pairs(compound_first, compound_second, rng);
        break;
    }
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

} // namespace

NamePool::NamePool(NameStock stock, Rng& rng) : m_bases(stock_of(stock, rng)) {}

std::string NamePool::next() {
    static constexpr std::array<std::string_view, 10> prefixes{"新", "东", "西", "南", "北",
                                                               "上", "下", "前", "后", "大"};
    std::size_t round = m_next / m_bases.size();
    const std::string& base = m_bases[m_next % m_bases.size()];
    ++m_next;
    if (round == 0) return base;
    if (round <= prefixes.size()) return std::string(prefixes[round - 1]) + base;
    return base + std::to_string(round - prefixes.size() + 1);
}

} // namespace wangge::demo::detail

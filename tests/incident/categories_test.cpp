// The category catalogue: the shipped file loads and is complete; malformed catalogues are
// refused with messages that name the wrong entry.
#include "incident/categories.hpp"

#include "core/error.hpp"
#include "support/test_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

using namespace wangge;
using namespace wangge::incident;
using Catch::Matchers::Contains;

namespace {

const Catalogue& shipped() {
    static const Catalogue c = Catalogue::load(test::data_dir / "categories.json");
    return c;
}

// A valid catalogue of one 大类 with two 小类, to be broken one way at a time.
nlohmann::json small_catalogue() {
    return nlohmann::json::parse(R"({
      "version": "test-1",
      "classes": [
        {"code": "01", "name": "市容环境", "domain": "event", "subclasses": [
          {"code": "0101", "name": "暴露垃圾", "acceptance_condition": "有暴露垃圾", "closing_condition": "垃圾清除",
           "level": "grid",
           "limits": {"normal": {"amount": 2, "unit": "working_hours"}, "urgent": {"amount": 1, "unit": "working_hours"}}},
          {"code": "0102", "name": "积存垃圾渣土", "acceptance_condition": "积存1立方米以上", "closing_condition": "清运完毕",
           "level": "社区", "duplicate_radius_m": 80,
           "limits": {"一般": {"amount": 1, "unit": "working_days"}, "紧急": {"amount": 4, "unit": "工作时"}}}
        ]},
        {"code": "11", "name": "民政", "domain": "社区事务", "subclasses": [
          {"code": "1101", "name": "困难群众救助", "acceptance_condition": "生活困难", "closing_condition": "已受理",
           "level": "community",
           "limits": {"normal": {"amount": 5, "unit": "working_days"}, "urgent": {"amount": 1, "unit": "working_days"}}}
        ]}
      ]
    })");
}

nlohmann::json& subclass(nlohmann::json& j, std::size_t major, std::size_t minor) {
    return j["classes"][major]["subclasses"][minor];
}

std::string refusal(const nlohmann::json& j) {
    try {
        Catalogue::parse(j.dump());
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::unprocessable);
        CHECK(e.code() == "invalid_categories");
        return e.what();
    }
    FAIL("accepted: " << j.dump());
    return {};
}

} // namespace

TEST_CASE("categories: the shipped catalogue loads and every 小类 has both limits", "[incident][categories]") {
    const auto& c = shipped();
    CHECK_FALSE(c.version().empty());
    REQUIRE(c.all().size() >= 40);
    CHECK(std::is_sorted(c.all().begin(), c.all().end(),
                         [](const Category& a, const Category& b) { return a.code < b.code; }));
    for (const auto& cat : c.all()) {
        INFO(cat.code << " " << cat.name);
        CHECK(cat.normal_limit.amount > 0);
        CHECK(cat.urgent_limit.amount > 0);
        CHECK_FALSE(cat.acceptance_condition.empty());
        CHECK_FALSE(cat.closing_condition.empty());
        CHECK(cat.duplicate_radius_m > 0);
        REQUIRE(c.find_major(cat.major_code()) != nullptr);
        CHECK(c.find(cat.code) == &cat);
    }
    // The five event classes and the six community-affairs classes.
    for (const auto* code : {"01", "02", "03", "04", "05"}) {
        INFO(code);
        REQUIRE(c.find_major(code));
        CHECK(c.find_major(code)->domain == Domain::event);
    }
    for (const auto* code : {"11", "12", "13", "14", "15", "16"}) {
        INFO(code);
        REQUIRE(c.find_major(code));
        CHECK(c.find_major(code)->domain == Domain::community);
    }
    CHECK(c.find_major("01")->name == "市容环境");
    CHECK(c.find_major("04")->name == "街面秩序");
    CHECK(c.find_major("05")->name == "突发事件");
    CHECK(c.find_major("15")->name == "矛盾纠纷");

    const auto* garbage = c.find("0101");
    REQUIRE(garbage);
    CHECK(garbage->name == "暴露垃圾");
    CHECK(garbage->duplicate_radius_m == Catalogue::default_duplicate_radius_m);
    REQUIRE(c.find("0201"));
    CHECK(c.find("0201")->name == "违章张贴小广告");
    REQUIRE(c.find("0403"));
    CHECK(c.find("0403")->name == "机动车乱停放");
    REQUIRE(c.find("0502"));
    CHECK(c.find("0502")->name == "井盖缺失");
    CHECK(c.find("0100") == nullptr);
    CHECK(c.find("9999") == nullptr);
    CHECK(c.find("01") == nullptr);
}

TEST_CASE("categories: a 小类 carries its conditions, level, limits and radius", "[incident][categories]") {
    const auto c = Catalogue::parse(small_catalogue().dump());
    CHECK(c.version() == "test-1");
    REQUIRE(c.all().size() == 3);
    const auto* heap = c.find("0102");
    REQUIRE(heap);
    CHECK(heap->major_code() == "01");
    CHECK(heap->acceptance_condition == "积存1立方米以上");
    CHECK(heap->closing_condition == "清运完毕");
    CHECK(heap->level == HandlingLevel::community);
    CHECK(heap->limit(Urgency::normal) == Limit{1, LimitUnit::working_days});
    CHECK(heap->limit(Urgency::urgent) == Limit{4, LimitUnit::working_hours});
    CHECK(heap->duplicate_radius_m == 80.0);
    CHECK(c.find("0101")->duplicate_radius_m == 50.0);
    CHECK(c.find_major("11")->domain == Domain::community);
}

TEST_CASE("categories: a limit from the catalogue gives a due time on the calendar", "[incident][categories]") {
    const auto calendar = Calendar::load(test::data_dir / "calendar.json");
    const auto* garbage = shipped().find("0101");
    REQUIRE(garbage);
    REQUIRE(garbage->limit(Urgency::urgent) == Limit{1, LimitUnit::working_hours});
    // Reported on Friday 3 April 2026 at 17:00 China time, before 清明: half an hour on Friday,
    // half an hour on Tuesday 7 April.
    const auto reported = *parse_utc("2026-04-03T09:00:00Z");
    CHECK(format_utc(calendar.add_working(reported, garbage->limit(Urgency::urgent))) == "2026-04-07T01:00:00Z");
}

TEST_CASE("categories: malformed catalogues are refused with the entry named", "[incident][categories]") {
    CHECK_THROWS_AS(Catalogue::load(test::data_dir / "no-such-categories.json"), Error);
    CHECK_THAT(refusal(nlohmann::json::array()), Contains("top level"));

    SECTION("no version") {
        auto j = small_catalogue();
        j.erase("version");
        CHECK_THAT(refusal(j), Contains("'version' is missing"));
    }
    SECTION("a 大类 code that is not two digits") {
        auto j = small_catalogue();
        j["classes"][1]["code"] = "1A";
        CHECK_THAT(refusal(j), Contains("大类 '1A' (民政): the code must be two digits"));
    }
    SECTION("a 小类 code that is not four digits") {
        auto j = small_catalogue();
        subclass(j, 0, 1)["code"] = "012";
        CHECK_THAT(refusal(j), Contains("小类 '012' (积存垃圾渣土) under 大类 01: the code must be four digits"));
    }
    SECTION("a 小类 code ending in 00") {
        auto j = small_catalogue();
        subclass(j, 0, 1)["code"] = "0100";
        CHECK_THAT(refusal(j), Contains("小类 '0100' (积存垃圾渣土) under 大类 01: the last two digits"));
    }
    SECTION("a 小类 not under its 大类") {
        auto j = small_catalogue();
        subclass(j, 0, 1)["code"] = "0201";
        CHECK_THAT(refusal(j),
                   Contains("小类 '0201' (积存垃圾渣土) under 大类 01: the code must begin with its 大类 code 01"));
    }
    SECTION("an unknown unit") {
        auto j = small_catalogue();
        subclass(j, 0, 0)["limits"]["urgent"]["unit"] = "weeks";
        CHECK_THAT(refusal(j), Contains("小类 '0101' (暴露垃圾) under 大类 01: the urgent limit has an unknown unit "
                                        "\"weeks\""));
    }
    SECTION("a missing 紧急 limit") {
        auto j = small_catalogue();
        subclass(j, 0, 1)["limits"].erase("紧急");
        CHECK_THAT(refusal(j), Contains("小类 '0102' (积存垃圾渣土) under 大类 01: the 紧急 (urgent) limit is missing"));
    }
    SECTION("a limit given twice, in English and Chinese") {
        auto j = small_catalogue();
        subclass(j, 0, 1)["limits"]["urgent"] = {{"amount", 2}, {"unit", "working_hours"}};
        CHECK_THAT(refusal(j), Contains("小类 '0102' (积存垃圾渣土) under 大类 01: 'limits' gives the urgent limit twice"));
    }
    SECTION("an amount that is not a positive whole number") {
        auto j = small_catalogue();
        subclass(j, 1, 0)["limits"]["normal"]["amount"] = 0;
        CHECK_THAT(refusal(j), Contains("小类 '1101' (困难群众救助) under 大类 11: the normal limit has amount 0"));
        subclass(j, 1, 0)["limits"]["normal"]["amount"] = 1.5;
        CHECK_THAT(refusal(j), Contains("小类 '1101' (困难群众救助) under 大类 11: the normal limit has amount 1.5"));
    }
    SECTION("a duplicate 小类 code") {
        auto j = small_catalogue();
        subclass(j, 0, 1)["code"] = "0101";
        CHECK_THAT(refusal(j),
                   Contains("小类 '0101' (积存垃圾渣土) under 大类 01: the code 0101 is already used by 暴露垃圾"));
    }
    SECTION("a duplicate 大类 code") {
        auto j = small_catalogue();
        j["classes"][1]["code"] = "01";
        j["classes"][1]["subclasses"][0]["code"] = "0103";
        CHECK_THAT(refusal(j), Contains("大类 '01' (民政): the code 01 is already used by 市容环境"));
    }
    SECTION("an unknown level, domain or key") {
        auto j = small_catalogue();
        subclass(j, 0, 0)["level"] = "district";
        CHECK_THAT(refusal(j), Contains("小类 '0101' (暴露垃圾) under 大类 01: unknown level 'district'"));
        j = small_catalogue();
        j["classes"][0]["domain"] = "parts";
        CHECK_THAT(refusal(j), Contains("大类 '01' (市容环境): unknown domain 'parts'"));
        j = small_catalogue();
        subclass(j, 0, 0)["radius"] = 30;
        CHECK_THAT(refusal(j), Contains("小类 '0101' (暴露垃圾) under 大类 01: unknown key 'radius'"));
    }
    SECTION("a missing condition or radius that is not positive") {
        auto j = small_catalogue();
        subclass(j, 0, 0).erase("closing_condition");
        CHECK_THAT(refusal(j), Contains("小类 '0101' (暴露垃圾) under 大类 01: 'closing_condition' is missing"));
        j = small_catalogue();
        subclass(j, 0, 0)["duplicate_radius_m"] = -5;
        CHECK_THAT(refusal(j), Contains("小类 '0101' (暴露垃圾) under 大类 01: 'duplicate_radius_m' must be a positive number"));
    }
}

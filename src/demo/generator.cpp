#include "demo/generator.hpp"

#include "core/error.hpp"
#include "demo/district.hpp"

#include <algorithm>
#include <cmath>

namespace wangge::demo {

namespace {

void validate(const DemoOptions& o) {
    auto invalid = [](const std::string& message) {
        throw Error(ErrorKind::bad_request, "invalid_option", message);
    };
    if (o.households < detail::min_district_households || o.households > detail::max_district_households)
        invalid("households must be between 5,000 and 20,000,000, got " + std::to_string(o.households));
    bool six_digits =
        o.district_code.size() == 6 && std::all_of(o.district_code.begin(), o.district_code.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
    if (!six_digits)
        invalid("district_code must be a 6-digit county-level code such as 320199, got '" + o.district_code +
                "'");
    if (o.district_name.empty()) invalid("district_name must not be empty");
    // The district reaches up to ~60 km north and east of its origin, on a local flat frame.
    bool origin_ok = std::isfinite(o.origin.lon) && std::isfinite(o.origin.lat) &&
                     std::abs(o.origin.lat) <= 80.0 && o.origin.lon >= -180.0 && o.origin.lon <= 179.0;
    if (!origin_ok)
        invalid("origin must be a WGS84 point with longitude in [-180, 179] and latitude in [-80, 80]");
    if (o.years_later < 0 || o.years_later > detail::max_years_later)
        invalid("years_later must be between 0 and 20, got " + std::to_string(o.years_later));
}

} // namespace

DemoDistrict generate_demo(const DemoOptions& options, const Progress& progress) {
    validate(options);
    return detail::DistrictBuilder(options, progress).build();
}

} // namespace wangge::demo

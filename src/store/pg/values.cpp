#include "store/pg/values.hpp"

#include "core/error.hpp"

#include <charconv>

namespace wangge::store::pg {

std::string text_of(std::int64_t v) { return std::to_string(v); }

std::string text_of(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    if (ec != std::errc()) throw Error(ErrorKind::internal, "database", "cannot write a number for PostgreSQL");
    return std::string(buf, end);
}

std::optional<std::string> text_of(const std::optional<std::int64_t>& v) {
    return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
}

std::optional<std::string> text_of(const std::optional<int>& v) {
    return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
}

std::optional<std::string> text_of(const std::optional<double>& v) {
    return v ? std::optional<std::string>(text_of(*v)) : std::nullopt;
}

std::optional<std::string> optional_text(const PgResult& r, int row, int col) {
    if (r.is_null(row, col)) return std::nullopt;
    return std::string(r.text(row, col));
}

std::string hex(const std::vector<unsigned char>& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 0xf];
    }
    return out;
}

std::string multi_polygon_hex(const geo::Geometry& g, const std::string& what) {
    if (!g.is_polygonal() || g.is_empty())
        throw Error(ErrorKind::unprocessable, "invalid_geometry",
                    what + " must be a non-empty Polygon or MultiPolygon, not " + g.type_name());
    return hex(geo::to_wkb(geo::to_multi_polygon(g)));
}

} // namespace wangge::store::pg

#pragma once
// Values between the PostgreSQL store's rows and libpq's text parameters and results, shared by
// store/pg/*.cpp: numbers written so that they read back the same, NULLs, hex for bytea, and a
// boundary as the MultiPolygon WKB both stores keep.
#include "geo/geometry.hpp"
#include "store/pg/connection.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wangge::store::pg {

std::string text_of(std::int64_t v);
// The shortest form that reads back to the same double (std::to_chars).
std::string text_of(double v);
std::optional<std::string> text_of(const std::optional<std::int64_t>& v);
std::optional<std::string> text_of(const std::optional<int>& v);
std::optional<std::string> text_of(const std::optional<double>& v);

// A column's text, or nullopt for NULL.
std::optional<std::string> optional_text(const PgResult& r, int row, int col);

// Lower-case hex of bytes (for decode($n, 'hex') and ST_GeomFromWKB).
std::string hex(const std::vector<unsigned char>& bytes);

// A boundary as the SQLite store takes it: a non-empty Polygon or MultiPolygon, stored as a
// MultiPolygon, in hex WKB. Throws Error(unprocessable, "invalid_geometry") naming `what`.
std::string multi_polygon_hex(const geo::Geometry& g, const std::string& what);

} // namespace wangge::store::pg

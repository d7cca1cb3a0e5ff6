#pragma once
// One source feature on its way into the store, and the exception that turns it away.
#include "core/error.hpp"
#include "geo/geometry.hpp"
#include "ingest/fields.hpp"

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>

namespace wangge::ingest::detail {

// A feature that cannot be used. Strict targets (the hierarchy) fail the whole import with it,
// naming the feature; lenient ones (buildings, roads) skip the feature and list it in the report.
class Rejected : public std::runtime_error {
public:
    Rejected(std::string code, const std::string& reason, ErrorKind kind = ErrorKind::unprocessable)
        : std::runtime_error(reason), m_code(std::move(code)), m_kind(kind) {}

    const std::string& code() const noexcept { return m_code; }
    ErrorKind kind() const noexcept { return m_kind; }

private:
    std::string m_code;
    ErrorKind m_kind;
};

struct Feature {
    std::size_t index = 0;             // position in the layer
    std::string id;                    // its code or source id, for messages; may be empty
    Record record;                     // its values by Wangge field name
    std::optional<geo::Geometry> geom; // WGS84; nullopt when the feature has no geometry
};

} // namespace wangge::ingest::detail

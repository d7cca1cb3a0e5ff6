#pragma once
// multipart/form-data bodies (RFC 7578): a report or a workflow step with its photos, and
// Open311 requests with a photo (docs/INCIDENTS.md, "Photos"; docs/OPEN311.md).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::api {

struct FormPart {
    std::string name;         // of Content-Disposition: form-data; name="..."
    std::string filename;     // "" for a plain field
    std::string content_type; // as sent, "" when absent
    std::string_view body;    // a view into the request body
};

// The parts of `body`, sent with Content-Type `content_type` (whose boundary parameter is used).
// Throws Error(bad_request, "invalid_multipart") for a body that is not well-formed or that has
// more than `max_parts` parts.
std::vector<FormPart> parse_multipart(std::string_view content_type, std::string_view body, std::size_t max_parts);

} // namespace wangge::api

#pragma once
// One family of endpoints (REST, OGC API - Features, tiles, static files). The Service asks each
// family in turn; a family answers the paths it owns and returns nullopt for the others.
// Families throw wangge::Error for bad input; the Service turns it into the JSON envelope.
#include "api/message.hpp"
#include "grid/snapshot.hpp"

#include <optional>

namespace wangge::api {

class Endpoints {
public:
    virtual ~Endpoints() = default;
    virtual std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const = 0;
};

// Throws Error(method_not_allowed) unless the request is a GET or HEAD.
void require_read(const Request& req);

} // namespace wangge::api

#include "api/service.hpp"

#include <spdlog/spdlog.h>

namespace wangge::api {

void require_read(const Request& req) {
    if (req.method != "GET" && req.method != "HEAD")
        throw Error(ErrorKind::method_not_allowed, "method_not_allowed",
                    req.method + " is not allowed on " + req.path + "; use GET");
}

Service::Service(std::shared_ptr<grid::SnapshotHolder> snapshots, std::vector<std::shared_ptr<const Endpoints>> families)
    : m_snapshots(std::move(snapshots)), m_families(std::move(families)) {}

Response Service::handle(const Request& req) const {
    try {
        std::shared_ptr<const grid::Snapshot> snapshot = m_snapshots->get();
        for (const auto& family : m_families)
            if (auto response = family->handle(req, *snapshot)) return std::move(*response);
        throw Error(ErrorKind::not_found, "not_found", "no resource at " + req.path);
    } catch (const Error& e) {
        Response r = error_response(e);
        if (e.kind() == ErrorKind::method_not_allowed) r.set_header("Allow", "GET, HEAD");
        if (e.kind() == ErrorKind::unavailable) r.set_header("Retry-After", "1");
        if (e.kind() == ErrorKind::unauthorized) r.set_header("WWW-Authenticate", "Bearer");
        return r;
    } catch (const std::exception& e) {
        // The detail (SQL, paths, GEOS messages) goes to the log, not to the client.
        spdlog::error("{} {}: {}", req.method, req.target, e.what());
        return error_response(500, "internal", "internal error; the server log has the details");
    }
}

} // namespace wangge::api

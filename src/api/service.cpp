#include "api/service.hpp"

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
    } catch (...) {
        return error_response(std::current_exception(), req.method + " " + req.target);
    }
}

} // namespace wangge::api

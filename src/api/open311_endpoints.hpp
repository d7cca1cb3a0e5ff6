#pragma once
// Open311 GeoReport v2 at /open311/v2 (docs/OPEN311.md), for clients such as FixMyStreet:
//   GET  services.{json,xml}                the catalogue's 小类 as services
//   GET  services/{code}.{json,xml}         a service definition (no attributes)
//   POST requests.{json,xml}                a form-encoded report, filed as POST /api/v1/incidents
//                                           files it (incident endpoints' file_incident)
//   GET  requests.{json,xml}                cases by id, service, date and open/closed status
//   GET  requests/{id}.{json,xml}           one case
//   GET  tokens/{id}.{json,xml}             the case a token names: filing is synchronous, so a
//                                           token is the service_request_id itself
//   GET  servicerequestupdates.{json,xml}   the workflow's events as updates
// The Service has authenticated api_key (a bearer token) and run the access check on the route
// (route_of_open311); failures leave as Open311 error lists (open311_format.hpp).
#include "api/endpoints.hpp"
#include "store/group_commit.hpp"
#include "api/incident_endpoints.hpp"
#include "api/writer.hpp"

#include <memory>

namespace wangge::api {

class Open311Endpoints final : public Endpoints {
public:
    // `options.catalogue` must be set: it is the list of services.
    Open311Endpoints(std::shared_ptr<store::GroupCommit> commits, std::shared_ptr<Writer> reads, IncidentOptions options);

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    Response services(bool xml) const;
    Response service_definition(std::string_view code, bool xml) const;
    Response file(const Request& req, const grid::Snapshot& snapshot, bool xml) const;
    Response requests(const Request& req, bool xml) const;
    Response one(const Request& req, bool xml) const;
    Response token(const Request& req, bool xml) const;
    Response updates(const Request& req, bool xml) const;

    std::shared_ptr<store::GroupCommit> m_commits;
    std::shared_ptr<Writer> m_reads;
    IncidentOptions m_options;
};

} // namespace wangge::api

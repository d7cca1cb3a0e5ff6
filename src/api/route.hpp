#pragma once
// A request's route, parsed once from its method, path and query when the request is made
// (make_request): which class of resource it reaches, the methods that resource answers, the
// areas it names and, for a write, the action the audit log records. The access check decides on
// it before any endpoint family runs, and families read the area code from it instead of taking
// the path apart again.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::api {

// What the access check decides by (docs/SECURITY.md has the table).
enum class Access {
    open,         // the web map's files, /healthz, signing in and out: everyone
    map,          // streets, communities, grids, buildings as GeoJSON
    tiles,        // vector and rendered tiles, TileJSON
    ogc,          // OGC API - Features
    locate,       // which grid a point is in
    validate,     // the validation report
    history,      // a community's recorded grid changes: signed in, within scope
    change_grids, // rebalance proposals, apply, undo: admin, street or community staff in scope
    audit,        // the audit log: admins
    report_incident, // filing a report: anyone signed in
    incidents,       // reading cases: signed in, within scope (the case's areas, or code=)
    handle_incident, // a step of a case's workflow: signed in, within scope; the workflow says who may
    incident_tiles,  // the incidents layer of the map: signed in; each case in it filtered by may_see_cases
    grid_workers,    // a grid's workers: signed in, a scope covering the grid (as for its cases)
    metrics,         // GET /metrics, the server's own figures: admins (as the audit log)
};
std::string_view to_string(Access access) noexcept;

// How a failure on the route is told: the JSON envelope {"code", "message"}, or an Open311 error
// list (docs/OPEN311.md) in JSON or XML.
enum class ErrorShape { envelope, open311_json, open311_xml };

struct Route {
    Access access = Access::open;
    std::string allow = "GET, HEAD"; // the methods this resource answers
    std::string code;                // the area the path names ("" when none)
    std::vector<std::string> codes;  // every area the request names (path, parent=)
    std::string action;              // what a write does, for the audit log ("rebalance.apply")
    bool unsafe = false;             // the method may change something (not GET, HEAD, OPTIONS)
    std::int64_t incident_id = 0;    // the case the path names (its areas are looked up before the check)
    // A write may send an application/x-www-form-urlencoded body instead of JSON: only Open311's
    // POST /open311/v2/requests, whose clients post forms (and must still present an api_key).
    bool accepts_form = false;
    // A write may send multipart/form-data with photos (docs/INCIDENTS.md, "Photos"): filing a
    // report, a step of the workflow, Open311's POST requests.
    bool accepts_photos = false;
    // The credential may come as the parameter api_key (query or form) instead of Authorization.
    bool takes_api_key = false;
    ErrorShape errors = ErrorShape::envelope;

    bool allows(std::string_view method) const;
};

// `parent_param` and `code_param` are the values of the query parameters parent= and code= ("" when
// absent); on /open311/v2 paths `code_param` is jurisdiction_id=.
Route parse_route(std::string_view method, std::string_view path, std::string_view parent_param,
                  std::string_view code_param = {});

} // namespace wangge::api

#include "api/incident_map_endpoints.hpp"

#include "api/access.hpp"
#include "api/phones.hpp"
#include "api/tile_endpoints.hpp"
#include "core/codes.hpp"
#include "incident/types.hpp"
#include "tiles/compress.hpp"
#include "tiles/vector_tiles.hpp"

#include <nlohmann/json.hpp>

#include <unordered_map>

namespace wangge::api {

namespace {

constexpr std::string_view tile_prefix = "/tiles/incidents/";
constexpr std::string_view grids_prefix = "/api/v1/grids/";

tiles::IncidentLight light_of(const store::IncidentRow& r, const incident::Calendar& calendar, SystemTime now) {
    const auto state = incident::parse_state(r.state);
    if (!state || !incident::is_open(*state)) return tiles::IncidentLight::none;
    const auto reported = parse_utc(r.reported_at), due = parse_utc(r.due_at);
    if (!reported || !due) return tiles::IncidentLight::none;
    switch (calendar.light(*reported, *due, now)) {
    case incident::Light::green: return tiles::IncidentLight::green;
    case incident::Light::yellow: return tiles::IncidentLight::yellow;
    case incident::Light::red: return tiles::IncidentLight::red;
    }
    return tiles::IncidentLight::none;
}

bool closed_param(const Request& req) {
    const auto closed = req.param("closed");
    if (!closed) return false;
    if (*closed != "true" && *closed != "false")
        throw Error(ErrorKind::bad_request, "invalid_parameter", "closed is true or false");
    return *closed == "true";
}

} // namespace

IncidentMapEndpoints::IncidentMapEndpoints(std::shared_ptr<Writer> reads, IncidentOptions incidents,
                                           tiles::IncidentTileOptions tiles)
    : m_reads(std::move(reads)), m_incidents(std::move(incidents)), m_tiles(tiles) {}

std::optional<Response> IncidentMapEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    const std::string_view path = req.path;
    if (req.route.access == Access::incident_tiles && path.starts_with(tile_prefix)) {
        const std::string_view rest = path.substr(tile_prefix.size());
        const auto parts = rest.ends_with(".mvt") ? split_exactly<3>(rest.substr(0, rest.size() - 4)) : std::nullopt;
        if (!parts)
            throw Error(ErrorKind::bad_request, "invalid_tile",
                        "an incidents tile is /tiles/incidents/{z}/{x}/{y}.mvt, got " + req.path);
        require_read(req);
        const tiles::TileId id = tiles::parse_tile((*parts)[0], (*parts)[1], (*parts)[2]);
        if (id.z > tiles::vector_max_zoom)
            throw Error(ErrorKind::bad_request, "invalid_tile",
                        "zoom " + std::to_string(id.z) + " is above " + std::to_string(tiles::vector_max_zoom));
        return tile(req, id);
    }
    if (req.route.access == Access::grid_workers && path.starts_with(grids_prefix)) {
        require_read(req);
        return workers(req, snapshot);
    }
    return std::nullopt;
}

Response IncidentMapEndpoints::tile(const Request& req, const tiles::TileId& id) const {
    const bool closed = closed_param(req);
    const SystemTime now = m_incidents.clock();
    const BBox box = tiles::incident_tile_bounds(id, m_tiles);
    std::vector<store::IncidentRow> rows;
    m_reads->read([&](store::Database& db) { rows = db.incidents_in(box, closed); });
    std::vector<tiles::IncidentMark> marks;
    std::unordered_map<std::int64_t, const store::IncidentRow*> row_of;
    marks.reserve(rows.size());
    for (const auto& r : rows) {
        marks.push_back({r.id, {r.lon, r.lat}, r.category, r.state, r.due_at, light_of(r, *m_incidents.calendar, now)});
        row_of[r.id] = &r;
    }
    // The one rule that decides who sees a case, applied to each (the access check only asked
    // for a signed-in user).
    const auth::Principal& user = *req.principal;
    std::string raw = tiles::make_incident_tile(
        marks, id, [&](const tiles::IncidentMark& m) { return may_see_cases(user, incident_areas(*row_of.at(m.id))); },
        m_tiles);

    Response res;
    // The tile differs by user and changes with every step of a case: never kept by a cache.
    res.set_header("Cache-Control", "private, no-store");
    res.set_header("Vary", "Accept-Encoding");
    if (raw.empty()) {
        res.status = 204;
        return res;
    }
    res.content_type = "application/vnd.mapbox-vector-tile";
    if (accepts_gzip(req.header("accept-encoding").value_or(""))) {
        res.set_header("Content-Encoding", "gzip");
        res.body = tiles::gzip(raw);
    } else {
        res.body = std::move(raw);
    }
    return res;
}

Response IncidentMapEndpoints::workers(const Request& req, const grid::Snapshot& snapshot) const {
    const std::string& code = req.route.code;
    require_code(Level::grid, code);
    if (!snapshot.find_grid(code)) throw Error(ErrorKind::not_found, "unknown_code", "grid " + code + " not found");
    nlohmann::json list = nlohmann::json::array();
    m_reads->read([&](store::Database& db) {
        for (const store::GridWorkerRow& link : db.grid_workers_of(code)) {
            const auto w = db.find_worker(link.worker_id);
            if (!w) continue;
            list.push_back({{"id", w->id},
                            {"name", w->name},
                            {"role", w->role},
                            // Ranks as the worker sheets number them: 1 is the first responsible.
                            {"rank", link.rank + 1},
                            {"first_responsible", link.rank == 0},
                            {"on_duty", w->on_duty},
                            {"shift", w->shift},
                            {"phone", shown_phone(w->phone, req)}});
        }
    });
    return json_response(nlohmann::json{{"grid", code}, {"workers", list}}.dump(-1, ' ', false,
                                                                              nlohmann::json::error_handler_t::replace));
}

} // namespace wangge::api

#include "api/balance_endpoints.hpp"

#include "balance/rebalance.hpp"
#include "core/codes.hpp"

#include <nlohmann/json.hpp>

namespace wangge::api {

namespace {

constexpr std::string_view prefix = "/api/v1/communities/";

Response method_not_allowed(const Request& req, std::string_view allow) {
    Response r = error_response(Error(ErrorKind::method_not_allowed, "method_not_allowed",
                                      req.method + " is not allowed on " + req.path + "; use " + std::string(allow)));
    r.set_header("Allow", std::string(allow));
    return r;
}

nlohmann::json applied_json(const balance::AppliedChange& done) {
    return {{"change", done.change_id},
            {"version", done.version},
            {"grids_written", done.grids_written},
            {"grids_removed", done.grids_removed},
            {"buildings_moved", done.buildings_moved}};
}

nlohmann::json parse_body(const Request& req) {
    if (req.body.empty()) return nlohmann::json::object();
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        throw Error(ErrorKind::bad_request, "invalid_body", "the request body must be a JSON object");
    return body;
}

template <typename T>
T field(const nlohmann::json& body, const char* name, T fallback) {
    if (!body.contains(name)) return fallback;
    try {
        return body.at(name).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw Error(ErrorKind::bad_request, "invalid_body", std::string("field '") + name + "' has the wrong type");
    }
}

} // namespace

BalanceEndpoints::BalanceEndpoints(std::shared_ptr<Writer> writer, std::optional<std::string> token)
    : m_writer(std::move(writer)), m_token(std::move(token)) {}

std::optional<Response> BalanceEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    const std::string_view path = req.path;
    if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
    std::string_view rest = path.substr(prefix.size());
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    const std::string code(rest.substr(0, slash));
    const std::string_view action = rest.substr(slash + 1);
    if (action == "rebalance") {
        if (req.method != "POST") return method_not_allowed(req, "POST");
        return rebalance(req, snapshot, code);
    }
    if (action == "rebalance/undo") {
        if (req.method != "POST") return method_not_allowed(req, "POST");
        return undo(req, code);
    }
    if (action == "history") {
        require_read(req);
        return history(snapshot, code);
    }
    return std::nullopt;
}

void BalanceEndpoints::require_write(const Request& req) const {
    if (!m_writer) throw Error(ErrorKind::forbidden, "read_only", "this server is read-only (serve --read-only)");
    if (m_token && req.header("authorization") != "Bearer " + *m_token)
        throw Error(ErrorKind::unauthorized, "unauthorized", "writes need the header Authorization: Bearer <token>");
}

Response BalanceEndpoints::rebalance(const Request& req, const grid::Snapshot& snapshot, const std::string& code) const {
    const nlohmann::json body = parse_body(req);
    balance::RebalanceOptions o;
    o.band = grid::Band{field(body, "min", snapshot.band().min), field(body, "max", snapshot.band().max)};
    o.seed = field<std::uint64_t>(body, "seed", o.seed);
    o.include_unit_grids = field(body, "include_unit_grids", false);
    o.from_scratch = field(body, "from_scratch", false);
    const bool apply = field(body, "apply", false);
    if (m_writer) m_writer->read([&](store::Database& db) { o.retired_codes = db.history_grid_codes(code); });
    if (!apply) {
        const balance::Proposal proposal = balance::propose_rebalance(snapshot, code, o);
        return json_response(balance::to_json(proposal, true));
    }
    require_write(req);
    if (!body.contains("base_version"))
        throw Error(ErrorKind::bad_request, "missing_parameter",
                    "applying needs base_version: the data version the proposal was made on");
    const std::int64_t base = field<std::int64_t>(body, "base_version", 0);
    std::string proposal_json;
    const balance::AppliedChange done = m_writer->write([&](store::Database& db) {
        // The proposal is made again, under the write lock, on the data the client saw: the same
        // options on the same data version give the same proposal.
        const std::int64_t now = db.data_version();
        if (now != base || snapshot.version() != base)
            throw Error(ErrorKind::conflict, "stale_proposal",
                        "the proposal was made on data version " + std::to_string(base) +
                            " but the data is now at version " + std::to_string(now) + "; make a new proposal");
        const balance::Proposal proposal = balance::propose_rebalance(snapshot, code, o);
        if (!proposal.changes_anything())
            throw Error(ErrorKind::conflict, "nothing_to_apply", "every grid of " + code + " is already in the band");
        proposal_json = balance::to_json(proposal, false);
        return balance::apply(db, proposal);
    });
    nlohmann::json out{{"applied", applied_json(done)}, {"proposal", nlohmann::json::parse(proposal_json)}};
    return json_response(out.dump());
}

Response BalanceEndpoints::undo(const Request& req, const std::string& code) const {
    require_code(Level::community, code);
    require_write(req);
    const balance::AppliedChange done = m_writer->write([&](store::Database& db) { return balance::undo(db, code); });
    return json_response(nlohmann::json{{"undone", applied_json(done)}}.dump());
}

Response BalanceEndpoints::history(const grid::Snapshot& snapshot, const std::string& code) const {
    require_code(Level::community, code);
    if (!snapshot.find_community(code)) throw Error(ErrorKind::not_found, "unknown_code", "no community " + code);
    if (!m_writer) throw Error(ErrorKind::not_found, "no_history", "this server has no database to read history from");
    std::string changes;
    m_writer->read([&](store::Database& db) { changes = balance::changes_json(db.list_grid_changes(code)); });
    return json_response(nlohmann::json{{"community", code}, {"changes", nlohmann::json::parse(changes)}}.dump());
}

} // namespace wangge::api

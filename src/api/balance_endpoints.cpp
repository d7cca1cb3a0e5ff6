#include "api/balance_endpoints.hpp"

#include "api/json_values.hpp"
#include "balance/rebalance.hpp"
#include "core/codes.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <string>
#include <type_traits>

namespace wangge::api {

namespace {

// Counts a running proposal for as long as it lives; refuses one past the limit.
class ProposalSlot {
public:
    ProposalSlot(std::atomic<int>& running, int limit) : m_running(running) {
        if (m_running.fetch_add(1) >= limit) {
            m_running.fetch_sub(1);
            throw Error(ErrorKind::unavailable, "busy",
                        "as many grid-division proposals as the server computes at once are running; try again shortly")
                .with_retry_after(2);
        }
    }
    ~ProposalSlot() { m_running.fetch_sub(1); }
    ProposalSlot(const ProposalSlot&) = delete;
    ProposalSlot& operator=(const ProposalSlot&) = delete;

private:
    std::atomic<int>& m_running;
};

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
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
        if (const auto n = whole_number<T>(body.at(name))) return *n;
        throw Error(ErrorKind::bad_request, "invalid_body",
                    std::string("field '") + name + "' must be a whole number from " +
                        std::to_string(std::numeric_limits<T>::min()) + " to " +
                        std::to_string(std::numeric_limits<T>::max()));
    }
    try {
        return body.at(name).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw Error(ErrorKind::bad_request, "invalid_body", std::string("field '") + name + "' has the wrong type");
    }
}

} // namespace

BalanceEndpoints::BalanceEndpoints(std::shared_ptr<Writer> writer, int max_proposals)
    : m_writer(std::move(writer)), m_max_proposals(std::max(1, max_proposals)) {}

std::optional<Response> BalanceEndpoints::handle(const Request& req, const grid::Snapshot& snapshot) const {
    // The route has the community and the action; its methods were checked before.
    const Route& route = req.route;
    if (route.access == Access::change_grids && route.action == "rebalance") return rebalance(req, snapshot, route.code);
    if (route.access == Access::change_grids && route.action == "rebalance.undo") return undo(req, route.code);
    if (route.access == Access::history) return history(snapshot, route.code);
    return std::nullopt;
}

Response BalanceEndpoints::rebalance(const Request& req, const grid::Snapshot& snapshot, const std::string& code) const {
    const nlohmann::json body = parse_body(req);
    balance::RebalanceOptions o;
    o.band = grid::Band{field(body, "min", snapshot.band().min), field(body, "max", snapshot.band().max)};
    o.seed = field<std::uint64_t>(body, "seed", o.seed);
    o.include_unit_grids = field(body, "include_unit_grids", false);
    o.from_scratch = field(body, "from_scratch", false);
    const bool apply = field(body, "apply", false);
    ProposalSlot slot(m_running, m_max_proposals);
    m_writer->read([&](store::Database& db) { o.retired_codes = db.history_grid_codes(code); });
    if (!apply) {
        const balance::Proposal proposal = balance::propose_rebalance(snapshot, code, o);
        Response r = json_response(balance::to_json(proposal, true));
        r.audit = AuditNote{"rebalance.propose", {}, snapshot.version(), {}, {}};
        return r;
    }
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
            throw Error(ErrorKind::conflict, "nothing_to_apply", "community " + code + ": " + proposal.note);
        proposal_json = balance::to_json(proposal, false);
        return balance::apply(db, proposal);
    });
    nlohmann::json out{{"applied", applied_json(done)}, {"proposal", nlohmann::json::parse(proposal_json)}};
    Response r = json_response(out.dump());
    r.audit = AuditNote{"rebalance.apply", {}, base, done.version, "change " + std::to_string(done.change_id)};
    return r;
}

Response BalanceEndpoints::undo(const Request& req, const std::string& code) const {
    require_code(Level::community, code);
    // {"force": true} undoes a bootstrap, or a change that leaves the community without grids.
    bool force = false;
    if (!req.body.empty()) {
        const nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object() || (body.contains("force") && !body["force"].is_boolean()))
            throw Error(ErrorKind::bad_request, "invalid_body", "the body of an undo is {} or {\"force\": true}");
        force = body.value("force", false);
    }
    std::int64_t base = 0;
    const balance::AppliedChange done = m_writer->write([&](store::Database& db) {
        base = db.data_version();
        return balance::undo(db, code, force);
    });
    Response r = json_response(nlohmann::json{{"undone", applied_json(done)}}.dump());
    r.audit = AuditNote{"rebalance.undo", {}, base, done.version, "change " + std::to_string(done.change_id)};
    return r;
}

Response BalanceEndpoints::history(const grid::Snapshot& snapshot, const std::string& code) const {
    require_code(Level::community, code);
    if (!snapshot.find_community(code)) throw Error(ErrorKind::not_found, "unknown_code", "no community " + code);
    std::string changes;
    m_writer->read([&](store::Database& db) { changes = balance::changes_json(db.list_grid_changes(code)); });
    return json_response(nlohmann::json{{"community", code}, {"changes", nlohmann::json::parse(changes)}}.dump());
}

} // namespace wangge::api

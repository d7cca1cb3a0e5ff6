#pragma once
// Grid division over HTTP (docs/API.md, docs/BALANCE.md):
//   POST /api/v1/communities/{code}/rebalance        a proposal; with "apply": true, applied
//   POST /api/v1/communities/{code}/rebalance/undo   undo the community's last change
//   GET  /api/v1/communities/{code}/history          its recorded grid changes
// The request body of rebalance is optional JSON: {"min": 250, "max": 500, "seed": N,
// "include_unit_grids": false, "from_scratch": false, "apply": false, "base_version": V}.
// Applying needs base_version, the data version the client's proposal was made on: when the
// data has moved on since, the answer is 409 stale_proposal and nothing is written. Who may ask
// is decided before this family runs (api::AccessPolicy); a proposal takes a core for tens of
// milliseconds to seconds, so at most `max_proposals` run at once and others get 503.
#include "api/endpoints.hpp"
#include "api/writer.hpp"

#include <atomic>
#include <memory>
#include <optional>
#include <string>

namespace wangge::api {

class BalanceEndpoints final : public Endpoints {
public:
    explicit BalanceEndpoints(std::shared_ptr<Writer> writer, int max_proposals = 2);

    std::optional<Response> handle(const Request& req, const grid::Snapshot& snapshot) const override;

private:
    Response rebalance(const Request& req, const grid::Snapshot& snapshot, const std::string& code) const;
    Response undo(const Request& req, const std::string& code) const;
    Response history(const grid::Snapshot& snapshot, const std::string& code) const;

    std::shared_ptr<Writer> m_writer;
    int m_max_proposals;
    mutable std::atomic<int> m_running{0};
};

} // namespace wangge::api

#include "balance/apply.hpp"

#include "balance/bootstrap.hpp"
#include "core/error.hpp"
#include "grid/assign.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <set>

namespace wangge::balance {

namespace {

std::vector<store::GridRow> grids_of(store::Database& db, const std::string& community_code) {
    std::vector<store::GridRow> out;
    for (store::GridRow& g : db.load_grids())
        if (g.community_code == community_code) out.push_back(std::move(g));
    return out;
}

// Writes `after` in place of `before` (grids and building codes) and records the change, inside
// the caller's transaction, which it commits.
AppliedChange write_change(store::Database& db, store::Transaction& tx, store::GridChange change,
                           const std::map<std::int64_t, std::optional<std::string>>& building_codes) {
    AppliedChange done;
    const std::int64_t version = db.data_version() + 1; // what commit() makes it
    for (const store::GridRow& g : change.before) {
        db.delete_grid(g.code);
        done.changed.push_back(g.geom.bbox());
    }
    for (store::GridRow& g : change.after) {
        db.put_grid(g, true);
        g.version = version;
        done.changed.push_back(g.geom.bbox());
    }
    for (const auto& move : change.buildings) db.set_building_grid(move.building_id, building_codes.at(move.building_id));
    change.applied_version = version;
    done.change_id = db.insert_grid_change(change);
    if (change.undoes) db.set_grid_change_undone(*change.undoes, done.change_id);
    tx.commit();
    done.version = version;
    done.grids_written = change.after.size();
    done.grids_removed = change.before.size();
    done.buildings_moved = change.buildings.size();
    return done;
}

} // namespace

AppliedChange apply(store::Database& db, const Proposal& proposal, const std::string& action) {
    // Checked inside the (immediate) transaction, so no other write can slip in between.
    store::Transaction tx(db);
    const std::int64_t now = db.data_version();
    if (now != proposal.base_version)
        throw Error(ErrorKind::conflict, "stale_proposal",
                    "the proposal was made on data version " + std::to_string(proposal.base_version) +
                        " but the data is now at version " + std::to_string(now) + "; make a new proposal");
    std::map<std::string, store::GridRow> today;
    for (store::GridRow& g : grids_of(db, proposal.community_code)) today.emplace(g.code, std::move(g));

    store::GridChange change;
    change.community_code = proposal.community_code;
    change.action = action;
    change.base_version = proposal.base_version;
    // Today's grids that are redrawn or removed, as they are; the proposal's changed grids.
    std::set<std::string> replaced;
    for (const ProposedGrid& g : proposal.grids) {
        if (!g.changed) continue;
        if (auto it = today.find(g.code); it != today.end()) replaced.insert(g.code);
        change.after.push_back({g.code, proposal.community_code, g.name, g.kind, 0, g.geom.clone()});
    }
    for (const std::string& code : proposal.removed) replaced.insert(code);
    for (const std::string& code : replaced) change.before.push_back(std::move(today.at(code)));

    // The data is at the proposal's version, so its buildings' codes before are today's.
    std::map<std::int64_t, std::optional<std::string>> after_codes;
    for (const auto& move : proposal.building_moves) {
        change.buildings.push_back(move);
        after_codes[move.building_id] = move.after;
    }
    nlohmann::json summary{{"grids_before", proposal.before.grids}, {"grids_after", proposal.after.grids},
                           {"in_band_before", proposal.before.in_band}, {"in_band_after", proposal.after.in_band},
                           {"households_moved", proposal.households_moved}};
    change.summary_json = summary.dump();
    return write_change(db, tx, std::move(change), after_codes);
}

AppliedChange write_bootstrap(store::Database& db, const BootstrapResult& result) {
    const std::string& street = result.street.code;
    std::vector<store::GridRow> old_grids;
    for (store::GridRow& g : db.load_grids())
        if (g.code.compare(0, 9, street) == 0) old_grids.push_back(std::move(g));
    AppliedChange done;
    store::Transaction tx(db);
    const std::int64_t base = db.data_version();
    for (const store::CommunityRow& c : db.load_communities())
        if (c.street_code == street) {
            db.delete_community(c.code);
            done.changed.push_back(c.geom.bbox());
        }
    db.put_street(result.street, true);
    for (const auto& community : result.communities) {
        db.put_community(community, false);
        done.changed.push_back(community.geom.bbox());
    }
    for (const auto& g : result.grids) db.put_grid(g, false);
    for (const auto& move : result.building_moves) db.set_building_grid(move.building_id, move.after);
    for (const auto& community : result.communities) {
        store::GridChange change;
        change.community_code = community.code;
        change.action = "bootstrap";
        change.base_version = base;
        change.applied_version = base + 1;
        for (const auto& g : old_grids)
            if (g.community_code == community.code)
                change.before.push_back({g.code, g.community_code, g.name, g.kind, g.version, g.geom.clone()});
        for (const auto& g : result.grids)
            if (g.community_code == community.code)
                change.after.push_back({g.code, g.community_code, g.name, g.kind, base + 1, g.geom.clone()});
        for (const auto& move : result.building_moves)
            if ((move.after && move.after->compare(0, 12, community.code) == 0) ||
                (move.before && move.before->compare(0, 12, community.code) == 0))
                change.buildings.push_back(move);
        // The same counts a rebalance records, of what was stored in this community.
        int grids_after = 0, in_band_after = 0, below_after = 0, above_after = 0, unit_grids = 0;
        long households = 0;
        for (std::size_t g = 0; g < result.grids.size(); ++g) {
            if (result.grids[g].community_code != community.code) continue;
            households += result.grid_households[g];
            if (result.grids[g].kind == store::GridKind::unit) {
                ++unit_grids;
                continue;
            }
            ++grids_after;
            const Violation v = result.grid_violations[g];
            in_band_after += v == Violation::none ? 1 : 0;
            below_after += v != Violation::none && result.grid_households[g] < result.band.min ? 1 : 0;
            above_after += v != Violation::none && result.grid_households[g] > result.band.max ? 1 : 0;
        }
        change.summary_json = nlohmann::json{{"grids_before", change.before.size()},
                                             {"grids_after", grids_after},
                                             {"in_band_after", in_band_after},
                                             {"below_after", below_after},
                                             {"above_after", above_after},
                                             {"unit_grids", unit_grids},
                                             {"households", households},
                                             {"buildings_moved", change.buildings.size()}}
                                  .dump();
        const std::int64_t id = db.insert_grid_change(change);
        if (!done.change_id) done.change_id = id;
    }
    tx.commit();
    done.version = base + 1;
    done.grids_written = result.grids.size();
    done.grids_removed = old_grids.size();
    done.buildings_moved = result.building_moves.size();
    return done;
}

std::string changes_json(const std::vector<store::GridChange>& changes) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& ch : changes) {
        nlohmann::json j{{"id", ch.id},
                         {"action", ch.action},
                         {"base_version", ch.base_version},
                         {"applied_version", ch.applied_version},
                         {"created_at", ch.created_at},
                         {"summary", nlohmann::json::parse(ch.summary_json)}};
        if (ch.undoes) j["undoes"] = *ch.undoes;
        if (ch.undone_by) j["undone_by"] = *ch.undone_by;
        out.push_back(std::move(j));
    }
    return out.dump();
}

namespace {

std::optional<store::GridChange> last_change(store::Database& db, const std::string& community_code) {
    for (const store::GridChange& c : db.list_grid_changes(community_code))
        if (c.action != "undo" && !c.undone_by) return db.load_grid_change(c.id);
    return std::nullopt;
}

UndoPlan plan_of(const store::GridChange& last) {
    UndoPlan plan;
    plan.change_id = last.id;
    plan.action = last.action;
    std::set<std::string> before, after;
    for (const store::GridRow& g : last.before) before.insert(g.code);
    for (const store::GridRow& g : last.after) after.insert(g.code);
    plan.restored.assign(before.begin(), before.end());
    plan.removed.assign(after.begin(), after.end()); // the change's grids give way, whatever their codes
    plan.buildings = last.buildings.size();
    if (last.action == "bootstrap")
        plan.needs_force = "change " + std::to_string(last.id) + " is the bootstrap that drew this community's grids";
    else if (before.empty())
        plan.needs_force = "it leaves the community without grids";
    return plan;
}

} // namespace

UndoPlan plan_undo(store::Database& db, const std::string& community_code) {
    const auto last = last_change(db, community_code);
    if (!last) throw Error(ErrorKind::not_found, "nothing_to_undo", "community " + community_code + " has no change to undo");
    return plan_of(*last);
}

std::string describe(const UndoPlan& plan, const std::string& community_code) {
    auto list = [](const std::vector<std::string>& codes) {
        std::string out;
        for (std::size_t i = 0; i < codes.size() && i < 8; ++i) out += (i ? ", " : "") + codes[i].substr(12);
        if (codes.size() > 8) out += ", ...";
        return out;
    };
    std::string text = "undo of change " + std::to_string(plan.change_id) + " (" + plan.action + ") of community " +
                       community_code + ": its " + std::to_string(plan.removed.size()) + " grids removed";
    if (!plan.removed.empty()) text += " (" + list(plan.removed) + ")";
    text += ", the " + std::to_string(plan.restored.size()) + " before it restored";
    if (!plan.restored.empty()) text += " (" + list(plan.restored) + ")";
    text += ", " + std::to_string(plan.buildings) + " buildings change grid";
    if (plan.restored.empty())
        text += "; the community is left without grids, and grids drawn for it later get new numbers (codes "
                "once used never return)";
    return text;
}

AppliedChange undo(store::Database& db, const std::string& community_code, bool force) {
    store::Transaction tx(db);
    const std::optional<store::GridChange> last = last_change(db, community_code);
    if (!last) throw Error(ErrorKind::not_found, "nothing_to_undo", "community " + community_code + " has no change to undo");
    if (const UndoPlan plan = plan_of(*last); !plan.needs_force.empty() && !force)
        throw Error(ErrorKind::conflict, "needs_force",
                    describe(plan, community_code) + ". Refused: " + plan.needs_force +
                        "; pass --force (over HTTP {\"force\": true}) to undo it anyway");

    // The community must still look as the change left it.
    std::map<std::string, store::GridRow> today;
    for (store::GridRow& g : grids_of(db, community_code)) today.emplace(g.code, std::move(g));
    for (const store::GridRow& g : last->after) {
        // As the change wrote it (an undo of a later change restores it byte for byte).
        auto it = today.find(g.code);
        if (it == today.end() || it->second.name != g.name || it->second.kind != g.kind ||
            geo::to_wkb(it->second.geom) != geo::to_wkb(g.geom))
            throw Error(ErrorKind::conflict, "changed_since",
                        "grid " + g.code + " changed after change " + std::to_string(last->id) +
                            "; undoing it would overwrite newer work");
    }
    std::set<std::string> after_codes;
    for (const store::GridRow& g : last->after) after_codes.insert(g.code);
    for (const store::GridRow& g : last->before)
        if (!after_codes.count(g.code) && today.count(g.code))
            throw Error(ErrorKind::conflict, "changed_since",
                        "grid " + g.code + " was added again after change " + std::to_string(last->id));

    store::GridChange back;
    back.community_code = community_code;
    back.action = "undo";
    back.base_version = db.data_version();
    back.undoes = last->id;
    for (const store::GridRow& g : last->after) back.before.push_back({g.code, g.community_code, g.name, g.kind, g.version, g.geom.clone()});
    for (const store::GridRow& g : last->before) back.after.push_back({g.code, g.community_code, g.name, g.kind, g.version, g.geom.clone()});
    std::map<std::int64_t, std::optional<std::string>> codes;
    for (const auto& move : last->buildings) {
        back.buildings.push_back({move.building_id, move.after, move.before});
        codes[move.building_id] = move.before;
    }
    back.summary_json = nlohmann::json{{"undoes", last->id}}.dump();
    return write_change(db, tx, std::move(back), codes);
}

} // namespace wangge::balance

// The case workflow: the main path, every (state, action) pair outside the procedure refused with
// 409, every role and relation that may not act refused with 403, suspension's extension and
// note, the actions offered to a worker, to community staff and to a viewer, and how a user's
// relation to a case is worked out. The expectations are written out here from the procedure
// (docs/INCIDENTS.md), not read from the table under test.
#include "incident/workflow.hpp"

#include "core/error.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace wangge;
using namespace wangge::incident;
using auth::Role;

namespace {

const std::vector<State> all_states{State::reported, State::accepted, State::dispatched,
                                    State::in_progress, State::handled, State::verified,
                                    State::closed, State::invalid, State::suspended};
const std::vector<Action> all_actions{Action::accept, Action::invalidate, Action::dispatch, Action::reassign,
                                      Action::start, Action::feedback, Action::verify, Action::rework,
                                      Action::close, Action::send_back, Action::extend, Action::suspend};
const std::vector<Role> all_roles{Role::admin, Role::street, Role::community, Role::worker, Role::viewer};
const std::vector<Relation> all_relations{Relation::outside, Relation::in_scope, Relation::handler,
                                          Relation::handler_in_scope};

// The procedure: (state, action) -> next state.
const std::map<std::pair<State, Action>, State> procedure{
    {{State::reported, Action::accept}, State::accepted},
    {{State::reported, Action::invalidate}, State::invalid},
    {{State::accepted, Action::dispatch}, State::dispatched},
    {{State::accepted, Action::reassign}, State::dispatched},
    {{State::accepted, Action::invalidate}, State::invalid},
    {{State::dispatched, Action::start}, State::in_progress},
    {{State::dispatched, Action::send_back}, State::accepted},
    {{State::dispatched, Action::reassign}, State::dispatched},
    {{State::dispatched, Action::extend}, State::dispatched},
    {{State::dispatched, Action::invalidate}, State::invalid},
    {{State::in_progress, Action::feedback}, State::handled},
    {{State::in_progress, Action::send_back}, State::accepted},
    {{State::in_progress, Action::reassign}, State::dispatched},
    {{State::in_progress, Action::extend}, State::in_progress},
    {{State::in_progress, Action::suspend}, State::suspended},
    {{State::handled, Action::verify}, State::verified},
    {{State::handled, Action::rework}, State::in_progress},
    {{State::verified, Action::close}, State::closed},
};

bool is_handler(Relation r) { return r == Relation::handler || r == Relation::handler_in_scope; }
bool is_in_scope(Relation r) { return r == Relation::in_scope || r == Relation::handler_in_scope; }

// Who may, as the procedure says: staff in scope run the case; the handler (or community staff in
// scope on the handler's behalf) starts, feeds back and sends back; only street staff and admins
// in scope suspend; viewers never.
bool procedure_allows(Action a, Role role, Relation rel) {
    if (role == Role::viewer) return false;
    const bool staff = role == Role::admin || role == Role::street || role == Role::community;
    switch (a) {
    case Action::start:
    case Action::feedback:
    case Action::send_back: return is_handler(rel) || (is_in_scope(rel) && role == Role::community);
    case Action::suspend: return is_in_scope(rel) && (role == Role::admin || role == Role::street);
    default: return is_in_scope(rel) && staff;
    }
}

template <typename F>
std::optional<Error> error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    return std::nullopt;
}

bool mentions(const Error& e, std::string_view text) {
    return std::string_view(e.what()).find(text) != std::string_view::npos;
}

} // namespace

TEST_CASE("workflow: the main path from report to closing", "[incident][workflow]") {
    State s = State::reported;
    s = apply(s, Action::accept, Role::community, Relation::in_scope, false, "");
    CHECK(s == State::accepted);
    s = apply(s, Action::dispatch, Role::community, Relation::in_scope, false, "");
    CHECK(s == State::dispatched);
    s = apply(s, Action::start, Role::worker, Relation::handler_in_scope, false, "");
    CHECK(s == State::in_progress);
    s = apply(s, Action::feedback, Role::worker, Relation::handler_in_scope, false, "");
    CHECK(s == State::handled);
    s = apply(s, Action::verify, Role::street, Relation::in_scope, false, "");
    CHECK(s == State::verified);
    s = apply(s, Action::close, Role::admin, Relation::in_scope, false, "");
    CHECK(s == State::closed);
    CHECK(allowed_actions(State::closed, Role::admin, Relation::handler_in_scope, true).empty());
}

TEST_CASE("workflow: the other paths and what they do to the handler and due time", "[incident][workflow]") {
    // Sent back by a worker outside its grids (a case placed in the wrong grid), reassigned,
    // extended, fed back, failed verification, reworked by the same handler.
    State s = State::dispatched;
    s = apply(s, Action::send_back, Role::worker, Relation::handler, false, "not in my grid");
    CHECK(s == State::accepted);
    s = apply(s, Action::reassign, Role::community, Relation::in_scope, false, "");
    CHECK(s == State::dispatched);
    s = apply(s, Action::start, Role::worker, Relation::handler, false, "");
    s = apply(s, Action::extend, Role::community, Relation::in_scope, false, "waiting for parts");
    CHECK(s == State::in_progress);
    s = apply(s, Action::feedback, Role::community, Relation::in_scope, true, "");
    s = apply(s, Action::rework, Role::community, Relation::in_scope, true, "still blocked");
    CHECK(s == State::in_progress);
    CHECK(apply(s, Action::reassign, Role::street, Relation::in_scope, true, "") == State::dispatched);
    CHECK(apply(State::reported, Action::invalidate, Role::community, Relation::in_scope, false, "duplicate") ==
          State::invalid);

    CHECK(find_transition(State::accepted, Action::dispatch)->handler_change == HandlerChange::assign);
    CHECK(find_transition(State::in_progress, Action::reassign)->handler_change == HandlerChange::assign);
    CHECK(find_transition(State::dispatched, Action::send_back)->handler_change == HandlerChange::clear);
    CHECK(find_transition(State::handled, Action::rework)->handler_change == HandlerChange::keep);
    CHECK(find_transition(State::in_progress, Action::extend)->sets_due_time);
    CHECK_FALSE(find_transition(State::in_progress, Action::feedback)->sets_due_time);
}

TEST_CASE("workflow: the table is the procedure, and every other (state, action) is a 409", "[incident][workflow]") {
    CHECK(transitions().size() == procedure.size());
    std::set<std::pair<State, Action>> seen;
    for (const Transition& t : transitions()) CHECK(seen.insert({t.from, t.action}).second);

    for (State s : all_states) {
        for (Action a : all_actions) {
            INFO(to_string(s) << " + " << to_string(a));
            const auto it = procedure.find({s, a});
            if (it != procedure.end()) {
                REQUIRE(find_transition(s, a) != nullptr);
                CHECK(find_transition(s, a)->to == it->second);
                // An admin who also handles the case may make every transition of the procedure.
                CHECK(apply(s, a, Role::admin, Relation::handler_in_scope, true, "reason") == it->second);
                continue;
            }
            CHECK(find_transition(s, a) == nullptr);
            const auto e = error_of([&] { apply(s, a, Role::admin, Relation::handler_in_scope, true, "reason"); });
            REQUIRE(e);
            CHECK(e->kind() == ErrorKind::conflict);
            CHECK(http_status(e->kind()) == 409);
            CHECK(e->code() == "illegal_transition");
            CHECK(mentions(*e, to_string(s)));
            CHECK(mentions(*e, to_string(a)));
        }
    }
    // The state is checked before the user: a viewer asking for an impossible step gets the 409.
    const auto e = error_of([] { apply(State::closed, Action::accept, Role::viewer, Relation::outside, false, ""); });
    REQUIRE(e);
    CHECK(e->code() == "illegal_transition");
    CHECK(mentions(*e, "closed (结案)"));
    CHECK(mentions(*e, "takes no further action"));
}

TEST_CASE("workflow: every role and relation that may not act is refused with 403", "[incident][workflow]") {
    int allowed = 0;
    int refused = 0;
    for (const Transition& t : transitions()) {
        for (Role role : all_roles) {
            for (Relation rel : all_relations) {
                INFO(to_string(t.from) << " + " << to_string(t.action) << " by " << auth::to_string(role) << " ("
                                       << static_cast<int>(rel) << ")");
                const bool expected = procedure_allows(t.action, role, rel);
                CHECK(may(t, role, rel) == expected);
                const auto e = error_of([&] { apply(t.from, t.action, role, rel, true, "reason"); });
                if (expected) {
                    CHECK_FALSE(e);
                    ++allowed;
                    continue;
                }
                REQUIRE(e);
                CHECK(e->kind() == ErrorKind::forbidden);
                CHECK(http_status(e->kind()) == 403);
                CHECK(e->code() == "forbidden");
                CHECK(mentions(*e, auth::to_string(role)));
                CHECK(mentions(*e, to_string(t.from)));
                ++refused;
            }
        }
    }
    // 13 staff transitions × (3 staff roles × 2 relations in scope) + 4 handler's transitions ×
    // (4 roles × 2 handling relations + community staff in scope) + suspend × (2 roles × 2) =
    // 78 + 36 + 4 = 118 of 18 × 5 × 4 = 360.
    CHECK(allowed == 118);
    CHECK(refused == 360 - 118);

    // The message says who may.
    const auto e =
        error_of([] { apply(State::accepted, Action::dispatch, Role::worker, Relation::handler, false, ""); });
    REQUIRE(e);
    CHECK(mentions(*e, "a worker user who handles the case may not dispatch (派遣) a case that is accepted (立案)"));
    CHECK(mentions(*e, "admin, street or community staff whose scope covers the case's area may"));
    const auto f =
        error_of([] { apply(State::dispatched, Action::start, Role::street, Relation::in_scope, false, ""); });
    REQUIRE(f);
    CHECK(mentions(*f, "the case's handler (admin, street, community or worker), or community staff"));
}

TEST_CASE("workflow: suspend needs a prior extension and a written reason", "[incident][workflow]") {
    auto refusal = [](bool extended, std::string_view note) {
        return error_of(
            [&] { apply(State::in_progress, Action::suspend, Role::street, Relation::in_scope, extended, note); });
    };
    const auto neither = refusal(false, "");
    REQUIRE(neither);
    CHECK(neither->kind() == ErrorKind::conflict);
    CHECK(neither->code() == "extension_required");
    const auto no_extension = refusal(false, "the owner cannot be found");
    REQUIRE(no_extension);
    CHECK(no_extension->code() == "extension_required");
    for (std::string_view blank : {"", "  \t\n", "\u3000\u3000 "}) {
        const auto no_note = refusal(true, blank);
        REQUIRE(no_note);
        CHECK(no_note->kind() == ErrorKind::unprocessable);
        CHECK(no_note->code() == "note_required");
    }
    CHECK(apply(State::in_progress, Action::suspend, Role::street, Relation::in_scope, true, "产权不明") ==
          State::suspended);
    // Permission comes before the preconditions: community staff are told they may not, not why.
    const auto community = error_of(
        [] { apply(State::in_progress, Action::suspend, Role::community, Relation::in_scope, false, ""); });
    REQUIRE(community);
    CHECK(community->code() == "forbidden");
    // Suspended cases are set aside: nothing follows.
    CHECK(allowed_actions(State::suspended, Role::admin, Relation::handler_in_scope, true).empty());
}

TEST_CASE("workflow: the exception paths need a note, the main path does not", "[incident][workflow]") {
    std::set<Action> with_note;
    for (const Transition& t : transitions())
        if (t.needs_note) with_note.insert(t.action);
    CHECK(with_note == std::set<Action>{Action::invalidate, Action::send_back, Action::rework, Action::extend,
                                        Action::suspend});
    const auto e =
        error_of([] { apply(State::handled, Action::rework, Role::community, Relation::in_scope, false, " "); });
    REQUIRE(e);
    CHECK(e->code() == "note_required");
    CHECK(mentions(*e, "rework (返工)"));
}

TEST_CASE("workflow: the actions offered to each user", "[incident][workflow]") {
    using V = std::vector<Action>;
    // A grid worker on the case it handles, in its own grid or not.
    CHECK(allowed_actions(State::dispatched, Role::worker, Relation::handler_in_scope, false) ==
          V{Action::start, Action::send_back});
    CHECK(allowed_actions(State::dispatched, Role::worker, Relation::handler, false) ==
          V{Action::start, Action::send_back});
    CHECK(allowed_actions(State::in_progress, Role::worker, Relation::handler, true) ==
          V{Action::feedback, Action::send_back});
    // A worker of the grid who does not handle the case.
    CHECK(allowed_actions(State::dispatched, Role::worker, Relation::in_scope, false).empty());
    // Community staff: the handler's steps on its behalf, and their own.
    CHECK(allowed_actions(State::dispatched, Role::community, Relation::in_scope, false) ==
          V{Action::start, Action::send_back, Action::reassign, Action::extend, Action::invalidate});
    CHECK(allowed_actions(State::in_progress, Role::community, Relation::in_scope, true) ==
          V{Action::feedback, Action::send_back, Action::reassign, Action::extend});
    CHECK(allowed_actions(State::dispatched, Role::community, Relation::outside, false).empty());
    // Street staff: no handler's steps unless they handle it; suspend once extended.
    CHECK(allowed_actions(State::dispatched, Role::street, Relation::in_scope, false) ==
          V{Action::reassign, Action::extend, Action::invalidate});
    CHECK(allowed_actions(State::in_progress, Role::street, Relation::in_scope, false) ==
          V{Action::reassign, Action::extend});
    CHECK(allowed_actions(State::in_progress, Role::street, Relation::in_scope, true) ==
          V{Action::reassign, Action::extend, Action::suspend});
    CHECK(allowed_actions(State::reported, Role::admin, Relation::in_scope, false) ==
          V{Action::accept, Action::invalidate});
    // Viewers never.
    for (State s : all_states)
        for (Relation rel : all_relations) CHECK(allowed_actions(s, Role::viewer, rel, true).empty());
}

TEST_CASE("workflow: a user's relation to a case", "[incident][workflow]") {
    const std::string grid = "320102003001004";
    auto principal = [](Role role, std::vector<std::string> scopes) {
        auth::Principal p;
        p.role = role;
        p.scopes = std::move(scopes);
        return p;
    };
    const auto community = principal(Role::community, {"320102003001"});
    const auto street = principal(Role::street, {"320102004"});
    const auto worker = principal(Role::worker, {grid});
    const auto other_worker = principal(Role::worker, {"320102003001005"});
    const auto admin = principal(Role::admin, {});
    CHECK(relation_of(community, grid, false) == Relation::in_scope);
    CHECK(relation_of(street, grid, false) == Relation::outside);
    CHECK(relation_of(worker, grid, true) == Relation::handler_in_scope);
    CHECK(relation_of(other_worker, grid, true) == Relation::handler);
    CHECK(relation_of(other_worker, grid, false) == Relation::outside);
    CHECK(relation_of(admin, grid, false) == Relation::in_scope);
    // A case placed in a community without a grid: its workers do not cover it.
    CHECK(relation_of(worker, "320102003001", false) == Relation::outside);
    CHECK(relation_of(community, "320102003001", false) == Relation::in_scope);
}

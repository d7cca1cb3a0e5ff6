#pragma once
// The case workflow of the digital urban-management procedure (GB/T 30428, CJ/T 315) as one
// table of transitions (docs/INCIDENTS.md, "The workflow"). Pure: who acts is given as a role and
// a relation to the case, which the caller works out from the case's area and handler, so the
// table answers the same way for the HTTP API, the web map's "allowed next steps" and the docs.
#include "auth/principal.hpp"
#include "incident/types.hpp"

#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace wangge::incident {

// How the acting user stands to the case.
enum class Relation {
    outside,          // neither the case's handler nor in scope
    in_scope,         // the user's scope covers the case's area (an admin's always does)
    handler,          // the user the case is assigned to, whose scope does not cover its area
    handler_in_scope, // both: e.g. street staff who handle a street-level case themselves
};

// The relation of `user` to a case located at `area_code` (its grid code, or the community's or
// street's when the place lies in no grid), given whether `user` is the case's assigned handler.
Relation relation_of(const auth::Principal& user, std::string_view area_code, bool is_handler) noexcept;

// A set of roles, for the table.
class RoleSet {
public:
    constexpr RoleSet() noexcept = default;
    constexpr explicit RoleSet(std::initializer_list<auth::Role> roles) noexcept {
        for (auth::Role r : roles) m_bits |= bit(r);
    }
    constexpr bool contains(auth::Role r) const noexcept { return (m_bits & bit(r)) != 0; }
    constexpr bool empty() const noexcept { return m_bits == 0; }
    // In the order of auth::Role (admin first), for messages and docs.
    std::vector<auth::Role> roles() const;

private:
    static constexpr unsigned bit(auth::Role r) noexcept { return 1U << static_cast<unsigned>(r); }
    unsigned m_bits = 0;
};

// What a transition does to the case's handler (the caller records it).
enum class HandlerChange {
    keep,   // the same handler (rework goes back to the one who fed back)
    assign, // a handler is named: dispatch, or reassign to another one
    clear,  // send_back: the case returns to the dispatcher with no handler
};

struct Transition {
    State from;
    Action action;
    State to;
    RoleSet in_scope{};        // roles that may when their scope covers the case's area
    RoleSet handler{};         // roles that may when they are the case's handler
    bool needs_note = false;   // a written reason (意见) is required
    bool needs_extension = false; // only after at least one extension (延期): suspend
    bool sets_due_time = false;   // the caller records a new due time: extend
    HandlerChange handler_change = HandlerChange::keep;
};

// Every transition, grouped by the state it leaves, the main path's first; at most one per
// (state, action).
std::span<const Transition> transitions() noexcept;

// The transition `action` makes from `from`; nullptr when there is none.
const Transition* find_transition(State from, Action action) noexcept;

// Whether a user of `role` standing in `relation` to the case may make `t` (viewers never may).
// Says nothing of the extension or the note that `t` may also need.
bool may(const Transition& t, auth::Role role, Relation relation) noexcept;

// The actions this user may take now, in the order of the table. Suspend is listed only when
// the case has been `extended`; actions that need a note are listed (the note is asked for).
std::vector<Action> allowed_actions(State from, auth::Role role, Relation relation, bool extended);

// The state after `action`. Throws, in this order:
// - Error(conflict, "illegal_transition") when `action` is not made from `from` (409);
// - Error(forbidden, "forbidden") when it is, but not by this role and relation (403);
// - Error(conflict, "extension_required") for suspend on a case never extended (409);
// - Error(unprocessable, "note_required") when the transition needs a note and `note` is empty
//   or blank (422).
State apply(State from, Action action, auth::Role role, Relation relation, bool extended, std::string_view note);

} // namespace wangge::incident

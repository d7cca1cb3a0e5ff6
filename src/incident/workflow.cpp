#include "incident/workflow.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace wangge::incident {

namespace {

using auth::Role;

// Who may (docs/INCIDENTS.md): staff in scope run the case; the handler works it, and community
// staff in scope may do that on the handler's behalf; only street staff and admins set a case
// aside as unsolvable.
constexpr RoleSet staff{Role::admin, Role::street, Role::community};
constexpr RoleSet on_behalf_of_handler{Role::community};
constexpr RoleSet any_handler{Role::admin, Role::street, Role::community, Role::worker};
constexpr RoleSet street_or_admin{Role::admin, Role::street};

constexpr Transition by_staff(State from, Action action, State to) {
    return {.from = from, .action = action, .to = to, .in_scope = staff};
}

constexpr Transition by_handler(State from, Action action, State to) {
    return {.from = from, .action = action, .to = to, .in_scope = on_behalf_of_handler, .handler = any_handler};
}

constexpr Transition with_note(Transition t) {
    t.needs_note = true;
    return t;
}

constexpr Transition changing_handler(Transition t, HandlerChange change) {
    t.handler_change = change;
    return t;
}

constexpr Transition extension(State at) {
    Transition t = with_note(by_staff(at, Action::extend, at));
    t.sets_due_time = true;
    return t;
}

constexpr std::array<Transition, 18> table{{
    by_staff(State::reported, Action::accept, State::accepted),
    with_note(by_staff(State::reported, Action::invalidate, State::invalid)),

    changing_handler(by_staff(State::accepted, Action::dispatch, State::dispatched), HandlerChange::assign),
    changing_handler(by_staff(State::accepted, Action::reassign, State::dispatched), HandlerChange::assign),
    with_note(by_staff(State::accepted, Action::invalidate, State::invalid)),

    by_handler(State::dispatched, Action::start, State::in_progress),
    changing_handler(with_note(by_handler(State::dispatched, Action::send_back, State::accepted)),
                     HandlerChange::clear),
    changing_handler(by_staff(State::dispatched, Action::reassign, State::dispatched), HandlerChange::assign),
    extension(State::dispatched),
    with_note(by_staff(State::dispatched, Action::invalidate, State::invalid)),

    by_handler(State::in_progress, Action::feedback, State::handled),
    changing_handler(with_note(by_handler(State::in_progress, Action::send_back, State::accepted)),
                     HandlerChange::clear),
    changing_handler(by_staff(State::in_progress, Action::reassign, State::dispatched), HandlerChange::assign),
    extension(State::in_progress),
    {.from = State::in_progress,
     .action = Action::suspend,
     .to = State::suspended,
     .in_scope = street_or_admin,
     .needs_note = true,
     .needs_extension = true},

    by_staff(State::handled, Action::verify, State::verified),
    with_note(by_staff(State::handled, Action::rework, State::in_progress)),

    by_staff(State::verified, Action::close, State::closed),
}};

std::string_view term(State s) noexcept {
    switch (s) {
    case State::reported: return "上报";
    case State::accepted: return "立案";
    case State::dispatched: return "派遣";
    case State::in_progress: return "处置";
    case State::handled: return "反馈";
    case State::verified: return "核查";
    case State::closed: return "结案";
    case State::invalid: return "作废";
    case State::suspended: return "挂账";
    }
    return {};
}

std::string_view term(Action a) noexcept {
    switch (a) {
    case Action::accept: return "立案";
    case Action::invalidate: return "作废";
    case Action::dispatch: return "派遣";
    case Action::reassign: return "改派";
    case Action::start: return "处置";
    case Action::feedback: return "反馈";
    case Action::verify: return "核查";
    case Action::rework: return "返工";
    case Action::close: return "结案";
    case Action::send_back: return "回退";
    case Action::extend: return "延期";
    case Action::suspend: return "挂账";
    }
    return {};
}

std::string named(State s) { return std::string(to_string(s)) + " (" + std::string(term(s)) + ")"; }
std::string named(Action a) { return std::string(to_string(a)) + " (" + std::string(term(a)) + ")"; }

// "a, b or c"
template <typename T, typename Name>
std::string listed(const std::vector<T>& items, Name name) {
    std::string out;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
        out += name(items[i]);
    }
    return out;
}

std::string role_list(const RoleSet& roles) {
    return listed(roles.roles(), [](Role r) { return std::string(auth::to_string(r)); });
}

std::string_view describe(Relation r) noexcept {
    switch (r) {
    case Relation::outside: return "who neither handles the case nor has its area in scope";
    case Relation::in_scope: return "whose scope covers the case's area";
    case Relation::handler: return "who handles the case";
    case Relation::handler_in_scope: return "who handles the case and has its area in scope";
    }
    return {};
}

// "the case's handler (...), or community staff whose scope covers the case's area"
std::string who_may(const Transition& t) {
    std::string out;
    if (!t.handler.empty()) out = "the case's handler (" + role_list(t.handler) + ")";
    if (!t.in_scope.empty()) {
        if (!out.empty()) out += ", or ";
        out += role_list(t.in_scope) + " staff whose scope covers the case's area";
    }
    return out;
}

std::string illegal_message(State from, Action action) {
    std::vector<State> sources;
    for (const Transition& t : table)
        if (t.action == action && std::find(sources.begin(), sources.end(), t.from) == sources.end())
            sources.push_back(t.from);
    std::vector<Action> here;
    for (const Transition& t : table)
        if (t.from == from) here.push_back(t.action);
    std::string message = "cannot " + named(action) + " a case that is " + named(from) + ": " +
                          std::string(to_string(action)) + " is made from " +
                          listed(sources, [](State s) { return std::string(to_string(s)); });
    if (here.empty()) return message + "; a " + std::string(to_string(from)) + " case takes no further action";
    return message + "; a " + std::string(to_string(from)) + " case may take " +
           listed(here, [](Action a) { return std::string(to_string(a)); });
}

// Empty, or only ASCII white space and ideographic spaces (U+3000, typed by Chinese keyboards).
bool is_blank(std::string_view text) noexcept {
    constexpr std::string_view ideographic_space = "\u3000";
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n')
            ++i;
        else if (text.substr(i).starts_with(ideographic_space))
            i += ideographic_space.size();
        else
            return false;
    }
    return true;
}

} // namespace

Relation relation_of(const auth::Principal& user, std::string_view area_code, bool is_handler) noexcept {
    const bool in_scope = user.covers(area_code);
    if (is_handler) return in_scope ? Relation::handler_in_scope : Relation::handler;
    return in_scope ? Relation::in_scope : Relation::outside;
}

std::vector<auth::Role> RoleSet::roles() const {
    std::vector<Role> out;
    for (Role r : {Role::admin, Role::street, Role::community, Role::worker, Role::viewer})
        if (contains(r)) out.push_back(r);
    return out;
}

std::span<const Transition> transitions() noexcept { return table; }

const Transition* find_transition(State from, Action action) noexcept {
    const auto it = std::find_if(table.begin(), table.end(),
                                 [&](const Transition& t) { return t.from == from && t.action == action; });
    return it == table.end() ? nullptr : &*it;
}

bool may(const Transition& t, auth::Role role, Relation relation) noexcept {
    if (role == Role::viewer) return false;
    const bool handler = relation == Relation::handler || relation == Relation::handler_in_scope;
    const bool in_scope = relation == Relation::in_scope || relation == Relation::handler_in_scope;
    return (handler && t.handler.contains(role)) || (in_scope && t.in_scope.contains(role));
}

std::vector<Action> allowed_actions(State from, auth::Role role, Relation relation, bool extended) {
    std::vector<Action> out;
    for (const Transition& t : table)
        if (t.from == from && may(t, role, relation) && (extended || !t.needs_extension)) out.push_back(t.action);
    return out;
}

State apply(State from, Action action, auth::Role role, Relation relation, bool extended, std::string_view note) {
    const Transition* t = find_transition(from, action);
    if (t == nullptr) throw Error(ErrorKind::conflict, "illegal_transition", illegal_message(from, action));
    if (!may(*t, role, relation))
        throw Error(ErrorKind::forbidden, "forbidden",
                    std::string(role == Role::admin ? "an " : "a ") + std::string(auth::to_string(role)) +
                        " user " + std::string(describe(relation)) + " may not " + named(action) +
                        " a case that is " + named(from) + "; " + who_may(*t) + " may");
    if (t->needs_extension && !extended)
        throw Error(ErrorKind::conflict, "extension_required",
                    named(action) + " is made only after at least one extension (延期); this case is " +
                        named(from) + " and was never extended");
    if (t->needs_note && is_blank(note))
        throw Error(ErrorKind::unprocessable, "note_required",
                    named(action) + " needs a written reason (意见) in the note");
    return t->to;
}

} // namespace wangge::incident

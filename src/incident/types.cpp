#include "incident/types.hpp"

#include <array>
#include <utility>

namespace wangge::incident {

namespace {

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) noexcept {
    for (const auto& [e, name] : names)
        if (e == value) return name;
    return {};
}

template <typename E, std::size_t N>
std::optional<E> value_of(const std::array<std::pair<E, std::string_view>, N>& names, std::string_view text) noexcept {
    for (const auto& [e, name] : names)
        if (name == text) return e;
    return std::nullopt;
}

constexpr std::array<std::pair<Urgency, std::string_view>, 2> urgencies{{{Urgency::normal, "normal"},
                                                                          {Urgency::urgent, "urgent"}}};
constexpr std::array<std::pair<HandlingLevel, std::string_view>, 3> levels{
    {{HandlingLevel::grid, "grid"}, {HandlingLevel::community, "community"}, {HandlingLevel::street, "street"}}};
constexpr std::array<std::pair<State, std::string_view>, 9> states{{{State::reported, "reported"},
                                                                     {State::accepted, "accepted"},
                                                                     {State::dispatched, "dispatched"},
                                                                     {State::in_progress, "in_progress"},
                                                                     {State::handled, "handled"},
                                                                     {State::verified, "verified"},
                                                                     {State::closed, "closed"},
                                                                     {State::invalid, "invalid"},
                                                                     {State::suspended, "suspended"}}};
constexpr std::array<std::pair<Action, std::string_view>, 12> actions{{{Action::accept, "accept"},
                                                                        {Action::invalidate, "invalidate"},
                                                                        {Action::dispatch, "dispatch"},
                                                                        {Action::reassign, "reassign"},
                                                                        {Action::start, "start"},
                                                                        {Action::feedback, "feedback"},
                                                                        {Action::verify, "verify"},
                                                                        {Action::rework, "rework"},
                                                                        {Action::close, "close"},
                                                                        {Action::send_back, "send_back"},
                                                                        {Action::extend, "extend"},
                                                                        {Action::suspend, "suspend"}}};

} // namespace

std::string_view to_string(Urgency u) noexcept { return name_of(urgencies, u); }
std::optional<Urgency> parse_urgency(std::string_view text) noexcept {
    if (text == "一般") return Urgency::normal;
    if (text == "紧急") return Urgency::urgent;
    return value_of(urgencies, text);
}
std::string_view to_string(HandlingLevel l) noexcept { return name_of(levels, l); }
std::optional<HandlingLevel> parse_handling_level(std::string_view text) noexcept {
    if (text == "网格") return HandlingLevel::grid;
    if (text == "社区") return HandlingLevel::community;
    if (text == "街道") return HandlingLevel::street;
    return value_of(levels, text);
}
std::string_view to_string(State s) noexcept { return name_of(states, s); }
std::optional<State> parse_state(std::string_view text) noexcept { return value_of(states, text); }
bool is_open(State s) noexcept { return s != State::closed && s != State::invalid && s != State::suspended; }
std::string_view to_string(Action a) noexcept { return name_of(actions, a); }
std::optional<Action> parse_action(std::string_view text) noexcept { return value_of(actions, text); }

} // namespace wangge::incident

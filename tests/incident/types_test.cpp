// The names of urgencies, levels, states and actions round-trip, in English and Chinese.
#include "incident/types.hpp"

#include <catch2/catch.hpp>

using namespace wangge::incident;

TEST_CASE("incident types: names round-trip", "[incident]") {
    for (State s : {State::reported, State::accepted, State::dispatched, State::in_progress, State::handled,
                    State::verified, State::closed, State::invalid, State::suspended})
        CHECK(parse_state(to_string(s)) == s);
    for (Action a : {Action::accept, Action::invalidate, Action::dispatch, Action::reassign, Action::start,
                     Action::feedback, Action::verify, Action::rework, Action::close, Action::send_back,
                     Action::extend, Action::suspend})
        CHECK(parse_action(to_string(a)) == a);
    CHECK(parse_urgency("紧急") == Urgency::urgent);
    CHECK(parse_urgency("normal") == Urgency::normal);
    CHECK_FALSE(parse_urgency("soon"));
    CHECK(parse_handling_level("社区") == HandlingLevel::community);
    CHECK(parse_handling_level("street") == HandlingLevel::street);
    CHECK_FALSE(parse_state("open"));
    CHECK(is_open(State::handled));
    CHECK_FALSE(is_open(State::closed));
    CHECK_FALSE(is_open(State::suspended));
}

#pragma once
// The vocabulary of incident handling (docs/INCIDENTS.md), after the digital urban-management
// procedure (数字化城市管理, GB/T 30428, CJ/T 315): a case is reported (上报), accepted (立案),
// dispatched (派遣) to a responsible worker, handled (处置), fed back (反馈), verified (核查) and
// closed (结案); it may be voided (作废), returned to the dispatcher (回退), given more time
// (延期), sent back to the same handler when verification fails (返工), or set aside as
// unsolvable after an extension (挂账).
#include <optional>
#include <string_view>

namespace wangge::incident {

// 一般 or 紧急: the category's time limit differs by urgency.
enum class Urgency { normal, urgent };
std::string_view to_string(Urgency u) noexcept;
// "normal"/"urgent" and 一般/紧急.
std::optional<Urgency> parse_urgency(std::string_view text) noexcept;

// The level of the hierarchy that handles a kind of case, and to which a case falls when nobody
// below can take it (属地兜底).
enum class HandlingLevel { grid, community, street };
std::string_view to_string(HandlingLevel l) noexcept;
std::optional<HandlingLevel> parse_handling_level(std::string_view text) noexcept;

enum class State {
    reported,    // 上报: received, not yet accepted
    accepted,    // 立案: accepted as a case, waiting to be dispatched
    dispatched,  // 派遣: assigned to a handler, not yet started
    in_progress, // 处置: the handler is on it
    handled,     // 反馈: the handler reports it done, waiting for verification
    verified,    // 核查: verified on site, waiting to be closed
    closed,      // 结案
    invalid,     // 作废: not a case (duplicate, out of remit, false)
    suspended,   // 挂账: unsolvable for now, after an extension, with a written reason
};
std::string_view to_string(State s) noexcept;
std::optional<State> parse_state(std::string_view text) noexcept;
// Closed, invalid and suspended cases are no longer running against a time limit.
bool is_open(State s) noexcept;

enum class Action {
    accept,     // 立案: reported -> accepted
    invalidate, // 作废
    dispatch,   // 派遣: accepted -> dispatched
    reassign,   // 改派: to another handler
    start,      // 处置: dispatched -> in_progress
    feedback,   // 反馈: in_progress -> handled
    verify,     // 核查 passed: handled -> verified
    rework,     // 返工: verification failed, back to the same handler
    close,      // 结案: verified -> closed
    send_back,  // 回退: the handler returns the case to the dispatcher
    extend,     // 延期: a new due time
    suspend,    // 挂账: unsolvable after an extension, with a reason
};
std::string_view to_string(Action a) noexcept;
std::optional<Action> parse_action(std::string_view text) noexcept;

} // namespace wangge::incident

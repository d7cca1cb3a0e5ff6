#include "auth/principal.hpp"

#include "core/codes.hpp"
#include "core/error.hpp"

#include <algorithm>

namespace wangge::auth {

std::string_view to_string(Role role) noexcept {
    switch (role) {
    case Role::admin: return "admin";
    case Role::street: return "street";
    case Role::community: return "community";
    case Role::worker: return "worker";
    case Role::viewer: return "viewer";
    }
    return "viewer";
}

std::optional<Role> parse_role(std::string_view text) noexcept {
    for (Role r : {Role::admin, Role::street, Role::community, Role::worker, Role::viewer})
        if (text == to_string(r)) return r;
    return std::nullopt;
}

bool Principal::covers(std::string_view code) const noexcept {
    if (role == Role::admin) return true;
    return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& s) { return code.starts_with(s); });
}

bool Principal::touches(std::string_view code) const noexcept {
    if (covers(code)) return true;
    return std::any_of(scopes.begin(), scopes.end(), [&](const std::string& s) { return s.starts_with(code); });
}

void check_scopes(Role role, const std::vector<std::string>& scopes) {
    auto refuse = [&](const std::string& why) {
        throw Error(ErrorKind::unprocessable, "invalid_scope", "a " + std::string(to_string(role)) + " " + why);
    };
    if (role == Role::admin) {
        if (!scopes.empty()) refuse("covers the whole district and takes no --scope");
        return;
    }
    if (scopes.empty()) refuse("needs at least one --scope code");
    const std::optional<Level> needed = role == Role::street      ? std::optional(Level::street)
                                        : role == Role::community ? std::optional(Level::community)
                                        : role == Role::worker    ? std::optional(Level::grid)
                                                                  : std::nullopt;
    for (const auto& code : scopes) {
        const auto level = level_of_code(code);
        if (!level) refuse("scope '" + code + "' is not a 9-, 12- or 15-digit division code");
        if (needed && *level != *needed)
            refuse("has " + std::string(to_string(*needed)) + " codes (" + std::to_string(code_length(*needed)) +
                   " digits) as scope, not '" + code + "'");
    }
}

} // namespace wangge::auth

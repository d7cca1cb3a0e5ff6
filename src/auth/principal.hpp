#pragma once
// Who is asking: a signed-in user with a role and a scope (docs/SECURITY.md). A scope is a set of
// division codes; a code covers everything below it by prefix (a street's 9 digits cover its
// communities and grids).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::auth {

enum class Role { admin, street, community, worker, viewer };

std::string_view to_string(Role role) noexcept;
std::optional<Role> parse_role(std::string_view text) noexcept;

// How the request proved who it is.
enum class Via { token, cookie };

struct Principal {
    std::int64_t user_id = 0;
    std::string name;
    std::string display_name;
    Role role = Role::viewer;
    std::vector<std::string> scopes;
    Via via = Via::token;
    std::string expires_at; // of the token or session

    // An admin, or a scope code that is `code` or above it.
    bool covers(std::string_view code) const noexcept;
    // covers(code), or `code` is above a scope code (a worker's grid lies in that community).
    bool touches(std::string_view code) const noexcept;
};

// Throws Error(unprocessable) unless `scopes` fit `role`: none for admin; 9-digit street codes for
// street staff; 12-digit community codes for community staff; 15-digit grid codes for grid
// workers; any codes, at least one, for viewers.
void check_scopes(Role role, const std::vector<std::string>& scopes);

} // namespace wangge::auth

#pragma once
// Phone numbers of people (a report's reporter, a grid's workers) are for those who call them
// back: shown in full to signed-in users of every role but viewer, masked for viewers (and for
// anyone not signed in) as 139****5678. The one rule, used by every answer that carries a phone.
#include "api/message.hpp"

#include <string>

namespace wangge::api {

inline std::string shown_phone(const std::string& phone, const Request& req) {
    if (phone.size() < 7 || (req.principal && req.principal->role != auth::Role::viewer)) return phone;
    return phone.substr(0, 3) + std::string(phone.size() - 7, '*') + phone.substr(phone.size() - 4);
}

} // namespace wangge::api

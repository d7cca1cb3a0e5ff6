#pragma once
// Schema migrations of the store, oldest first. Migration i brings the file from schema version
// i to i+1 (PRAGMA user_version); a new file runs all of them.
#include <string_view>
#include <vector>

namespace wangge::store::detail {

const std::vector<std::string_view>& migrations();

} // namespace wangge::store::detail

#pragma once
// Writing a generated district into the store: the same rows, checks and building assignment
// an import goes through, in one transaction. `wangge demo` and the tests that need a realistic
// district both use it.
#include "demo/generator.hpp"
#include "grid/assign.hpp"
#include "store/database.hpp"

#include <cstddef>
#include <functional>

namespace wangge::demo {

// Stores every row of `district` and assigns each building to the grid holding most of its
// footprint (which, for the demo, is the grid it was generated in). Nothing is stored if any
// row fails. `progress(done, total)` counts rows.
grid::AssignmentReport store_district(store::Database& db, const DemoDistrict& district,
                                      const std::function<void(std::size_t, std::size_t)>& progress = {});

} // namespace wangge::demo

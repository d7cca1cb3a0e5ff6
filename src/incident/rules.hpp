#pragma once
// The rules intake applies to a report (intake.hpp's CaseRules), from the category catalogue and
// the working calendar: the handling level and duplicate radius of the 小类, and its time limit
// for the urgency counted in working time.
#include "incident/calendar.hpp"
#include "incident/categories.hpp"
#include "incident/intake.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace wangge::incident {

using RulesLookup = std::function<std::optional<CaseRules>(std::string_view category, Urgency urgency)>;

// nullopt for a category the catalogue does not have.
RulesLookup rules_lookup(std::shared_ptr<const Catalogue> catalogue, std::shared_ptr<const Calendar> calendar);

} // namespace wangge::incident

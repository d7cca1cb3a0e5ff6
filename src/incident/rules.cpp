#include "incident/rules.hpp"

namespace wangge::incident {

RulesLookup rules_lookup(std::shared_ptr<const Catalogue> catalogue, std::shared_ptr<const Calendar> calendar) {
    return [catalogue = std::move(catalogue), calendar = std::move(calendar)](
               std::string_view code, Urgency urgency) -> std::optional<CaseRules> {
        const Category* c = catalogue->find(code);
        if (!c) return std::nullopt;
        CaseRules rules;
        rules.level = c->level;
        rules.duplicate_radius_m = c->duplicate_radius_m;
        rules.due = [calendar, limit = c->limit(urgency)](SystemTime reported_at) {
            return calendar->add_working(reported_at, limit);
        };
        return rules;
    };
}

} // namespace wangge::incident

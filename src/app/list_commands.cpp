// `wangge list streets|communities|grids`: the stored codes, to find what the other commands take.
#include "app/commands.hpp"
#include "core/codes.hpp"
#include "core/error.hpp"
#include "grid/snapshot.hpp"
#include "store/database.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace wangge::app {

namespace {

bool under(const std::string& code, const std::string& parent) {
    return parent.empty() || code.compare(0, parent.size(), parent) == 0;
}

} // namespace

int run_list(const ListCommand& c) {
    if (!c.parent.empty()) {
        const auto level = level_of_code(c.parent);
        if (!level || *level == Level::grid)
            throw Error(ErrorKind::bad_request, "invalid_code",
                        "--parent takes a street (9 digits) or community (12 digits) code, not '" + c.parent + "'");
        if (c.what == "streets")
            throw Error(ErrorKind::bad_request, "invalid_option", "streets have no parent: leave out --parent");
    }
    auto source = store::open_map_source(c.db.string()); // a SpatiaLite file or a postgresql:// URL
    const auto snap = grid::Snapshot::load(*source, grid::Band{c.band_min, c.band_max});
    nlohmann::json rows = nlohmann::json::array();
    auto add = [&](const grid::Area& a, nlohmann::json extra) {
        nlohmann::json row{{"code", a.code}, {"name", a.name}, {"households", a.stats.households}};
        if (!a.parent_code.empty()) row["parent"] = a.parent_code;
        row.update(extra);
        rows.push_back(std::move(row));
    };
    if (c.what == "streets") {
        for (const auto& s : snap->streets()) add(s, {{"communities", s.stats.children}});
    } else if (c.what == "communities") {
        for (const auto& a : snap->communities())
            if (under(a.code, c.parent)) add(a, {{"grids", a.stats.children}});
    } else {
        for (const auto& g : snap->grids())
            if (under(g.code, c.parent))
                add(g, {{"kind", std::string(store::to_string(g.kind))}, {"load", std::string(grid::to_string(g.load))}});
    }
    if (c.json) {
        std::printf("%s\n", rows.dump().c_str());
        return 0;
    }
    if (rows.empty()) {
        std::printf("no %s%s in %s\n", c.what.c_str(), c.parent.empty() ? "" : (" under " + c.parent).c_str(),
                    c.db.string().c_str());
        return 0;
    }
    for (const auto& r : rows) {
        std::string extra;
        if (r.contains("communities")) extra = std::to_string(r["communities"].get<std::size_t>()) + " communities";
        if (r.contains("grids")) extra = std::to_string(r["grids"].get<std::size_t>()) + " grids";
        if (r.contains("load")) extra = r["kind"] == "unit" ? "unit" : r["load"].get<std::string>();
        std::printf("%-16s %-24s %7ld households  %s\n", r["code"].get<std::string>().c_str(),
                    r["name"].get<std::string>().c_str(), r["households"].get<long>(), extra.c_str());
    }
    return 0;
}

} // namespace wangge::app

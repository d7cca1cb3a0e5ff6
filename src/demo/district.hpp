#pragma once
// Builds the whole demo district: lays superblocks out in a band snake (3 superblocks tall) so
// that runs of it make compact, contiguous street offices, numbers streets and communities
// north-west first, plans every community, then turns the plans into store rows, and ages
// their households when asked for the district some years on.
#include "demo/changes.hpp"
#include "demo/generator.hpp"
#include "demo/layout.hpp"
#include "demo/names.hpp"
#include "demo/roads.hpp"

#include <array>
#include <string>
#include <vector>

namespace wangge::demo::detail {

constexpr long min_district_households = 5000;
constexpr long max_district_households = 20000000;
constexpr int max_years_later = 20;

struct CommunityInfo {
    CellIndex block; // superblock position
    std::size_t street = 0;
    std::string code;
    std::string base; // bare name: 翠湖 for 翠湖社区
    CommunityPlan plan;
    std::vector<std::string> cell_grid; // grid code of each local cell
};

struct StreetInfo {
    std::vector<std::size_t> communities; // indices into the district's communities
    std::string code;
    std::string name;
};

class DistrictBuilder {
public:
    DistrictBuilder(const DemoOptions& options, const Progress& progress);
    DemoDistrict build();

private:
    void lay_out();
    void number_hierarchy();
    void name_arterials();
    void plan_communities();
    void emit_grids(CommunityInfo& c);
    void emit_buildings(const CommunityInfo& c);
    void emit_streets();
    void emit_roads();
    void apply_changes();

    std::vector<std::size_t> communities_in_code_order() const;
    std::string site_name(const CommunityInfo& c, int site) const;
    std::string address(const CommunityInfo& c, int cell, const std::string& place) const;
    void report(std::string_view stage, std::size_t done, std::size_t total) const;

    const DemoOptions& m_options;
    const Progress& m_progress;
    Rng m_layout_rng;
    Rng m_name_rng;
    NamePool m_compound_names;
    Lattice m_lattice;
    std::vector<CommunityInfo> m_communities; // in snake order
    std::vector<StreetInfo> m_streets;        // in code order
    ArterialNames m_arterials;
    DemoDistrict m_out;
    std::vector<Compound> m_compounds; // the residential compounds of m_out.buildings
};

} // namespace wangge::demo::detail

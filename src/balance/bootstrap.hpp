#pragma once
// Dividing a street office's area from nothing (docs/BALANCE.md): its buildings' cells are
// grouped into communities of about `community_households` households, and each community
// into grids of the band, with the same partitioner as rebalancing. Codes are real ones from a
// code list where given (the National Bureau of Statistics' division codes), generated after
// them otherwise. This is how an OpenStreetMap extract gets its hierarchy.
#include "balance/partition.hpp"
#include "store/records.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace wangge::balance {

struct BootstrapOptions {
    grid::Band band;                    // of a grid
    int community_households = 2500;    // a community holds this many, within +-30%
    std::uint64_t seed = 20240601;
};

// Real codes and names of communities, in the order they are handed out.
struct CodeList {
    std::string street_name; // empty: not known
    std::vector<std::pair<std::string, std::string>> communities; // (12-digit code, name)
};

// Reads division codes for `street_code` from the .csv files of a directory, whatever their names:
// the published lists (china-division's streets.csv and villages.csv, code,name,streetCode,...)
// as well as any files with a header naming the columns code and name (and streetCode for
// communities), in any order. Rows of 9-digit codes are streets, of 12-digit codes communities
// (villages); a community belongs to the street its streetCode names, or, without that column,
// the street its code begins with. Office suffixes are dropped from names (社区居委会 -> 社区,
// 街道办事处 -> 街道). Throws Error(io) for an unreadable directory, Error(not_found,
// "unknown_code") when the street is not listed, naming each file read and what it held.
CodeList read_code_list(const std::filesystem::path& dir, const std::string& street_code);

struct BootstrapInput {
    std::string street_code; // 9 digits
    std::string street_name;
    geo::Geometry boundary;                        // the street's area (polygonal, WGS84)
    std::vector<const store::BuildingRow*> buildings; // candidates; those inside are divided
    geo::Geometry roads;                           // road lines (may be empty)
    CodeList codes;
};

struct BootstrapResult {
    grid::Band band; // of the grids
    store::StreetRow street;
    std::vector<store::CommunityRow> communities;
    std::vector<store::GridRow> grids;
    // Per community and per grid, the households as the store will count them (each building in
    // the grid holding most of its footprint), and why a grid is out of the band, in words true of
    // that grid.
    std::vector<int> community_households;
    std::vector<int> grid_households;
    std::vector<Violation> grid_violations;
    std::vector<std::string> grid_explanations; // "" for a grid in the band
    std::size_t buildings = 0; // divided
    // Buildings whose grid code changes: by largest overlap with the new grids, or to none for
    // a building that held a code of this street and stands in none of its new grids.
    std::vector<store::GridChange::BuildingMove> building_moves;
};

// Throws Error(bad_request) for a bad band, size or code, Error(unprocessable) for an empty
// boundary.
BootstrapResult bootstrap_street(const BootstrapInput& input, const BootstrapOptions& options);

} // namespace wangge::balance

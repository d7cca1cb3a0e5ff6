#pragma once
// What balance_bench's parts share (bench/balance_bench.cpp: the partition and MIP tables;
// bench/balance_quality.cpp: the quality table of wangge's own grids on real blocks).
#include "balance/partition.hpp"

#include <metis.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace wangge::balance_bench {

using balance::AtomGraph;
namespace fs = std::filesystem;

inline const grid::Band band{250, 500};
constexpr std::uint64_t seed = 20240601;

inline std::size_t at(int i) { return static_cast<std::size_t>(i); }

struct Options {
    std::string walnut_hills;
    int runs = 5;   // timed runs of each partition (median)
    int seeds = 20; // instances of each synthetic family, partition seeds of each
    std::string only;
    fs::path mip_dir = fs::temp_directory_path() / "wangge-balance-mip";
    int mip_seconds = 120;
    std::string cbc = "cbc";
    std::string instance;     // only the instances whose name starts with this
    std::string wangge_grids; // quality: `grid,community,block` rows of the grids wangge stored
    int mip_atoms = 40;       // quality: tracts of at most this many blocks go to the MIP
};

// One output line: `name key=value ...`.
class Line {
public:
    explicit Line(std::string_view name) : m_text(name) {}
    template <class T> Line& operator()(std::string_view key, const T& value) {
        std::ostringstream s;
        s << value;
        m_text += ' ';
        m_text += key;
        m_text += '=';
        m_text += s.str();
        return *this;
    }
    Line& fixed(std::string_view key, double value, int decimals) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
        return (*this)(key, buf);
    }
    ~Line() {
        std::printf("%s\n", m_text.c_str());
        std::fflush(stdout);
    }
    Line(const Line&) = delete;
    Line& operator=(const Line&) = delete;

private:
    std::string m_text;
};

inline long total_households(const AtomGraph& g) {
    return std::accumulate(g.households.begin(), g.households.end(), 0L);
}

// The census blocks of `path` (GeoJSON, households in HOUSEHOLDS), each block its own cell.
AtomGraph walnut_hills(const std::string& path);

// The graph restricted to `atoms` (in that order); boundaries with atoms left out become outer.
AtomGraph subgraph(const AtomGraph& g, const std::vector<int>& atoms);

// METIS's balance tolerance that lets a part reach band.max when the mean part is total / k.
idx_t band_ufactor(const AtomGraph& g, int k);

// METIS k-way, with contiguous parts unless told otherwise (METIS refuses them on a graph that
// is not connected); vertex weights the households, edge weights the boundary.
std::vector<int> metis(const AtomGraph& g, int k, idx_t ufactor, std::uint64_t s, bool contiguous = true);

struct MipResult {
    std::string status; // optimal, time_limit, infeasible, no_solution, failed
    double objective = 0, bound = 0, seconds = 0;
    std::vector<int> zone_of;
};

// The shortest boundary between k contiguous zones of the band (cbc), from `start` if not empty.
MipResult solve_mip(const AtomGraph& g, int k, const std::vector<int>& start, const std::string& name,
                    const Options& o);

// The quality table: the grids wangge stored for each tract (o.wangge_grids) beside METIS and
// the MIP on the same blocks (bench/balance_quality.cpp).
void bench_quality(const AtomGraph& walnut, const Options& o);

} // namespace wangge::balance_bench

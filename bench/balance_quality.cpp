// The quality table of grid division (docs/BENCHMARKS.md, "Grid division: the quality table"):
// the grids `wangge rebalance --from-scratch` stored for each census tract of Walnut Hills (a
// tract is a community, its blocks are buildings with their households; bench/balance.sh runs
// the commands and hands over the stored grids as `grid,community,block` rows), scored beside
// METIS and the exact MIP on the same blocks with the same balance::measure.
//
// Per tract and method: grids; in band; holding no households; above max holding one block above
// max and no other households (no division can do better); below min where the tract, or a part of
// it that touches no other, holds fewer than min households (the same); below and above otherwise;
// contiguous; mean Polsby-Popper. Then whether a division with every grid in band exists (the MIP,
// METIS or Wangge found one, or the MIP proved there is none) and the three targets.
#include "balance_bench.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>

namespace wangge::balance_bench {

namespace {

struct Block {
    std::string id, tract;
};

// The BLOCK and TRACT of every feature, in the order of walnut_hills()'s atoms.
std::vector<Block> read_blocks(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    const nlohmann::json collection = nlohmann::json::parse(in);
    std::vector<Block> out;
    for (const auto& f : collection.at("features")) {
        const auto& p = f.at("properties");
        out.push_back({p.at("BLOCK").get<std::string>(), p.at("TRACT").get<std::string>()});
    }
    return out;
}

// The grids wangge stored: per block its grid code, and per community the codes of all its grids
// (also those holding no block).
struct Stored {
    std::map<std::string, std::string> grid_of_block;
    std::map<std::string, std::set<std::string>> grids_of_community;
};

Stored read_stored(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    Stored s;
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto c1 = line.find(','), c2 = line.find(',', c1 + 1);
        if (c1 == std::string::npos || c2 == std::string::npos) throw std::runtime_error(path + ": bad row " + line);
        const std::string grid = line.substr(0, c1), community = line.substr(c1 + 1, c2 - c1 - 1), block = line.substr(c2 + 1);
        if (!grid.empty()) s.grids_of_community[community].insert(grid);
        if (!block.empty() && !grid.empty()) s.grid_of_block[block] = grid;
    }
    return s;
}

int components(const AtomGraph& g) {
    std::vector<char> seen(g.size(), 0);
    int n = 0;
    for (std::size_t s = 0; s < g.size(); ++s) {
        if (seen[s]) continue;
        ++n;
        std::vector<int> stack{static_cast<int>(s)};
        seen[s] = 1;
        while (!stack.empty()) {
            const int a = stack.back();
            stack.pop_back();
            for (const balance::Edge& e : g.adjacency[at(a)])
                if (!seen[at(e.to)]) {
                    seen[at(e.to)] = 1;
                    stack.push_back(e.to);
                }
        }
    }
    return n;
}

struct Quality {
    int blocks = 0;
    long households = 0;
    int grids = 0, in_band = 0, zero = 0, above_block = 0, below_part = 0, below = 0, above = 0, contiguous = 0;
    int measured = 0; // grids holding blocks, whose compactness is measured
    double pp_sum = 0;
    double mean_pp() const { return pp_sum / std::max(1, measured); }
    int out_of_band_avoidable() const { return below + above; }
    Quality& operator+=(const Quality& o) {
        blocks += o.blocks;
        households += o.households;
        grids += o.grids;
        in_band += o.in_band;
        zero += o.zero;
        above_block += o.above_block;
        below_part += o.below_part;
        below += o.below;
        above += o.above;
        contiguous += o.contiguous;
        measured += o.measured;
        pp_sum += o.pp_sum;
        return *this;
    }
};

// Atoms of parts of g (connected components) holding fewer than band.min households.
std::vector<char> small_parts(const AtomGraph& g) {
    std::vector<char> small(g.size(), 0), seen(g.size(), 0);
    for (std::size_t s = 0; s < g.size(); ++s) {
        if (seen[s]) continue;
        std::vector<int> part{static_cast<int>(s)};
        seen[s] = 1;
        long h = 0;
        for (std::size_t i = 0; i < part.size(); ++i) {
            h += g.households[at(part[i])];
            for (const balance::Edge& e : g.adjacency[at(part[i])])
                if (!seen[at(e.to)]) {
                    seen[at(e.to)] = 1;
                    part.push_back(e.to);
                }
        }
        if (h < band.min)
            for (int a : part) small[at(a)] = 1;
    }
    return small;
}

// `empty_grids`: grids stored without any block (they hold no households and cannot be measured).
Quality score(const AtomGraph& g, const std::vector<int>& zone_of, int zones, int empty_grids) {
    const std::vector<char> small = small_parts(g);
    const auto m = balance::measure(g, zone_of, zones);
    std::vector<int> with_households(at(zones), 0), largest(at(zones), 0);
    std::vector<char> all_small(at(zones), 1);
    for (std::size_t a = 0; a < g.size(); ++a) {
        const std::size_t z = at(zone_of[a]);
        with_households[z] += g.households[a] > 0 ? 1 : 0;
        largest[z] = std::max(largest[z], g.households[a]);
        if (!small[a]) all_small[z] = 0;
    }
    Quality q;
    q.blocks = static_cast<int>(g.size());
    q.households = total_households(g);
    q.grids = empty_grids;
    q.zero = empty_grids;
    for (std::size_t z = 0; z < m.size(); ++z) {
        if (m[z].atoms == 0) continue; // METIS may leave a part empty: it is no grid
        ++q.grids;
        ++q.measured;
        q.pp_sum += m[z].polsby_popper();
        q.contiguous += m[z].contiguous ? 1 : 0;
        const int h = m[z].households;
        if (h == 0) ++q.zero;
        else if (h >= band.min && h <= band.max) ++q.in_band;
        else if (h > band.max && largest[z] > band.max && with_households[z] == 1) ++q.above_block;
        else if (h < band.min && all_small[z]) ++q.below_part;
        else if (h < band.min) ++q.below;
        else ++q.above;
    }
    return q;
}

void print(const std::string& tract, const std::string& community, std::string_view method, const Quality& q) {
    Line("quality")("instance", tract)("community", community)("method", method)("blocks", q.blocks)(
        "households", q.households)("grids", q.grids)("in_band", q.in_band)("zero", q.zero)("above_block", q.above_block)(
        "below_part", q.below_part)("below", q.below)("above", q.above)("contiguous", q.contiguous)
        .fixed("mean_pp", q.mean_pp(), 3);
}

// Every zone in band and contiguous, k zones.
bool valid(const AtomGraph& g, const std::vector<int>& zone_of, int k) {
    if (zone_of.size() != g.size()) return false;
    const auto m = balance::measure(g, zone_of, k);
    return std::all_of(m.begin(), m.end(), [](const balance::ZoneMeasure& z) {
        return z.atoms > 0 && z.contiguous && z.households >= band.min && z.households <= band.max;
    });
}

// `zone_of` restricted to `atoms`, numbered 0.. in order of first atom.
std::pair<std::vector<int>, int> restrict(const std::vector<int>& zone_of, const std::vector<int>& atoms) {
    std::map<int, int> number;
    std::vector<int> out;
    for (int a : atoms) out.push_back(number.emplace(zone_of[at(a)], static_cast<int>(number.size())).first->second);
    return {out, static_cast<int>(number.size())};
}

struct Exact {
    std::string status; // solved, infeasible, unknown, too_large, below_min
    int k = 0;
    double seconds = 0;
    std::vector<int> zone_of; // of the whole tract, when solved
    int zones = 0;
};

// The tract through the exact MIP: blocks above max are grids of their own; the rest is divided
// into k zones of the band for the k the band allows, Wangge's count first, until one is solved.
Exact exact(const AtomGraph& g, const std::string& tract, int wangge_zones, const std::vector<int>& wangge,
            const std::vector<int>& metis_zones, const Options& o) {
    Exact x;
    std::vector<int> big, rest;
    for (std::size_t a = 0; a < g.size(); ++a) (g.households[a] > band.max ? big : rest).push_back(static_cast<int>(a));
    if (static_cast<int>(rest.size()) > o.mip_atoms) {
        x.status = "too_large";
        return x;
    }
    const AtomGraph r = subgraph(g, rest);
    const long h = total_households(r);
    if (rest.empty() || h < band.min) {
        x.status = "below_min"; // nothing to divide: blocks above max alone, the rest (if any) below min
        return x;
    }
    const long kmin = std::max(1L, (h + band.max - 1) / band.max), kmax = h / band.min;
    std::vector<int> ks;
    for (long k = kmin; k <= kmax; ++k) ks.push_back(static_cast<int>(k));
    const int preferred = wangge_zones - static_cast<int>(big.size());
    std::stable_sort(ks.begin(), ks.end(), [&](int l, int rk) { return std::abs(l - preferred) < std::abs(rk - preferred); });
    bool unknown = false;
    for (int k : ks) {
        std::vector<int> zone_of;
        if (k == 1) {
            zone_of.assign(r.size(), 0);
            if (!valid(r, zone_of, 1)) continue; // the rest is not connected: not one zone
        } else {
            std::vector<int> start;
            for (const std::vector<int>* candidate : {&wangge, &metis_zones}) {
                auto [z, n] = restrict(*candidate, rest);
                if (n == k && valid(r, z, k)) {
                    start = z;
                    break;
                }
            }
            const MipResult mip = solve_mip(r, k, start, "quality_" + tract + "_k" + std::to_string(k), o);
            x.seconds += mip.seconds;
            if (mip.status != "optimal" && mip.status != "time_limit") {
                unknown = unknown || mip.status != "infeasible";
                continue;
            }
            if (!valid(r, mip.zone_of, k)) throw std::runtime_error("the MIP solution of tract " + tract + " is not valid");
            zone_of = mip.zone_of;
        }
        x.status = "solved";
        x.k = k;
        x.zone_of.assign(g.size(), 0);
        for (std::size_t i = 0; i < rest.size(); ++i) x.zone_of[at(rest[i])] = zone_of[i];
        x.zones = k;
        for (int a : big) x.zone_of[at(a)] = x.zones++;
        return x;
    }
    x.status = unknown ? "unknown" : "infeasible";
    return x;
}

const char* verdict(bool ok) { return ok ? "PASS" : "FAIL"; }

} // namespace

void bench_quality(const AtomGraph& walnut, const Options& o) {
    if (o.wangge_grids.empty()) throw std::runtime_error("the quality table needs --wangge-grids");
    const std::vector<Block> blocks = read_blocks(o.walnut_hills);
    if (blocks.size() != walnut.size()) throw std::runtime_error("blocks and graph differ in size");
    const Stored stored = read_stored(o.wangge_grids);
    std::map<std::string, std::vector<int>> tracts;
    for (std::size_t a = 0; a < blocks.size(); ++a) tracts[blocks[a].tract].push_back(static_cast<int>(a));

    std::map<std::string, Quality> total;
    int tracts_run = 0, passed_band = 0, passed_zero = 0, compared_pp = 0, passed_pp = 0;
    for (const auto& [tract, atoms] : tracts) {
        if (!o.instance.empty() && tract.rfind(o.instance, 0) != 0) continue;
        const AtomGraph g = subgraph(walnut, atoms);
        // Wangge's grids: the stored grid of each block, and the community's grids holding none.
        std::map<std::string, int> number;
        std::vector<int> wangge(g.size());
        int unassigned = 0;
        for (std::size_t i = 0; i < atoms.size(); ++i) {
            const auto it = stored.grid_of_block.find(blocks[at(atoms[i])].id);
            const std::string code = it == stored.grid_of_block.end() ? std::string() : it->second;
            unassigned += code.empty() ? 1 : 0;
            wangge[i] = number.emplace(code, static_cast<int>(number.size())).first->second;
        }
        std::string community;
        for (const auto& [code, z] : number)
            if (!code.empty()) community = code.substr(0, 12);
        int empty_grids = 0;
        if (auto it = stored.grids_of_community.find(community); it != stored.grids_of_community.end())
            for (const std::string& code : it->second) empty_grids += number.count(code) ? 0 : 1;
        const int zones = static_cast<int>(number.size());
        const Quality w = score(g, wangge, zones, empty_grids);
        print(tract, community, "wangge", w);
        if (unassigned) Line("quality_unassigned")("instance", tract)("blocks", unassigned);

        // METIS's contiguous parts need a connected graph: a tract in pieces gets parts that may not be.
        const bool connected = components(g) == 1;
        const std::vector<int> m = metis(g, zones, band_ufactor(g, zones), seed, connected);
        const Quality mq = score(g, m, zones, 0);
        print(tract, community, "metis", mq);

        // The partitioner alone on the blocks (as balance_bench's partition table runs it): what the
        // cells, the footprint rule and the empty-grid joins of `wangge rebalance` add or take.
        balance::PartitionOptions po;
        po.band = band;
        po.seed = seed;
        const balance::Partition p = balance::partition(g, po);
        print(tract, community, "partition", score(g, p.zone_of, p.zones, 0));

        const Exact x = exact(g, tract, zones, wangge, m, o);
        std::optional<Quality> xq;
        if (x.status == "solved") {
            xq = score(g, x.zone_of, x.zones, 0);
            print(tract, community, "mip", *xq);
        }
        Line("quality_mip")("instance", tract)("status", x.status)("k", x.k).fixed("seconds", x.seconds, 1);

        // A division with every grid in band (bar the unavoidable ones) exists when any of the
        // three found one; none exists when the MIP proved it for every count the band allows.
        auto all_fit = [](const Quality& q) { return q.out_of_band_avoidable() == 0 && q.zero == 0 && q.contiguous == q.measured; };
        const std::string feasible = all_fit(w) || all_fit(mq) || (xq && all_fit(*xq)) ? "yes"
                                     : x.status == "infeasible"                       ? "no"
                                                                                      : "unknown";
        const bool band_ok = w.out_of_band_avoidable() == 0 || feasible == "no";
        const bool zero_ok = w.zero == 0;
        // Compactness is compared with METIS where METIS's division is one a user could take.
        const bool metis_valid = all_fit(mq);
        const bool pp_ok = !metis_valid || w.mean_pp() + 5e-4 >= mq.mean_pp();
        ++tracts_run;
        passed_band += band_ok;
        passed_zero += zero_ok;
        compared_pp += metis_valid;
        passed_pp += metis_valid && pp_ok;
        Line("quality_verdict")("instance", tract)("feasible", feasible)("band", verdict(band_ok))("zero", verdict(zero_ok))(
            "pp", metis_valid ? verdict(pp_ok) : "n/a");
        total["wangge"] += w;
        total["metis"] += mq;
        if (xq) total["mip"] += *xq;
    }
    for (const auto& [method, q] : total) print("all", "-", method, q);
    Line("quality_targets")("tracts", tracts_run)("band", passed_band)("zero", passed_zero)("pp", passed_pp)(
        "pp_compared", compared_pp);
}

} // namespace wangge::balance_bench

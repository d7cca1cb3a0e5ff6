#include "balance/partition.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <tuple>

namespace wangge::balance {

int AtomGraph::add_atom(int h, double cx, double cy, double area, double outer) {
    households.push_back(h);
    x.push_back(cx);
    y.push_back(cy);
    area_m2.push_back(area);
    outer_m.push_back(outer);
    adjacency.emplace_back();
    return static_cast<int>(households.size() - 1);
}

void AtomGraph::connect(int a, int b, double length_m, bool road) {
    if (a == b) return;
    for (Edge& e : adjacency[static_cast<std::size_t>(a)])
        if (e.to == b) {
            e.length_m += length_m;
            e.road = e.road || road;
            for (Edge& back : adjacency[static_cast<std::size_t>(b)])
                if (back.to == a) {
                    back.length_m += length_m;
                    back.road = e.road;
                }
            return;
        }
    adjacency[static_cast<std::size_t>(a)].push_back({b, length_m, road});
    adjacency[static_cast<std::size_t>(b)].push_back({a, length_m, road});
}

std::string_view to_string(Violation v) noexcept {
    switch (v) {
    case Violation::none: return "none";
    case Violation::atom_above_max: return "atom_above_max";
    case Violation::part_below_min: return "part_below_min";
    case Violation::area_below_min: return "area_below_min";
    case Violation::infeasible_split: return "infeasible_split";
    }
    return "none";
}

double ZoneMeasure::polsby_popper() const noexcept {
    return perimeter_m > 0 ? 4 * 3.14159265358979323846 * area_m2 / (perimeter_m * perimeter_m) : 0;
}

namespace {

using Atoms = std::vector<int>;
constexpr double pi = 3.14159265358979323846;

std::size_t at(int i) { return static_cast<std::size_t>(i); }

struct UnionFind {
    std::vector<int> parent;
    explicit UnionFind(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
    int find(int a) {
        while (parent[at(a)] != a) a = parent[at(a)] = parent[at(parent[at(a)])];
        return a;
    }
    bool join(int a, int b) {
        a = find(a);
        b = find(b);
        if (a == b) return false;
        parent[at(a)] = b;
        return true;
    }
};

// Connected components of `atoms` in the graph restricted to them (`member` marks them).
std::vector<Atoms> components(const AtomGraph& g, const Atoms& atoms, std::vector<char>& member) {
    for (int a : atoms) member[at(a)] = 1;
    std::vector<Atoms> out;
    std::vector<char> seen(g.size(), 0);
    for (int start : atoms) {
        if (seen[at(start)]) continue;
        Atoms comp{start};
        seen[at(start)] = 1;
        for (std::size_t i = 0; i < comp.size(); ++i)
            for (const Edge& e : g.adjacency[at(comp[i])])
                if (member[at(e.to)] && !seen[at(e.to)]) {
                    seen[at(e.to)] = 1;
                    comp.push_back(e.to);
                }
        out.push_back(std::move(comp));
    }
    for (int a : atoms) member[at(a)] = 0;
    return out;
}

long sum_households(const AtomGraph& g, const Atoms& atoms) {
    long h = 0;
    for (int a : atoms) h += g.households[at(a)];
    return h;
}

// The number of zones for an area of h households: as close to the middle of the band as the
// band allows, or 1 when no count puts every zone in the band.
int zone_count(long h, const grid::Band& band) {
    if (h <= band.max) return 1;
    const long kmin = (h + band.max - 1) / band.max;
    const long kmax = h / band.min;
    const double target = (band.min + band.max) / 2.0;
    long k = std::lround(static_cast<double>(h) / target);
    if (kmin <= kmax) k = std::clamp(k, kmin, kmax);
    return static_cast<int>(std::max(1L, k));
}

bool feasible(long h, const grid::Band& band) {
    if (h < band.min) return false;
    if (h <= band.max) return true;
    return (h + band.max - 1) / band.max <= h / band.min;
}

class Partitioner {
public:
    Partitioner(const AtomGraph& g, const PartitionOptions& o)
        : m_g(g), m_o(o), m_rng(o.seed), m_zone(g.size(), -1), m_member(g.size(), 0) {}

    Partition run() {
        for (int z : m_o.current) m_first_new = std::max(m_first_new, z + 1);
        if (m_o.current.empty()) {
            Atoms all(m_g.size());
            std::iota(all.begin(), all.end(), 0);
            divide(all);
        } else {
            repair(m_o.current);
        }
        improve();
        // A split the atoms' sizes did not allow is tried again with its neighbours, a few times.
        for (int round = 0; round < 4 && fixable_zones(); ++round) {
            const std::vector<int> now = m_zone;
            repair(now, round + 1); // each round takes in more neighbours than the last
            improve();
        }
        return finish();
    }

private:
    // --- dividing an area from nothing ---

    // Divides `atoms` into new zones: atoms above max alone, each connected part into zones.
    void divide(const Atoms& atoms) {
        Atoms rest;
        for (int a : atoms) {
            if (m_g.households[at(a)] > m_o.band.max) {
                m_zone[at(a)] = new_zone(Violation::atom_above_max);
            } else {
                rest.push_back(a);
            }
        }
        std::vector<Atoms> orphans;
        for (Atoms& part : components(m_g, rest, m_member)) {
            const long h = sum_households(m_g, part);
            if (h < m_o.band.min) {
                orphans.push_back(std::move(part));
                continue;
            }
            const int k = zone_count(h, m_o.band);
            const Violation why = feasible(h, m_o.band) ? Violation::none : Violation::infeasible_split;
            for (Atoms& piece : split(part, k)) {
                const int z = new_zone(why);
                for (int a : piece) m_zone[at(a)] = z;
            }
        }
        // Parts too small for a zone join a neighbouring zone (the one that stays in band, and
        // the smallest of those), or, with no neighbour at all, become a zone of their own.
        // Parts made only of orphans are resolved by repeated passes.
        for (int pass = 0; pass < 4 && !orphans.empty(); ++pass) {
            std::vector<Atoms> left;
            for (Atoms& part : orphans) {
                const int z = best_neighbour_zone(part, sum_households(m_g, part));
                if (z < 0) {
                    left.push_back(std::move(part));
                    continue;
                }
                for (int a : part) m_zone[at(a)] = z;
            }
            orphans = std::move(left);
        }
        for (Atoms& part : orphans) {
            const bool whole = part.size() == m_g.size();
            const int z = new_zone(whole ? Violation::area_below_min : Violation::part_below_min);
            for (int a : part) m_zone[at(a)] = z;
        }
    }

    int best_neighbour_zone(const Atoms& part, long h) {
        std::map<int, double> shared;
        for (int a : part)
            for (const Edge& e : m_g.adjacency[at(a)])
                if (int z = m_zone[at(e.to)]; z >= 0) shared[z] += e.length_m;
        int best = -1;
        std::tuple<int, long, double> best_key{};
        for (const auto& [z, length] : shared) {
            const long total = zone_households(z) + h;
            // In band first, then fewest households, then longest shared boundary.
            std::tuple<int, long, double> key{total <= m_o.band.max ? 0 : 1, total, -length};
            if (best < 0 || key < best_key) {
                best = z;
                best_key = key;
            }
        }
        return best;
    }

    long zone_households(int z) const {
        long h = 0;
        for (std::size_t a = 0; a < m_g.size(); ++a)
            if (m_zone[a] == z) h += m_g.households[a];
        return h;
    }

    int new_zone(Violation why) {
        m_violation.push_back(why);
        return static_cast<int>(m_violation.size() - 1);
    }

    // Splits a connected set of atoms into k connected pieces with households in the band
    // where possible: recursive bisection, each cut an edge of a random spanning tree (so both
    // sides are connected), the best of many trees by compactness, road boundaries and balance.
    std::vector<Atoms> split(const Atoms& atoms, int k) {
        if (k <= 1 || atoms.size() < 2) return {atoms};
        const int k1 = k / 2, k2 = k - k1;
        const long h = sum_households(m_g, atoms);
        const long lo = std::max<long>(static_cast<long>(k1) * m_o.band.min, h - static_cast<long>(k2) * m_o.band.max);
        const long hi = std::min<long>(static_cast<long>(k1) * m_o.band.max, h - static_cast<long>(k2) * m_o.band.min);
        const double ideal = static_cast<double>(h) * k1 / k;

        const std::size_t n = atoms.size();
        std::map<int, int> local;
        for (std::size_t i = 0; i < n; ++i) local[atoms[i]] = static_cast<int>(i);
        struct LocalEdge {
            int a, b;
            double base;
        };
        std::vector<LocalEdge> edges;
        for (std::size_t i = 0; i < n; ++i)
            for (const Edge& e : m_g.adjacency[at(atoms[i])])
                if (auto it = local.find(e.to); it != local.end() && it->second > static_cast<int>(i)) {
                    const double d = std::hypot(m_g.x[at(atoms[i])] - m_g.x[at(e.to)], m_g.y[at(atoms[i])] - m_g.y[at(e.to)]);
                    edges.push_back({static_cast<int>(i), it->second, d + 1e-6});
                }

        std::uniform_real_distribution<double> jitter(0.5, 1.5);
        std::vector<char> side(n, 0), best_side;
        double best_score = -1e300;
        for (int t = 0; t < m_o.trees; ++t) {
            // Kruskal on jittered lengths: short edges first, so the tree follows neighbourhoods.
            std::vector<std::pair<double, std::size_t>> order;
            order.reserve(edges.size());
            for (std::size_t e = 0; e < edges.size(); ++e) order.emplace_back(edges[e].base * jitter(m_rng), e);
            std::sort(order.begin(), order.end());
            UnionFind uf(n);
            std::vector<std::vector<int>> tree(n);
            for (const auto& [w, e] : order)
                if (uf.join(edges[e].a, edges[e].b)) {
                    tree[at(edges[e].a)].push_back(edges[e].b);
                    tree[at(edges[e].b)].push_back(edges[e].a);
                }
            // Subtree households from a random root.
            const int root = static_cast<int>(std::uniform_int_distribution<std::size_t>(0, n - 1)(m_rng));
            std::vector<int> parent(n, -1), visit{root};
            std::vector<char> seen(n, 0);
            seen[at(root)] = 1;
            for (std::size_t i = 0; i < visit.size(); ++i)
                for (int c : tree[at(visit[i])])
                    if (!seen[at(c)]) {
                        seen[at(c)] = 1;
                        parent[at(c)] = visit[i];
                        visit.push_back(c);
                    }
            if (visit.size() != n) continue; // not connected: the caller splits components
            std::vector<long> below(n, 0);
            for (std::size_t i = n; i-- > 0;) {
                const int v = visit[i];
                below[at(v)] += m_g.households[at(atoms[at(v)])];
                if (parent[at(v)] >= 0) below[at(parent[at(v)])] += below[at(v)];
            }
            // Candidate cuts: the subtree is the k1 side or the k2 side.
            std::vector<std::pair<double, int>> candidates; // (miss, node); miss 0 = in range
            for (std::size_t v = 0; v < n; ++v) {
                if (parent[v] < 0) continue;
                const long s = below[v];
                auto miss = [&](long value) {
                    return value < lo ? static_cast<double>(lo - value) : value > hi ? static_cast<double>(value - hi) : 0.0;
                };
                const double m = std::min(miss(s), miss(h - s));
                const double off = std::min(std::abs(static_cast<double>(s) - ideal), std::abs(static_cast<double>(h - s) - ideal));
                candidates.emplace_back(m * 1e6 + off, static_cast<int>(v));
            }
            std::sort(candidates.begin(), candidates.end());
            const std::size_t keep = std::min<std::size_t>(candidates.size(), 6);
            for (std::size_t c = 0; c < keep; ++c) {
                const int v = candidates[c].second;
                // Mark the subtree of v.
                std::fill(side.begin(), side.end(), 0);
                std::vector<int> stack{v};
                side[at(v)] = 1;
                while (!stack.empty()) {
                    const int u = stack.back();
                    stack.pop_back();
                    for (int w : tree[at(u)])
                        if (w != parent[at(u)] && !side[at(w)]) {
                            side[at(w)] = 1;
                            stack.push_back(w);
                        }
                }
                // The subtree holds the k1 side when that fits the range better.
                long s = below[at(v)];
                auto miss = [&](long value) { return value < lo ? lo - value : value > hi ? value - hi : 0L; };
                if (miss(h - s) < miss(s) || (miss(h - s) == miss(s) && std::abs(static_cast<double>(h - s) - ideal) <
                                                                          std::abs(static_cast<double>(s) - ideal))) {
                    for (auto& x : side) x = static_cast<char>(!x);
                    s = h - s;
                }
                const double score = score_split(atoms, local, side, s, lo, hi, ideal, h);
                if (score > best_score) {
                    best_score = score;
                    best_side = side;
                }
            }
        }
        if (best_side.empty()) return {atoms};
        Atoms a1, a2;
        for (std::size_t i = 0; i < n; ++i) (best_side[i] ? a1 : a2).push_back(atoms[i]);
        std::vector<Atoms> out = split(a1, k1);
        for (Atoms& piece : split(a2, k2)) out.push_back(std::move(piece));
        return out;
    }

    double score_split(const Atoms& atoms, const std::map<int, int>& local, const std::vector<char>& side, long s,
                       long lo, long hi, double ideal, long h) const {
        double area[2] = {0, 0}, perimeter[2] = {0, 0}, cut = 0, cut_off_road = 0;
        for (std::size_t i = 0; i < atoms.size(); ++i) {
            const int a = atoms[i];
            const int sd = side[i] ? 0 : 1;
            area[sd] += m_g.area_m2[at(a)];
            perimeter[sd] += m_g.outer_m[at(a)];
            for (const Edge& e : m_g.adjacency[at(a)]) {
                auto it = local.find(e.to);
                if (it == local.end()) {
                    perimeter[sd] += e.length_m; // edge of the area being split
                } else if ((side[at(it->second)] ? 0 : 1) != sd) {
                    perimeter[sd] += e.length_m;
                    cut += e.length_m / 2;
                    if (!e.road) cut_off_road += e.length_m / 2;
                }
            }
        }
        double pp = 0;
        for (int sd = 0; sd < 2; ++sd)
            pp += perimeter[sd] > 0 ? 4 * pi * area[sd] / (perimeter[sd] * perimeter[sd]) : 0;
        const double miss = s < lo ? static_cast<double>(lo - s) : s > hi ? static_cast<double>(s - hi) : 0.0;
        const double off_road = cut > 0 ? cut_off_road / cut : 0;
        return pp / 2 - 0.25 * off_road - 0.5 * std::abs(static_cast<double>(s) - ideal) / static_cast<double>(h) -
               10 * miss / static_cast<double>(std::max(1, m_o.band.min));
    }

    // --- repairing today's zones ---

    bool fixable_zones() {
        for (const Atoms& zone : zone_members())
            if (needs_work(zone)) return true;
        return false;
    }

    // min_growth: neighbouring zones a region takes in at least (where it has them), so that a
    // split that failed with fewer atoms is tried again with more room.
    void repair(const std::vector<int>& current, int min_growth = 0) {
        int zones = 0;
        for (std::size_t a = 0; a < m_g.size(); ++a) {
            m_zone[a] = current[a];
            zones = std::max(zones, current[a] + 1);
        }
        // Zones made earlier keep their violation; new zones are numbered after them.
        m_violation.resize(std::max(m_violation.size(), static_cast<std::size_t>(zones)), Violation::none);
        // Atoms in no zone join the neighbouring zone they share most boundary with.
        for (bool changed = true; changed;) {
            changed = false;
            for (std::size_t a = 0; a < m_g.size(); ++a) {
                if (m_zone[a] >= 0) continue;
                int best = -1;
                double best_length = -1;
                for (const Edge& e : m_g.adjacency[a])
                    if (m_zone[at(e.to)] >= 0 && e.length_m > best_length) {
                        best = m_zone[at(e.to)];
                        best_length = e.length_m;
                    }
                if (best >= 0) {
                    m_zone[a] = best;
                    changed = true;
                }
            }
        }
        std::vector<Atoms> members = zone_members();
        // A zone needs work when it is out of the band and something can be done about it, or
        // when it falls apart. Atoms still in no zone form a zone that needs work too.
        Atoms unzoned;
        for (std::size_t a = 0; a < m_g.size(); ++a)
            if (m_zone[a] < 0) unzoned.push_back(static_cast<int>(a));
        std::vector<char> bad(members.size(), 0), done(members.size(), 0);
        for (std::size_t z = 0; z < members.size(); ++z) bad[z] = needs_work(members[z]);

        for (std::size_t z = 0; z < members.size(); ++z) {
            if (!bad[z] || done[z]) continue;
            // Grow a region from the zone until its households can be divided into the band.
            std::set<int> region_zones{static_cast<int>(z)};
            Atoms region = members[z];
            for (int step = 0; step < 12 + min_growth; ++step) {
                const bool connected = components(m_g, region, m_member).size() == 1;
                if (step >= min_growth && connected && feasible(sum_households(m_g, region), m_o.band)) break;
                // Neighbouring zones: bad ones first, then the one sharing most boundary.
                std::map<int, double> shared;
                for (int a : region)
                    for (const Edge& e : m_g.adjacency[at(a)])
                        // Zones made by this repair (numbered past today's) are settled already.
                        if (int nz = m_zone[at(e.to)];
                            nz >= 0 && at(nz) < members.size() && !region_zones.count(nz) && !done[at(nz)])
                            shared[nz] += e.length_m;
                if (shared.empty()) break;
                int pick = -1;
                std::pair<int, double> pick_key{};
                for (const auto& [nz, length] : shared) {
                    std::pair<int, double> key{bad[at(nz)] ? 0 : 1, -length};
                    if (pick < 0 || key < pick_key) {
                        pick = nz;
                        pick_key = key;
                    }
                }
                region_zones.insert(pick);
                region.insert(region.end(), members[at(pick)].begin(), members[at(pick)].end());
            }
            for (int rz : region_zones) done[at(rz)] = 1;
            for (int a : region) m_zone[at(a)] = -1;
            divide(region);
        }
        if (!unzoned.empty()) divide(unzoned);
        // Zones emptied by the repair are dropped in finish().
    }

    bool needs_work(const Atoms& zone) {
        if (zone.empty()) return false;
        if (components(m_g, zone, m_member).size() > 1) return true;
        const long h = sum_households(m_g, zone);
        if (h >= m_o.band.min && h <= m_o.band.max) return false;
        // One atom above max with nothing else that holds households: nothing to improve.
        int with_households = 0;
        for (int a : zone) with_households += m_g.households[at(a)] > 0 ? 1 : 0;
        if (h > m_o.band.max && with_households <= 1) return false;
        return true;
    }

    std::vector<Atoms> zone_members() const {
        int zones = 0;
        for (int z : m_zone) zones = std::max(zones, z + 1);
        std::vector<Atoms> members(static_cast<std::size_t>(zones));
        for (std::size_t a = 0; a < m_g.size(); ++a)
            if (m_zone[a] >= 0) members[at(m_zone[a])].push_back(static_cast<int>(a));
        return members;
    }

    // --- local improvement: single atoms moved across zone boundaries ---

    void improve() {
        std::vector<Atoms> members = zone_members();
        const std::size_t zones = members.size();
        std::vector<long> hh(zones, 0);
        std::vector<double> area(zones, 0), perimeter(zones, 0);
        double total_area = 0;
        for (std::size_t a = 0; a < m_g.size(); ++a) total_area += m_g.area_m2[a];
        const double scale = std::sqrt(std::max(total_area, 1.0));
        for (std::size_t a = 0; a < m_g.size(); ++a) {
            const int z = m_zone[a];
            hh[at(z)] += m_g.households[a];
            area[at(z)] += m_g.area_m2[a];
            perimeter[at(z)] += m_g.outer_m[a];
            for (const Edge& e : m_g.adjacency[a])
                if (m_zone[at(e.to)] != z) perimeter[at(z)] += e.length_m;
        }
        auto violation = [&](long h) {
            return h < m_o.band.min ? m_o.band.min - h : h > m_o.band.max ? h - m_o.band.max : 0L;
        };
        auto pp = [](double a, double p) { return p > 0 ? 4 * pi * a / (p * p) : 0; };
        const bool stable = !m_o.current.empty();
        long total_households = 0;
        for (int h : m_g.households) total_households += h;

        for (int pass = 0; pass < 30; ++pass) {
            bool moved_any = false;
            for (std::size_t a = 0; a < m_g.size(); ++a) {
                const int from = m_zone[a];
                const int h = m_g.households[a];
                if (m_violation[at(from)] == Violation::atom_above_max && h > m_o.band.max) continue;
                // Candidate zones: neighbours of a.
                std::set<int> targets;
                for (const Edge& e : m_g.adjacency[a])
                    if (m_zone[at(e.to)] != from) targets.insert(m_zone[at(e.to)]);
                if (targets.empty() || members[at(from)].size() < 2) continue;
                // The best move of this atom: most violation removed, then most gain.
                int best_to = -1;
                long best_cut = 0;
                double best_gain = 0, best_d_from = 0, best_d_to = 0;
                for (int to : targets) {
                    if (m_violation[at(to)] == Violation::atom_above_max) continue;
                    const long v_before = violation(hh[at(from)]) + violation(hh[at(to)]);
                    const long v_after = violation(hh[at(from)] - h) + violation(hh[at(to)] + h);
                    if (v_after > v_before) continue;
                    // Perimeter changes (see docs/BALANCE.md).
                    double d_from = -m_g.outer_m[a], d_to = m_g.outer_m[a], d_off_road = 0;
                    for (const Edge& e : m_g.adjacency[a]) {
                        const int bz = m_zone[at(e.to)];
                        if (bz == from) {
                            d_from += e.length_m;
                            if (!e.road) d_off_road += e.length_m;
                        } else {
                            d_from -= e.length_m;
                            if (!e.road && bz == to) d_off_road -= e.length_m;
                        }
                        if (bz == to) {
                            d_to -= e.length_m;
                        } else {
                            d_to += e.length_m;
                        }
                    }
                    const double d_pp = pp(area[at(from)] - m_g.area_m2[a], perimeter[at(from)] + d_from) +
                                        pp(area[at(to)] + m_g.area_m2[a], perimeter[at(to)] + d_to) -
                                        pp(area[at(from)], perimeter[at(from)]) - pp(area[at(to)], perimeter[at(to)]);
                    double d_stable = 0;
                    if (stable && h > 0) {
                        const int today = m_o.current[a];
                        if (today == from) d_stable -= h;
                        if (today == to) d_stable += h;
                    }
                    const double gain = d_pp - 0.15 * d_off_road / scale +
                                        (stable ? 4.0 * d_stable / static_cast<double>(std::max(1L, total_households)) * static_cast<double>(zones) : 0);
                    if (v_after == v_before && gain <= 1e-9) continue;
                    // Today's zones that the repair left alone stay as they are: only zones it
                    // made may trade atoms, unless a move takes a zone closer to the band.
                    if (stable && v_after == v_before && from < m_first_new && to < m_first_new) continue;
                    const long cut = v_before - v_after;
                    if (best_to >= 0 && (cut < best_cut || (cut == best_cut && gain <= best_gain))) continue;
                    best_to = to;
                    best_cut = cut;
                    best_gain = gain;
                    best_d_from = d_from;
                    best_d_to = d_to;
                }
                if (best_to < 0 || !stays_connected(members[at(from)], static_cast<int>(a))) continue;
                {
                    const int to = best_to;
                    const double d_from = best_d_from, d_to = best_d_to;
                    // Move.
                    m_zone[a] = to;
                    auto& fm = members[at(from)];
                    fm.erase(std::find(fm.begin(), fm.end(), static_cast<int>(a)));
                    members[at(to)].push_back(static_cast<int>(a));
                    hh[at(from)] -= h;
                    hh[at(to)] += h;
                    area[at(from)] -= m_g.area_m2[a];
                    area[at(to)] += m_g.area_m2[a];
                    perimeter[at(from)] += d_from;
                    perimeter[at(to)] += d_to;
                    moved_any = true;
                }
            }
            if (!moved_any) break;
        }
    }

    // True when `zone` without atom `a` is still connected.
    bool stays_connected(const Atoms& zone, int a) {
        if (zone.size() <= 1) return false;
        Atoms rest;
        rest.reserve(zone.size() - 1);
        for (int b : zone)
            if (b != a) rest.push_back(b);
        return components(m_g, rest, m_member).size() == 1;
    }

    Partition finish() {
        // Number the zones that hold atoms 0..n-1, in order of first atom.
        std::map<int, int> renumber;
        Partition p;
        p.zone_of.resize(m_g.size());
        for (std::size_t a = 0; a < m_g.size(); ++a) {
            auto [it, fresh] = renumber.emplace(m_zone[a], static_cast<int>(renumber.size()));
            if (fresh) p.violation.push_back(m_zone[a] >= 0 && at(m_zone[a]) < m_violation.size() ? m_violation[at(m_zone[a])]
                                                                                             : Violation::none);
            p.zone_of[a] = it->second;
        }
        p.zones = static_cast<int>(renumber.size());
        // A violation recorded when a zone was made may no longer hold after improvement.
        // A zone kept from today may hold one atom above max alone: say so.
        std::vector<long> hh(static_cast<std::size_t>(p.zones), 0);
        std::vector<int> with_households(static_cast<std::size_t>(p.zones), 0), largest(static_cast<std::size_t>(p.zones), 0);
        for (std::size_t a = 0; a < m_g.size(); ++a) {
            const std::size_t z = at(p.zone_of[a]);
            hh[z] += m_g.households[a];
            with_households[z] += m_g.households[a] > 0 ? 1 : 0;
            largest[z] = std::max(largest[z], m_g.households[a]);
        }
        for (std::size_t z = 0; z < hh.size(); ++z) {
            const bool in_band = hh[z] >= m_o.band.min && hh[z] <= m_o.band.max;
            if (in_band) p.violation[z] = Violation::none;
            else if (largest[z] > m_o.band.max && with_households[z] == 1) p.violation[z] = Violation::atom_above_max;
            else if (p.violation[z] == Violation::none) p.violation[z] = Violation::infeasible_split;
        }
        return p;
    }

    const AtomGraph& m_g;
    const PartitionOptions& m_o;
    std::mt19937_64 m_rng;
    std::vector<int> m_zone;
    std::vector<Violation> m_violation;
    std::vector<char> m_member; // scratch for components()
    int m_first_new = 0;        // zones numbered from here were made by this run (repair)
};

} // namespace

Partition partition(const AtomGraph& graph, const PartitionOptions& options) {
    if (options.band.min <= 0 || options.band.min > options.band.max)
        throw Error(ErrorKind::bad_request, "invalid_band",
                    "the household band needs 0 < min <= max, not " + std::to_string(options.band.min) + "-" +
                        std::to_string(options.band.max));
    if (!options.current.empty() && options.current.size() != graph.size())
        throw Error(ErrorKind::bad_request, "invalid_graph", "current zones must name one zone per atom");
    for (std::size_t a = 0; a < graph.size(); ++a)
        for (const Edge& e : graph.adjacency[a]) {
            if (e.to < 0 || at(e.to) >= graph.size())
                throw Error(ErrorKind::bad_request, "invalid_graph", "an edge leads to no atom");
            const auto& back = graph.adjacency[at(e.to)];
            if (std::none_of(back.begin(), back.end(), [&](const Edge& b) { return at(b.to) == a; }))
                throw Error(ErrorKind::bad_request, "invalid_graph", "the adjacency is not symmetric");
        }
    for (int h : graph.households)
        if (h < 0) throw Error(ErrorKind::bad_request, "invalid_graph", "an atom has negative households");
    if (graph.size() == 0) return {};
    return Partitioner(graph, options).run();
}

std::vector<ZoneMeasure> measure(const AtomGraph& g, const std::vector<int>& zone_of, int zones) {
    std::vector<ZoneMeasure> out(static_cast<std::size_t>(zones));
    std::vector<Atoms> members(static_cast<std::size_t>(zones));
    for (std::size_t a = 0; a < g.size(); ++a) {
        ZoneMeasure& m = out[at(zone_of[a])];
        members[at(zone_of[a])].push_back(static_cast<int>(a));
        m.households += g.households[a];
        m.atoms += 1;
        m.area_m2 += g.area_m2[a];
        m.perimeter_m += g.outer_m[a];
        for (const Edge& e : g.adjacency[a])
            if (zone_of[at(e.to)] != zone_of[a]) {
                m.perimeter_m += e.length_m;
                m.inner_boundary_m += e.length_m;
                if (e.road) m.road_boundary_m += e.length_m;
            }
    }
    std::vector<char> member(g.size(), 0);
    for (std::size_t z = 0; z < members.size(); ++z)
        out[z].contiguous = members[z].empty() || components(g, members[z], member).size() == 1;
    return out;
}

std::vector<int> match_zones(const AtomGraph& g, const std::vector<int>& current, const std::vector<int>& zone_of,
                             int zones) {
    std::map<std::pair<int, int>, std::pair<long, long>> shared; // (new, today) -> (households, atoms)
    for (std::size_t a = 0; a < g.size(); ++a)
        if (current[a] >= 0) {
            auto& s = shared[{zone_of[a], current[a]}];
            s.first += g.households[a];
            s.second += 1;
        }
    std::vector<std::tuple<long, long, int, int>> pairs;
    for (const auto& [key, value] : shared) pairs.emplace_back(value.first, value.second, key.first, key.second);
    // Most shared households first, then most shared atoms, then by zone numbers.
    std::sort(pairs.begin(), pairs.end(), [](const auto& l, const auto& r) {
        const auto key = [](const auto& p) {
            return std::make_tuple(-std::get<0>(p), -std::get<1>(p), std::get<2>(p), std::get<3>(p));
        };
        return key(l) < key(r);
    });
    std::vector<int> label(static_cast<std::size_t>(zones), -1);
    std::set<int> used;
    for (const auto& [h, n, nz, today] : pairs) {
        if (label[at(nz)] >= 0 || used.count(today)) continue;
        label[at(nz)] = today;
        used.insert(today);
    }
    return label;
}

long households_moved(const AtomGraph& g, const std::vector<int>& current, const std::vector<int>& zone_of, int zones) {
    const std::vector<int> label = match_zones(g, current, zone_of, zones);
    long moved = 0;
    for (std::size_t a = 0; a < g.size(); ++a)
        if (current[a] >= 0 && label[at(zone_of[a])] != current[a]) moved += g.households[a];
    return moved;
}

} // namespace wangge::balance

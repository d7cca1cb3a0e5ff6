#include "balance/partition.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <array>
#include <bit>
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

namespace {
constexpr double pi = 3.14159265358979323846;
double polsby_popper(double area, double perimeter) { return perimeter > 0 ? 4 * pi * area / (perimeter * perimeter) : 0; }
} // namespace

double ZoneMeasure::polsby_popper() const noexcept { return balance::polsby_popper(area_m2, perimeter_m); }

namespace {

using Atoms = std::vector<int>;

std::size_t at(int i) { return static_cast<std::size_t>(i); }

// Weight of a boundary off roads against compactness: in a split (share of the cut off roads
// against the mean Polsby-Popper of the halves) and in local improvement (length off roads over
// the square root of the area, against the sum of Polsby-Popper).
constexpr double road_penalty_split = 0.25;
constexpr double road_penalty_improve = 0.15;

// Sorts keys by their upper 22 bits, keeping the order of equal ones: a radix sort in two
// passes of 11 bits, several times faster than a comparison sort for the edges of a split.
void sort_by_high_bits(std::vector<std::uint64_t>& keys) {
    std::vector<std::uint64_t> buffer(keys.size());
    for (int shift = 42; shift < 64; shift += 11) {
        std::array<std::size_t, 2049> start{};
        for (std::uint64_t k : keys) ++start[((k >> shift) & 2047U) + 1];
        for (std::size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
        for (std::uint64_t k : keys) buffer[start[(k >> shift) & 2047U]++] = k;
        keys.swap(buffer);
    }
}

// SplitMix64: a fast stream of random numbers for the jitter of one tree, seeded from the
// partitioner's generator (so the same seed gives the same trees).
struct SplitMix {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = state += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    float between_half_and_one_and_half() { return 0.5F + static_cast<float>(next() >> 40) * 0x1p-24F; }
};

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
        : m_g(g), m_o(o), m_rng(o.seed), m_recombine_rng(o.seed ^ 0x9e3779b97f4a7c15ULL), m_zone(g.size(), -1), m_member(g.size(), 0), m_local(g.size(), -1),
          m_scale(std::sqrt(std::max(std::accumulate(g.area_m2.begin(), g.area_m2.end(), 0.0), 1.0))) {}

    Partition run() {
        for (int z : m_o.current) m_first_new = std::max(m_first_new, z + 1);
        if (!m_o.current.empty()) {
            repair(m_o.current);
            settle();
            return finish();
        }
        // From nothing: several complete divisions (other trees), the best by the final score.
        Atoms all(m_g.size());
        std::iota(all.begin(), all.end(), 0);
        Partition best;
        std::pair<int, double> best_key{};
        for (int start = 0; start < m_o.starts; ++start) {
            std::fill(m_zone.begin(), m_zone.end(), -1);
            m_violation.clear();
            divide(all);
            settle();
            Partition p = finish();
            // Recombination draws its trees from a generator of its own, so that the starts
            // divide as they would without it, and its result is kept only when it ranks better.
            std::swap(m_rng, m_recombine_rng);
            const bool recombined = recombine();
            std::swap(m_rng, m_recombine_rng);
            if (recombined) {
                improve();
                Partition q = finish();
                if (rank(q) < rank(p)) p = std::move(q);
            }
            const std::pair<int, double> key = rank(p);
            if (start == 0 || key < best_key) {
                best = std::move(p);
                best_key = key;
            }
        }
        return best;
    }

private:
    // Local improvement, then a split the atoms' sizes did not allow is tried again with its
    // neighbours, a few times.
    void settle() {
        improve();
        for (int round = 0; round < 4 && fixable_zones(); ++round) {
            const std::vector<int> now = m_zone;
            repair(now, round + 1); // each round takes in more neighbours than the last
            improve();
        }
    }

    // Of two complete partitions the better has fewer zones out of band, then the higher score
    // as a split scores its halves: mean Polsby-Popper less the share of the boundary between
    // zones that runs off roads.
    std::pair<int, double> rank(const Partition& p) const {
        int out = 0;
        for (Violation v : p.violation) out += v != Violation::none ? 1 : 0;
        double pp = 0, inner = 0, road = 0;
        for (const ZoneMeasure& m : measure(m_g, p.zone_of, p.zones)) {
            pp += m.polsby_popper();
            inner += m.inner_boundary_m;
            road += m.road_boundary_m;
        }
        const double off_road = inner > 0 ? (inner - road) / inner : 0;
        return {out, -(pp / std::max(1, p.zones) - road_penalty_split * off_road)};
    }

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
        const SplitGraph sg = split_graph(atoms);
        const std::size_t n = atoms.size();
        const Cut none{};
        Cut best = none;
        for (int t = 0; t < m_o.trees; ++t) {
            const SpanningTree tree = spanning_tree(sg);
            if (tree.order.size() != n) continue; // not connected: the caller splits components
            best = std::max(best, best_cut(sg, tree, h, lo, hi, k1, k), [](const Cut& l, const Cut& r) { return l.score < r.score; });
        }
        if (best.side.empty()) return {atoms};
        Atoms a1, a2;
        for (std::size_t i = 0; i < n; ++i) (best.side[i] ? a1 : a2).push_back(atoms[i]);
        std::vector<Atoms> out = split(a1, k1);
        for (Atoms& piece : split(a2, k2)) out.push_back(std::move(piece));
        return out;
    }

    // The atoms of one split numbered 0..n-1, their edges inside the set once each, and the
    // boundary of each atom that no other atom of the set shares (the outer edge of the set).
    struct SplitEdge {
        int a, b;
        double base; // centre distance: the spanning trees follow short edges
        double length_m;
        bool road;
    };
    struct SplitGraph {
        std::vector<SplitEdge> edges;
        std::vector<int> households;
        std::vector<double> area, outside;
        double total_area = 0, total_outside = 0;
    };
    SplitGraph split_graph(const Atoms& atoms) {
        const std::size_t n = atoms.size();
        for (std::size_t i = 0; i < n; ++i) m_local[at(atoms[i])] = static_cast<int>(i);
        SplitGraph sg;
        sg.households.resize(n);
        sg.area.resize(n);
        sg.outside.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const int a = atoms[i];
            sg.households[i] = m_g.households[at(a)];
            sg.area[i] = m_g.area_m2[at(a)];
            sg.outside[i] = m_g.outer_m[at(a)];
            for (const Edge& e : m_g.adjacency[at(a)]) {
                const int j = m_local[at(e.to)];
                if (j < 0) {
                    sg.outside[i] += e.length_m;
                } else if (j > static_cast<int>(i)) {
                    const double d = std::hypot(m_g.x[at(a)] - m_g.x[at(e.to)], m_g.y[at(a)] - m_g.y[at(e.to)]);
                    sg.edges.push_back({static_cast<int>(i), j, d + 1e-6, e.length_m, e.road});
                }
            }
            sg.total_area += sg.area[i];
            sg.total_outside += sg.outside[i];
        }
        for (int a : atoms) m_local[at(a)] = -1;
        return sg;
    }

    // A random spanning tree in depth-first preorder: the subtree of the node at position p is
    // the run of positions [p, p + size[p]), so "is atom i on the cut side" is one comparison.
    struct SpanningTree {
        std::vector<int> order;    // position -> atom
        std::vector<int> position; // atom -> position
        std::vector<int> size;     // by position: atoms in the subtree
    };
    SpanningTree spanning_tree(const SplitGraph& sg) {
        const std::size_t n = sg.households.size();
        // Kruskal on jittered lengths: short edges first, so the tree follows neighbourhoods.
        // Each edge's jittered length (a positive float, whose bits sort as integers) above its
        // index, so that one sort of plain integers orders the edges (to 13 bits of the length).
        SplitMix jitter{m_rng()};
        std::vector<std::uint64_t> order(sg.edges.size());
        for (std::size_t e = 0; e < sg.edges.size(); ++e)
            order[e] = static_cast<std::uint64_t>(std::bit_cast<std::uint32_t>(static_cast<float>(sg.edges[e].base) *
                                                                                jitter.between_half_and_one_and_half()))
                           << 32 |
                       e;
        sort_by_high_bits(order);
        UnionFind uf(n);
        std::vector<int> degree(n + 1, 0);
        std::vector<std::pair<int, int>> links;
        links.reserve(n);
        for (const std::uint64_t key : order)
            if (const std::size_t e = key & 0xffffffffU; uf.join(sg.edges[e].a, sg.edges[e].b)) {
                links.emplace_back(sg.edges[e].a, sg.edges[e].b);
                ++degree[at(sg.edges[e].a) + 1];
                ++degree[at(sg.edges[e].b) + 1];
                if (links.size() + 1 == n) break;
            }
        for (std::size_t i = 0; i < n; ++i) degree[i + 1] += degree[i]; // now offsets
        std::vector<int> next(degree.begin(), degree.end() - 1), neighbours(2 * links.size());
        for (const auto& [a, b] : links) {
            neighbours[at(next[at(a)]++)] = b;
            neighbours[at(next[at(b)]++)] = a;
        }
        // Preorder from a random root.
        SpanningTree t;
        const int root = static_cast<int>(std::uniform_int_distribution<std::size_t>(0, n - 1)(m_rng));
        t.position.assign(n, -1);
        std::vector<int> stack{root}, parent(n, -1);
        while (!stack.empty()) {
            const int u = stack.back();
            stack.pop_back();
            t.position[at(u)] = static_cast<int>(t.order.size());
            t.order.push_back(u);
            for (int p = degree[at(u)]; p < degree[at(u) + 1]; ++p)
                if (const int w = neighbours[at(p)]; w != parent[at(u)]) {
                    parent[at(w)] = u;
                    stack.push_back(w);
                }
        }
        t.size.assign(t.order.size(), 1);
        for (std::size_t p = t.order.size(); p-- > 1;) {
            const int u = t.order[p];
            t.size[at(t.position[at(parent[at(u)])])] += t.size[p];
        }
        return t;
    }

    struct Cut {
        double score = -1e300;
        std::vector<char> side; // per atom of the split: 1 on the side of k1 zones
    };
    // The best cut of one tree: the cuts that balance best are scored by the mean Polsby-Popper
    // of the two sides, the share of the cut off roads, and the distance from the ideal split.
    Cut best_cut(const SplitGraph& sg, const SpanningTree& t, long h, long lo, long hi, int k1, int k) {
        const std::size_t n = t.order.size();
        const double ideal = static_cast<double>(h) * k1 / k;
        // Subtree sums, by position: each subtree is a run of positions.
        std::vector<long> below(n, 0);
        std::vector<double> area(n + 1, 0), outside(n + 1, 0); // prefix sums
        for (std::size_t p = 0; p < n; ++p) {
            const int u = t.order[p];
            area[p + 1] = area[p] + sg.area[at(u)];
            outside[p + 1] = outside[p] + sg.outside[at(u)];
        }
        std::vector<long> households(n + 1, 0);
        for (std::size_t p = 0; p < n; ++p) households[p + 1] = households[p] + sg.households[at(t.order[p])];
        for (std::size_t p = 0; p < n; ++p) below[p] = households[p + at(t.size[p])] - households[p];
        auto miss = [&](long value) { return value < lo ? lo - value : value > hi ? value - hi : 0L; };
        auto off_ideal = [&](long value) { return std::abs(static_cast<double>(value) - ideal); };
        // Candidate cuts (the edge above each node but the root): the subtree is the k1 side or the k2 side.
        std::vector<std::pair<double, int>> candidates; // (miss, atom); miss 0 = in range
        candidates.reserve(n);
        for (std::size_t p = 1; p < n; ++p) {
            const long s = below[p];
            const double m = static_cast<double>(std::min(miss(s), miss(h - s)));
            candidates.emplace_back(m * 1e6 + std::min(off_ideal(s), off_ideal(h - s)), t.order[p]);
        }
        const auto keep = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(candidates.size()), 6);
        std::partial_sort(candidates.begin(), candidates.begin() + keep, candidates.end());
        candidates.resize(static_cast<std::size_t>(keep));
        // The edges by the positions of their ends, so that each cut is one pass over flat arrays.
        std::vector<std::pair<int, int>> ends(sg.edges.size());
        for (std::size_t e = 0; e < sg.edges.size(); ++e) ends[e] = {t.position[at(sg.edges[e].a)], t.position[at(sg.edges[e].b)]};
        Cut best;
        for (const auto& [key, v] : candidates) {
            const std::size_t first = at(t.position[at(v)]), last = first + at(t.size[first]);
            auto inside = [&](int i) {
                const auto p = at(t.position[at(i)]);
                return p >= first && p < last;
            };
            double cut = 0, cut_off_road = 0;
            for (std::size_t e = 0; e < ends.size(); ++e) {
                const auto [pa, pb] = ends[e];
                if ((at(pa) - first < last - first) != (at(pb) - first < last - first)) {
                    cut += sg.edges[e].length_m;
                    if (!sg.edges[e].road) cut_off_road += sg.edges[e].length_m;
                }
            }
            const double sub_area = area[last] - area[first], sub_outside = outside[last] - outside[first];
            const double pp_sub = polsby_popper(sub_area, sub_outside + cut);
            const double pp_rest = polsby_popper(sg.total_area - sub_area, sg.total_outside - sub_outside + cut);
            // The subtree holds the k1 side when that fits the range better.
            long s = below[first];
            const bool flip = miss(h - s) < miss(s) || (miss(h - s) == miss(s) && off_ideal(h - s) < off_ideal(s));
            if (flip) s = h - s;
            const double off_road = cut > 0 ? cut_off_road / cut : 0;
            const double score = (pp_sub + pp_rest) / 2 - road_penalty_split * off_road - 0.5 * off_ideal(s) / static_cast<double>(h) -
                                 10 * static_cast<double>(miss(s)) / static_cast<double>(std::max(1, m_o.band.min));
            if (score <= best.score) continue;
            best.score = score;
            best.side.assign(n, 0);
            for (std::size_t i = 0; i < n; ++i) best.side[i] = static_cast<char>(inside(static_cast<int>(i)) != flip);
        }
        return best;
    }

    // --- recombination: two neighbouring zones divided anew ---

    // The objective of local improvement for two zones dividing their union: the sum of their
    // Polsby-Popper less the penalty for the boundary between them that runs off roads.
    double pair_score(const Atoms& first, const Atoms& second) {
        for (int a : first) m_member[at(a)] = 1;
        for (int a : second) m_member[at(a)] = 2;
        double area[2] = {0, 0}, perimeter[2] = {0, 0}, off_road = 0;
        for (int side = 0; side < 2; ++side)
            for (int a : side == 0 ? first : second) {
                area[side] += m_g.area_m2[at(a)];
                perimeter[side] += m_g.outer_m[at(a)];
                for (const Edge& e : m_g.adjacency[at(a)])
                    if (m_member[at(e.to)] != side + 1) {
                        perimeter[side] += e.length_m;
                        if (side == 0 && m_member[at(e.to)] == 2 && !e.road) off_road += e.length_m;
                    }
            }
        for (int a : first) m_member[at(a)] = 0;
        for (int a : second) m_member[at(a)] = 0;
        return polsby_popper(area[0], perimeter[0]) + polsby_popper(area[1], perimeter[1]) -
               road_penalty_improve * off_road / m_scale;
    }

    // ReCom as an improvement (GerryChain merges two neighbouring zones and cuts a random
    // spanning tree of their union; here the cut is kept only when it scores better): every pair
    // of neighbouring zones in the band is divided anew into two zones of the band, by the same
    // split as a division from nothing, and the new pair replaces the old one when it is better
    // by the objective of local improvement. Moving one atom at a time cannot leave a local
    // optimum of that objective; redrawing the line between two zones can. A few rounds, until
    // none improves. Returns whether any pair changed.
    bool recombine() {
        bool changed_any = false;
        for (int round = 0; round < 3; ++round) {
            bool changed = false;
            std::vector<Atoms> members = zone_members();
            auto in_band = [&](const Atoms& zone) {
                const long h = sum_households(m_g, zone);
                return !zone.empty() && h >= m_o.band.min && h <= m_o.band.max;
            };
            std::set<std::pair<int, int>> pairs;
            for (std::size_t a = 0; a < m_g.size(); ++a)
                for (const Edge& e : m_g.adjacency[a])
                    if (m_zone[a] >= 0 && m_zone[a] < m_zone[at(e.to)]) pairs.insert({m_zone[a], m_zone[at(e.to)]});
            std::vector<char> touched(members.size(), 0);
            for (const auto& [z1, z2] : pairs) {
                // A zone redrawn in this round waits for the next (its members have changed).
                if (touched[at(z1)] || touched[at(z2)]) continue;
                const Atoms& first = members[at(z1)];
                const Atoms& second = members[at(z2)];
                if (!in_band(first) || !in_band(second)) continue;
                Atoms both = first;
                both.insert(both.end(), second.begin(), second.end());
                const std::vector<Atoms> pieces = split(both, 2);
                if (pieces.size() != 2 || !in_band(pieces[0]) || !in_band(pieces[1])) continue;
                if (pair_score(pieces[0], pieces[1]) <= pair_score(first, second) + 1e-9) continue;
                for (int a : pieces[0]) m_zone[at(a)] = z1;
                for (int a : pieces[1]) m_zone[at(a)] = z2;
                members[at(z1)] = pieces[0];
                members[at(z2)] = pieces[1];
                touched[at(z1)] = touched[at(z2)] = 1;
                changed = true;
            }
            changed_any = changed_any || changed;
            if (!changed) break;
        }
        return changed_any;
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
        // A zone out of the band first trades a few boundary atoms with neighbours that have room;
        // only when that fails is it divided again with its neighbours (which moves far more).
        std::vector<long> hh(members.size(), 0);
        for (std::size_t z = 0; z < members.size(); ++z) hh[z] = sum_households(m_g, members[z]);
        for (std::size_t z = 0; z < members.size(); ++z)
            if (bad[z] && components(m_g, members[z], m_member).size() == 1 &&
                trade_into_band(static_cast<int>(z), members, hh, bad))
                bad[z] = 0;

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

    // Brings zone z back into the band by trading boundary atoms with neighbouring zones that
    // are in the band and stay there: a zone above max gives atoms away, one below min takes
    // them in. The atoms of fewest households go first (fewest households moved; then the one
    // sharing most boundary with its new zone), each keeping both zones contiguous, and only while
    // z is out of the band. When z cannot be brought into the band so, nothing is changed.
    bool trade_into_band(int z, std::vector<Atoms>& members, std::vector<long>& hh, const std::vector<char>& bad) {
        const long min = m_o.band.min, max = m_o.band.max;
        const auto zones = static_cast<int>(members.size());
        auto steady = [&](int y) { return y >= 0 && y < zones && y != z && !bad[at(y)] && hh[at(y)] >= min && hh[at(y)] <= max; };
        auto shared_with = [&](int a, int zone) {
            double length = 0;
            for (const Edge& e : m_g.adjacency[at(a)])
                if (m_zone[at(e.to)] == zone) length += e.length_m;
            return length;
        };
        struct Move {
            int households;
            double shared;
            int atom, from, to;
        };
        std::vector<Move> made;
        while (hh[at(z)] > max || hh[at(z)] < min) {
            const bool give = hh[at(z)] > max;
            std::vector<Move> moves;
            for (int a : members[at(z)])
                for (const Edge& e : m_g.adjacency[at(a)]) {
                    const int y = m_zone[at(e.to)];
                    if (!steady(y)) continue;
                    const int atom = give ? a : e.to;
                    const int h = m_g.households[at(atom)];
                    if (h == 0) continue;
                    const bool fits = give ? hh[at(y)] + h <= max && hh[at(z)] - h >= min
                                           : hh[at(y)] - h >= min && hh[at(z)] + h <= max;
                    if (fits) moves.push_back({h, shared_with(atom, give ? y : z), atom, give ? z : y, give ? y : z});
                }
            std::sort(moves.begin(), moves.end(), [](const Move& l, const Move& r) {
                return std::tie(l.households, r.shared, l.atom, l.to) < std::tie(r.households, l.shared, r.atom, r.to);
            });
            const auto ok = std::find_if(moves.begin(), moves.end(),
                                         [&](const Move& m) { return stays_connected(members[at(m.from)], m.atom); });
            if (ok == moves.end()) {
                for (auto m = made.rbegin(); m != made.rend(); ++m) move_atom(m->atom, m->to, m->from, members, hh);
                return false;
            }
            move_atom(ok->atom, ok->from, ok->to, members, hh);
            made.push_back(*ok);
            mark_traded(ok->from);
            mark_traded(ok->to);
        }
        return true;
    }

    void mark_traded(int z) {
        if (m_traded.size() <= at(z)) m_traded.resize(at(z) + 1, 0);
        m_traded[at(z)] = 1;
    }
    bool traded(int z) const { return at(z) < m_traded.size() && m_traded[at(z)]; }

    void move_atom(int a, int from, int to, std::vector<Atoms>& members, std::vector<long>& hh) {
        m_zone[at(a)] = to;
        auto& fm = members[at(from)];
        fm.erase(std::find(fm.begin(), fm.end(), a));
        members[at(to)].push_back(a);
        hh[at(from)] -= m_g.households[at(a)];
        hh[at(to)] += m_g.households[at(a)];
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
                    const double gain = d_pp - road_penalty_improve * d_off_road / m_scale +
                                        (stable ? 4.0 * d_stable / static_cast<double>(std::max(1L, total_households)) * static_cast<double>(zones) : 0);
                    if (v_after == v_before && gain <= 1e-9) continue;
                    // Today's zones that the repair left alone stay as they are: only zones it
                    // made may trade atoms, unless a move takes a zone closer to the band.
                    if (stable && v_after == v_before && from < m_first_new && to < m_first_new && !(traded(from) && traded(to)))
                        continue;
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
    std::mt19937_64 m_recombine_rng; // the trees of recombination (see run())
    std::vector<int> m_zone;
    std::vector<Violation> m_violation;
    std::vector<char> m_member; // scratch for components()
    std::vector<int> m_local;   // scratch for split_graph(): atom -> index in the split, -1 outside
    int m_first_new = 0;        // zones numbered from here were made by this run (repair)
    std::vector<char> m_traded; // today's zones that traded atoms in the repair: improvement may polish them
    double m_scale;             // square root of the whole area: boundary lengths over it are comparable to PP
};

} // namespace

Partition partition(const AtomGraph& graph, const PartitionOptions& options) {
    if (options.band.min <= 0 || options.band.min > options.band.max)
        throw Error(ErrorKind::bad_request, "invalid_band",
                    "the household band needs 0 < min <= max, not " + std::to_string(options.band.min) + "-" +
                        std::to_string(options.band.max));
    if (options.trees < 1 || options.starts < 1)
        throw Error(ErrorKind::bad_request, "invalid_options",
                    "the partitioner needs at least one tree per split and one start, not " +
                        std::to_string(options.trees) + " and " + std::to_string(options.starts));
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

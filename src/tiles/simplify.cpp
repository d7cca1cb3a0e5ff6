#include "tiles/simplify.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <utility>

namespace wangge::tiles {

namespace detail {

using mvt::Point;

// A total order on points, as one integer: chains are canonicalised by it.
std::uint64_t key(Point p) noexcept {
    return (std::uint64_t{static_cast<std::uint32_t>(p.x)} << 32) | static_cast<std::uint32_t>(p.y);
}

double squared_distance_to_segment(Point p, Point a, Point b) noexcept {
    const double dx = double(b.x) - a.x, dy = double(b.y) - a.y;
    double px = double(p.x) - a.x, py = double(p.y) - a.y;
    const double len2 = dx * dx + dy * dy;
    if (len2 > 0) {
        const double t = std::clamp((px * dx + py * dy) / len2, 0.0, 1.0);
        px -= t * dx;
        py -= t * dy;
    }
    return px * px + py * py;
}

// Buffers reused from chain to chain and ring to ring, so that simplifying a tile allocates
// only while they grow.
struct Scratch {
    std::vector<Point> chain;
    std::vector<char> keep;
    std::vector<std::pair<std::size_t, std::size_t>> stack;
    std::vector<std::size_t> at; // where the nodes of a ring are
    mvt::Ring ring;              // a simplified ring
};

// Douglas-Peucker keeping both ends: marks in `s.keep` the points of `chain` that stay.
// Iterative, so long chains cannot exhaust the stack. Ties go to the first point, which is why
// callers must pass a chain in its canonical direction.
void douglas_peucker(const std::vector<Point>& chain, double tolerance, Scratch& s) {
    const std::size_t n = chain.size();
    s.keep.assign(n, 0);
    s.keep[0] = s.keep[n - 1] = 1;
    if (n < 3) return;
    const double tol2 = tolerance * tolerance;
    s.stack.clear();
    s.stack.emplace_back(0, n - 1);
    while (!s.stack.empty()) {
        auto [first, last] = s.stack.back();
        s.stack.pop_back();
        double worst = -1;
        std::size_t at = first;
        for (std::size_t i = first + 1; i < last; ++i) {
            double d = squared_distance_to_segment(chain[i], chain[first], chain[last]);
            if (d > worst) worst = d, at = i;
        }
        // Strictly greater: with tolerance 0, exactly collinear points go.
        if (at == first || worst <= tol2) continue;
        s.keep[at] = 1;
        s.stack.emplace_back(first, at);
        s.stack.emplace_back(at, last);
    }
}

// Appends to `out` the simplified chain s.chain without its last point (the next chain's first),
// simplified identically whichever way the chain is walked.
void append_simplified_chain(double tolerance, Scratch& s, mvt::Ring& out) {
    std::vector<Point>& chain = s.chain;
    const std::size_t n = chain.size();
    bool reverse = key(chain.back()) < key(chain.front());
    if (chain.front() == chain.back() && n > 3) reverse = key(chain[n - 2]) < key(chain[1]);
    if (reverse) std::reverse(chain.begin(), chain.end());
    douglas_peucker(chain, tolerance, s);
    if (reverse) {
        for (std::size_t i = n - 1; i > 0; --i)
            if (s.keep[i]) out.push_back(chain[i]);
    } else {
        for (std::size_t i = 0; i + 1 < n; ++i)
            if (s.keep[i]) out.push_back(chain[i]);
    }
}

void remove_repeats(mvt::Ring& ring) {
    ring.erase(std::unique(ring.begin(), ring.end()), ring.end());
    while (ring.size() > 1 && ring.front() == ring.back()) ring.pop_back();
}

// Simplifies `ring` into s.ring, chain by chain between its nodes.
void simplify_ring(const mvt::Ring& ring, const NodeSet& nodes, double tolerance, Scratch& s) {
    const std::size_t n = ring.size();
    s.at.clear();
    for (std::size_t i = 0; i < n; ++i)
        if (nodes.contains(ring[i])) s.at.push_back(i);
    if (s.at.empty()) {
        // A ring touching nothing else (or shared whole): start at its smallest point, as the
        // other side of a shared ring will.
        std::size_t lowest = 0;
        for (std::size_t i = 1; i < n; ++i)
            if (key(ring[i]) < key(ring[lowest])) lowest = i;
        s.at.push_back(lowest);
    }
    s.ring.clear();
    for (std::size_t c = 0; c < s.at.size(); ++c) {
        const std::size_t from = s.at[c], to = c + 1 < s.at.size() ? s.at[c + 1] : s.at[0] + n;
        s.chain.clear();
        for (std::size_t i = from; i <= to; ++i) s.chain.push_back(ring[i < n ? i : i - n]);
        append_simplified_chain(tolerance, s, s.ring);
    }
}

bool large_enough(const mvt::Ring& ring, double min_area) {
    if (ring.size() < 3) return false;
    const double area = std::abs(static_cast<double>(mvt::doubled_area(ring))) / 2;
    return area > 0 && area >= min_area;
}

} // namespace detail

// --- NodeSet ---

namespace {
std::size_t slot_of(std::uint64_t key, int shift) noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> shift);
}
} // namespace

void NodeSet::reserve(std::size_t points) {
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, 2 * points));
    if (capacity <= m_slots.size()) return;
    std::vector<Slot> old = std::move(m_slots);
    m_slots.assign(capacity, Slot{});
    m_shift = 64 - std::countr_zero(capacity);
    m_used = 0;
    for (const Slot& s : old)
        if (s.neighbours != 0) *find(s.key) = s, ++m_used;
}

NodeSet::Slot* NodeSet::find(std::uint64_t key) noexcept {
    const std::size_t mask = m_slots.size() - 1;
    for (std::size_t i = slot_of(key, m_shift);; i = (i + 1) & mask) {
        Slot& s = m_slots[i];
        if (s.neighbours == 0 || s.key == key) return &s;
    }
}

const NodeSet::Slot* NodeSet::find(std::uint64_t key) const noexcept {
    return const_cast<NodeSet*>(this)->find(key);
}

void NodeSet::add_neighbour(std::uint64_t point, std::uint64_t neighbour) {
    if (2 * (m_used + 1) > m_slots.size()) reserve(m_slots.size() + 1);
    Slot* s = find(point);
    switch (s->neighbours) {
    case 0:
        *s = Slot{point, neighbour, 0, 1};
        ++m_used;
        break;
    case 1:
        if (neighbour != s->first) s->second = neighbour, s->neighbours = 2;
        break;
    case 2:
        if (neighbour != s->first && neighbour != s->second) s->neighbours = 3;
        break;
    default: break; // three or more: a node whatever comes
    }
}

void NodeSet::add_ring(const mvt::Ring& ring) {
    const std::size_t n = ring.size();
    reserve(m_used + n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t a = detail::key(ring[i]), b = detail::key(ring[i + 1 < n ? i + 1 : 0]);
        if (a == b) continue;
        add_neighbour(a, b);
        add_neighbour(b, a);
    }
}

bool NodeSet::contains(mvt::Point p) const noexcept {
    if (m_slots.empty()) return false;
    const Slot* s = find(detail::key(p));
    return s->neighbours != 0 && s->neighbours != 2;
}

void NodeSet::clear() noexcept {
    std::fill(m_slots.begin(), m_slots.end(), Slot{});
    m_used = 0;
}

// --- coverage and lines ---

void simplify_coverage(std::vector<std::vector<mvt::Polygon>>& features, const SimplifyOptions& options) {
    std::size_t points = 0;
    for (auto& polygons : features)
        for (auto& polygon : polygons)
            for (auto& ring : polygon) {
                detail::remove_repeats(ring);
                if (ring.size() < 3) ring.clear(); // a collapsed ring would add false nodes
                points += ring.size();
            }
    NodeSet nodes;
    nodes.reserve(points);
    for (const auto& polygons : features)
        for (const auto& polygon : polygons)
            for (const auto& ring : polygon) nodes.add_ring(ring);

    // In place: a polygon's simplified rings move to its front, kept polygons to the front of
    // their feature, and the buffers of what is dropped are reused.
    detail::Scratch scratch;
    for (auto& polygons : features) {
        std::size_t kept = 0;
        for (std::size_t p = 0; p < polygons.size(); ++p) {
            mvt::Polygon& polygon = polygons[p];
            if (polygon.empty() || polygon[0].empty()) continue;
            std::size_t rings = 0;
            for (std::size_t i = 0; i < polygon.size(); ++i) {
                if (polygon[i].empty()) continue;
                detail::simplify_ring(polygon[i], nodes, options.tolerance, scratch);
                detail::remove_repeats(scratch.ring);
                if (detail::large_enough(scratch.ring, options.min_area)) std::swap(polygon[rings++], scratch.ring);
                else if (i == 0) break; // no shell, no polygon
            }
            polygon.resize(rings);
            if (rings > 0) std::swap(polygons[kept++], polygon);
        }
        polygons.resize(kept);
    }
}

void simplify_lines(std::vector<mvt::Line>& lines, const SimplifyOptions& options) {
    detail::Scratch scratch;
    std::vector<mvt::Line> kept;
    for (auto& line : lines) {
        line.erase(std::unique(line.begin(), line.end()), line.end());
        if (line.size() < 2) continue;
        detail::douglas_peucker(line, options.tolerance, scratch);
        mvt::Line s;
        for (std::size_t i = 0; i < line.size(); ++i)
            if (scratch.keep[i]) s.push_back(line[i]);
        if (s.size() >= 2) kept.push_back(std::move(s));
    }
    lines = std::move(kept);
}

} // namespace wangge::tiles

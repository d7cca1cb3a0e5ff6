#include "tiles/simplify.hpp"

#include <algorithm>
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

// Douglas-Peucker keeping both ends; iterative, so long chains cannot exhaust the stack. Ties
// go to the first point, which is why callers must pass a chain in its canonical direction.
std::vector<Point> douglas_peucker(const std::vector<Point>& chain, double tolerance) {
    const std::size_t n = chain.size();
    if (n < 3) return chain;
    std::vector<char> keep(n, 0);
    keep[0] = keep[n - 1] = 1;
    const double tol2 = tolerance * tolerance;
    std::vector<std::pair<std::size_t, std::size_t>> stack{{0, n - 1}};
    while (!stack.empty()) {
        auto [first, last] = stack.back();
        stack.pop_back();
        double worst = -1;
        std::size_t at = first;
        for (std::size_t i = first + 1; i < last; ++i) {
            double d = squared_distance_to_segment(chain[i], chain[first], chain[last]);
            if (d > worst) worst = d, at = i;
        }
        // Strictly greater: with tolerance 0, exactly collinear points go.
        if (at == first || worst <= tol2) continue;
        keep[at] = 1;
        stack.emplace_back(first, at);
        stack.emplace_back(at, last);
    }
    std::vector<Point> out;
    for (std::size_t i = 0; i < n; ++i)
        if (keep[i]) out.push_back(chain[i]);
    return out;
}

// Simplifies a chain identically whichever way it is walked.
std::vector<Point> simplify_chain(std::vector<Point> chain, double tolerance) {
    const std::size_t n = chain.size();
    bool reverse = key(chain.back()) < key(chain.front());
    if (chain.front() == chain.back() && n > 3) reverse = key(chain[n - 2]) < key(chain[1]);
    if (reverse) std::reverse(chain.begin(), chain.end());
    std::vector<Point> out = douglas_peucker(chain, tolerance);
    if (reverse) std::reverse(out.begin(), out.end());
    return out;
}

void remove_repeats(mvt::Ring& ring) {
    ring.erase(std::unique(ring.begin(), ring.end()), ring.end());
    while (ring.size() > 1 && ring.front() == ring.back()) ring.pop_back();
}

// Vertices with other than two distinct neighbours over all rings, sorted by key.
std::vector<std::uint64_t> find_nodes(const std::vector<std::vector<mvt::Polygon>>& features) {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> edges;
    for (const auto& polygons : features)
        for (const auto& polygon : polygons)
            for (const auto& ring : polygon)
                for (std::size_t i = 0, n = ring.size(); i < n; ++i) {
                    std::uint64_t a = key(ring[i]), b = key(ring[(i + 1) % n]);
                    edges.emplace_back(a, b);
                    edges.emplace_back(b, a);
                }
    std::sort(edges.begin(), edges.end());
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    std::vector<std::uint64_t> nodes;
    for (std::size_t i = 0; i < edges.size();) {
        std::size_t j = i;
        while (j < edges.size() && edges[j].first == edges[i].first) ++j;
        if (j - i != 2) nodes.push_back(edges[i].first);
        i = j;
    }
    return nodes;
}

mvt::Ring simplify_ring(const mvt::Ring& ring, const std::vector<std::uint64_t>& nodes, double tolerance) {
    const std::size_t n = ring.size();
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < n; ++i)
        if (std::binary_search(nodes.begin(), nodes.end(), key(ring[i]))) at.push_back(i);
    if (at.empty()) {
        // A ring touching nothing else (or shared whole): start at its smallest point, as the
        // other side of a shared ring will.
        std::size_t lowest = 0;
        for (std::size_t i = 1; i < n; ++i)
            if (key(ring[i]) < key(ring[lowest])) lowest = i;
        at.push_back(lowest);
    }
    mvt::Ring out;
    for (std::size_t c = 0; c < at.size(); ++c) {
        const std::size_t from = at[c], to = c + 1 < at.size() ? at[c + 1] : at[0] + n;
        std::vector<Point> chain;
        chain.reserve(to - from + 1);
        for (std::size_t i = from; i <= to; ++i) chain.push_back(ring[i % n]);
        std::vector<Point> kept = simplify_chain(std::move(chain), tolerance);
        out.insert(out.end(), kept.begin(), kept.end() - 1); // the last is the next chain's first
    }
    return out;
}

bool large_enough(const mvt::Ring& ring, double min_area) {
    if (ring.size() < 3) return false;
    const double area = std::abs(static_cast<double>(mvt::doubled_area(ring))) / 2;
    return area > 0 && area >= min_area;
}

} // namespace detail

void simplify_coverage(std::vector<std::vector<mvt::Polygon>>& features, const SimplifyOptions& options) {
    for (auto& polygons : features)
        for (auto& polygon : polygons)
            for (auto& ring : polygon) {
                detail::remove_repeats(ring);
                if (ring.size() < 3) ring.clear(); // a collapsed ring would add false nodes
            }
    const std::vector<std::uint64_t> nodes = detail::find_nodes(features);
    for (auto& polygons : features) {
        std::vector<mvt::Polygon> kept;
        for (const auto& polygon : polygons) {
            if (polygon.empty() || polygon[0].empty()) continue;
            mvt::Polygon simplified;
            for (std::size_t i = 0; i < polygon.size(); ++i) {
                if (polygon[i].empty()) continue;
                mvt::Ring r = detail::simplify_ring(polygon[i], nodes, options.tolerance);
                detail::remove_repeats(r);
                if (detail::large_enough(r, options.min_area)) simplified.push_back(std::move(r));
                else if (i == 0) break; // no shell, no polygon
            }
            if (!simplified.empty()) kept.push_back(std::move(simplified));
        }
        polygons = std::move(kept);
    }
}

void simplify_lines(std::vector<mvt::Line>& lines, const SimplifyOptions& options) {
    std::vector<mvt::Line> kept;
    for (auto& line : lines) {
        line.erase(std::unique(line.begin(), line.end()), line.end());
        if (line.size() < 2) continue;
        mvt::Line s = detail::douglas_peucker(line, options.tolerance);
        if (s.size() >= 2) kept.push_back(std::move(s));
    }
    lines = std::move(kept);
}

} // namespace wangge::tiles

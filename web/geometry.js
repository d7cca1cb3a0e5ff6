// Small geometry helpers on GeoJSON in lon/lat: bounds, label points and the zoom that fits a box.

// The bounding box [[west, south], [east, north]] of a GeoJSON geometry, or null if empty.
export function geometryBounds(geometry) {
    let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
    const visit = coords => {
        if (typeof coords[0] === 'number') {
            w = Math.min(w, coords[0]); e = Math.max(e, coords[0]);
            s = Math.min(s, coords[1]); n = Math.max(n, coords[1]);
        } else {
            for (const c of coords) visit(c);
        }
    };
    if (geometry?.coordinates) visit(geometry.coordinates);
    return Number.isFinite(w) ? [[w, s], [e, n]] : null;
}

export function unionBounds(boxes) {
    const valid = boxes.filter(Boolean);
    if (!valid.length) return null;
    return [
        [Math.min(...valid.map(b => b[0][0])), Math.min(...valid.map(b => b[0][1]))],
        [Math.max(...valid.map(b => b[1][0])), Math.max(...valid.map(b => b[1][1]))],
    ];
}

function mercatorY(lat) {
    const s = Math.sin(lat * Math.PI / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
}

// The zoom at which `bounds` just fits a viewport of width x height pixels (MapLibre's 512 px
// world at zoom 0), keeping `padding` pixels free on every side.
export function fitZoom(bounds, width, height, padding = 40) {
    const dx = Math.max((bounds[1][0] - bounds[0][0]) / 360, 1e-9);
    const dy = Math.max(mercatorY(bounds[0][1]) - mercatorY(bounds[1][1]), 1e-9);
    const w = Math.max(width - 2 * padding, 64);
    const h = Math.max(height - 2 * padding, 64);
    return Math.log2(Math.min(w / (512 * dx), h / (512 * dy)));
}

export function median(values) {
    const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
    if (!sorted.length) return NaN;
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// The pole of inaccessibility of a polygon (the inside point farthest from its edges), the
// best place for its label: the "polylabel" algorithm (Agafonkin 2016), in plain lon/lat,
// which is fine at the size of a street or community. For a MultiPolygon, the largest part.
export function labelPoint(geometry) {
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    let best = null;
    let bestArea = -Infinity;
    for (const polygon of polygons) {
        const area = Math.abs(ringArea(polygon[0]));
        if (area > bestArea) {
            bestArea = area;
            best = polygon;
        }
    }
    return best ? polylabel(best) : null;
}

function ringArea(ring) {
    let sum = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++)
        sum += (ring[j][0] - ring[i][0]) * (ring[j][1] + ring[i][1]);
    return sum / 2;
}

// Signed distance from (x, y) to the polygon outline: positive inside.
function pointToPolygonDistance(x, y, polygon) {
    let inside = false;
    let minSq = Infinity;
    for (const ring of polygon) {
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
            const a = ring[i], b = ring[j];
            if ((a[1] > y) !== (b[1] > y) && x < (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]) + a[0]) inside = !inside;
            minSq = Math.min(minSq, segmentDistanceSq(x, y, a, b));
        }
    }
    return (inside ? 1 : -1) * Math.sqrt(minSq);
}

function segmentDistanceSq(px, py, a, b) {
    let x = a[0], y = a[1];
    let dx = b[0] - x, dy = b[1] - y;
    if (dx !== 0 || dy !== 0) {
        const t = ((px - x) * dx + (py - y) * dy) / (dx * dx + dy * dy);
        if (t > 1) {
            x = b[0]; y = b[1];
        } else if (t > 0) {
            x += dx * t; y += dy * t;
        }
    }
    dx = px - x;
    dy = py - y;
    return dx * dx + dy * dy;
}

// To within a fortieth of the polygon's size: plenty for a label, and fast.
function polylabel(polygon) {
    const ring = polygon[0];
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    for (const [x, y] of ring) {
        minX = Math.min(minX, x); minY = Math.min(minY, y);
        maxX = Math.max(maxX, x); maxY = Math.max(maxY, y);
    }
    const size = Math.min(maxX - minX, maxY - minY);
    if (size === 0) return [minX, minY];
    const precision = size / 40;
    const cell = (x, y, half) => {
        const d = pointToPolygonDistance(x, y, polygon);
        return {x, y, half, d, max: d + half * Math.SQRT2};
    };

    const queue = new MaxHeap(c => c.max);
    for (let x = minX; x < maxX; x += size) {
        for (let y = minY; y < maxY; y += size) queue.push(cell(x + size / 2, y + size / 2, size / 2));
    }
    let best = cell((minX + maxX) / 2, (minY + maxY) / 2, 0);
    // The area-weighted centroid is often the answer already; start from it when it is better.
    const centroid = ringCentroid(ring);
    const atCentroid = cell(centroid[0], centroid[1], 0);
    if (atCentroid.d > best.d) best = atCentroid;

    while (queue.size) {
        const c = queue.pop();
        if (c.d > best.d) best = c;
        if (c.max - best.d <= precision) continue;
        const half = c.half / 2;
        queue.push(cell(c.x - half, c.y - half, half));
        queue.push(cell(c.x + half, c.y - half, half));
        queue.push(cell(c.x - half, c.y + half, half));
        queue.push(cell(c.x + half, c.y + half, half));
    }
    return [best.x, best.y];
}

class MaxHeap {
    constructor(key) {
        this.key = key;
        this.items = [];
    }

    get size() { return this.items.length; }

    push(item) {
        const a = this.items;
        a.push(item);
        for (let i = a.length - 1; i > 0;) {
            const parent = (i - 1) >> 1;
            if (this.key(a[parent]) >= this.key(a[i])) break;
            [a[parent], a[i]] = [a[i], a[parent]];
            i = parent;
        }
    }

    pop() {
        const a = this.items;
        const top = a[0];
        const last = a.pop();
        if (a.length) {
            a[0] = last;
            for (let i = 0; ;) {
                const l = 2 * i + 1, r = l + 1;
                let m = i;
                if (l < a.length && this.key(a[l]) > this.key(a[m])) m = l;
                if (r < a.length && this.key(a[r]) > this.key(a[m])) m = r;
                if (m === i) break;
                [a[m], a[i]] = [a[i], a[m]];
                i = m;
            }
        }
        return top;
    }
}

function ringCentroid(ring) {
    let x = 0, y = 0, area = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const f = ring[i][0] * ring[j][1] - ring[j][0] * ring[i][1];
        x += (ring[i][0] + ring[j][0]) * f;
        y += (ring[i][1] + ring[j][1]) * f;
        area += f * 3;
    }
    return area === 0 ? ring[0] : [x / area, y / area];
}

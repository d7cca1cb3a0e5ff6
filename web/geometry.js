// Small geometry helpers on GeoJSON in lon/lat: bounds and the zoom that fits a box. (Label
// points come with the vector tiles: their `labels` layer, docs/TILES.md.)

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

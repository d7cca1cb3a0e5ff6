// The map's MapLibre style: Wangge's own tiles only. No `glyphs`: MapLibre (>= 5.11) draws the
// labels with the browser's fonts, so no glyph server is needed.
//
// Three levels switch with zoom at two thresholds that the app derives from the data
// (see levelZooms in app.js): below `streetZoom` the district level (communities coloured, names
// of streets and communities), from `streetZoom` the street level (grids filled by load, with
// names and codes), from `communityZoom` the community level (buildings, roads, grid outlines).
//
// Highlighting uses feature state (hover, selected, located) on features whose ids are their
// codes (promoteId), so nothing is re-filtered or re-parsed when the selection changes, and no
// extra layer covers the map: the fills themselves get stronger, outlines of zero width widen.

export const SOURCE = 'wangge';
export const RASTER_SOURCE = 'wangge-raster';

export const COLORS = {
    background: '#e9edf1',
    streetFill: '#fbfaf7',
    communities: ['#dcebf7', '#e3f2da', '#fce8d6', '#ebdff4', '#f8f0cc', '#d9f0ee'],
    // The hues of the rendered tiles (docs/RENDERING.md), stronger since they are drawn translucent.
    load: {below: '#f2c94c', in_band: '#86c99a', above: '#ee8f6a', unit: '#b5a5d8'},
    gridLine: '#5f6f80',
    communityLine: '#2f3e4e',
    streetLine: '#6a3d9a',
    text: '#1f2933',
    halo: 'rgba(255,255,255,0.92)',
    selected: '#e03131',
    selectedBuilding: '#ff8787',
    located: '#1c7ed6',
    buildings: {
        residential: '#dccfbe', apartments: '#dccfbe', school: '#f2d38f', hospital: '#f2b1b1',
        market: '#f5c49c', commercial: '#f5c49c', retail: '#f5c49c', office: '#c5d1e8', industrial: '#cfcfcf',
        other: '#d9d9d9',
    },
    buildingLine: '#9c8f7e',
    road: {primary: '#ffd58a', secondary: '#ffffff', other: '#ffffff'},
    // Traffic lights of cases (亮灯); `none` for cases no longer running against a limit.
    light: {green: '#2f9e44', yellow: '#f0a202', red: '#d9480f', none: '#868e96'},
    roadCasing: {primary: '#d9a441', secondary: '#b9bec5', other: '#c9ced4'},
};

const FONT = ['Noto Sans CJK SC Regular', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC',
    'Microsoft YaHei', 'Hiragino Sans GB', 'sans-serif'];
const FONT_BOLD = ['Noto Sans CJK SC Bold', 'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC',
    'Microsoft YaHei', 'Hiragino Sans GB', 'sans-serif'];
export const CJK_FONT_FAMILY = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

// Layers whose features open the panel when clicked, the most specific first.
export const CLICKABLE = ['building-fill', 'grid-fill', 'community-fill', 'street-fill'];
export const LAYER_LEVEL = {
    'building-fill': 'building', 'grid-fill': 'grid', 'community-fill': 'community', 'street-fill': 'street',
};
export const SOURCE_LAYER = {street: 'streets', community: 'communities', grid: 'grids', building: 'buildings'};

// Layers drawn by the vector tiles that the raster base map replaces (hidden in raster mode);
// fills stay (transparent) so that clicks still find their features.
export const VECTOR_DECORATION = ['street-fill', 'community-fill', 'grid-fill', 'building-fill', 'road-casing', 'road-line',
    'building-line', 'grid-line', 'community-line', 'street-casing', 'street-line', 'road-label', 'grid-label',
    'building-label', 'community-label', 'street-label'];

const state = name => ['boolean', ['feature-state', name], false];
const byState = (selected, located, otherwise) => ['case', state('selected'), selected, state('located'), located, otherwise];
const emphasis = (normal, strong) => ['case', ['any', state('hover'), state('selected'), state('located')], strong, normal];

function communityColor() {
    // Neighbouring communities have consecutive codes: six colours repeat along the sequence.
    const index = ['%', ['to-number', ['slice', ['get', 'code'], 9], 0], COLORS.communities.length];
    return ['match', index, ...COLORS.communities.flatMap((c, i) => [i, c]), COLORS.communities[0]];
}

function loadColor() {
    const l = COLORS.load;
    return ['match', ['get', 'load'], 'below', l.below, 'in_band', l.in_band, 'above', l.above, 'unit', l.unit, '#cccccc'];
}

function buildingColor() {
    const b = COLORS.buildings;
    const uses = Object.keys(b).filter(k => k !== 'other');
    return ['match', ['get', 'use'], ...uses.flatMap(u => [u, b[u]]), b.other];
}

function roadValue(values) {
    return ['match', ['get', 'kind'], 'primary', values.primary, 'trunk', values.primary, 'secondary', values.secondary,
        'tertiary', values.secondary, values.other];
}

// `tiles`: the hierarchy tile URL templates and zoom range (from the TileJSON); `raster`: PNG
// tile URL template; `zooms`: {street, community, communityLabels, gridLabels}, the zooms where
// the street and community levels begin and where the names of communities and grids appear.
//
// Names of streets, communities and grids come from the tiles' `labels` layer: one point per
// area, inside it, in the one tile of each zoom that contains it (docs/TILES.md). MapLibre lays
// out a point's label only from the tile whose extent holds it and places the labels of all
// tiles in view together, so each area is named once, and a name near a tile edge is placed
// against its neighbours across that edge.
export function buildStyle({tiles, raster, zooms}) {
    const z1 = zooms.street;
    const z2 = zooms.community;
    // Tiles beyond z18 add nothing a client cannot over-zoom; fewer requests when zoomed in.
    const vector = {type: 'vector', tiles: tiles.urls, minzoom: tiles.minzoom, maxzoom: Math.min(tiles.maxzoom, 18),
        promoteId: {streets: 'code', communities: 'code', grids: 'code', buildings: 'id'}};
    if (tiles.bounds) vector.bounds = tiles.bounds;
    const textSize = (small, large) => ['interpolate', ['linear'], ['zoom'], z1 - 2, small, z2 + 2, large];
    const halo = {'text-color': COLORS.text, 'text-halo-color': COLORS.halo, 'text-halo-width': 1.4, 'text-halo-blur': 0.4};

    return {
        version: 8,
        name: 'Wangge',
        sources: {
            [SOURCE]: vector,
            [RASTER_SOURCE]: {type: 'raster', tiles: [raster], tileSize: 256, minzoom: 0, maxzoom: 19},
        },
        layers: [
            {id: 'background', type: 'background', paint: {'background-color': COLORS.background}},
            {id: 'raster', type: 'raster', source: RASTER_SOURCE, layout: {visibility: 'none'}},
            {
                id: 'street-fill', type: 'fill', source: SOURCE, 'source-layer': 'streets',
                paint: {'fill-color': COLORS.streetFill, 'fill-opacity': 1},
            },
            {
                id: 'community-fill', type: 'fill', source: SOURCE, 'source-layer': 'communities', maxzoom: z1,
                paint: {'fill-color': communityColor(), 'fill-opacity': ['case', state('hover'), 1, 0.8]},
            },
            {
                id: 'grid-fill', type: 'fill', source: SOURCE, 'source-layer': 'grids', minzoom: z1,
                paint: {
                    'fill-color': loadColor(),
                    'fill-opacity': ['interpolate', ['linear'], ['zoom'],
                        z2 - 0.5, emphasis(0.62, 0.9),
                        z2 + 0.5, emphasis(0.24, 0.5)],
                },
            },
            {
                id: 'road-casing', type: 'line', source: SOURCE, 'source-layer': 'roads', minzoom: z2 - 0.5,
                layout: {'line-join': 'round', 'line-cap': 'round'},
                paint: {
                    'line-color': roadValue(COLORS.roadCasing),
                    'line-width': ['interpolate', ['exponential', 1.6], ['zoom'], z2, roadValue({primary: 7, secondary: 5.5, other: 3.5}),
                        z2 + 3, roadValue({primary: 26, secondary: 20, other: 12})],
                },
            },
            {
                id: 'road-line', type: 'line', source: SOURCE, 'source-layer': 'roads', minzoom: z2 - 0.5,
                layout: {'line-join': 'round', 'line-cap': 'round'},
                paint: {
                    'line-color': roadValue(COLORS.road),
                    'line-width': ['interpolate', ['exponential', 1.6], ['zoom'], z2, roadValue({primary: 5, secondary: 4, other: 2.2}),
                        z2 + 3, roadValue({primary: 22, secondary: 17, other: 10})],
                },
            },
            {
                id: 'building-fill', type: 'fill', source: SOURCE, 'source-layer': 'buildings', minzoom: z2,
                paint: {
                    'fill-color': ['case', state('selected'), COLORS.selectedBuilding, buildingColor()],
                    'fill-opacity': emphasis(0.9, 1),
                },
            },
            {
                id: 'building-line', type: 'line', source: SOURCE, 'source-layer': 'buildings', minzoom: z2,
                paint: {'line-color': COLORS.buildingLine, 'line-width': 0.6},
            },
            {
                id: 'grid-line', type: 'line', source: SOURCE, 'source-layer': 'grids', minzoom: z1,
                layout: {'line-join': 'round'},
                paint: {
                    'line-color': COLORS.gridLine,
                    'line-opacity': 0.8,
                    'line-width': ['interpolate', ['linear'], ['zoom'], z1, 0.6, z2 + 2, 1.6],
                    'line-dasharray': [4, 2],
                },
            },
            {
                id: 'community-line', type: 'line', source: SOURCE, 'source-layer': 'communities',
                layout: {'line-join': 'round'},
                paint: {
                    'line-color': COLORS.communityLine,
                    'line-width': ['interpolate', ['linear'], ['zoom'], z1 - 2, 0.8, z1 - 0.01, 1.2, z1, 2.2, z2 + 2, 3],
                    'line-opacity': 0.85,
                },
            },
            {
                id: 'street-casing', type: 'line', source: SOURCE, 'source-layer': 'streets',
                layout: {'line-join': 'round'},
                paint: {
                    'line-color': COLORS.streetLine, 'line-opacity': 0.18,
                    'line-width': ['interpolate', ['linear'], ['zoom'], z1 - 2, 5, z2 + 2, 12],
                },
            },
            {
                id: 'street-line', type: 'line', source: SOURCE, 'source-layer': 'streets',
                layout: {'line-join': 'round'},
                paint: {
                    'line-color': COLORS.streetLine,
                    'line-width': ['interpolate', ['linear'], ['zoom'], z1 - 2, 1.6, z2 + 2, 3.2],
                    'line-dasharray': [3, 1, 1, 1],
                },
            },
            // Highlights: outlines of zero width until a feature's state says selected or located
            // (no fragments are drawn for them, whatever the number of features).
            ...[['street', 'streets', 5], ['community', 'communities', 4], ['grid', 'grids', 3], ['building', 'buildings', 2.5]]
                .map(([level, sourceLayer, width]) => ({
                    id: `hl-${level}-line`, type: 'line', source: SOURCE, 'source-layer': sourceLayer,
                    layout: {'line-join': 'round'},
                    paint: {
                        'line-color': byState(COLORS.selected, COLORS.located, COLORS.selected),
                        'line-width': byState(width, width, 0),
                    },
                })),
            {
                id: 'road-label', type: 'symbol', source: SOURCE, 'source-layer': 'roads', minzoom: z2,
                layout: {
                    'symbol-placement': 'line', 'text-field': ['get', 'name'], 'text-font': FONT,
                    'text-size': ['interpolate', ['linear'], ['zoom'], z2, 11, z2 + 3, 14],
                    'text-letter-spacing': 0.1, 'symbol-spacing': 300,
                },
                paint: {...halo, 'text-color': '#5c5146'},
            },
            {
                id: 'building-label', type: 'symbol', source: SOURCE, 'source-layer': 'buildings', minzoom: z2 + 1,
                layout: {
                    'text-field': ['get', 'name'], 'text-font': FONT, 'text-size': 11, 'text-max-width': 7,
                    'text-padding': 3,
                },
                paint: {...halo, 'text-color': '#4a4036'},
            },
            {
                id: 'grid-label', type: 'symbol', source: SOURCE, 'source-layer': 'labels', minzoom: zooms.gridLabels,
                filter: ['==', ['get', 'level'], 'grid'],
                layout: {
                    'text-field': ['format',
                        ['get', 'name'], {'font-scale': 1},
                        '\n', {},
                        ['get', 'code'], {'font-scale': 0.82, 'text-font': ['literal', FONT]}],
                    'text-font': FONT_BOLD,
                    'text-size': ['interpolate', ['linear'], ['zoom'], z1, 10.5, z2, 12, z2 + 2, 14],
                    'text-max-width': 9, 'text-padding': 4, 'text-line-height': 1.25,
                },
                paint: {...halo, 'text-color': '#22313f'},
            },
            {
                id: 'street-label', type: 'symbol', source: SOURCE, 'source-layer': 'labels', maxzoom: z2,
                filter: ['==', ['get', 'level'], 'street'],
                layout: {
                    'text-field': ['get', 'name'], 'text-font': FONT_BOLD, 'text-size': textSize(14, 22),
                    'text-letter-spacing': 0.25, 'text-padding': 4,
                    // Community names are placed first; the street's name moves around them.
                    'text-variable-anchor': ['bottom', 'top', 'left', 'right', 'center'],
                    'text-radial-offset': 1.1,
                },
                paint: {...halo, 'text-color': COLORS.streetLine, 'text-halo-width': 2},
            },
            {
                id: 'community-label', type: 'symbol', source: SOURCE, 'source-layer': 'labels',
                minzoom: zooms.communityLabels, maxzoom: z1,
                filter: ['==', ['get', 'level'], 'community'],
                layout: {
                    'text-field': ['get', 'name'], 'text-font': FONT_BOLD, 'text-size': textSize(11, 16),
                    'text-max-width': 6, 'text-padding': 2,
                },
                paint: {...halo},
            },
        ],
    };
}

// ---- the incidents layer (signed in only; docs/WEBMAP.md "Cases") ----------------------------

export const INCIDENT_SOURCE = 'incidents';
// Cases first: a click on a case opens it rather than the grid beneath.
export const INCIDENT_LAYERS = ['incident-cluster', 'incident-cluster-count', 'incident-point'];
export const INCIDENT_CLICKABLE = ['incident-point', 'incident-cluster'];

function lightColor() {
    const l = COLORS.light;
    return ['match', ['coalesce', ['get', 'light'], 'none'], 'green', l.green, 'yellow', l.yellow, 'red', l.red, l.none];
}

// The source of the user's own incidents tiles (`url`: the template), made per request by the
// server and never cached: below z15 clusters with `count`, from z15 single cases.
export function incidentSource(url) {
    return {type: 'vector', tiles: [url], minzoom: 8, maxzoom: 16};
}

// Circles coloured by light, the worst drawn on top; clusters sized by their count and labelled.
export function incidentLayers() {
    const worst = ['match', ['coalesce', ['get', 'light'], 'none'], 'red', 3, 'yellow', 2, 'green', 1, 0];
    return [
        {
            id: 'incident-cluster', type: 'circle', source: INCIDENT_SOURCE, 'source-layer': 'incidents',
            filter: ['has', 'count'],
            layout: {'circle-sort-key': worst},
            paint: {
                'circle-color': lightColor(),
                'circle-opacity': 0.85,
                'circle-radius': ['interpolate', ['linear'], ['get', 'count'], 2, 11, 20, 17, 200, 26],
                'circle-stroke-color': '#ffffff',
                'circle-stroke-width': 2,
            },
        },
        {
            id: 'incident-cluster-count', type: 'symbol', source: INCIDENT_SOURCE, 'source-layer': 'incidents',
            filter: ['has', 'count'],
            layout: {'text-field': ['to-string', ['get', 'count']], 'text-font': FONT_BOLD, 'text-size': 12,
                'text-allow-overlap': true, 'text-ignore-placement': true},
            paint: {'text-color': '#ffffff'},
        },
        {
            id: 'incident-point', type: 'circle', source: INCIDENT_SOURCE, 'source-layer': 'incidents',
            filter: ['!', ['has', 'count']],
            layout: {'circle-sort-key': worst},
            paint: {
                'circle-color': lightColor(),
                'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 6, 18, 10],
                'circle-stroke-color': ['case', ['boolean', ['feature-state', 'selected'], false], COLORS.selected, '#ffffff'],
                'circle-stroke-width': ['case', ['boolean', ['feature-state', 'selected'], false], 3.5, 2],
            },
        },
    ];
}

// Wangge's web map (docs/WEBMAP.md): the district, its streets, communities, grids and buildings
// over Wangge's own vector tiles; click for details, search by code or name, locate a point;
// signed in, change the grids of the communities in one's scope, and see and handle the cases
// of one's scope (the incidents layer, a grid's workers and open cases, a case's panel with its
// timeline and next steps, the supervision list).
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';
import * as api from './api.js';
import {fitZoom, geometryBounds, median, unionBounds} from './geometry.js';
import {formatNumber, lang, setLang, t, translatePage} from './i18n.js';
import {
    buildStyle, CJK_FONT_FAMILY, CLICKABLE, COLORS, INCIDENT_CLICKABLE, INCIDENT_LAYERS, INCIDENT_SOURCE, incidentLayers,
    incidentSource, LAYER_LEVEL, RASTER_SOURCE, SOURCE, SOURCE_LAYER, VECTOR_DECORATION,
} from './map-style.js';
import {formatTime, h, Panel, word} from './panel.js';
import {COORDINATES, Search, toEntry} from './search.js';
import {Account} from './session.js';

// The household band of a residential grid: Wangge's default (wangge serve --band-min/--band-max).
// The household band of the load colours; the TileJSON names the server's own (serve --band-min/-max).
const BAND = [250, 500];
// China, shown when the database holds no street yet.
const EMPTY_BOUNDS = [[73.5, 18.2], [134.8, 53.6]];
const CODE_LENGTH = {street: 9, community: 12};
// Base maps: the vector tiles, or Wangge's rendered tiles of a style.
const BASES = [['vector', 'base_vector'], ['default', 'base_raster'], ['dark', 'base_dark']];

const app = {
    map: null,
    style: null,
    zooms: {street: 13, community: 15, communityLabels: 0, gridLabels: 13},
    district: EMPTY_BOUNDS,
    entries: [],          // streets and communities: {level, code, name, households, grids, bounds}
    selected: [],         // feature-state targets {sourceLayer, id} per highlight kind
    located: [],
    hovered: null,
    selectedCode: null,
    marker: null,
    locateMode: false,
    base: 'vector',       // vector, or the raster style default or dark
    request: 0,           // the panel shows the answer of the latest request only
    mapLoaded: false,
    incidentVersion: 0,   // in the incidents tiles' URL: a new one after every step and sign-in
    showClosed: false,    // the incidents layer with closed cases too (closed=true)
    selectedIncident: null,
    sessionCheck: null,   // a question of who is signed in, after the cases' tiles were refused
    incident: null,       // the case in the panel
    categories: new Map(), // 小类 code -> name, once signed in
};

const $ = selector => document.querySelector(selector);
const panel = new Panel($('#panel'), {
    open: (level, code) => openArea(level, code, {fly: true}),
    openBuilding: feature => openBuilding(feature.properties, {geometry: feature.geometry}),
    close: closePanel,
    propose: code => propose(code),
    applyProposal: answer => applyProposal(answer),
    discardProposal: answer => { clearProposal(); openArea('community', answer.community.code, {fly: false}); },
    undo: code => undoChange(code),
    rebalanceRight: code => account.rebalanceRight(code),
    openIncident: id => openIncident(id, {fly: true}),
    step: (c, step) => takeStep(c, step),
    openSupervision: code => openSupervision(code),
    categoryName: code => app.categories.get(code),
});
const account = new Account($('#account-toggle'), $('#account-box'), {
    nameOf: code => app.entries.find(e => e.code === code)?.name,
    open: (level, code) => openArea(level, code, {fly: true}),
    changed: sessionChanged,
    toast,
});
const search = new Search($('#search-form'), {
    open: (level, code) => openArea(level, code, {fly: true}),
    locate: (lon, lat) => {
        setLocateMode(true);
        fillLocateForm(lon, lat);
        return locateAt(lon, lat, $('#locate-crs').value, {fly: true});
    },
    toast,
});

start();

async function start() {
    translatePage();
    bindControls();
    renderLegend();
    account.refresh().then(() => { document.documentElement.dataset.sessionLoaded = 'true'; });
    let district = {tiles: null, streets: [], communities: []};
    try {
        district = await loadDistrict();
    } catch (e) {
        toast(t('error_load', e.message || t('error_network')));
    }
    renderLegend(); // again, with the server's band
    createMap(district);
}

// The tile source's zoom range, the streets and communities (a few hundred at most): their
// bounds make the search index, their label points and the zooms of the three levels.
async function loadDistrict() {
    const [tiles, streets, communities] = await Promise.all([tileJson(), api.list('street'), api.list('community')]);
    return {tiles, streets, communities};
}

async function tileJson() {
    // Tiles are always asked from this page's own server, whatever host the TileJSON names.
    const info = {urls: [api.absoluteUrl('tiles/hierarchy/{z}/{x}/{y}.mvt')], minzoom: 0, maxzoom: 16, bounds: null};
    try {
        const response = await fetch('tiles/hierarchy.json');
        if (!response.ok) return info;
        const j = await response.json();
        if (Number.isInteger(j.minzoom)) info.minzoom = j.minzoom;
        if (Number.isInteger(j.maxzoom)) info.maxzoom = j.maxzoom;
        if (Array.isArray(j.bounds) && j.bounds.length === 4) info.bounds = j.bounds;
        const band = j['wangge:band'];
        if (Array.isArray(band) && band.length === 2 && band.every(Number.isInteger)) BAND.splice(0, 2, ...band);
    } catch {
        // No TileJSON: the defaults above.
    }
    return info;
}

// The zooms where the street and the community levels begin, from the data: halfway between
// the zoom that fits the whole district and the one that fits a typical street, and between
// that and the one that fits a typical community. The tiles carry grids from z11 and buildings
// from z14, so the levels never begin earlier. Names of communities appear once a typical
// community is about 80 px wide (four zooms below the one that fits it), names of grids once a
// typical grid is about 64 px wide (a community of n grids fitted to the screen has grids
// about side/sqrt(n) wide): smaller, they would only collide.
function levelZooms(district, streets, communities, width, height) {
    const dz = fitZoom(district, width, height);
    const sz = median(streets.map(e => e.bounds && fitZoom(e.bounds, width, height)));
    const fits = communities.map(e => e.bounds && fitZoom(e.bounds, width, height));
    const cz = median(fits);
    const side = Math.max(Math.min(width, height) - 80, 64);
    const gz = median(communities.map((e, i) => fits[i] - Math.log2(side / Math.sqrt(Math.max(e.grids ?? 1, 1)) / 64)));
    let street = Number.isFinite(sz) ? (dz + sz) / 2 : 13;
    street = Math.max(street, Number.isFinite(dz) ? dz + 0.5 : 0, 11);
    let community = Number.isFinite(sz) && Number.isFinite(cz) ? (sz + cz) / 2 : street + 2;
    community = Math.max(community, street + 1, 14);
    const labels = Number.isFinite(cz) ? Math.min(cz - 4, street) : 0;
    const gridLabels = Number.isFinite(gz) ? Math.min(Math.max(gz, street), community) : street;
    const round = z => Math.round(z * 10) / 10;
    return {street: round(street), community: round(community), communityLabels: round(labels),
        gridLabels: round(gridLabels)};
}

function createMap({tiles, streets, communities}) {
    const streetEntries = streets.map(f => toEntry(f, 'street'));
    const communityEntries = communities.map(f => toEntry(f, 'community'));
    app.entries = [...streetEntries, ...communityEntries];
    search.setEntries(app.entries);
    app.district = unionBounds(streetEntries.map(e => e.bounds)) ??
        (tiles?.bounds ? [[tiles.bounds[0], tiles.bounds[1]], [tiles.bounds[2], tiles.bounds[3]]] : EMPTY_BOUNDS);
    const container = $('#map');
    if (streetEntries.length) {
        app.zooms = levelZooms(app.district, streetEntries, communityEntries, container.clientWidth, container.clientHeight);
    }
    app.style = buildStyle({
        tiles: tiles ?? {urls: [api.absoluteUrl('tiles/hierarchy/{z}/{x}/{y}.mvt')], minzoom: 0, maxzoom: 16},
        raster: rasterUrl('default'),
        zooms: app.zooms,
    });

    const fromHash = /^#\d/.test(location.hash);
    const map = new maplibregl.Map({
        container,
        style: app.style,
        bounds: fromHash ? undefined : app.district,
        fitBoundsOptions: {padding: 32},
        hash: true,
        maxZoom: 19,
        minZoom: 3,
        attributionControl: false,
        dragRotate: false,
        pitchWithRotate: false,
        touchPitch: false,
        maxPitch: 0,
        localIdeographFontFamily: CJK_FONT_FAMILY,
        // Over-zoom tiles beyond the source's last zoom rather than split them into children:
        // fewer tiles to lay out when zoomed in.
        zoomLevelsToOverscale: 24,
    });
    app.map = map;
    map.touchZoomRotate.disableRotation();
    map.keyboard.disableRotation();
    map.addControl(new maplibregl.NavigationControl({showCompass: false}), 'bottom-right');
    map.addControl(new maplibregl.ScaleControl({unit: 'metric'}), 'bottom-left');
    translateControls();

    map.on('mousemove', onHover);
    map.on('mouseout', () => setHover(null));
    map.on('click', onClick);
    map.on('zoom', updateLevelButtons);
    map.on('error', e => {
        // The cases' tiles refused: the session has ended (expired, or signed out elsewhere). Ask
        // who is signed in, which removes the layer, rather than asking for more refused tiles.
        if (e.sourceId === INCIDENT_SOURCE && e.error?.status === 401) {
            if (!app.sessionCheck) app.sessionCheck = account.refresh().finally(() => { app.sessionCheck = null; });
            return;
        }
        console.warn('map:', e.error?.message ?? e);
    });
    map.once('load', () => {
        app.mapLoaded = true;
        updateIncidentLayer();
        updateLevelButtons();
        document.documentElement.dataset.mapLoaded = 'true';
    });
    map.once('idle', () => { document.documentElement.dataset.mapIdle = 'true'; });

    // For people debugging in the console and for the end-to-end test.
    window.wangge = {map, zooms: app.zooms, district: app.district, openArea, locateAt, goToLevel, propose,
        openIncident, openSupervision, session: () => account.session};
}

// ---- selection and highlighting -------------------------------------------------------------

function setStates(kind, targets) {
    const map = app.map;
    for (const f of app[kind]) map.setFeatureState({source: SOURCE, sourceLayer: f.sourceLayer, id: f.id}, {[kind]: false});
    app[kind] = targets.filter(f => f.id !== undefined && f.id !== null);
    for (const f of app[kind]) map.setFeatureState({source: SOURCE, sourceLayer: f.sourceLayer, id: f.id}, {[kind]: true});
}

function setHover(feature) {
    const target = feature ? {sourceLayer: feature.sourceLayer, id: feature.id} : null;
    const old = app.hovered;
    if (old && target && old.sourceLayer === target.sourceLayer && old.id === target.id) return;
    if (old) app.map.setFeatureState({source: SOURCE, sourceLayer: old.sourceLayer, id: old.id}, {hover: false});
    app.hovered = target;
    if (target) app.map.setFeatureState({source: SOURCE, sourceLayer: target.sourceLayer, id: target.id}, {hover: true});
    app.map.getCanvas().style.cursor = app.locateMode ? 'crosshair' : target ? 'pointer' : '';
    showTip(feature);
}

let hoverFrame = 0;
function onHover(e) {
    if (hoverFrame) cancelAnimationFrame(hoverFrame);
    hoverFrame = requestAnimationFrame(() => {
        hoverFrame = 0;
        if (!app.map.isStyleLoaded()) return;
        const incident = incidentAt(e.point);
        if (incident) {
            setHover(null);
            app.map.getCanvas().style.cursor = app.locateMode ? 'crosshair' : 'pointer';
            showIncidentTip(incident);
            moveTip(e.point);
            return;
        }
        const feature = app.map.queryRenderedFeatures(e.point, {layers: CLICKABLE.filter(id => id !== 'street-fill')})[0];
        setHover(feature ?? null);
        if (feature) moveTip(e.point);
    });
}

function showTip(feature) {
    const tip = $('#tip') ?? $('.stage').appendChild(h('div', {id: 'tip', class: 'tip', role: 'tooltip'}));
    if (!feature || app.locateMode || matchMedia('(hover: none)').matches) {
        tip.hidden = true;
        return;
    }
    const p = feature.properties;
    tip.replaceChildren(h('strong', {}, p.name || p.code || `#${p.id}`),
        h('span', {}, t('households_unit', formatNumber(p.households ?? 0))));
    tip.hidden = false;
}

// The case or cluster of cases drawn at a point, if the incidents layer is shown.
function incidentAt(point) {
    const layers = INCIDENT_CLICKABLE.filter(id => app.map.getLayer(id));
    return layers.length ? app.map.queryRenderedFeatures(point, {layers})[0] ?? null : null;
}

function showIncidentTip(feature) {
    const tip = $('#tip') ?? $('.stage').appendChild(h('div', {id: 'tip', class: 'tip', role: 'tooltip'}));
    if (app.locateMode || matchMedia('(hover: none)').matches) {
        tip.hidden = true;
        return;
    }
    const p = feature.properties;
    const light = p.light ? t(`light_${p.light}`) : word('state', p.state);
    if (p.count) tip.replaceChildren(h('strong', {}, t('incident_cluster', formatNumber(p.count))), h('span', {}, light));
    else {
        tip.replaceChildren(h('strong', {}, `#${p.id} ${app.categories.get(p.category) ?? p.category}`),
            h('span', {}, `${word('state', p.state)} · ${light} · ${t('incident_due')} ${formatTime(p.due)}`));
    }
    tip.hidden = false;
}

function moveTip(point) {
    const tip = $('#tip');
    if (tip) tip.style.transform = `translate(${Math.round(point.x + 14)}px, ${Math.round(point.y + 14)}px)`;
}

function onClick(e) {
    showTip(null);
    if (app.locateMode) {
        fillLocateForm(e.lngLat.lng, e.lngLat.lat);
        locateAt(e.lngLat.lng, e.lngLat.lat, 'wgs84', {fly: false}).then(() => keepVisible(e.point));
        return;
    }
    const incident = incidentAt(e.point);
    if (incident) {
        // A cluster opens up towards its cases; a case opens its panel.
        if (incident.properties.count) {
            app.map.easeTo({center: e.lngLat, zoom: Math.min(app.map.getZoom() + 2, 15.5)});
        } else {
            openIncident(incident.properties.id, {fly: false}).then(() => keepVisible(e.point));
        }
        return;
    }
    const feature = app.map.queryRenderedFeatures(e.point, {layers: CLICKABLE})[0];
    if (!feature) {
        closePanel();
        return;
    }
    const level = LAYER_LEVEL[feature.layer.id];
    if (level === 'building') openBuilding(feature.properties, {});
    else openArea(level, String(feature.properties.code), {fly: false});
    keepVisible(e.point);
}

// Moves the map when the panel has just covered the point clicked (the bottom sheet on phones).
function keepVisible(point) {
    const panelBox = $('#panel').getBoundingClientRect();
    const stage = $('#map').getBoundingClientRect();
    const x = stage.left + point.x;
    const y = stage.top + point.y;
    if ($('#panel').hidden || x < panelBox.left || x > panelBox.right || y < panelBox.top || y > panelBox.bottom) return;
    const pad = viewPadding();
    const cx = (pad.left + stage.width - pad.right) / 2;
    const cy = (pad.top + stage.height - pad.bottom) / 2;
    app.map.panBy([point.x - cx, point.y - cy]);
}

// Opens the panel of a street, community or grid; `fly` moves the map to it.
async function openArea(level, code, {fly}) {
    const request = ++app.request;
    app.selectedCode = code;
    selectIncident(null);
    setStates('selected', [{sourceLayer: SOURCE_LAYER[level], id: code}]);
    panel.loading(level, code);
    try {
        const feature = await api.detail(level, code);
        if (request !== app.request) return feature;
        panel.area(feature, null);
        if (fly) flyToBounds(geometryBounds(feature.geometry), level);
        if (level === 'grid') {
            const sees = account.seesCases(code);
            if (sees) panel.area(feature, null, null);
            const [buildings, cases] = await Promise.all([api.list('building', {parent: code}, 1),
                sees ? gridCases(code) : Promise.resolve(undefined)]);
            if (request === app.request) panel.area(feature, buildings, cases);
        }
        return feature;
    } catch (e) {
        if (request === app.request) panel.error(t('error_load', e.message));
        return null;
    }
}

// Opens the panel of a building: its tile properties at once, then its grid and full record.
async function openBuilding(props, {geometry}) {
    const request = ++app.request;
    app.selectedCode = props.grid_code ?? null;
    selectIncident(null);
    setStates('selected', [{sourceLayer: 'buildings', id: props.id}]);
    panel.building(props, null);
    if (geometry) flyToBounds(geometryBounds(geometry), 'building');
    if (!props.grid_code) return;
    try {
        const [grid, buildings] = await Promise.all([
            api.detail('grid', props.grid_code),
            api.list('building', {parent: props.grid_code}, 1),
        ]);
        if (request !== app.request) return;
        const full = buildings.find(b => b.properties.id === props.id)?.properties;
        panel.building(full ?? props, grid);
    } catch (e) {
        if (request === app.request) toast(t('error_load', e.message));
    }
}

// ---- grid division: a proposal as a layer of its own -------------------------------------------

const PROPOSAL_SOURCE = 'proposal';

async function propose(code) {
    const request = ++app.request;
    panel.loading('proposal', code);
    try {
        const answer = await api.rebalance(code);
        if (request !== app.request) return answer;
        showProposal(answer);
        panel.proposal(answer);
        if (answer.grids.length) flyToBounds(unionBounds(answer.grids.map(g => geometryBounds(g.geometry))), 'community');
        return answer;
    } catch (e) {
        if (request === app.request) panel.error(await writeFailure(e));
        return null;
    }
}

// What a refused or failed write says: 401 (not signed in, or the session expired: the
// account is asked again, which re-renders the panel without the controls) and 403 (outside
// the user's scope or role; the server's message says which scope was needed) as such.
async function writeFailure(e) {
    if (e.status === 401) {
        await account.refresh();
        return t('auth_error_401');
    }
    if (e.status === 403) return t('auth_error_403', e.message);
    return t('error_load', e.message);
}

function showProposal(answer) {
    const map = app.map;
    const data = {type: 'FeatureCollection', features: answer.grids.map(g => ({type: 'Feature', geometry: g.geometry,
        properties: {code: g.code, households: g.households, in_band: g.in_band, changed: g.changed, kind: g.kind}}))};
    if (map.getSource(PROPOSAL_SOURCE)) {
        map.getSource(PROPOSAL_SOURCE).setData(data);
        return;
    }
    map.addSource(PROPOSAL_SOURCE, {type: 'geojson', data});
    map.addLayer({id: 'proposal-fill', type: 'fill', source: PROPOSAL_SOURCE, paint: {
        'fill-color': ['case', ['==', ['get', 'kind'], 'unit'], COLORS.load.unit,
            ['get', 'in_band'], COLORS.load.in_band, COLORS.load.above],
        'fill-opacity': ['case', ['get', 'changed'], 0.55, 0.2]}});
    map.addLayer({id: 'proposal-line', type: 'line', source: PROPOSAL_SOURCE, paint: {
        'line-color': '#b3261e', 'line-width': 2.5, 'line-dasharray': [2, 1.5]}});
}

function clearProposal() {
    const map = app.map;
    for (const id of ['proposal-line', 'proposal-fill']) if (map.getLayer(id)) map.removeLayer(id);
    if (map.getSource(PROPOSAL_SOURCE)) map.removeSource(PROPOSAL_SOURCE);
}

// New tile URLs after a write, so neither MapLibre nor the browser's HTTP cache keeps old tiles.
function reloadTiles(version) {
    const source = app.map.getSource(SOURCE);
    const urls = (source.tiles ?? []).map(u => u.replace(/\?v=\d+$/, '') + `?v=${version}`);
    if (urls.length) source.setTiles(urls);
}

async function applyProposal(answer) {
    panel.proposal(answer, {busy: true});
    try {
        const result = await api.rebalance(answer.community.code, {apply: true, base_version: answer.base_version});
        clearProposal();
        reloadTiles(result.applied.version);
        panel.proposal(result.proposal, {applied: true, message: t('proposal_applied', result.applied.version)});
        toast(t('proposal_applied', result.applied.version));
    } catch (e) {
        const message = await writeFailure(e);
        panel.proposal(answer, {message});
    }
}

async function undoChange(code) {
    try {
        const result = await api.undoRebalance(code);
        reloadTiles(result.undone.version);
        await openArea('community', code, {fly: false});
        toast(t('proposal_undone', result.undone.version));
    } catch (e) {
        toast(await writeFailure(e));
    }
}

function closePanel() {
    ++app.request;
    clearProposal();
    app.selectedCode = null;
    setStates('selected', []);
    selectIncident(null);
    panel.hide();
}

// ---- cases: the incidents layer, a case's panel, the supervision list -------------------------

// Who is signed in has changed: the layer, the supervision button, the legend and the panel
// follow (a panel of cases the new user may not see is closed).
function sessionChanged() {
    $('#supervision-toggle').hidden = !account.signedIn;
    updateIncidentLayer();
    renderLegend();
    if (account.signedIn && !app.categories.size) loadCategories();
    const shown = $('#panel').dataset;
    if (!account.signedIn && (shown.level === 'incident' || shown.level === 'supervision')) closePanel();
    else if (shown.level === 'grid' && shown.code) openArea('grid', shown.code, {fly: false});
    else panel.rerender();
}

async function loadCategories() {
    try {
        const catalogue = await api.categories();
        for (const major of catalogue.classes ?? []) for (const c of major.categories ?? []) app.categories.set(c.code, c.name);
        panel.rerender();
    } catch (e) {
        console.warn('categories:', e.message); // codes are shown without names
    }
}

function incidentUrl() {
    const query = new URLSearchParams({v: String(app.incidentVersion)});
    if (app.showClosed) query.set('closed', 'true');
    return api.absoluteUrl(`tiles/incidents/{z}/{x}/{y}.mvt?${query}`);
}

// The incidents layer exists while someone is signed in (its tiles answer 401 otherwise) and is
// asked again under a new URL after every change, so no tile of another user or state stays.
function updateIncidentLayer() {
    const map = app.map;
    if (!map || !app.mapLoaded) return;
    const shown = Boolean(map.getSource(INCIDENT_SOURCE));
    if (!account.signedIn) {
        if (shown) {
            for (const id of [...INCIDENT_LAYERS].reverse()) if (map.getLayer(id)) map.removeLayer(id);
            map.removeSource(INCIDENT_SOURCE);
        }
        app.selectedIncident = null;
        return;
    }
    ++app.incidentVersion;
    if (shown) {
        map.getSource(INCIDENT_SOURCE).setTiles([incidentUrl()]);
        return;
    }
    map.addSource(INCIDENT_SOURCE, incidentSource(incidentUrl()));
    for (const layer of incidentLayers()) map.addLayer(layer);
}

function selectIncident(id) {
    const map = app.map;
    const target = sourceLayerId => ({source: INCIDENT_SOURCE, sourceLayer: 'incidents', id: sourceLayerId});
    if (map?.getSource(INCIDENT_SOURCE)) {
        if (app.selectedIncident !== null) map.setFeatureState(target(app.selectedIncident), {selected: false});
        if (id !== null) map.setFeatureState(target(id), {selected: true});
    }
    app.selectedIncident = id;
}

// A grid's workers and open cases, for its panel.
async function gridCases(code) {
    try {
        const [workers, open] = await Promise.all([api.gridWorkers(code), api.incidents({code, open: true, limit: 200})]);
        return {workers: workers.workers, incidents: open.incidents};
    } catch (e) {
        return {error: t('error_load', e.message)};
    }
}

// Opens a case's panel; `fly` moves the map to it. The grid's workers are loaded when a step
// the user may take names one (dispatch, reassign).
async function openIncident(id, {fly = false, message = null} = {}) {
    const request = ++app.request;
    panel.loading('incident', String(id));
    try {
        const c = await api.incident(id);
        if (request !== app.request) return c;
        app.incident = c;
        setStates('selected', []);
        selectIncident(c.id);
        panel.incident(c, {workers: null, message});
        if (fly) {
            const pad = viewPadding();
            app.map.flyTo({center: [c.location.lon, c.location.lat], zoom: Math.max(app.map.getZoom(), 16),
                offset: [(pad.left - pad.right) / 2, (pad.top - pad.bottom) / 2], essential: true,
                duration: matchMedia('(prefers-reduced-motion: reduce)').matches ? 0 : 900});
        }
        const namesWorker = Object.values(c.step_needs ?? {}).some(needs => needs.includes('worker'));
        if (namesWorker && c.place?.grid && account.seesCases(c.place.grid)) {
            const {workers} = await api.gridWorkers(c.place.grid);
            if (request === app.request) panel.incident(c, {workers, message});
        }
        return c;
    } catch (e) {
        if (request === app.request) panel.error(e.status === 401 || e.status === 403 ? await writeFailure(e) : t('error_load', e.message));
        return null;
    }
}

// Takes a step of a case's workflow; the panel then shows the case after it (with the new
// event in its timeline) and the layer is asked again (the light or the case may have gone).
async function takeStep(c, step) {
    panel.incident(c, {busy: true});
    try {
        await api.transition(c.id, step);
        toast(t('incident_step_done', word('action', step.action), c.id));
        updateIncidentLayer();
        await openIncident(c.id, {fly: false});
    } catch (e) {
        panel.incident(c, {message: await writeFailure(e)});
    }
}

// The supervision list of one of the user's areas (by default the first).
async function openSupervision(code = undefined) {
    const request = ++app.request;
    const areas = account.supervisionAreas();
    const chosen = code === undefined ? areas[0]?.code ?? null : code;
    setStates('selected', []);
    selectIncident(null);
    panel.loading('supervision', chosen ?? 'all');
    try {
        const answer = await api.supervision(chosen ?? undefined);
        if (request === app.request) panel.supervision(answer, {areas, code: chosen});
        return answer;
    } catch (e) {
        if (request === app.request) panel.error(await writeFailure(e));
        return null;
    }
}

// Padding that keeps a feature clear of the panel: at the right on wide screens, at the bottom
// (a sheet) on phones.
function viewPadding() {
    const pad = {top: 48, right: 48, bottom: 48, left: 48};
    const el = $('#panel');
    if (!el.hidden) {
        const box = el.getBoundingClientRect();
        const stage = $('#map').getBoundingClientRect();
        if (box.width < stage.width * 0.8) pad.right += box.width;
        else pad.bottom += Math.min(box.height, stage.height * 0.6);
    }
    return pad;
}

const LEVEL_ZOOM_RANGE = {
    district: () => [0, app.zooms.street - 0.05],
    street: () => [app.zooms.street + 0.05, app.zooms.community - 0.05],
    community: () => [app.zooms.community + 0.05, app.zooms.community + 1.5],
    grid: () => [app.zooms.street + 0.05, app.zooms.community + 1.2],
    building: () => [app.zooms.community + 1, app.zooms.community + 2.5],
};

function flyToBounds(bounds, level) {
    if (!bounds) return;
    const map = app.map;
    const pad = viewPadding();
    const camera = map.cameraForBounds(bounds, {padding: pad, maxZoom: 18});
    if (!camera) return;
    const [lo, hi] = LEVEL_ZOOM_RANGE[level]();
    const zoom = Math.min(Math.max(camera.zoom, lo), hi);
    const center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2];
    map.flyTo({center, zoom, offset: [(pad.left - pad.right) / 2, (pad.top - pad.bottom) / 2],
        duration: matchMedia('(prefers-reduced-motion: reduce)').matches ? 0 : 900, essential: true});
}

// ---- levels --------------------------------------------------------------------------------

function levelAt(zoom) {
    if (zoom < app.zooms.street) return 'district';
    return zoom < app.zooms.community ? 'street' : 'community';
}

function updateLevelButtons() {
    const level = levelAt(app.map.getZoom());
    for (const b of document.querySelectorAll('.levels button')) b.setAttribute('aria-pressed', String(b.dataset.level === level));
    document.body.dataset.level = level;
}

// The district level shows everything; the street and community levels go to the street or
// community of the selection, or else of the point at the centre of the map.
async function goToLevel(level) {
    if (level === 'district') {
        flyToBounds(app.district, 'district');
        return;
    }
    const length = CODE_LENGTH[level];
    let code = app.selectedCode?.length >= length ? app.selectedCode.slice(0, length) : null;
    if (!code) {
        const c = app.map.getCenter();
        try {
            const r = await api.locate(c.lng, c.lat);
            code = r[level]?.code ?? (r.grid ?? r.nearest_grid)?.code?.slice(0, length) ?? null;
        } catch {
            code = null;
        }
    }
    const entry = app.entries.find(e => e.level === level && e.code === code);
    if (entry?.bounds) {
        flyToBounds(entry.bounds, level);
    } else {
        const [lo] = LEVEL_ZOOM_RANGE[level]();
        app.map.easeTo({zoom: lo + 0.3});
    }
}

// ---- locate --------------------------------------------------------------------------------

function setLocateMode(on) {
    app.locateMode = on;
    $('#locate-toggle').setAttribute('aria-pressed', String(on));
    $('#locate-box').hidden = !on;
    document.body.classList.toggle('locating', on);
    if (app.map) app.map.getCanvas().style.cursor = on ? 'crosshair' : '';
    if (!on) {
        app.marker?.remove();
        app.marker = null;
        if (app.map) setStates('located', []);
        if (panel.isOpen && $('#panel').dataset.level === 'locate') panel.hide();
    }
}

function fillLocateForm(lon, lat) {
    $('#locate-lon').value = lon.toFixed(6);
    $('#locate-lat').value = lat.toFixed(6);
}

async function locateAt(lon, lat, crs, {fly}) {
    const request = ++app.request;
    try {
        const answer = await api.locate(lon, lat, crs);
        if (request !== app.request) return answer;
        const p = answer.point ?? answer.input;
        app.marker ??= new maplibregl.Marker({color: COLORS.located});
        app.marker.setLngLat([p.lon, p.lat]).addTo(app.map);
        setStates('selected', []);
        app.selectedCode = answer.grid?.code ?? answer.community?.code ?? answer.street?.code ?? null;
        setStates('located', [
            answer.street && {sourceLayer: 'streets', id: answer.street.code},
            answer.community && {sourceLayer: 'communities', id: answer.community.code},
            answer.grid && {sourceLayer: 'grids', id: answer.grid.code},
        ].filter(Boolean));
        panel.located(answer);
        if (fly) {
            const pad = viewPadding();
            app.map.flyTo({center: [p.lon, p.lat], zoom: Math.max(app.map.getZoom(), app.zooms.street + 0.5),
                offset: [(pad.left - pad.right) / 2, (pad.top - pad.bottom) / 2], essential: true});
        }
        return answer;
    } catch (e) {
        if (request === app.request) toast(t('error_load', e.message));
        return null;
    }
}

function bindLocate() {
    $('#locate-toggle').addEventListener('click', () => setLocateMode(!app.locateMode));
    $('#locate-close').addEventListener('click', () => setLocateMode(false));
    $('#locate-form').addEventListener('submit', e => {
        e.preventDefault();
        let lonText = $('#locate-lon').value.trim();
        let latText = $('#locate-lat').value.trim();
        const pair = lonText.match(COORDINATES);   // "118.8, 32.0" pasted into one field
        if (pair) [, lonText, latText] = pair;
        const lon = Number(lonText);
        const lat = Number(latText);
        if (!lonText || !latText || !Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lon) > 180 || Math.abs(lat) > 90) {
            toast(t('locate_invalid'));
            return;
        }
        locateAt(lon, lat, $('#locate-crs').value, {fly: true});
    });
}

// ---- legend, base map, language ------------------------------------------------------------

// Wangge's rendered tiles of a style, at twice the density on high-density screens.
function rasterUrl(style) {
    return api.absoluteUrl(`tiles/${style}/{z}/{x}/{y}${devicePixelRatio > 1.4 ? '@2x' : ''}.png`);
}

function renderLegend() {
    const legend = $('#legend');
    const wasOpen = legend.querySelector('details')?.open ?? !matchMedia('(max-width: 640px)').matches;
    const item = (load, text) => h('li', {}, h('span', {class: 'swatch', style: `background:${COLORS.load[load]}`}), text);
    const baseButton = (base, key) => h('button', {type: 'button', 'aria-pressed': String(app.base === base),
        dataset: {base}, onclick: () => setBase(base)}, t(key));
    legend.replaceChildren(h('details', {open: wasOpen},
        h('summary', {}, t('legend_title')),
        h('p', {class: 'muted'}, t('legend_band', BAND[0], BAND[1])),
        h('ul', {class: 'legend-items'},
            item('below', t('legend_below', BAND[0])),
            item('in_band', t('legend_in_band', BAND[0], BAND[1])),
            item('above', t('legend_above', BAND[1])),
            item('unit', t('legend_unit'))),
        h('div', {class: 'base-toggle', role: 'group', 'aria-label': t('base_layer')},
            h('span', {class: 'muted'}, t('base_layer')),
            BASES.map(([base, key]) => baseButton(base, key))),
        account.signedIn ? incidentLegend() : null));
}

// The lights of the incidents layer, and whether it shows closed cases too.
function incidentLegend() {
    const light = key => h('li', {}, h('span', {class: 'swatch round', style: `background:${COLORS.light[key]}`}),
        t(`light_${key}`));
    const closed = h('input', {type: 'checkbox', dataset: {field: 'show-closed'}, checked: app.showClosed,
        onchange: e => {
            app.showClosed = e.target.checked;
            updateIncidentLayer();
        }});
    return h('div', {class: 'legend-incidents', dataset: {field: 'incident-legend'}},
        h('p', {class: 'muted'}, t('incidents_layer')),
        h('ul', {class: 'legend-items'}, ['green', 'yellow', 'red'].map(light), light('none')),
        h('label', {class: 'check'}, closed, t('incidents_closed')));
}

// The raster base maps are Wangge's own PNG tiles (styles default and dark); the vector fills
// stay, transparent, so that clicks still find features, and so do the highlights.
function setBase(base) {
    app.base = base;
    const raster = base !== 'vector';
    const map = app.map;
    if (map) {
        if (raster) map.getSource(RASTER_SOURCE).setTiles([rasterUrl(base)]);
        map.setLayoutProperty('raster', 'visibility', raster ? 'visible' : 'none');
        for (const layer of app.style.layers.filter(l => VECTOR_DECORATION.includes(l.id))) {
            if (layer.type === 'fill') map.setPaintProperty(layer.id, 'fill-opacity', raster ? 0 : layer.paint['fill-opacity']);
            else map.setLayoutProperty(layer.id, 'visibility', raster ? 'none' : 'visible');
        }
    }
    renderLegend();
}

function translateControls() {
    for (const [selector, key] of [['.maplibregl-ctrl-zoom-in', 'zoom_in'], ['.maplibregl-ctrl-zoom-out', 'zoom_out']]) {
        const button = document.querySelector(selector);
        if (button) {
            button.title = t(key);
            button.setAttribute('aria-label', t(key));
        }
    }
}

function toggleLanguage() {
    setLang(lang() === 'zh' ? 'en' : 'zh');
    translatePage();
    translateControls();
    renderLegend();
    account.render();
    panel.rerender();
    search.hide();
    $('#supervision-toggle').title = t('supervision_title');
    $('#toast').hidden = true; // in the other language
}

let toastTimer = 0;
function toast(message) {
    const el = $('#toast');
    el.textContent = message;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

function bindControls() {
    for (const b of document.querySelectorAll('.levels button')) b.addEventListener('click', () => goToLevel(b.dataset.level));
    $('#lang-toggle').addEventListener('click', toggleLanguage);
    $('#supervision-toggle').addEventListener('click', () => openSupervision());
    document.addEventListener('keydown', e => {
        if (e.key === 'Escape' && !e.target.closest?.('input, select')) {
            if (!$('#account-box').hidden) account.setOpen(false);
            else if (app.locateMode) setLocateMode(false);
            else closePanel();
        }
    });
    bindLocate();
}

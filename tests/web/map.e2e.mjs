#!/usr/bin/env node
// End-to-end test of the web map: a real `wangge serve` over a fresh demo district, driven in
// Debian's Chromium through playwright-core (docs/WEBMAP.md).
//
//   node tests/web/map.e2e.mjs --wangge build/ci/src/app/wangge --web-root web --out build/ci/tests/web
//       [--styles styles] [--households 30000] [--url http://127.0.0.1:PORT/ (a running server)]
//
// A running server needs the user admin1 (role admin, password secret-pass-1) for the grid
// division steps; otherwise the test makes its own demo database and that user.
// Needs web/node_modules (scripts/install-web.sh) and /usr/bin/chromium. Prints one line per
// check, saves screenshots into --out and exits non-zero on the first failure.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {
    addUser, check, fail, getJson, inTempDir, loadPlaywright, makeDemo, openMap, panelText, settle, signIn, startServer,
    stopServer, TIMEOUT_MS, waitPanel, withBrowser,
} from './support.mjs';

// The administrator the test signs in as to change grids (created before the server starts).
const ADMIN = {name: 'admin1', role: 'admin', password: 'secret-pass-1'};

const {values: opts} = parseArgs({
    options: {
        'wangge': {type: 'string'},
        'web-root': {type: 'string'},
        'out': {type: 'string', default: '.'},
        'styles': {type: 'string'},
        'households': {type: 'string', default: '30000'},
        'url': {type: 'string'},
    },
});

// ---- page helpers --------------------------------------------------------------------------

// The XYZ tile column and row of a longitude and latitude at a zoom (Web Mercator).
const tileX = (lon, z) => Math.floor((lon + 180) / 360 * 2 ** z);
const tileY = (lat, z) => {
    const r = lat * Math.PI / 180;
    return Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * 2 ** z);
};

// [[west, south], [east, north]] of a GeoJSON Polygon or MultiPolygon.
function boundsOf(geometry) {
    const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
    const points = polygons.flat(2);
    const lons = points.map(p => p[0]);
    const lats = points.map(p => p[1]);
    return [[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]];
}

// Counts the map's pixels that differ from its background, overlays hidden: proof that tiles
// were drawn, not just an empty canvas.
async function paintedShare(page) {
    await page.addStyleTag({content: '.card, .panel, .maplibregl-control-container, .tip { visibility: hidden !important; }'});
    const png = await page.locator('#map').screenshot();
    await page.evaluate(() => document.querySelectorAll('style').forEach(s => {
        if (s.textContent.includes('visibility: hidden !important')) s.remove();
    }));
    return page.evaluate(async base64 => {
        const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${base64}`)).blob());
        const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(bitmap, 0, 0);
        const {data} = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
        const bg = [0xe9, 0xed, 0xf1];
        let painted = 0;
        const colours = new Set();
        for (let i = 0; i < data.length; i += 4) {
            if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 24) {
                ++painted;
                colours.add((data[i] >> 4) << 8 | (data[i + 1] >> 4) << 4 | data[i + 2] >> 4);
            }
        }
        return {share: painted / (data.length / 4), colours: colours.size};
    }, png.toString('base64'));
}

// A point of the canvas (CSS pixels, page coordinates) whose topmost clickable feature is of
// `layer`, away from the panel, the legend and the controls.
function findFeaturePoint(page, layer) {
    return page.evaluate(layerId => {
        const map = window.wangge.map;
        const canvas = map.getCanvas().getBoundingClientRect();
        const covered = [...document.querySelectorAll('.card, .panel, .maplibregl-ctrl')]
            .filter(el => el.offsetParent !== null).map(el => el.getBoundingClientRect());
        for (let fy = 0.3; fy < 0.8; fy += 0.05) {
            for (let fx = 0.3; fx < 0.8; fx += 0.05) {
                const x = canvas.width * fx;
                const y = canvas.height * fy;
                const px = canvas.left + x;
                const py = canvas.top + y;
                if (covered.some(r => px >= r.left - 8 && px <= r.right + 8 && py >= r.top - 8 && py <= r.bottom + 8)) continue;
                const top = map.queryRenderedFeatures([x, y], {layers: ['building-fill', 'grid-fill', 'community-fill', 'street-fill']})[0];
                if (top?.layer.id === layerId) return {x: px, y: py, properties: top.properties};
            }
        }
        return null;
    }, layer);
}

// ---- the test ------------------------------------------------------------------------------

async function run(base, playwright, out, problems) {
    await withBrowser(playwright, {out, prefix: 'web-map', problems}, async (page, shoot) => {
        // 1. The page, MapLibre from /vendor, the district drawn from the tiles.
        await openMap(page, base);
        const zooms = await page.evaluate(() => window.wangge.zooms);
        check(zooms.street > 0 && zooms.community > zooms.street, 'the map loaded and derived its level zooms',
            `street from z${zooms.street}, community from z${zooms.community}`);
        const communities = await page.evaluate(() =>
            window.wangge.map.queryRenderedFeatures({layers: ['community-fill']}).length);
        check(communities > 0, 'community features from the vector tiles are rendered', `${communities}`);
        const paint = await paintedShare(page);
        check(paint.share > 0.03 && paint.colours >= 6, 'the canvas shows tiles (non-background pixels)',
            `${(paint.share * 100).toFixed(1)}% painted, ${paint.colours} colours`);
        check(await page.locator('.levels button[data-level="district"][aria-pressed="true"]').count() === 1,
            'the level selector shows the district level');
        await shoot('district');

        // 2. The street level by the level selector: grids drawn, filled by load.
        await page.click('.levels button[data-level="street"]');
        await page.waitForFunction(() => !window.wangge.map.isMoving() &&
            window.wangge.map.getZoom() >= window.wangge.zooms.street, null, {timeout: TIMEOUT_MS});
        await settle(page);
        const grids = await page.evaluate(() => window.wangge.map.queryRenderedFeatures({layers: ['grid-fill']}));
        check(grids.length > 0, 'the street level shows grids', `${grids.length} grid features`);
        check(await page.locator('.levels button[data-level="street"][aria-pressed="true"]').count() === 1,
            'the level selector shows the street level');

        // 3. A click on a grid opens its panel.
        const target = await findFeaturePoint(page, 'grid-fill');
        check(target !== null, 'a grid is visible to click', target?.properties.code ?? '');
        await page.mouse.click(target.x, target.y);
        await waitPanel(page, 'grid', target.properties.code);
        const code = await panelText(page, 'code');
        check(/^\d{15}$/.test(code) && code === target.properties.code, 'the panel shows the grid code', code);
        const households = (await panelText(page, 'households')).replace(/[,\s]/g, '');
        check(/^\d+$/.test(households), 'the panel shows the households', households);
        const gridDetail = await getJson(base, `api/v1/grids/${code}`);
        check(Number(households) === gridDetail.properties.households, 'the households match the REST API',
            `${households} = ${gridDetail.properties.households}`);
        const crumbs = await page.locator('#panel .crumbs button').allInnerTexts();
        check(crumbs.length === 2 && crumbs[1] === gridDetail.properties.community_name,
            'the panel shows the parents', crumbs.join(' › '));
        await page.waitForSelector('#panel .section .item', {timeout: TIMEOUT_MS});
        const selected = await page.evaluate(c => window.wangge.map.getFeatureState(
            {source: 'wangge', sourceLayer: 'grids', id: c}).selected === true, code);
        check(selected, 'the grid is highlighted (feature state)');
        await shoot('grid');

        // 4. Search: a community by name (list, Enter), a grid by its code.
        const community = (await getJson(base, 'api/v1/communities?limit=3')).features[2].properties;
        await page.fill('#search-input', community.name);
        await page.waitForSelector('#search-results:not([hidden]) li[role=option]', {timeout: TIMEOUT_MS});
        const first = await page.locator('#search-results li[role=option] .result-code').first().innerText();
        check(first === community.code, 'searching a community name lists it first', `${community.name} → ${first}`);
        await page.press('#search-input', 'Enter');
        await waitPanel(page, 'community', community.code);
        await settle(page);
        const inView = await page.evaluate(c => window.wangge.map.queryRenderedFeatures({layers: ['street-fill', 'grid-fill', 'community-fill']})
            .some(f => String(f.properties.code).startsWith(c)), community.code);
        check(inView, 'the map flew to the community', community.code);

        const gridCode = (await getJson(base, `api/v1/grids?parent=${community.code}&limit=1`)).features[0].properties.code;
        await page.fill('#search-input', gridCode);
        await page.press('#search-input', 'Enter');
        await waitPanel(page, 'grid', gridCode);
        check(await panelText(page, 'code') === gridCode, 'searching a grid code opens the grid', gridCode);
        await settle(page);

        // 5. Locate: typed coordinates, then a click on the map.
        const point = await page.evaluate(async c => {
            const f = await (await fetch(`api/v1/grids/${c}`)).json();
            const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
            // The middle of the grid's envelope, nudged towards the first vertex until inside.
            const xs = ring.map(p => p[0]), ys = ring.map(p => p[1]);
            return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
        }, gridCode);
        const expected = await getJson(base, `api/v1/locate?lon=${point[0]}&lat=${point[1]}`);
        await page.click('#locate-toggle');
        await page.waitForSelector('#locate-box:not([hidden])');
        await page.fill('#locate-lon', point[0].toFixed(6));
        await page.fill('#locate-lat', point[1].toFixed(6));
        await page.click('#locate-form button[type=submit]');
        await waitPanel(page, 'locate');
        const located = await page.locator('#panel .items .item').evaluateAll(items => items.map(i => i.dataset.code));
        check(expected.grid && located.includes(expected.grid.code) && located.includes(expected.community.code) &&
            located.includes(expected.street.code), 'locate by coordinates finds street, community and grid', located.join(', '));
        const states = await page.evaluate(codes => codes.map(([layer, id]) => window.wangge.map.getFeatureState(
            {source: 'wangge', sourceLayer: layer, id}).located === true),
        [['streets', expected.street.code], ['communities', expected.community.code], ['grids', expected.grid.code]]);
        check(states.every(Boolean), 'the street, community and grid are highlighted');
        check(await page.locator('.maplibregl-marker').count() === 1, 'a marker shows the point');
        await settle(page);

        const clickTarget = await findFeaturePoint(page, 'grid-fill') ?? await findFeaturePoint(page, 'building-fill');
        check(clickTarget !== null, 'a point of the map to locate by clicking');
        const typedLon = await page.inputValue('#locate-lon');
        await page.mouse.click(clickTarget.x, clickTarget.y);
        // The click fills the form with its position and the panel then shows that position.
        await page.waitForFunction(typed => {
            const lon = document.querySelector('#locate-lon').value;
            const panel = document.querySelector('#panel[data-level="locate"]');
            return lon !== typed && panel?.innerText.includes(lon);
        }, typedLon, {timeout: TIMEOUT_MS});
        const clicked = await page.locator('#panel .items .item').evaluateAll(items => items.map(i => i.dataset.code));
        const status = await page.locator('#panel [data-field="status"]').innerText();
        check(clicked.length > 0, 'locate by clicking the map answers', `${status}: ${clicked.join(', ')}`);
        await shoot('locate');

        // 6. The rendered tiles as the base map, and back.
        const png = await fetch(new URL('tiles/default/14/13599/6654.png', base));
        if (png.status === 200) {
            await page.click('.base-toggle button[data-base="default"]');
            await page.waitForResponse(r => /\/tiles\/default\/.*\.png$/.test(r.url()) && r.status() === 200, {timeout: TIMEOUT_MS});
            await settle(page);
            const raster = await page.evaluate(() => window.wangge.map.getLayoutProperty('raster', 'visibility'));
            check(raster === 'visible', 'the rendered (PNG) tiles can be the base map');
            await page.click('.base-toggle button[data-base="vector"]');
            await settle(page);
        } else {
            console.log(`skip - the rendered tiles answer ${png.status}: the raster base map is not tried`);
        }

        // 6b. Each area is named once (issue 11): at z15 and z17, the grid that spans the most
        // tiles has one rendered name in view, from the tiles' labels layer, and no grid has two.
        const everyGrid = await getJson(base, 'api/v1/grids?limit=10000');
        const tilesSpanned = (f, z) => {
            const [[w, s], [e, n]] = boundsOf(f.geometry);
            return (tileX(e, z) - tileX(w, z) + 1) * (tileY(s, z) - tileY(n, z) + 1);
        };
        const widest = everyGrid.features.reduce((a, b) => (tilesSpanned(b, 15) > tilesSpanned(a, 15) ? b : a));
        check(tilesSpanned(widest, 15) >= 2, 'a grid spans several z15 tiles',
            `${widest.properties.code} ${widest.properties.name}: ${tilesSpanned(widest, 15)} tiles`);
        const [[gw, gs], [ge, gn]] = boundsOf(widest.geometry);
        for (const zoom of [15, 17]) {
            await page.evaluate(({center, zoom}) => window.wangge.map.jumpTo({center, zoom}),
                {center: [(gw + ge) / 2, (gs + gn) / 2], zoom});
            await settle(page);
            // Every layer that names grids (the style has one; earlier ones had two).
            const labels = await page.evaluate(() => {
                const map = window.wangge.map;
                const layers = map.getStyle().layers.map(l => l.id).filter(id => id.startsWith('grid-label'));
                return map.queryRenderedFeatures({layers}).map(f => f.properties.code);
            });
            const mine = labels.filter(c => c === widest.properties.code).length;
            check(mine === 1, `at z${zoom} the grid spanning ${tilesSpanned(widest, zoom)} tiles is named once`,
                `${widest.properties.name}: ${mine} rendered label(s)`);
            const repeated = labels.filter((c, i) => labels.indexOf(c) !== i);
            check(labels.length > 0 && repeated.length === 0, `at z${zoom} no grid is named twice`,
                `${labels.length} names${repeated.length ? `, repeated: ${[...new Set(repeated)].join(', ')}` : ''}`);
            await shoot(`labels-z${zoom}`);
            if (png.status === 200) {
                // The rendered tiles at the same view, to look at their seams: names whole or absent.
                await page.click('.base-toggle button[data-base="default"]');
                await settle(page);
                await shoot(`labels-raster-z${zoom}`);
                await page.click('.base-toggle button[data-base="vector"]');
                await settle(page);
            }
        }

        // 7. English.
        await page.click('#lang-toggle');
        const english = await page.locator('.levels button').allInnerTexts();
        check(english.join('|') === 'District|Street|Community', 'the interface switches to English', english.join(', '));
        check(await page.evaluate(() => document.documentElement.lang) === 'en', 'the document language is English');
        const statusEn = await page.locator('#panel [data-field="status"]').innerText();
        check(/[A-Za-z]/.test(statusEn) && !/[\u4e00-\u9fff]/.test(statusEn), 'the open panel is translated', statusEn);
        await shoot('english');
        await page.click('#lang-toggle');
        check((await page.locator('.levels button').first().innerText()) === '区', 'and back to Chinese');

        // 8. Grid division, signed in as an administrator: a community with a grid out of the
        // band, its proposal as a layer of its own, applied, then undone.
        check(await signIn(page, ADMIN.name, ADMIN.password) === 200, `signed in as ${ADMIN.name} (administrator)`);
        const allGrids = await getJson(base, "api/v1/grids?limit=10000");
        const off = allGrids.features.find(f => f.properties.kind === 'residential' &&
            (f.properties.households < 250 || f.properties.households > 500));
        check(Boolean(off), 'the district five years on has a grid out of the band');
        const rebalanced = off.properties.code.slice(0, 12);
        await page.evaluate(c => window.wangge.openArea('community', c, {fly: true}), rebalanced);
        await waitPanel(page, 'community', rebalanced);
        await page.click('#panel button[data-action="propose"]');
        await waitPanel(page, 'proposal', rebalanced);
        const shown = await page.evaluate(() => window.wangge.map.getSource('proposal')?.serialize().data.features ?? []);
        check(shown.length > 0 && shown.every(f => f.geometry.type === 'MultiPolygon'),
            'the proposal is drawn as a layer of its own', `${shown.length} grids`);
        check(shown.filter(f => f.properties.kind !== 'unit').every(f => f.properties.in_band),
            'every proposed grid of homes is in the band');
        const after = await page.locator('#panel [data-field="proposal-after"]').innerText();
        check(/\d/.test(after), 'the panel summarises the proposal', after);
        await settle(page);
        await shoot('proposal');
        const applied = page.waitForResponse(r => r.url().endsWith('/rebalance') && r.request().method() === 'POST' &&
            (r.request().postData() ?? '').includes('apply'), {timeout: TIMEOUT_MS});
        await page.click('#panel button[data-action="apply"]');
        check((await applied).status() === 200, 'the proposal is applied');
        await page.waitForSelector('#panel [data-field="proposal-message"]', {timeout: TIMEOUT_MS});
        check(await page.evaluate(() => !window.wangge.map.getSource('proposal')), 'the proposal layer is gone once applied');
        const stats = await getJson(base, `api/v1/grids?parent=${rebalanced}&limit=1000`);
        check(stats.features.filter(f => f.properties.kind === 'residential')
            .every(f => f.properties.households >= 250 && f.properties.households <= 500), 'the community is in the band now');
        await page.click('#panel button[data-action="discard"]');
        await waitPanel(page, 'community', rebalanced);
        const undone = page.waitForResponse(r => r.url().endsWith('/rebalance/undo'), {timeout: TIMEOUT_MS});
        await page.click('#panel button[data-action="undo"]');
        check((await undone).status() === 200, 'the change is undone');
        const back = await getJson(base, `api/v1/grids?parent=${rebalanced}&limit=1000`);
        check(back.features.some(f => f.properties.code === off.properties.code &&
            f.properties.households === off.properties.households), 'undo restores the grid out of the band');

        check(problems.length === 0, 'no page errors, console errors or failed requests', problems.join('; '));
    });
}

async function main(problems) {
    const webRoot = path.resolve(opts['web-root'] ?? fail('--web-root is required'));
    const out = path.resolve(opts.out);
    fs.mkdirSync(out, {recursive: true});
    const playwright = await loadPlaywright(webRoot);
    if (opts.url) {
        await run(opts.url, playwright, out, problems);
        return;
    }
    const wangge = opts.wangge ?? fail('--wangge is required (or --url)');
    const servers = [];
    await inTempDir('wangge-web-e2e-', servers, async dir => {
        const db = path.join(dir, 'demo.sqlite');
        makeDemo(wangge, db, opts.households);
        addUser(wangge, db, ADMIN);
        const started = startServer(wangge, db, webRoot, opts.styles && path.resolve(opts.styles));
        servers.push(started.child);
        const base = await started.url;
        check(true, 'wangge serve is serving', base);
        await run(base, playwright, out, problems);
        await stopServer(started.child);
    });
}

// Page errors and failed requests seen so far explain most failures: printed with them.
const problems = [];
main(problems).catch(e => {
    if (!process.exitCode) console.error(`FAIL: ${e.stack ?? e}`);
    if (problems.length) console.error(`seen in the browser:\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
});

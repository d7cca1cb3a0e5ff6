#!/usr/bin/env node
// End-to-end test of cases on the web map (docs/WEBMAP.md "Cases"): a demo district, its users
// (`wangge user add`) and a grid's workers (`wangge workers import`), two cases filed over HTTP
// with an administrator's token (`wangge token create`), one of them made overdue in the
// database (`sqlite3`: time cannot be waited for), a real `wangge serve`, and Debian's Chromium
// through playwright-core:
//   - anonymous: no incidents layer, and nothing asked that would be refused;
//   - a grid worker signs in: the case is on the map, coloured by its light; a click opens its
//     panel with the timeline and the worker's next steps; a step is taken and the timeline grows;
//   - zoomed out, the cases are clustered with their count and worst light;
//   - the grid's panel lists its workers in rank order and its open cases;
//   - the supervision list shows the overdue case, red, and opens it;
//   - a viewer sees the phones masked and is offered no step.
//
//   node tests/web/incidents.e2e.mjs --wangge build/ci/src/app/wangge --web-root web --out build/ci/tests/web
//       [--households 20000]
//
// Prints one line per check, saves screenshots web-incidents-*.png into --out and exits non-zero
// on the first failure.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {
    addUser, check, fail, getJson, inTempDir, loadPlaywright, makeDemo, openMap, panelText, settle, signIn, startServer,
    stopServer, TIMEOUT_MS, waitIdle, waitPanel, withBrowser,
} from './support.mjs';

const PASSWORD = 'secret-pass-1';

const {values: opts} = parseArgs({
    options: {
        'wangge': {type: 'string'},
        'web-root': {type: 'string'},
        'out': {type: 'string', default: '.'},
        'households': {type: 'string', default: '20000'},
    },
});

function run(command, args, what, input = undefined) {
    const r = spawnSync(command, args, {encoding: 'utf8', input});
    check(r.status === 0, what, (r.stdout + r.stderr).trim().slice(0, 300));
    return r.stdout;
}

// A grid with two buildings (one case at each), from the demo's API.
async function chooseGrid(base) {
    const grids = (await getJson(base, 'api/v1/grids?limit=10000')).features.map(f => f.properties)
        .filter(g => g.kind === 'residential' && g.buildings >= 2);
    check(grids.length > 0, 'the demo has a residential grid with buildings');
    const grid = grids[0];
    const buildings = (await getJson(base, `api/v1/buildings?parent=${grid.code}&limit=2`)).features;
    check(buildings.length === 2, `grid ${grid.code} has two buildings`);
    return {grid: grid.code, community: grid.code.slice(0, 12), buildings: buildings.map(b => b.properties.id)};
}

// Files a case at a building as the administrator (a token: no Origin needed).
async function fileCase(base, token, building, description) {
    const response = await fetch(new URL('api/v1/incidents', base), {
        method: 'POST',
        headers: {'Authorization': `Bearer ${token}`, 'Content-Type': 'application/json'},
        body: JSON.stringify({category: '0101', description, building, source: 'hotline',
            reporter: {name: '张三', phone: '13712345678'}}),
    });
    const body = await response.json();
    check(response.status === 201, `case filed: ${description}`, `#${body.id}, ${body.state}, ${body.assignment?.level}`);
    return body;
}

const utc = ms => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

// ---- the test ------------------------------------------------------------------------------

// The incident features drawn on the map now.
const drawnCases = page => page.evaluate(() => {
    const map = window.wangge.map;
    const layers = ['incident-point', 'incident-cluster'].filter(id => map.getLayer(id));
    return layers.length ? map.queryRenderedFeatures({layers}).map(f => ({id: f.properties.id, count: f.properties.count,
        light: f.properties.light, state: f.properties.state})) : null;
});

async function showCase(page, c) {
    await page.evaluate(([lon, lat]) => window.wangge.map.jumpTo({center: [lon, lat], zoom: 18.5}), [c.location.lon, c.location.lat]);
    await settle(page);
}

const timelineLength = page => page.locator('#panel [data-field="timeline"] li').count();

async function runBrowser(base, playwright, out, problems, fixture) {
    const {grid, fresh, overdue, worker, viewer} = fixture;
    await withBrowser(playwright, {out, prefix: 'web-incidents', problems}, async (page, shoot) => {
        // 1. Anonymous: the map without cases.
        await openMap(page, base);
        check(await page.evaluate(() => !window.wangge.map.getSource('incidents')), 'anonymous: no incidents layer');
        check(await page.locator('#supervision-toggle').isHidden(), 'anonymous: no supervision button');

        // 2. The grid worker signs in and sees its case, green, where it was reported.
        check(await signIn(page, worker.name, worker.password) === 200, `signed in as ${worker.name} (grid worker of ${grid})`);
        await page.waitForFunction(() => Boolean(window.wangge.map.getSource('incidents')), null, {timeout: TIMEOUT_MS});
        await showCase(page, fresh);
        const drawn = await drawnCases(page);
        const mine = drawn?.find(f => f.id === fresh.id);
        check(Boolean(mine), 'the case is drawn on the map', JSON.stringify(drawn));
        check(mine.light === 'green' && mine.state === 'dispatched', 'coloured by its light (green), dispatched',
            `${mine.light}, ${mine.state}`);
        await shoot('case-on-map');

        // 3. A click on it opens its panel: details, timeline, the worker's next steps.
        const at = await page.evaluate(([lon, lat]) => {
            const map = window.wangge.map;
            const p = map.project([lon, lat]);
            const box = map.getCanvas().getBoundingClientRect();
            return {x: box.left + p.x, y: box.top + p.y};
        }, [fresh.location.lon, fresh.location.lat]);
        await page.mouse.click(at.x, at.y);
        await waitPanel(page, 'incident', String(fresh.id));
        check(await timelineLength(page) === 3, 'the timeline has report, accept and dispatch', `${await timelineLength(page)}`);
        const state = await panelText(page, 'incident-state');
        check(state.startsWith('已派遣') && state.includes('绿灯'), 'the panel says dispatched and green', state);
        const category = await panelText(page, 'category');
        check(category === '0101 暴露垃圾', 'the category with its name', category);
        const steps = await page.locator('#panel [data-field="steps"] button').evaluateAll(bs => bs.map(b => b.dataset.action));
        check(JSON.stringify(steps) === JSON.stringify(['step-start', 'step-send_back']),
            'the handler may start or send it back', steps.join(', '));
        check((await panelText(page, 'reporter')).includes('13712345678'), 'the worker sees the reporter\'s phone');
        await shoot('case-panel');

        // 4. A step: start (处置); the timeline grows by it and the next steps follow.
        const stepped = page.waitForResponse(r => r.url().endsWith(`/api/v1/incidents/${fresh.id}/transitions`),
            {timeout: TIMEOUT_MS});
        await page.click('#panel button[data-action="step-start"]');
        const answer = await stepped;
        check(answer.status() === 200 && JSON.parse(answer.request().postData()).action === 'start' &&
            answer.request().headers()['content-type'] === 'application/json', 'the step is a JSON POST, answered 200');
        await page.waitForSelector('#panel [data-field="incident-state"][data-state="in_progress"]', {timeout: TIMEOUT_MS});
        check(await timelineLength(page) === 4, 'the timeline has grown by the step', `${await timelineLength(page)}`);
        const last = await page.locator('#panel [data-field="timeline"] li').last().innerText();
        check(last.includes('开始处置') && last.includes(worker.name), 'the new event says what and who', last.replace(/\s+/g, ' '));
        const next = await page.locator('#panel [data-field="steps"] button').evaluateAll(bs => bs.map(b => b.dataset.action));
        check(next.includes('step-feedback'), 'and the next step is feedback', next.join(', '));
        await waitIdle(page);
        const redrawn = (await drawnCases(page))?.find(f => f.id === fresh.id);
        check(redrawn?.state === 'in_progress', 'the map shows the case in progress', JSON.stringify(redrawn));
        await shoot('case-started');

        // 5. Zoomed out (below z15) the worker's two cases are counted together, the worst light
        // shown: the overdue case makes it red.
        await page.evaluate(([lon, lat]) => window.wangge.map.jumpTo({center: [lon, lat], zoom: 10.5}),
            [fresh.location.lon, fresh.location.lat]);
        await settle(page);
        const far = (await drawnCases(page)) ?? [];
        const counted = far.reduce((sum, f) => sum + (f.count ?? 1), 0);
        check(counted === 2, 'zoomed out, the two cases are counted (clustered by cell)', JSON.stringify(far));
        check(far.some(f => f.light === 'red') && (far.length > 1 || far[0].count === 2),
            'and the worst light is shown', JSON.stringify(far));
        await shoot('clustered');

        // 6. The grid's panel: its workers in rank order, its open cases.
        await page.evaluate(code => window.wangge.openArea('grid', code, {fly: false}), grid);
        await waitPanel(page, 'grid', grid);
        await page.waitForSelector('#panel [data-field="workers"]', {timeout: TIMEOUT_MS});
        const workers = await page.locator('#panel [data-field="workers"] .item-name').allInnerTexts();
        check(JSON.stringify(workers) === JSON.stringify(['李网格', '张备岗']), 'the grid lists its workers in rank order',
            workers.join(', '));
        const phones = await page.locator('#panel [data-field="worker-phone"]').allInnerTexts();
        check(phones[0] === '13912345678', 'with their phones', phones.join(', '));
        const open = await page.locator('#panel [data-field="grid-incidents"] [data-incident]')
            .evaluateAll(items => items.map(i => Number(i.dataset.incident)));
        check(open.includes(fresh.id) && open.includes(overdue.id), 'and its open cases', open.join(', '));
        await page.locator('#panel [data-field="grid-incidents"]').scrollIntoViewIfNeeded();
        await shoot('grid-panel');

        // 7. The supervision list: the overdue case, red and escalated; a click opens it.
        await page.click('#supervision-toggle');
        await waitPanel(page, 'supervision');
        await page.waitForSelector('#panel [data-field="supervision"], #panel [data-field="supervision-none"]',
            {timeout: TIMEOUT_MS});
        const listed = await page.locator('#panel [data-field="supervision"] [data-incident]')
            .evaluateAll(items => items.map(i => ({id: Number(i.dataset.incident), light: i.dataset.light, text: i.innerText})));
        const late = listed.find(i => i.id === overdue.id);
        check(Boolean(late) && late.light === 'red', 'the supervision list shows the overdue case, red',
            JSON.stringify(listed));
        check(!listed.some(i => i.id === fresh.id), 'and not the case still in time');
        check(late.text.includes('街道督办'), 'escalated to the street office', late.text.replace(/\s+/g, ' '));
        await shoot('supervision');
        await page.click(`#panel [data-field="supervision"] [data-incident="${overdue.id}"]`);
        await waitPanel(page, 'incident', String(overdue.id));
        const lateState = await panelText(page, 'incident-state');
        check(lateState.includes('红灯'), 'its panel says red', lateState);
        await settle(page);
        const lateDrawn = (await drawnCases(page))?.find(f => f.id === overdue.id);
        check(lateDrawn?.light === 'red', 'and the map draws it red', JSON.stringify(lateDrawn));
        await shoot('overdue-case');

        // 8. In English.
        await page.click('#lang-toggle');
        const english = await panelText(page, 'incident-state');
        check(english.startsWith('dispatched') && english.includes('red'), 'the panel in English', english);
        await page.click('#lang-toggle');

        // 9. A viewer of the community: phones masked, no steps.
        await page.click('#account-toggle');
        await page.click('#account-box button[data-action="sign-out"]');
        await page.waitForFunction(() => !window.wangge.map.getSource('incidents'), null, {timeout: TIMEOUT_MS});
        check(true, 'signed out, the incidents layer is gone');
        check(await signIn(page, viewer.name, viewer.password) === 200, `signed in as ${viewer.name} (viewer)`);
        await page.evaluate(id => window.wangge.openIncident(id), fresh.id);
        await waitPanel(page, 'incident', String(fresh.id));
        const masked = await panelText(page, 'reporter');
        check(masked.includes('137****5678'), 'a viewer sees the reporter\'s phone masked', masked);
        check(await page.locator('#panel [data-field="steps"] button').count() === 0, 'and is offered no step');
        await page.evaluate(code => window.wangge.openArea('grid', code, {fly: false}), grid);
        await waitPanel(page, 'grid', grid);
        await page.waitForSelector('#panel [data-field="worker-phone"]', {timeout: TIMEOUT_MS});
        const viewerPhones = await page.locator('#panel [data-field="worker-phone"]').allInnerTexts();
        check(viewerPhones[0] === '139****5678', 'and the workers\' phones masked', viewerPhones.join(', '));
        await shoot('viewer');

        check(problems.length === 0, 'no page errors, console errors or failed requests', problems.join('; '));
    });
}

async function main(problems) {
    const webRoot = path.resolve(opts['web-root'] ?? fail('--web-root is required'));
    const wangge = opts.wangge ?? fail('--wangge is required');
    const out = path.resolve(opts.out);
    fs.mkdirSync(out, {recursive: true});
    const playwright = await loadPlaywright(webRoot);
    const servers = [];
    await inTempDir('wangge-incidents-e2e-', servers, async dir => {
        const db = path.join(dir, 'demo.sqlite');
        makeDemo(wangge, db, opts.households);
        const probe = startServer(wangge, db, webRoot);
        servers.push(probe.child);
        const {grid, community, buildings} = await chooseGrid(await probe.url);
        await stopServer(probe.child);

        const worker = {name: 'worker1', role: 'worker', scope: grid, password: PASSWORD};
        const viewer = {name: 'viewer1', role: 'viewer', scope: community, password: PASSWORD};
        for (const user of [{name: 'admin1', role: 'admin', password: PASSWORD}, worker, viewer]) addUser(wangge, db, user);
        // The grid's first-responsible worker signs in as worker1; a backup without an account.
        const sheet = path.join(dir, 'workers.csv');
        fs.writeFileSync(sheet, `姓名,电话,角色,网格编码,顺位,账号\n李网格,13912345678,网格长,${grid},1,worker1\n` +
            `张备岗,13800001111,专职网格员,${grid},2,\n`);
        run(wangge, ['workers', 'import', sheet, '--db', db], `wangge workers import: two workers for ${grid}`);
        const token = JSON.parse(run(wangge, ['token', 'create', '--user', 'admin1', '--days', '1', '--json', '--db', db],
            'wangge token create for admin1')).token;

        const started = startServer(wangge, db, webRoot);
        servers.push(started.child);
        const base = await started.url;
        check(true, 'wangge serve is serving', base);
        const fresh = await fileCase(base, token, buildings[0], '小区门口暴露垃圾');
        const overdue = await fileCase(base, token, buildings[1], '楼道堆放垃圾，多日未清');
        check(fresh.assignment.worker?.name === '李网格', 'dispatched to the grid\'s first-responsible worker',
            fresh.assignment.worker?.name);
        // Due two weeks ago, two hours after it was reported: red, and overdue by more than its limit.
        const due = Date.now() - 14 * 86400e3;
        run('sqlite3', [db, `PRAGMA busy_timeout = 5000; UPDATE incidents SET reported_at = '${utc(due - 2 * 3600e3)}', ` +
            `due_at = '${utc(due)}' WHERE id = ${overdue.id};`], `case #${overdue.id} made overdue in the database`);
        await runBrowser(base, playwright, out, problems, {grid, fresh, overdue, worker, viewer});
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

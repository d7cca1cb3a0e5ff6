#!/usr/bin/env node
// End-to-end test of signing in on the web map and of the grid-division controls each user is
// offered (docs/WEBMAP.md "Signing in"): users made with `wangge user add`, a real
// `wangge serve` over a fresh demo district, Debian's Chromium through playwright-core.
//
//   node tests/web/auth.e2e.mjs --wangge build/ci/src/app/wangge --web-root web --out build/ci/tests/web
//       [--households 30000]
//
// Prints one line per check, saves screenshots web-auth-*.png into --out and exits non-zero on
// the first failure.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {
    addUser, check, fail, getJson, inTempDir, loadPlaywright, makeDemo, openMap, panelText, settle, signIn, startServer,
    stopServer, TIMEOUT_MS, waitPanel, withBrowser,
} from './support.mjs';

const PASSWORD = 'secret-pass-1';

const {values: opts} = parseArgs({
    options: {
        'wangge': {type: 'string'},
        'web-root': {type: 'string'},
        'out': {type: 'string', default: '.'},
        'households': {type: 'string', default: '30000'},
    },
});

// The community the staff member looks after (one with a grid out of the band, so that a
// proposal has something to apply), that grid (a grid worker's scope) and a neighbour in the
// same street, from the demo's API.
async function chooseCommunities(base) {
    const grids = await getJson(base, 'api/v1/grids?limit=10000');
    const off = grids.features.find(f => f.properties.kind === 'residential' &&
        (f.properties.households < 250 || f.properties.households > 500));
    check(Boolean(off), 'the district five years on has a grid out of the band');
    const communities = (await getJson(base, 'api/v1/communities?limit=10000')).features.map(f => f.properties);
    const own = communities.find(c => c.code === off.properties.code.slice(0, 12));
    const others = communities.filter(c => c.code !== own.code);
    const neighbour = others.find(c => c.code.startsWith(own.code.slice(0, 9))) ?? others[0];
    check(Boolean(own && neighbour), 'a community and its neighbour', `${own?.code}, ${neighbour?.code}`);
    return {own, neighbour, grid: off.properties.code};
}

const accountName = page => page.locator('#account-toggle [data-field="account-name"]').innerText();
const controls = page => page.locator('#panel [data-action="propose"], #panel [data-action="undo"]').count();
const withheld = page => panelText(page, 'rebalance-withheld');

async function openCommunity(page, code) {
    await page.evaluate(c => window.wangge.openArea('community', c, {fly: true}), code);
    await waitPanel(page, 'community', code);
    await page.waitForSelector('#panel [data-field="rebalance"]', {timeout: TIMEOUT_MS});
    await page.locator('#panel [data-field="rebalance"]').scrollIntoViewIfNeeded();
    await settle(page);
}

async function waitToast(page, text) {
    await page.waitForFunction(want => {
        const toast = document.querySelector('#toast');
        return !toast.hidden && toast.textContent.includes(want);
    }, text, {timeout: TIMEOUT_MS});
    return page.locator('#toast').innerText();
}

// ---- the test ------------------------------------------------------------------------------

async function run(base, playwright, out, problems, {staff, worker, own, neighbour}) {
    // The refusals the test provokes are not problems: each allowed once, when announced.
    const allowed = [];
    const allow = (method, suffix, status) => allowed.push({method, suffix, status});
    // While the server has ended a session behind the map's back, the map's tiles of cases are
    // refused (401) until the map finds out: any number of them, while the window is open.
    let sessionEndedBehind = false;
    const expected = r => {
        if (sessionEndedBehind && r.status() === 401 && new URL(r.url()).pathname.includes('/tiles/incidents/'))
            return true;
        const i = allowed.findIndex(a => a.status === r.status() && a.method === r.request().method() &&
            new URL(r.url()).pathname.endsWith(a.suffix));
        if (i >= 0) allowed.splice(i, 1);
        return i >= 0;
    };
    await withBrowser(playwright, {out, prefix: 'web-auth', problems, expected}, async (page, shoot) => {
        // 1. Anonymous: the map reads, grid division is withheld with the reason.
        await openMap(page, base);
        check(await accountName(page) === '登录', 'anonymous: the top bar offers to sign in');
        await openCommunity(page, own.code);
        check(await controls(page) === 0, 'anonymous: no grid-division controls');
        const anonymousReason = await withheld(page);
        check(anonymousReason.includes(own.code) && anonymousReason.includes('登录'), 'anonymous: the panel says why',
            anonymousReason);
        await shoot('anonymous');

        // 2. A wrong password, then the right one.
        allow('POST', '/api/v1/session', 401);
        check(await signIn(page, staff.name, 'wrong-password') === 401, 'a wrong password is refused (401)');
        const error = await page.locator('#account-box [data-field="sign-in-error"]').innerText();
        check(error === '用户名或密码错误', 'the form says the user name or password is wrong', error);
        check(await accountName(page) === '登录', 'and nobody is signed in');
        await shoot('wrong-password');

        check(await signIn(page, staff.name, staff.password) === 200, `signed in as ${staff.name}`);
        check(await accountName(page) === staff.displayName, 'the top bar shows the display name', staff.displayName);
        await page.click('#account-toggle');
        const box = '#account-box[data-state="signed-in"]';
        await page.waitForSelector(box, {timeout: TIMEOUT_MS});
        const who = await page.evaluate(() => Object.fromEntries(['display-name', 'role', 'scope'].map(f =>
            [f, document.querySelector(`#account-box [data-field="${f}"]`)?.innerText ?? ''])));
        check(who['display-name'] === staff.displayName && who.role === '社区工作人员', 'the card shows who and the role',
            `${who['display-name']}, ${who.role}`);
        check(who.scope.includes(own.code) && who.scope.includes(own.name), 'the card shows the scope, code and name',
            who.scope.replace(/\s+/g, ' '));
        await shoot('signed-in');
        await page.click('#account-toggle');

        // 3. In its own community: propose, apply, undo.
        await page.waitForSelector('#panel [data-action="propose"]', {timeout: TIMEOUT_MS});
        check(await controls(page) === 2, 'signed in, the own community offers propose and undo');
        await page.click('#panel button[data-action="propose"]');
        await waitPanel(page, 'proposal', own.code);
        const applied = page.waitForResponse(r => r.url().endsWith('/rebalance') && r.request().method() === 'POST' &&
            (r.request().postData() ?? '').includes('apply'), {timeout: TIMEOUT_MS});
        await page.click('#panel button[data-action="apply"]');
        const appliedResponse = await applied;
        check(appliedResponse.status() === 200 && appliedResponse.request().headers()['content-type'] === 'application/json',
            'the proposal is applied (a JSON POST)');
        check((await waitToast(page, '方案已应用')).length > 0, 'the applied toast is shown');
        await settle(page);
        await shoot('applied');
        await page.click('#panel button[data-action="discard"]');
        await waitPanel(page, 'community', own.code);
        const undone = page.waitForResponse(r => r.url().endsWith('/rebalance/undo'), {timeout: TIMEOUT_MS});
        await page.click('#panel button[data-action="undo"]');
        const undoResponse = await undone;
        check(undoResponse.status() === 200 && undoResponse.request().postData() === '{}' &&
            undoResponse.request().headers()['content-type'] === 'application/json',
        'the change is undone (a JSON POST of {})');
        check((await waitToast(page, '已撤销上次调整')).length > 0, 'the undone toast is shown');

        // 4. A neighbouring community: withheld, and the server agrees (403 shown as such).
        await openCommunity(page, neighbour.code);
        check(await controls(page) === 0, 'a neighbouring community offers no grid-division controls', neighbour.code);
        const outside = await withheld(page);
        check(outside.includes('不在您的管辖范围') && outside.includes(own.code), 'the panel says it is outside the scope', outside);
        await shoot('outside');
        allow('POST', `/api/v1/communities/${neighbour.code}/rebalance`, 403);
        await page.evaluate(c => window.wangge.propose(c), neighbour.code);
        const forbidden = await panelText(page, 'error');
        check(forbidden.startsWith('无权操作：'), 'a 403 of the server is shown as not allowed, with its message', forbidden);

        // 5. Still signed in after a reload (the session cookie).
        await openMap(page);
        check(await accountName(page) === staff.displayName, 'after a reload still signed in', staff.displayName);
        await openCommunity(page, own.code);
        check(await controls(page) === 2, 'and the own community offers the controls again');

        // 6. Signing out.
        await page.click('#account-toggle');
        await page.click('#account-box button[data-action="sign-out"]');
        await page.waitForFunction(() => document.querySelector('#account-toggle [data-field="account-name"]')
            ?.textContent === '登录', null, {timeout: TIMEOUT_MS});
        check(await controls(page) === 0, 'signed out, the controls are gone');
        check((await withheld(page)).includes('登录'), 'and the reason is back', await withheld(page));
        const after = await page.evaluate(async () => (await fetch('api/v1/session')).json());
        check(after.authenticated === false, 'the server has ended the session too');
        await shoot('signed-out');

        // 7. A session the server has ended behind the map's back: the 401 is shown as such and
        // the map finds out it is signed out.
        check(await signIn(page, staff.name, staff.password) === 200, `signed in as ${staff.name} again`);
        await page.waitForSelector('#panel [data-action="propose"]', {timeout: TIMEOUT_MS});
        sessionEndedBehind = true;
        allow('POST', `/api/v1/communities/${own.code}/rebalance`, 401);
        // The click follows the DELETE at once: a tile refused meanwhile (401) makes the map ask
        // who is signed in and redraw its panel, which would take the button away first.
        const ended = await page.evaluate(async () => {
            const status = (await fetch('api/v1/session', {method: 'DELETE'})).status;
            document.querySelector('#panel button[data-action="propose"]').click();
            return status;
        });
        check(ended === 204, 'DELETE /api/v1/session from the page ends the session', `${ended}`);
        await waitPanel(page, 'error');
        const unauthorized = await panelText(page, 'error');
        check(unauthorized.includes('未登录'), 'a 401 of the server is shown as not signed in', unauthorized);
        check(await accountName(page) === '登录', 'and the top bar offers to sign in again');
        sessionEndedBehind = false;

        // 8. A grid worker reads only, in both languages.
        check(await signIn(page, worker.name, worker.password) === 200, `signed in as ${worker.name} (grid worker)`);
        await openCommunity(page, own.code);
        check(await controls(page) === 0, 'a grid worker is offered no grid-division controls');
        const readOnly = await withheld(page);
        check(readOnly === '您的角色（网格员）只能查看', 'the panel says the role reads only', readOnly);
        await page.click('#lang-toggle');
        const readOnlyEn = await withheld(page);
        check(readOnlyEn === 'Your role (grid worker) reads only', 'and in English', readOnlyEn);
        await page.locator('#panel [data-field="rebalance"]').scrollIntoViewIfNeeded();
        await shoot('worker-english');
        await page.click('#lang-toggle');

        // 9. Password guessing: after five failures for one name the server answers 429 with
        // Retry-After, and the form says how long to wait.
        await page.click('#account-toggle');
        await page.click('#account-box button[data-action="sign-out"]');
        await page.waitForSelector('#account-box[data-state="anonymous"]', {state: 'attached', timeout: TIMEOUT_MS});
        let status = 0;
        for (let i = 0; i < 8 && status !== 429; ++i) {
            allow('POST', '/api/v1/session', 401);
            allow('POST', '/api/v1/session', 429);
            status = await signIn(page, 'guesser', `guess-${i}`);
        }
        check(status === 429, 'repeated wrong passwords are refused with 429');
        const throttled = await page.locator('#account-box [data-field="sign-in-error"]').innerText();
        check(/^尝试次数过多，请 \d+ (秒|分钟)后再试$/.test(throttled), 'the form says how long to wait', throttled);
        await shoot('throttled');
        allowed.length = 0; // the 401 or 429 allowed for attempts not made

        check(problems.length === 0, 'no page errors, console errors or unexpected failed requests', problems.join('; '));
    });
}

async function main(problems) {
    const webRoot = path.resolve(opts['web-root'] ?? fail('--web-root is required'));
    const wangge = opts.wangge ?? fail('--wangge is required');
    const out = path.resolve(opts.out);
    fs.mkdirSync(out, {recursive: true});
    const playwright = await loadPlaywright(webRoot);
    const servers = [];
    await inTempDir('wangge-auth-e2e-', servers, async dir => {
        const db = path.join(dir, 'demo.sqlite');
        makeDemo(wangge, db, opts.households);
        // A first server only to choose the communities from the API; the users exist before
        // the server that the browser talks to starts.
        const probe = startServer(wangge, db, webRoot);
        servers.push(probe.child);
        const {own, neighbour, grid} = await chooseCommunities(await probe.url);
        await stopServer(probe.child);

        const staff = {name: 'staff1', role: 'community', scope: own.code, displayName: '测试员', password: PASSWORD};
        const worker = {name: 'worker1', role: 'worker', scope: grid, password: PASSWORD};
        for (const user of [staff, {name: 'admin1', role: 'admin', password: PASSWORD}, worker]) addUser(wangge, db, user);

        const started = startServer(wangge, db, webRoot);
        servers.push(started.child);
        const base = await started.url;
        check(true, 'wangge serve is serving', base);
        await run(base, playwright, out, problems, {staff, worker, own, neighbour});
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

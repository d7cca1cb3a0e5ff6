// What the web map's end-to-end tests share (map.e2e.mjs, auth.e2e.mjs): checks, the demo
// database and its users, `wangge serve`, Chromium through playwright-core and page helpers.
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
// Software WebGL in headless Chromium (see "Platform notes" of the design).
const CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--use-gl=angle', '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
export const TIMEOUT_MS = 60_000;

export function fail(message) {
    console.error(`FAIL: ${message}`);
    process.exitCode = 1;
    throw new Error(message);
}

export function check(condition, message, detail = '') {
    if (!condition) fail(`${message}${detail ? ` (${detail})` : ''}`);
    console.log(`ok - ${message}${detail ? ` (${detail})` : ''}`);
}

export async function loadPlaywright(webRoot) {
    const entry = path.join(webRoot, 'node_modules', 'playwright-core', 'index.mjs');
    if (!fs.existsSync(entry)) fail(`${entry} is missing: run scripts/install-web.sh (npm ci in web/)`);
    if (!fs.existsSync(CHROMIUM)) fail(`${CHROMIUM} is missing: install Debian's chromium package`);
    return import(entry);
}

// ---- the database and the server -------------------------------------------------------------

// A demo district five years on, so that some grids have left the band and there is something
// to rebalance.
export function makeDemo(wangge, db, households) {
    const demo = spawnSync(wangge, ['demo', db, '--households', households, '--years-later', '5'], {encoding: 'utf8'});
    check(demo.status === 0, 'wangge demo wrote a district', (demo.stdout + demo.stderr).trim());
}

// `wangge user add NAME --role ROLE [--scope CODE] [--display-name TEXT]` with the password on
// standard input.
export function addUser(wangge, db, {name, role, password, scope, displayName}) {
    const args = ['user', 'add', name, '--role', role, '--password-stdin', '--db', db];
    if (scope) args.push('--scope', scope);
    if (displayName) args.push('--display-name', displayName);
    const added = spawnSync(wangge, args, {encoding: 'utf8', input: `${password}\n`});
    check(added.status === 0, `wangge user add ${name} (${role}${scope ? ` of ${scope}` : ''})`,
        (added.stdout + added.stderr).trim());
}

// Starts `wangge serve` and resolves with its URL, read from its first line on stdout.
export function startServer(wangge, db, webRoot, styles) {
    const args = ['serve', '--db', db, '--port', '0', '--web-root', webRoot];
    if (styles) args.push('--styles', styles);
    const child = spawn(wangge, args, {stdio: ['ignore', 'pipe', 'pipe']});
    child.stderr.on('data', d => process.stderr.write(`[wangge] ${d}`));
    const url = new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error('wangge serve printed no URL within 30 s')), 30_000);
        child.stdout.on('data', d => {
            out += d;
            const m = out.match(/Wangge is serving .* at (http:\/\/\S+\/)/);
            if (m) {
                clearTimeout(timer);
                resolve(m[1]);
            }
        });
        child.on('exit', code => {
            clearTimeout(timer);
            reject(new Error(`wangge serve exited with ${code} before serving: ${out}`));
        });
    });
    return {child, url};
}

// Stops a server started above (by its own pid) and waits until it has exited.
export async function stopServer(child) {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise(resolve => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
}

// Runs `body(dir)` in a fresh temporary directory, removed afterwards; SIGINT and SIGTERM stop
// the servers in `servers` first.
export async function inTempDir(prefix, servers, body) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    const stopAll = () => { for (const s of servers) if (s.exitCode === null) s.kill('SIGTERM'); };
    process.on('SIGINT', () => { stopAll(); process.exit(130); });
    process.on('SIGTERM', () => { stopAll(); process.exit(143); });
    try {
        return await body(dir);
    } finally {
        stopAll();
        fs.rmSync(dir, {recursive: true, force: true});
    }
}

export async function getJson(base, target) {
    const response = await fetch(new URL(target, base));
    if (!response.ok) fail(`GET ${target} answered ${response.status}`);
    return response.json();
}

// ---- the browser -------------------------------------------------------------------------------

// Runs `body(page, shoot)` in a fresh Chromium profile. Page errors, console errors and
// answers of 400 and above go to `problems`, except the answers `expected(response)` allows;
// shoot(name) saves `<prefix>-<name>.png` into `out`, and the paths are printed at the end.
export async function withBrowser(playwright, {out, prefix, problems, expected = () => false}, body) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wangge-chromium-'));
    const context = await playwright.chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS,
        viewport: {width: 1280, height: 800}, deviceScaleFactor: 1, locale: 'zh-CN',
    });
    const shots = [];
    try {
        const page = context.pages()[0] ?? await context.newPage();
        page.on('pageerror', e => problems.push(`page error: ${e.message}`));
        page.on('console', m => { if (m.type() === 'error' && !isExpectedConsole(m)) problems.push(`console error: ${m.text()}`); });
        page.on('response', r => {
            if (r.status() >= 400 && !expected(r)) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
        });
        const shoot = async name => {
            const file = path.join(out, `${prefix}-${name}.png`);
            await page.screenshot({path: file});
            shots.push(file);
        };
        await body(page, shoot);
    } finally {
        await context.close();
        fs.rmSync(profile, {recursive: true, force: true});
        for (const file of shots) console.log(`screenshot: ${file}`);
    }

    // Chromium reports every answer of 400 and above on the console too ("Failed to load
    // resource"); those are judged by their response above.
    function isExpectedConsole(message) {
        return /Failed to load resource: the server responded with a status of \d+/.test(message.text());
    }
}

// Opens the map (or, without `base`, reloads the page) and waits until it is idle and knows
// who is signed in; a script error stops the app before that, and fails at once with it.
export async function openMap(page, base = null) {
    const broken = new Promise((_, reject) => page.once('pageerror', e => reject(new Error(`page error: ${e.message}`))));
    broken.catch(() => {});
    if (base) await page.goto(base, {waitUntil: 'load'});
    else await page.reload({waitUntil: 'load'});
    await Promise.race([broken,
        page.waitForFunction(() => document.documentElement.dataset.mapIdle === 'true' &&
            document.documentElement.dataset.sessionLoaded === 'true', null, {timeout: TIMEOUT_MS})]);
    await settle(page);
}

export const waitIdle = page => page.evaluate(() => new Promise(resolve => {
    const map = window.wangge.map;
    const done = () => requestAnimationFrame(() => resolve(map.getZoom()));
    if (!map.isMoving() && map.loaded() && map.areTilesLoaded()) done();
    else map.once('idle', done);
}));

export async function settle(page) {
    await page.waitForFunction(() => !window.wangge.map.isMoving(), null, {timeout: TIMEOUT_MS});
    return waitIdle(page);
}

export const panelText = (page, field) => page.locator(`#panel [data-field="${field}"]`).first().innerText();

export async function waitPanel(page, level, code) {
    const selector = code ? `#panel[data-level="${level}"][data-code="${code}"]:not([aria-busy])`
        : `#panel[data-level="${level}"]:not([aria-busy])`;
    await page.waitForSelector(selector, {timeout: TIMEOUT_MS});
}

// Signs in through the top bar's form and waits until the form has answered: resolves with
// the status of POST /api/v1/session.
export async function signIn(page, user, password) {
    if (await page.locator('#account-box').isHidden()) await page.click('#account-toggle');
    await page.fill('#sign-in-user', user);
    await page.fill('#sign-in-password', password);
    const answer = page.waitForResponse(r => r.url().endsWith('/api/v1/session') && r.request().method() === 'POST',
        {timeout: TIMEOUT_MS});
    await page.click('#account-box button[type=submit]');
    const status = (await answer).status();
    // The form re-renders once the answer is read: signed in (the card closes) or an error.
    await page.waitForFunction(() => document.querySelector('#account-box').hidden ||
        document.querySelector('#account-box [data-field="sign-in-error"]'), null, {timeout: TIMEOUT_MS});
    return status;
}

// Wangge's REST API (docs/API.md), addressed relative to the page so that the map also works
// behind a reverse proxy under a path prefix.

export const LEVELS = ['street', 'community', 'grid'];
const COLLECTION = {street: 'streets', community: 'communities', grid: 'grids', building: 'buildings'};
const CODE_LENGTH = {9: 'street', 12: 'community', 15: 'grid'};

export class ApiError extends Error {
    // `retryAfter`: the seconds of a Retry-After header (429, 503), else null.
    constructor(status, code, message, retryAfter = null) {
        super(message);
        this.status = status;
        this.code = code;
        this.retryAfter = retryAfter;
    }
}

// An absolute URL under the page's base; templates such as {z} are kept as they are
// (new URL() would percent-encode the braces).
export function absoluteUrl(path) {
    return new URL('.', document.baseURI).href + path.replace(/^\//, '');
}

async function getJson(path, params = {}, signal = undefined) {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null));
    const url = query.size ? `${path}?${query}` : path;
    return answerOf(await fetch(url, {signal, headers: {Accept: 'application/json'}}));
}

// The JSON of a response (null for 204), or an ApiError with the envelope's code and message.
async function answerOf(response) {
    let body = null;
    try {
        body = await response.json();
    } catch {
        body = null;
    }
    if (!response.ok) {
        const retryAfter = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
        throw new ApiError(response.status, body?.code ?? 'http_' + response.status,
            body?.message ?? `${response.status} ${response.statusText}`, Number.isFinite(retryAfter) ? retryAfter : null);
    }
    return body;
}

export function levelOfCode(code) {
    return /^\d+$/.test(code) ? CODE_LENGTH[code.length] : undefined;
}

export const health = () => getJson('healthz');

// One street, community or grid with its statistics, parents and children.
export const detail = (level, code) => getJson(`api/v1/${COLLECTION[level]}/${encodeURIComponent(code)}`);

export const locate = (lon, lat, crs = 'wgs84') => getJson('api/v1/locate', {lon, lat, crs});

// One page of a collection: a FeatureCollection with numberMatched.
export const page = (level, params = {}) => getJson(`api/v1/${COLLECTION[level]}`, params);

// Every feature of a collection, page by page (at most `maxPages` pages of 10,000).
export async function list(level, params = {}, maxPages = 10) {
    const features = [];
    for (let page = 0; page < maxPages; ++page) {
        const answer = await getJson(`api/v1/${COLLECTION[level]}`, {...params, limit: 10000, offset: features.length});
        features.push(...answer.features);
        if (!answer.features.length || features.length >= answer.numberMatched) break;
    }
    return features;
}

// Every POST is JSON, an empty one `{}`: the server refuses other types (415).
async function postJson(path, body = {}) {
    return answerOf(await fetch(path, {method: 'POST',
        headers: {Accept: 'application/json', 'Content-Type': 'application/json'}, body: JSON.stringify(body)}));
}

// Who is signed in: {authenticated: false, anonymous_read} or {authenticated: true, via,
// expires_at, user: {name, display_name, role, scopes}}. The session is an HttpOnly cookie
// that the browser sends with every request of this origin. Never from the HTTP cache: the
// answer changes with the cookie, not with the URL.
export const session = async () =>
    answerOf(await fetch('api/v1/session', {cache: 'no-store', headers: {Accept: 'application/json'}}));
export const signIn = (user, password) => postJson('api/v1/session', {user, password});
export const signOut = async () => answerOf(await fetch('api/v1/session', {method: 'DELETE'}));

// A proposal of new grids for a community (docs/BALANCE.md); with {apply: true, base_version}
// it is applied.
export const rebalance = (code, body = {}) => postJson(`api/v1/communities/${encodeURIComponent(code)}/rebalance`, body);
export const undoRebalance = code => postJson(`api/v1/communities/${encodeURIComponent(code)}/rebalance/undo`);

// ---- cases (docs/INCIDENTS.md); each needs a signed-in user whose scope covers them ----------

// The category catalogue: {version, classes: [{code, name, categories: [{code, name, ...}]}]}.
export const categories = () => getJson('api/v1/categories');
// One case with its events, photos, light and the signed-in user's next steps (and what each needs).
export const incident = id => getJson(`api/v1/incidents/${encodeURIComponent(id)}`);
// The cases of an area, newest first; {code, open: true} for its open cases.
export const incidents = (params = {}) => getJson('api/v1/incidents', params);
// A step of the workflow: {action, note?, worker?, due_at?}; answers the case after it.
export const transition = (id, step) => postJson(`api/v1/incidents/${encodeURIComponent(id)}/transitions`, step);
// The supervision list (督办) of an area (all of them for an administrator without a code).
export const supervision = code => getJson('api/v1/supervision', {code});
// A grid's workers in rank order (phones masked for viewers).
export const gridWorkers = code => getJson(`api/v1/grids/${encodeURIComponent(code)}/workers`);

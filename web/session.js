// Signing in (docs/WEBMAP.md "Signing in"): the account button in the top bar, its card with
// the sign-in form or the signed-in user, and what that user may change. The server decides
// every write; this only chooses which controls to offer and says why others are withheld.
import * as api from './api.js';
import {lang, t} from './i18n.js';
import {h} from './panel.js';

const ANONYMOUS = {authenticated: false};
const ROLES = ['admin', 'street', 'community', 'worker', 'viewer'];
// A session is refreshed when it expires, if that is within this time (setTimeout's limit is
// about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;

export function roleName(role) {
    return ROLES.includes(role) ? t(`role_${role}`) : role;
}

// Whether `session` may change the grids of community `code` (rebalance, its dry-run proposals
// and undo): {allowed: true} or {allowed: false, reason} with the reason in the current
// language. The rule is the server's: an admin anywhere, street staff where a 9-digit scope
// begins the community's code, community staff in the communities of their scope; grid workers
// and viewers read only.
export function rebalanceRight(session, code) {
    const user = session?.authenticated ? session.user : null;
    if (!user) return {allowed: false, reason: t('auth_reason_sign_in', code)};
    const scopes = user.scopes ?? [];
    switch (user.role) {
    case 'admin':
        return {allowed: true};
    case 'street':
        if (scopes.some(s => s.length === 9 && code.startsWith(s))) return {allowed: true};
        break;
    case 'community':
        if (scopes.includes(code)) return {allowed: true};
        break;
    default:
        return {allowed: false, reason: t('auth_reason_read_only', roleName(user.role))};
    }
    return {allowed: false, reason: t('auth_reason_outside', scopes.join(t('list_separator')) || '—')};
}

// Whether `session` may see the cases of area `code` (and a grid's workers): the server's one
// rule (api::may_see_cases) — an administrator, or a scope code at or above `code`. The map only
// asks for what this allows; the server decides all the same.
export function seesCasesOf(session, code) {
    const user = session?.authenticated ? session.user : null;
    if (!user || !code) return false;
    return user.role === 'admin' || (user.scopes ?? []).some(s => code.startsWith(s));
}

export class Account {
    // `toggle`: the top bar's button; `box`: the card it opens. `actions.nameOf(code)` is the
    // name of a street or community (or undefined), `actions.open(level, code)` opens one,
    // `actions.changed()` is called whenever who is signed in changes, `actions.toast(text)`.
    constructor(toggle, box, actions) {
        this.toggle = toggle;
        this.box = box;
        this.actions = actions;
        this.session = ANONYMOUS;
        this.error = null;       // the sign-in form's last error
        this.busy = false;
        this.expiryTimer = 0;
        toggle.addEventListener('click', () => this.setOpen(this.box.hidden));
        this.render();
    }

    get signedIn() { return this.session.authenticated === true; }

    rebalanceRight(code) { return rebalanceRight(this.session, code); }

    seesCases(code) { return seesCasesOf(this.session, code); }

    // The areas whose supervision list the user may read: each scope code, or for an
    // administrator the whole database at once (code null).
    supervisionAreas() {
        if (!this.signedIn) return [];
        const user = this.session.user;
        if (user.role === 'admin') return [{code: null, name: t('supervision_all')}];
        return (user.scopes ?? []).map(code => ({code, name: this.actions.nameOf(code) ?? code}));
    }

    // Asks the server who is signed in (on load, and after a 401 says the session is gone).
    async refresh() {
        try {
            this.set(await api.session());
        } catch (e) {
            // Without an answer nobody is signed in as far as the map can tell; reading still works.
            console.warn('session:', e.message);
            this.set(ANONYMOUS);
        }
    }

    set(session) {
        const before = this.signedIn ? this.session.user.name : null;
        this.session = session?.authenticated ? session : ANONYMOUS;
        clearTimeout(this.expiryTimer);
        const left = this.signedIn ? Date.parse(this.session.expires_at) - Date.now() : NaN;
        if (left > 0 && left < MAX_TIMER_MS) this.expiryTimer = setTimeout(() => this.refresh(), left + 1000);
        this.render();
        if (before !== (this.signedIn ? this.session.user.name : null)) this.actions.changed();
    }

    setOpen(open) {
        this.box.hidden = !open;
        this.toggle.setAttribute('aria-expanded', String(open));
        if (open) {
            this.render();
            this.box.querySelector('input, button.primary')?.focus();
        }
    }

    async signIn(user, password) {
        this.busy = true;
        this.error = null;
        this.render();
        try {
            this.set(await api.signIn(user, password));
            this.setOpen(false);
            this.actions.toast(t('signed_in_toast', this.session.user.display_name || this.session.user.name,
                roleName(this.session.user.role)));
        } catch (e) {
            this.error = e.status === 401 ? t('sign_in_invalid')
                : e.status === 429 ? throttled(e.retryAfter ?? 60)
                    : t('error_load', e.message);
        } finally {
            this.busy = false;
            this.render();
        }
        if (this.error) {
            const password = this.box.querySelector('#sign-in-password');
            password.value = '';
            password.focus();
        }
    }

    async signOut() {
        try {
            await api.signOut();
        } catch (e) {
            this.actions.toast(t('error_load', e.message));
            return;
        }
        this.setOpen(false);
        this.set(ANONYMOUS);
        this.actions.toast(t('signed_out_toast'));
    }

    // The top bar's button and, when open, the card: the form, or who is signed in.
    render() {
        const user = this.signedIn ? this.session.user : null;
        this.toggle.replaceChildren(personIcon(), h('span', {dataset: {field: 'account-name'}},
            user ? user.display_name || user.name : t('sign_in')));
        this.toggle.title = user ? `${user.display_name || user.name} · ${roleName(user.role)}` : t('sign_in');
        this.toggle.classList.toggle('signed-in', Boolean(user));
        this.box.dataset.state = user ? 'signed-in' : 'anonymous';
        if (this.box.hidden) return;
        const close = h('button', {type: 'button', class: 'icon-button', title: t('close'), 'aria-label': t('close'),
            onclick: () => this.setOpen(false)}, '×');
        this.box.replaceChildren(
            h('div', {class: 'card-header'}, h('h2', {}, user ? t('account_title') : t('sign_in_title')), close),
            user ? this.whoAmI(user) : this.form());
    }

    form() {
        const kept = this.box.querySelector('#sign-in-user')?.value ?? '';
        const form = h('form', {class: 'sign-in-form', novalidate: true},
            h('label', {}, h('span', {}, t('user_name')),
                h('input', {id: 'sign-in-user', name: 'username', autocomplete: 'username', required: true,
                    autocapitalize: 'none', spellcheck: 'false', value: kept})),
            h('label', {}, h('span', {}, t('password')),
                h('input', {id: 'sign-in-password', name: 'password', type: 'password', autocomplete: 'current-password',
                    required: true})),
            this.error ? h('p', {class: 'status status-error', role: 'alert', dataset: {field: 'sign-in-error'}}, this.error) : null,
            h('button', {type: 'submit', class: 'primary', disabled: this.busy}, t(this.busy ? 'signing_in' : 'sign_in')));
        form.addEventListener('submit', e => {
            e.preventDefault();
            const user = form.querySelector('#sign-in-user').value.trim();
            const password = form.querySelector('#sign-in-password').value;
            if (!user || !password) {
                this.error = t('sign_in_missing');
                this.render();
                return;
            }
            this.signIn(user, password);
        });
        return form;
    }

    whoAmI(user) {
        const scopes = user.role === 'admin' ? [] : user.scopes ?? [];
        const expires = Date.parse(this.session.expires_at);
        return h('div', {class: 'who'},
            h('p', {class: 'who-name'}, h('strong', {dataset: {field: 'display-name'}}, user.display_name || user.name),
                user.display_name ? h('span', {class: 'muted'}, ` (${user.name})`) : null),
            h('p', {}, h('span', {class: 'label'}, t('role')), ' ', h('span', {dataset: {field: 'role'}}, roleName(user.role))),
            h('section', {class: 'section'},
                h('h3', {}, t('scope')),
                user.role === 'admin' ? h('p', {dataset: {field: 'scope'}}, t('scope_all'))
                    : scopes.length ? h('ul', {class: 'items', dataset: {field: 'scope'}}, scopes.map(code => this.scopeItem(code)))
                        : h('p', {class: 'muted', dataset: {field: 'scope'}}, t('scope_none'))),
            Number.isFinite(expires) ? h('p', {class: 'muted'}, t('session_expires', new Date(expires).toLocaleString(
                lang() === 'zh' ? 'zh-CN' : 'en-GB', {dateStyle: 'medium', timeStyle: 'short'}))) : null,
            h('div', {class: 'actions'}, h('button', {type: 'button', dataset: {action: 'sign-out'},
                onclick: () => this.signOut()}, t('sign_out'))));
    }

    // A scope: its code and, for a street or community of the map, its name, opening it.
    scopeItem(code) {
        const level = api.levelOfCode(code);
        const name = this.actions.nameOf(code);
        return h('li', {}, h('button', {type: 'button', class: 'item', dataset: {code}, disabled: !level,
            onclick: () => { this.setOpen(false); this.actions.open(level, code); }},
        h('span', {class: 'item-main'},
            h('span', {class: 'item-name'}, name ?? code),
            name ? h('span', {class: 'item-code'}, code) : null)));
    }
}

// How long to wait after too many failed sign-ins (the server locks a name out for minutes).
function throttled(seconds) {
    return seconds > 90 ? t('sign_in_throttled_minutes', Math.ceil(seconds / 60)) : t('sign_in_throttled', seconds);
}

function personIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    for (const [k, v] of Object.entries({viewBox: '0 0 24 24', width: 18, height: 18, 'aria-hidden': 'true'})) svg.setAttribute(k, v);
    const head = document.createElementNS(ns, 'circle');
    for (const [k, v] of Object.entries({cx: 12, cy: 8, r: 4, fill: 'none', stroke: 'currentColor', 'stroke-width': 2})) head.setAttribute(k, v);
    const body = document.createElementNS(ns, 'path');
    for (const [k, v] of Object.entries({d: 'M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7', fill: 'none', stroke: 'currentColor',
        'stroke-width': 2, 'stroke-linecap': 'round'})) body.setAttribute(k, v);
    svg.append(head, body);
    return svg;
}

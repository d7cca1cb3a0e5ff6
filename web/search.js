// The search box: codes open a feature directly, names and code prefixes list suggestions,
// "lon,lat" locates a point.
import * as api from './api.js';
import {geometryBounds} from './geometry.js';
import {t} from './i18n.js';
import {h} from './panel.js';

const MAX_RESULTS = 12;
// A name no grid has: a server that filters by `q=` finds nothing, one that ignores `q` all.
const PROBE = 'wangge-probe-\u2060-no-such-name';

// "118.80,32.00", "118.80 32.00" or with a full-width comma.
export const COORDINATES = /^\s*(-?\d{1,3}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,2}(?:\.\d+)?)\s*$/;

// What search and the level selector need of a street, community or grid.
export function toEntry(feature, level) {
    const p = feature.properties;
    return {level, code: p.code, name: p.name, households: p.households, grids: p.grids,
        bounds: geometryBounds(feature.geometry)};
}

// Exact name or code first, then names beginning with the text, names containing it, codes
// beginning with it; by code within each.
function rank(entry, query) {
    const name = entry.name ?? '';
    if (name === query || entry.code === query) return 0;
    if (name.startsWith(query)) return 1;
    if (name.includes(query)) return 2;
    if (entry.code.startsWith(query)) return 3;
    return -1;
}

export function matches(entries, query) {
    return entries.map(e => [rank(e, query), e]).filter(([r]) => r >= 0)
        .sort((a, b) => a[0] - b[0] || a[1].code.localeCompare(b[1].code)).map(([, e]) => e);
}

export class Search {
    // `actions`: open(level, code) -> Promise of the feature or null, locate(lon, lat),
    // toast(message).
    constructor(form, actions) {
        this.form = form;
        this.input = form.querySelector('input');
        this.list = form.querySelector('[role=listbox]');
        this.actions = actions;
        this.entries = [];     // streets and communities, loaded at start
        this.grids = null;     // a promise of every grid's entry, when the server cannot search
        this.gridMode = null;  // a promise of 'server' (the API filters by q=) or 'list'
        this.results = [];
        this.resultsQuery = null;
        this.active = -1;
        this.timer = 0;
        this.sequence = 0;
        this.bind();
    }

    setEntries(entries) { this.entries = entries; }

    // Grids are searched by the server when it filters collections by name (`q=`), else in
    // the full list, fetched once (the 10,082 grids of a 3.5-million-household city: 6.7 MB).
    gridSearchMode() {
        this.gridMode ??= api.page('grid', {q: PROBE, limit: 1})
            .then(answer => (answer.numberMatched === 0 ? 'server' : 'list'))
            .catch(() => 'list');
        return this.gridMode;
    }

    loadGrids() {
        this.grids ??= api.list('grid').then(features => features.map(f => toEntry(f, 'grid'))).catch(e => {
            this.grids = null;
            throw e;
        });
        return this.grids;
    }

    async searchGrids(query) {
        if (await this.gridSearchMode() === 'server') {
            const answer = await api.page('grid', {q: query, limit: MAX_RESULTS * 4});
            return matches(answer.features.map(f => toEntry(f, 'grid')), query);
        }
        return matches(await this.loadGrids(), query);
    }

    async search(query) {
        const local = matches(this.entries, query);
        let grids = [];
        try {
            grids = await this.searchGrids(query);
        } catch (e) {
            this.actions.toast(t('error_load', e.message));
        }
        return [...local, ...grids].slice(0, MAX_RESULTS);
    }

    render(query, results) {
        this.results = results;
        this.resultsQuery = query;
        this.active = results.length ? 0 : -1;
        this.list.replaceChildren(...(results.length
            ? results.map((e, i) => h('li', {role: 'option', id: `result-${i}`, 'aria-selected': String(i === this.active)},
                h('button', {type: 'button', tabindex: '-1', onmousedown: ev => ev.preventDefault(), onclick: () => this.choose(e)},
                    h('span', {class: `level-badge small level-${e.level}`}, t(`level_${e.level}`)),
                    h('span', {class: 'result-name'}, e.name || e.code),
                    h('span', {class: 'result-code'}, e.code))))
            : [h('li', {class: 'empty'}, t('search_none', query))]));
        this.list.hidden = !query;
        this.input.setAttribute('aria-expanded', String(!this.list.hidden));
    }

    setActive(i) {
        const items = [...this.list.querySelectorAll('li[role=option]')];
        if (!items.length) return;
        this.active = (i + items.length) % items.length;
        items.forEach((li, j) => li.setAttribute('aria-selected', String(j === this.active)));
        items[this.active].scrollIntoView({block: 'nearest'});
        this.input.setAttribute('aria-activedescendant', items[this.active].id);
    }

    hide() {
        this.list.hidden = true;
        this.input.setAttribute('aria-expanded', 'false');
    }

    choose(entry) {
        this.hide();
        this.input.blur();
        this.actions.open(entry.level, entry.code);
    }

    async submit() {
        const query = this.input.value.trim();
        if (!query) return;
        clearTimeout(this.timer);
        const coordinates = query.match(COORDINATES);
        if (coordinates) {
            this.hide();
            this.actions.locate(Number(coordinates[1]), Number(coordinates[2]));
            return;
        }
        if (api.levelOfCode(query)) {
            this.hide();
            this.input.blur();
            const found = await this.actions.open(api.levelOfCode(query), query);
            if (!found) this.actions.toast(t('search_none', query));
            return;
        }
        const shown = this.resultsQuery === query && this.results.length;
        const results = shown ? this.results : await this.search(query);
        const pick = results[Math.max(this.active, 0)];
        if (pick) this.choose(pick);
        else this.render(query, []);
    }

    bind() {
        const input = this.input;
        input.addEventListener('focus', () => {
            this.gridSearchMode().then(mode => (mode === 'list' ? this.loadGrids() : null)).catch(() => {});
        });
        input.addEventListener('input', () => {
            clearTimeout(this.timer);
            const query = input.value.trim();
            if (!query || COORDINATES.test(query)) {
                this.hide();
                return;
            }
            this.timer = setTimeout(async () => {
                const sequence = ++this.sequence;
                const results = await this.search(query);
                if (sequence === this.sequence && input.value.trim() === query) this.render(query, results);
            }, 150);
        });
        input.addEventListener('keydown', e => {
            if (e.key === 'ArrowDown') {
                this.setActive(this.active + 1);
                e.preventDefault();
            } else if (e.key === 'ArrowUp') {
                this.setActive(this.active - 1);
                e.preventDefault();
            } else if (e.key === 'Escape') {
                this.hide();
            }
        });
        input.addEventListener('blur', () => setTimeout(() => this.hide(), 150));
        this.form.addEventListener('submit', e => {
            e.preventDefault();
            this.submit();
        });
    }
}

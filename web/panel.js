// The side panel (a bottom sheet on phones): details of a street, community, grid or building,
// and the answer of a locate. Built with DOM nodes, never innerHTML, since names are data.
import {formatNumber, lang, t} from './i18n.js';
import {COLORS} from './map-style.js';

// h('div', {class: 'x', onclick: f}, child, 'text', ...) -> an element.
export function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
        if (value === undefined || value === null || value === false) continue;
        if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
        else if (key === 'dataset') Object.assign(el.dataset, value);
        else el.setAttribute(key, value === true ? '' : value);
    }
    return append(el, ...children);
}

// Appends nodes and text to `el`, skipping null, undefined and false, flattening arrays.
export function append(el, ...children) {
    for (const child of children.flat(Infinity)) {
        if (child === undefined || child === null || child === false) continue;
        el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
}

const LEVEL_KEY = {street: 'level_street', community: 'level_community', grid: 'level_grid', building: 'level_building',
    incident: 'level_incident', supervision: 'level_supervision'};

export class Panel {
    // `actions.open(level, code)` opens another feature, `actions.openBuilding(feature)` a
    // building, `actions.close()` is called when the user closes the panel;
    // `actions.rebalanceRight(code)` says whether the grid-division controls of a community are
    // offered ({allowed: true}) or why not ({allowed: false, reason}), and `propose`,
    // `applyProposal`, `discardProposal` and `undo` use them.
    constructor(root, actions) {
        this.root = root;
        this.actions = actions;
        this.title = root.querySelector('#panel-title');
        this.badge = root.querySelector('#panel-level');
        this.body = root.querySelector('#panel-body');
        root.querySelector('#panel-close').addEventListener('click', () => actions.close());
        this.render = null; // re-renders the current content, e.g. after a language change
    }

    get isOpen() { return !this.root.hidden; }

    hide() {
        this.root.hidden = true;
        this.render = null;
        delete this.root.dataset.level;
        delete this.root.dataset.code;
        document.body.classList.remove('panel-open');
    }

    show(level, code, render) {
        this.root.hidden = false;
        document.body.classList.add('panel-open');
        this.root.dataset.level = level;
        if (code) this.root.dataset.code = code;
        else delete this.root.dataset.code;
        this.render = render;
        this.rerender();
    }

    rerender() {
        if (!this.render) return;
        this.body.replaceChildren();
        this.render();
        this.body.scrollTop = 0;
    }

    loading(level, code) {
        this.show(level, code, () => {
            this.heading(level, code ?? '');
            append(this.body, h('p', {class: 'muted'}, t('loading')));
        });
        this.root.setAttribute('aria-busy', 'true');
    }

    heading(levelKey, title) {
        this.root.removeAttribute('aria-busy');
        this.badge.textContent = t(LEVEL_KEY[levelKey] ?? levelKey);
        this.badge.className = `level-badge level-${levelKey}`;
        this.title.textContent = title;
    }

    // A street, community or grid from /api/v1/{level}s/{code}; `buildings` is the list of a
    // grid's buildings (GeoJSON features) or null while it loads; `cases` the grid's workers and
    // open cases ({workers, incidents}, or {error}), null while they load, undefined when the
    // signed-in user may not see them.
    area(feature, buildings = null, cases = undefined) {
        const p = feature.properties;
        this.show(p.level, p.code, () => {
            this.heading(p.level, p.name);
            append(this.body,
                codeRow(p.code),
                parentsRow(p.parents ?? [], this.actions),
                statsList(p),
                childrenList(p, this.actions),
                p.level === 'community' ? rebalanceActions(p.code, this.actions) : null,
                p.level === 'grid' && cases !== undefined ? gridCases(cases, this.actions) : null,
                p.level === 'grid' ? buildingList(buildings, this.actions) : null);
        });
    }

    // A building: its properties (from the tile or the REST list) and the grid it belongs to
    // (/api/v1/grids/{code}), with the grid's parents.
    building(props, grid = null) {
        this.show('building', String(props.id ?? ''), () => {
            this.heading('building', props.name || `#${props.id}`);
            const gridCode = props.grid_code;
            const rows = [
                [t('building_use'), useName(props.use)],
                [t('floors'), props.floors ? formatNumber(props.floors) : '—'],
                [t('households'), formatNumber(props.households ?? 0), 'households'],
                [t('estimated'), isTrue(props.estimated ?? props.households_estimated) ? t('yes') : t('no')],
            ];
            if (props.address) rows.push([t('address'), props.address]);
            append(this.body,
                grid ? parentsRow([{level: 'grid', code: grid.properties.code, name: grid.properties.name},
                    ...(grid.properties.parents ?? [])], this.actions) : null,
                dl(rows),
                gridCode ? h('section', {class: 'section'},
                    h('h3', {}, t('grid_of_building')),
                    h('ul', {class: 'items'}, itemButton(
                        {level: 'grid', code: gridCode, name: grid?.properties.name ?? gridCode,
                            households: grid?.properties.households},
                        this.actions))) : null);
        });
    }

    // A proposal of new grids for a community (POST .../rebalance): summary, grids, apply.
    proposal(answer, state = {}) {
        this.show('proposal', answer.community.code, () => {
            this.heading('proposal', `${answer.community.name} · ${t('proposal_title')}`);
            const summary = (key, s) => [t(key), t('proposal_summary', formatNumber(s.grids), formatNumber(s.in_band),
                formatNumber(s.below), formatNumber(s.above), s.mean_polsby_popper.toFixed(2))];
            const rows = [summary('proposal_before', answer.before), summary('proposal_after', answer.after),
                [t('proposal_moved'), formatNumber(answer.households_moved)]];
            const list = dl(rows);
            list.querySelectorAll('dd')[1].dataset.field = 'proposal-after';
            const grids = answer.grids.filter(g => g.kind !== 'unit');
            const right = this.actions.rebalanceRight(answer.community.code);
            append(this.body,
                codeRow(answer.community.code),
                list,
                answer.changes ? null : h('p', {class: 'muted', dataset: {field: 'proposal-none'}},
                    t(answer.after.in_band === answer.after.grids ? 'proposal_none' : 'proposal_nothing_better')),
                h('section', {class: 'section'},
                    h('h3', {}, t('children_grid'), h('span', {class: 'count'}, formatNumber(grids.length))),
                    h('ul', {class: 'items', dataset: {field: 'proposal-grids'}}, grids.map(g => h('li', {},
                        h('div', {class: 'item', dataset: {code: g.code}},
                            h('span', {class: 'item-main'},
                                h('span', {class: 'item-name'}, g.name),
                                h('span', {class: 'item-code'}, `${g.code} · ${t('proposal_state_' + (!g.kept ? 'new' : g.changed ? 'redrawn' : 'unchanged'))}`),
                                g.explanation ? h('span', {class: 'item-code'}, g.explanation) : null),
                            h('span', {class: 'item-value'}, t('households_unit', formatNumber(g.households)))))))),
                h('div', {class: 'actions'},
                    answer.changes && !state.applied && right.allowed ? h('button', {type: 'button', class: 'primary', dataset: {action: 'apply'},
                        disabled: state.busy ? '' : null, onclick: () => this.actions.applyProposal(answer)}, t('proposal_apply')) : null,
                    h('button', {type: 'button', dataset: {action: 'discard'}, onclick: () => this.actions.discardProposal(answer)},
                        t('proposal_close'))),
                answer.changes && !state.applied && !right.allowed ? withheld(right.reason) : null,
                state.message ? h('p', {class: 'muted', dataset: {field: 'proposal-message'}}, state.message) : null);
        });
    }

    // The answer of /api/v1/locate.
    located(answer) {
        this.show('locate', null, () => {
            this.heading('locate', t('located_title'));
            const status = answer.status;
            const rows = [];
            const crs = answer.input?.crs ?? 'wgs84';
            const crsName = {gcj02: 'GCJ-02', bd09: 'BD-09'}[crs] ?? crs;
            if (crs !== 'wgs84') rows.push([`${t('input_point')} (${crsName})`, lonLat(answer.input), 'input', true]);
            rows.push([t('wgs84_point'), lonLat(answer.point ?? answer.input), 'point', true]);
            if (status === 'not_covered' && answer.distance_m !== undefined)
                rows.push([t('distance'), t('meters', formatNumber(answer.distance_m))]);
            const refs = [
                answer.street && {level: 'street', ...answer.street},
                answer.community && {level: 'community', ...answer.community},
                answer.grid && {level: 'grid', ...answer.grid},
            ].filter(Boolean);
            const nearest = answer.nearest_grid && {level: 'grid', ...answer.nearest_grid};
            append(this.body,
                h('p', {class: `status status-${status}`, dataset: {field: 'status'}}, t(`status_${status}`)),
                dl(rows),
                refs.length ? h('ul', {class: 'items'}, refs.map(r => itemButton(r, this.actions, true))) : null,
                nearest ? h('section', {class: 'section'}, h('h3', {}, t('nearest_grid')),
                    h('ul', {class: 'items'}, itemButton(nearest, this.actions))) : null);
        });
    }

    // A case from GET /api/v1/incidents/{id}: its details, photos, the steps the signed-in user
    // may take (buttons; a step that needs a note, a worker or a due time asks for it first) and
    // its timeline. `state.workers`: the grid's workers for dispatch and reassign (null when
    // unknown); `state.busy` while a step is sent; `state.message` after a refusal.
    incident(c, state = {}) {
        let pending = null; // the step whose form is open
        this.show('incident', String(c.id), () => {
            this.heading('incident', t('incident_title', c.id));
            const steps = c.next_steps ?? [];
            const needs = c.step_needs ?? {};
            const take = (action, fields = {}) => this.actions.step(c, {action, ...fields});
            append(this.body,
                h('p', {class: `status light-${c.light ?? 'none'}`, dataset: {field: 'incident-state', state: c.state}},
                    word('state', c.state), c.light ? ` · ${t(`light_${c.light}`)}` : '',
                    c.escalation ? ` · ${word('escalation', c.escalation)}` : ''),
                dl(incidentRows(c, this.actions)),
                c.description ? h('p', {class: 'description', dataset: {field: 'description'}}, c.description) : null,
                photoList(c.photos ?? [], 'incident-photos'),
                h('section', {class: 'section', dataset: {field: 'steps'}},
                    h('h3', {}, t('incident_steps')),
                    steps.length ? h('div', {class: 'actions'}, steps.map(action => h('button', {type: 'button',
                        class: pending === action ? 'primary' : null, dataset: {action: `step-${action}`},
                        disabled: state.busy ? '' : null,
                        onclick: () => {
                            if ((needs[action] ?? []).length === 0) take(action);
                            else {
                                pending = pending === action ? null : action;
                                this.rerender();
                            }
                        }}, word('action', action))))
                        : h('p', {class: 'muted'}, t('incident_no_steps')),
                    pending ? stepForm(pending, needs[pending] ?? [], state.workers, take, state.busy) : null,
                    state.message ? h('p', {class: 'status status-error', dataset: {field: 'step-message'}}, state.message) : null),
                timeline(c.events ?? []));
        });
    }

    // The supervision list (督办) of an area: open cases that are yellow or red, most overdue
    // first. `areas`: [{code, name}] the user may choose from; `code`: the one shown.
    supervision(answer, {areas, code}) {
        this.show('supervision', code ?? 'all', () => {
            this.heading('supervision', t('supervision_title'));
            const cases = answer.cases ?? [];
            const select = areas.length > 1 ? h('select', {dataset: {field: 'supervision-area'},
                onchange: e => this.actions.openSupervision(e.target.value || null)},
            areas.map(a => h('option', {value: a.code ?? '', selected: a.code === code ? '' : null},
                a.code ? `${a.name} ${a.name === a.code ? '' : a.code}`.trim() : a.name))) : null;
            append(this.body,
                h('div', {class: 'code-row'}, h('span', {class: 'label'}, t('supervision_area')),
                    select ?? h('span', {dataset: {field: 'supervision-area'}}, areas.find(a => a.code === code)?.name ?? code ?? '')),
                h('p', {class: 'muted'}, t('supervision_at', formatTime(answer.at))),
                cases.length ? h('ul', {class: 'items', dataset: {field: 'supervision'}}, cases.map(c => caseItem(c, this.actions)))
                    : h('p', {class: 'muted', dataset: {field: 'supervision-none'}}, t('supervision_none')));
        });
    }

    error(message) {
        this.show('error', null, () => {
            this.heading('error', '');
            this.badge.textContent = '!';
            append(this.body, h('p', {class: 'status status-error', dataset: {field: 'error'}}, message));
        });
    }
}

function isTrue(v) { return v === true || v === 1 || v === 'true'; }

function lonLat(p) {
    return p ? `${Number(p.lon).toFixed(6)}, ${Number(p.lat).toFixed(6)}` : '—';
}

export function useName(use) {
    if (!use) return t('use_other');
    const key = `use_${use}`;
    const text = t(key);
    return text === key ? use : text;
}

function copyIcon() {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '16');
    svg.setAttribute('height', '16');
    svg.setAttribute('aria-hidden', 'true');
    for (const [x, y] of [[8, 8], [4, 4]]) {
        const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
        for (const [k, v] of Object.entries({x, y, width: 12, height: 12, rx: 2, fill: x === 8 ? 'white' : 'none',
            stroke: 'currentColor', 'stroke-width': 2})) rect.setAttribute(k, v);
        svg.append(rect);
    }
    svg.append(svg.firstChild); // the front square last
    return svg;
}

function codeRow(code) {
    const copy = h('button', {type: 'button', class: 'copy', title: t('copy'), 'aria-label': t('copy')}, copyIcon());
    copy.addEventListener('click', async () => {
        try {
            await navigator.clipboard.writeText(code);
            copy.replaceChildren('✓');
        } catch {
            copy.replaceChildren('×');
        }
        setTimeout(() => copy.replaceChildren(copyIcon()), 1200);
    });
    return h('div', {class: 'code-row'},
        h('span', {class: 'label'}, t('code')),
        h('code', {class: 'code', dataset: {field: 'code'}}, code),
        navigator.clipboard ? copy : null);
}

// Parents come nearest first from the API; the breadcrumb reads from the top down.
function parentsRow(parents, actions) {
    if (!parents.length) return null;
    const crumbs = [...parents].reverse();
    return h('nav', {class: 'crumbs', 'aria-label': t('parents')},
        crumbs.map((p, i) => [
            i ? h('span', {class: 'sep', 'aria-hidden': 'true'}, '›') : null,
            h('button', {type: 'button', class: 'link', title: p.code, onclick: () => actions.open(p.level, p.code)},
                p.name || p.code),
        ]));
}

function dl(rows) {
    return h('dl', {class: 'stats'}, rows.map(([term, value, field, wide]) => h('div', {class: wide ? 'stat wide' : 'stat'},
        h('dt', {}, term), h('dd', {dataset: field ? {field} : undefined}, value))));
}

function loadChip(load) {
    return h('span', {class: 'chip'},
        h('span', {class: 'swatch', style: `background:${COLORS.load[load] ?? '#ccc'}`}),
        t(`load_${load}`));
}

function statsList(p) {
    const rows = [
        [t('households'), formatNumber(p.households ?? 0), 'households'],
        [t('buildings'), formatNumber(p.buildings ?? 0), 'buildings'],
    ];
    if (p.level === 'street') rows.push([t('communities'), formatNumber(p.communities ?? p.children?.length ?? 0)]);
    if (p.level === 'community') rows.push([t('grids'), formatNumber(p.grids ?? p.children?.length ?? 0)]);
    if (p.level === 'grid') {
        rows.push([t('kind'), t(`kind_${p.kind}`)]);
        rows.push([t('load'), loadChip(p.load), 'load']);
    }
    if (p.area_m2 !== undefined) {
        rows.push([t('area'), p.area_m2 >= 1e6 ? t('km2', formatNumber(p.area_m2 / 1e6, 2)) : t('m2', formatNumber(p.area_m2))]);
    }
    if (p.estimated_buildings) rows.push([t('estimated_buildings'), formatNumber(p.estimated_buildings)]);
    return dl(rows);
}

function itemButton(item, actions, showLevel = false) {
    return h('li', {},
        h('button', {type: 'button', class: 'item', dataset: {code: item.code, level: item.level},
            onclick: () => actions.open(item.level, item.code)},
        h('span', {class: 'item-main'},
            showLevel ? h('span', {class: `level-badge small level-${item.level}`}, t(LEVEL_KEY[item.level])) : null,
            h('span', {class: 'item-name'}, item.name || item.code),
            h('span', {class: 'item-code'}, item.code)),
        item.households !== undefined ? h('span', {class: 'item-value'}, t('households_unit', formatNumber(item.households))) : null));
}

function childrenList(p, actions) {
    const children = p.children ?? [];
    if (!children.length) return null;
    const title = p.level === 'street' ? t('children_community') : t('children_grid');
    return h('section', {class: 'section'},
        h('h3', {}, title, h('span', {class: 'count'}, formatNumber(children.length))),
        h('ul', {class: 'items', dataset: {field: 'children'}}, children.map(c => itemButton(c, actions))));
}

// Why the grid-division controls are not offered here.
function withheld(reason) {
    return h('p', {class: 'withheld', dataset: {field: 'rebalance-withheld'}}, reason);
}

// Grid division of a community: propose new grids, or undo the last change; only where the
// signed-in user may, else the reason.
function rebalanceActions(code, actions) {
    const right = actions.rebalanceRight(code);
    return h('section', {class: 'section', dataset: {field: 'rebalance'}},
        h('h3', {}, t('rebalance_title')),
        !right.allowed ? withheld(right.reason) : h('div', {class: 'actions'},
            h('button', {type: 'button', dataset: {action: 'propose'}, onclick: () => actions.propose(code)}, t('rebalance_propose')),
            h('button', {type: 'button', dataset: {action: 'undo'}, onclick: () => actions.undo(code)}, t('rebalance_undo'))));
}

const MAX_BUILDINGS = 200;

function buildingList(buildings, actions) {
    const section = h('section', {class: 'section'}, h('h3', {}, t('grid_buildings'),
        buildings ? h('span', {class: 'count'}, formatNumber(buildings.length)) : null));
    if (!buildings) {
        section.append(h('p', {class: 'muted'}, t('loading')));
        return section;
    }
    const sorted = [...buildings].sort((a, b) => (b.properties.households ?? 0) - (a.properties.households ?? 0));
    section.append(h('ul', {class: 'items'}, sorted.slice(0, MAX_BUILDINGS).map(b => h('li', {},
        h('button', {type: 'button', class: 'item', onclick: () => actions.openBuilding(b)},
            h('span', {class: 'item-main'},
                h('span', {class: 'item-name'}, b.properties.name || `#${b.properties.id}`),
                h('span', {class: 'item-code'}, useName(b.properties.use))),
            h('span', {class: 'item-value'}, t('households_unit', formatNumber(b.properties.households ?? 0))))))));
    if (sorted.length > MAX_BUILDINGS) section.append(h('p', {class: 'muted'}, t('more_items', sorted.length - MAX_BUILDINGS)));
    return section;
}

// ---- cases ---------------------------------------------------------------------------------

// The word for an enumerated value (state_closed, action_start, ...), or the value itself.
export function word(prefix, value) {
    const key = `${prefix}_${value}`;
    const text = t(key);
    return text === key ? String(value ?? '') : text;
}

// A time of the server (UTC) in China time, whatever the browser's zone.
export function formatTime(iso) {
    const d = new Date(iso);
    if (!iso || !Number.isFinite(d.getTime())) return iso ?? '—';
    return d.toLocaleString(lang() === 'zh' ? 'zh-CN' : 'en-GB',
        {timeZone: 'Asia/Shanghai', dateStyle: 'medium', timeStyle: 'short'});
}

function lightSwatch(light) {
    return h('span', {class: 'swatch round', style: `background:${COLORS.light[light ?? 'none'] ?? COLORS.light.none}`});
}

function categoryText(code, actions) {
    const name = actions.categoryName?.(code);
    return name ? `${code} ${name}` : code;
}

// Who answers for the case: its worker (named by the step that assigned it), else its area.
function handlerText(c) {
    const a = c.assignment ?? {};
    if (a.worker !== null && a.worker !== undefined) {
        const named = [...(c.events ?? [])].reverse().find(e => (e.action === 'dispatch' || e.action === 'reassign') && e.assignee);
        if (named) return named.assignee;
    }
    return `${word('assignee_level', a.level)} ${a.code ?? ''}`.trim();
}

function incidentRows(c, actions) {
    const place = c.place ?? {};
    const area = place.grid ? {level: 'grid', code: place.grid} : place.community ? {level: 'community', code: place.community}
        : place.street ? {level: 'street', code: place.street} : null;
    const rows = [
        [t('incident_category'), categoryText(c.category, actions), 'category', true],
        [t('incident_urgency'), word('urgency', c.urgency)],
        [t('incident_source'), word('source', c.source)],
        [t('incident_reported'), formatTime(c.reported_at)],
        [t('incident_due'), formatTime(c.due_at), 'due'],
    ];
    if (c.closed_at) rows.push([t('incident_closed_at'), formatTime(c.closed_at)]);
    rows.push([t('incident_place'), area ? h('button', {type: 'button', class: 'link', dataset: {code: area.code},
        onclick: () => actions.open(area.level, area.code)}, area.code) : '—', 'place']);
    rows.push([t('incident_handler'), handlerText(c), 'handler']);
    if (c.reporter?.name || c.reporter?.phone) {
        rows.push([t('incident_reporter'), [c.reporter.name, c.reporter.phone].filter(Boolean).join(' '), 'reporter', true]);
    }
    if (c.address) rows.push([t('address'), c.address, 'address', true]);
    return rows;
}

// Photos as thumbnails, each opening the photo itself.
function photoList(photos, field) {
    if (!photos.length) return null;
    return h('section', {class: 'section'},
        h('h3', {}, t('incident_photos'), h('span', {class: 'count'}, formatNumber(photos.length))),
        h('div', {class: 'photos', dataset: {field}}, photos.map(p => h('a', {href: p.url, target: '_blank', rel: 'noopener'},
            h('img', {src: p.url, alt: '', loading: 'lazy', width: 96, height: 96})))));
}

// What a step asks for before it is sent: a note (意见), a worker, a new due time.
function stepForm(action, needs, workers, take, busy) {
    const form = h('form', {class: 'step-form', dataset: {field: 'step-form', action}});
    if (needs.includes('worker')) {
        form.append(h('label', {}, h('span', {}, t('incident_worker')), workers?.length
            ? h('select', {name: 'worker', required: true}, workers.map(w => h('option', {value: w.id},
                `${w.name}${w.on_duty ? '' : ` (${t('worker_off_duty')})`}`)))
            : h('input', {name: 'worker', inputmode: 'numeric', required: true})));
    }
    if (needs.includes('due_at')) {
        form.append(h('label', {}, h('span', {}, t('incident_due_at')), h('input', {name: 'due_at', type: 'datetime-local', required: true})));
    }
    form.append(h('label', {}, h('span', {}, t('incident_note'), needs.includes('note') ? ` ${t('incident_note_required')}` : ''),
        h('textarea', {name: 'note', rows: 3, maxlength: 2000, required: needs.includes('note') ? true : null})));
    form.append(h('button', {type: 'submit', class: 'primary', disabled: busy ? '' : null}, word('action', action)));
    form.addEventListener('submit', e => {
        e.preventDefault();
        const fields = {};
        const note = form.elements.note.value.trim();
        if (note) fields.note = note;
        if (form.elements.worker) fields.worker = Number(form.elements.worker.value);
        if (form.elements.due_at?.value) fields.due_at = new Date(form.elements.due_at.value).toISOString().replace(/\.\d{3}Z$/, 'Z');
        take(action, fields);
    });
    return form;
}

// The case's events, oldest first: when, what, who, the state it led to, the note and photos.
function timeline(events) {
    return h('section', {class: 'section'},
        h('h3', {}, t('incident_timeline'), h('span', {class: 'count'}, formatNumber(events.length))),
        h('ol', {class: 'timeline', dataset: {field: 'timeline'}}, events.map(e => h('li', {dataset: {action: e.action}},
            h('div', {class: 'timeline-head'},
                h('strong', {}, word('action', e.action)),
                h('span', {class: 'muted'}, `${formatTime(e.at)} · ${e.actor || '—'}`)),
            e.to ? h('div', {class: 'muted'}, `${e.from ? `${word('state', e.from)} → ` : ''}${word('state', e.to)}`
                + (e.assignee ? ` · ${e.assignee}` : '')) : null,
            e.note ? h('div', {class: 'note'}, e.note) : null,
            photoList(e.photos ?? [], 'event-photos')))));
}

// A case in a list (a grid's open cases, the supervision list): its light, number, category,
// state and due time; opens the case.
function caseItem(c, actions) {
    return h('li', {}, h('button', {type: 'button', class: 'item', dataset: {incident: c.id, light: c.light ?? 'none'},
        onclick: () => actions.openIncident(c.id)},
    h('span', {class: 'item-main'},
        lightSwatch(c.light),
        h('span', {class: 'item-name'}, `#${c.id} ${categoryText(c.category, actions)}`),
        h('span', {class: 'item-code'}, `${word('state', c.state)} · ${t('incident_due')} ${formatTime(c.due_at)}`
            + (c.escalation ? ` · ${word('escalation', c.escalation)}` : ''))),
    c.light ? h('span', {class: 'item-value'}, t(`light_${c.light}`)) : null));
}

// A grid's workers (rank order) and open cases, for those whose scope covers the grid.
function gridCases(cases, actions) {
    if (cases === null) return h('section', {class: 'section'}, h('h3', {}, t('grid_workers')), h('p', {class: 'muted'}, t('loading')));
    if (cases.error) return h('section', {class: 'section'}, h('p', {class: 'status status-error'}, cases.error));
    const workers = cases.workers ?? [];
    const open = cases.incidents ?? [];
    return [
        h('section', {class: 'section'},
            h('h3', {}, t('grid_workers'), h('span', {class: 'count'}, formatNumber(workers.length))),
            workers.length ? h('ul', {class: 'items', dataset: {field: 'workers'}}, workers.map(w => h('li', {},
                h('div', {class: 'item', dataset: {worker: w.id}},
                    h('span', {class: 'item-main'},
                        h('span', {class: 'item-name'}, w.name),
                        h('span', {class: 'item-code'}, [word('worker_role', w.role),
                            w.first_responsible ? t('worker_first') : t('worker_rank', w.rank),
                            w.on_duty ? null : t('worker_off_duty'), w.shift || null].filter(Boolean).join(' · '))),
                    w.phone ? h('span', {class: 'item-value', dataset: {field: 'worker-phone'}}, w.phone) : null))))
                : h('p', {class: 'muted', dataset: {field: 'workers'}}, t('grid_workers_none'))),
        h('section', {class: 'section'},
            h('h3', {}, t('incident_open_cases'), h('span', {class: 'count'}, formatNumber(open.length))),
            open.length ? h('ul', {class: 'items', dataset: {field: 'grid-incidents'}}, open.map(c => caseItem(c, actions)))
                : h('p', {class: 'muted', dataset: {field: 'grid-incidents'}}, t('incident_none'))),
    ];
}

// The protocol editor: a form generated from schema/protocol.schema.json
// (served as protocol.schema.json), so that every construct of the schema
// has a control. Every control carries data-path (the protocol's JSON path,
// as the validator writes it: phases.criteria[0].window.start) and
// data-schema (the JSON pointer of the property in the schema), which the
// tests use to check coverage and to place validation messages.
//
// Speed: a keystroke only writes one value into the document and schedules
// the validation and the undo snapshot; structural changes redraw only the
// object or array they change; long arrays render their items when opened.
import {h, clear, id, debounce} from './dom.js';
import {t, has} from './i18n.js';
import {get} from './api.js';

const LAZY = 30; // arrays longer than this render items on demand

const child = (path, key) => (path ? path + '.' + key : key);
const item = (path, i) => path + '[' + i + ']';

// Field names whose string values name something defined elsewhere in the
// protocol: offered in a datalist.
const REFS = {
  code_lists: 'lists', library: 'library',
  event: 'events', events: 'events', censoring: 'events',
  outcome: 'outcomes', outcomes: 'outcomes',
  covariates: 'covariates', by: 'covariates', strata: 'covariates', of: 'covariates',
  dependent: 'covariates', stratify_by: 'covariates',
};

// Fields offered first for each kind of covariate and analysis
// (docs/protocol.md, phases 5 and 7); the others are one click further.
const common = {'#/$defs/covariate': ['name', 'title', 'kind', 'timing', 'reference'], '#/$defs/analysis': ['name', 'title', 'kind', 'stratify_by']};
const RELEVANT = {
  '#/$defs/covariate': {
    presence: ['event', 'window', 'match'], count: ['event', 'window', 'match'], days_since_last: ['event', 'window'],
    charlson: ['window'], mcs: ['window'], cost: ['window', 'flows'], current_use: ['drug'], adherence: ['drug', 'method', 'window'],
    therapy_duration: ['drug', 'window'], discontinuation: ['drug', 'window'], switch: ['drug', 'event', 'window'],
    classify: ['of', 'cuts', 'labels'], aggregate: ['of', 'classes'], combine: ['of', 'op'], sum: ['of'],
  },
  '#/$defs/analysis': {
    descriptive: ['covariates', 'by'], kaplan_meier: ['outcome', 'by'], cox: ['outcome', 'covariates', 'strata', 'ties'],
    logistic: ['outcome', 'horizon', 'covariates'], linear: ['dependent', 'covariates'], rates: ['outcome', 'by', 'per', 'standardize'],
  },
};

export function label(key) { return has('f.' + key) ? t('f.' + key) : key; }
function enumLabel(v) { return has('e.' + v) ? t('e.' + v) : String(v); }

export class Editor {
  constructor(schema, doc, {onChange, library}) {
    this.schema = schema;
    this.doc = doc;
    this.onChange = onChange;
    this.library = library || [];
    this.root = h('div', {class: 'editor-form'});
    this.lists = {};
    this.datalists = h('div', {hidden: true});
    this.refreshLists = debounce(() => this.fillLists(), 300);
  }

  // resolve follows a $ref: {s, ptr}.
  resolve(s, ptr) {
    if (s && s.$ref) {
      const name = s.$ref.replace('#/$defs/', '');
      return {s: this.schema.$defs[name], ptr: '#/$defs/' + name};
    }
    return {s, ptr};
  }

  kind(s) {
    if (s.const !== undefined) return 'const';
    if (s.enum) return 'enum';
    if (s.oneOf && !s.properties) return 'alt';
    if (s.type === 'object' && s.properties) return 'object';
    if (s.type === 'object') return 'map';
    if (s.type === 'array') return 'array';
    if (Array.isArray(s.type)) return 'loose';
    return s.type; // string, integer, number, boolean
  }

  // initial is the value a newly added field or item starts with.
  initial(s0, ptr0) {
    const {s, ptr} = this.resolve(s0, ptr0);
    switch (this.kind(s)) {
      case 'const': return s.const;
      case 'enum': return s.enum[0];
      case 'alt': return this.initial(s.oneOf[0], ptr + '/oneOf/0');
      case 'object': {
        const o = {};
        for (const k of s.required || []) o[k] = this.initial(s.properties[k], ptr + '/properties/' + k);
        return o;
      }
      case 'map': return {};
      case 'array': return [];
      case 'boolean': return true;
      case 'integer': return 0;
      case 'number': return 1;
      default: return '';
    }
  }

  render() {
    this.fillLists();
    const s = this.schema;
    const top = (key) => this.prop(this.doc, key, s.properties[key], '#/properties/' + key, key, s.required.includes(key));
    const ph = s.properties.phases;
    const phases = this.doc.phases;
    const phase = (key) => this.prop(phases, key, ph.properties[key], '#/properties/phases/properties/' + key, 'phases.' + key, ph.required.includes(key));
    const panel = (key, ...body) => h('section', {class: 'panel', 'aria-labelledby': 'panel-' + key, 'data-testid': 'panel-' + key},
      h('h2', {id: 'panel-' + key}, t('panel.' + key)), ...body);
    clear(this.root,
      this.datalists,
      panel('study', top('version'), top('name'), top('title'), top('description')),
      panel('code_lists', top('code_lists')),
      panel('events', top('events')),
      h('div', {'data-path': 'phases', 'data-schema': '#/properties/phases'},
        panel('population', phase('population')),
        panel('index', phase('index')),
        panel('criteria', phase('criteria')),
        panel('follow_up', phase('follow_up')),
        panel('covariates', phase('covariates')),
        panel('outcomes', phase('outcomes')),
        panel('analyses', phase('analyses'))),
      panel('parameters', top('parameters')));
    return this.root;
  }

  // names collects the names defined in the protocol, for the datalists.
  fillLists() {
    const d = this.doc;
    const names = (a) => (Array.isArray(a) ? a.map((x) => x && x.name).filter(Boolean) : []);
    const sets = {
      lists: names(d.code_lists),
      library: this.library.filter((l) => l.name).map((l) => (l.version ? l.name + '@' + l.version : l.name) + '\t' + (l.title || '')),
      events: names(d.events),
      outcomes: names(d.phases && d.phases.outcomes),
      covariates: names(d.phases && d.phases.covariates),
    };
    for (const [k, vals] of Object.entries(sets)) {
      let dl = this.lists[k];
      if (!dl) { dl = this.lists[k] = h('datalist', {id: 'dl-' + k}); this.datalists.appendChild(dl); }
      const key = vals.join('\n');
      if (dl.dataset.key === key) continue;
      dl.dataset.key = key;
      clear(dl, vals.map((v) => { const [value, lab] = v.split('\t'); return h('option', {value, label: lab || null}); }));
    }
  }

  changed(structural) {
    if (structural) this.refreshLists();
    this.onChange();
  }

  // prop renders property key of object obj: its field when present or
  // required, else a button that adds it.
  prop(obj, key, s0, ptr, path, required) {
    const slot = h('div', {class: 'slot'});
    const draw = () => {
      if (obj[key] === undefined && !required) {
        clear(slot, h('button', {type: 'button', class: 'add', 'data-add': '', 'data-schema': ptr, 'data-testid': 'add:' + path,
          onclick: () => { obj[key] = this.initial(s0, ptr); draw(); this.changed(true); const f = slot.querySelector('input,select,textarea,button:not(.remove)'); if (f) f.focus(); }},
        '+ ' + (ptr === '#/properties/version' ? t('f.format_version') : label(key))));
        slot.className = 'slot slot-absent';
        return;
      }
      if (obj[key] === undefined) obj[key] = this.initial(s0, ptr);
      slot.className = 'slot';
      const remove = required ? null : () => {
        delete obj[key]; draw(); this.changed(true);
        // The focus goes to the button that adds the field back.
        setTimeout(() => { const b = slot.querySelector('button.add'); if (b) b.focus(); }, 0);
      };
      clear(slot, this.field(obj, key, s0, ptr, path, ptr === '#/properties/version' ? t('f.format_version') : label(key), remove));
    };
    draw();
    return slot;
  }

  // field renders the value obj[key] with its label, remove button and
  // message area.
  field(obj, key, s0, ptr, path, text, remove) {
    const {s, ptr: rptr} = this.resolve(s0, ptr);
    const k = this.kind(s);
    const wrap = h('div', {class: 'field field-' + k, 'data-path': path, 'data-schema': ptr});
    const rm = remove ? h('button', {type: 'button', class: 'remove', 'aria-label': t('editor.remove', text), title: t('editor.remove', text), onclick: remove}, '✕') : null;
    const msgs = h('div', {class: 'msgs', 'aria-live': 'polite'});
    if (k === 'object' || k === 'map' || k === 'array') {
      // Hints explain groups of fields (window, washout …), by name.
      const hint = typeof key === 'string' && has('h.' + key) ? h('p', {class: 'hint', id: id('h')}, t('h.' + key)) : null;
      const body = this.value(obj, key, s, rptr, path, text, ptr);
      wrap.append(h('fieldset', {class: 'group', 'aria-describedby': hint ? hint.id : null}, h('legend', null, text, rm), ...(hint ? [hint] : []), msgs, body));
      return wrap;
    }
    const ctl = this.value(obj, key, s, rptr, path, text, ptr);
    const cid = ctl.dataset.control || ctl.id;
    wrap.append(h('div', {class: 'row'}, h('label', {for: cid}, text), ctl, rm), msgs);
    return wrap;
  }

  // value renders the control(s) of obj[key].
  value(obj, key, s, ptr, path, text, propPtr) {
    const k = this.kind(s);
    const v = obj[key];
    const set = (nv) => { obj[key] = nv; this.changed(false); };
    const attrs = (extra) => Object.assign({id: id(), 'data-path': path, 'data-schema': propPtr, 'data-testid': 'in:' + path}, extra);
    switch (k) {
      case 'const':
        return h('output', attrs({}), String(s.const));
      case 'enum': {
        const sel = h('select', attrs({onchange: () => { set(sel.value); }}),
          s.enum.map((e) => h('option', {value: e, selected: e === v}, enumLabel(e))));
        return sel;
      }
      case 'boolean': {
        const cb = h('input', attrs({type: 'checkbox', checked: v === true, onchange: () => set(cb.checked)}));
        return cb;
      }
      case 'integer': case 'number': {
        const inp = h('input', attrs({type: 'number', step: k === 'integer' ? '1' : 'any', value: v === null || v === undefined ? '' : String(v),
          oninput: () => set(inp.value === '' ? null : (k === 'integer' ? parseInt(inp.value, 10) : parseFloat(inp.value)))}));
        return inp;
      }
      case 'loose': {
        const inp = h('input', attrs({value: v === undefined ? '' : String(v),
          oninput: () => set(/^-?\d+$/.test(inp.value) ? parseInt(inp.value, 10) : inp.value)}));
        return inp;
      }
      case 'string': {
        const ref = REFS[key];
        const isDate = s.pattern && s.pattern.startsWith('^[0-9]{4}');
        const long = key === 'description';
        const inp = h(long ? 'textarea' : 'input', attrs({value: v === undefined ? '' : String(v), list: ref ? 'dl-' + ref : null,
          placeholder: isDate ? t('editor.date_placeholder') : null, rows: long ? 2 : null, autocomplete: 'off',
          oninput: () => { set(inp.value); if (key === 'name' || key === 'title') this.refreshLists(); }}));
        return inp;
      }
      case 'alt': return this.alt(obj, key, s, ptr, path, text, propPtr);
      case 'object': return this.object(v, s, ptr, path);
      case 'map': return this.map(v, s, ptr, path, text);
      case 'array': return this.array(obj, key, s, ptr, path, text, propPtr);
    }
    return h('span', null, '?');
  }

  // alt renders a value that is either plain (a number, a date, a text)
  // or a template parameter ({"param": …}).
  alt(obj, key, s, ptr, path, text, propPtr) {
    const pIdx = s.oneOf.findIndex((a) => a.$ref || (a.properties && a.properties.param));
    const plainIdx = pIdx === 0 ? 1 : 0;
    const box = h('div', {class: 'alt'});
    const draw = () => {
      const v = obj[key];
      const isParam = v !== null && typeof v === 'object';
      if (isParam) {
        const {s: ps, ptr: pptr} = this.resolve(s.oneOf[pIdx], ptr + '/oneOf/' + pIdx);
        clear(box, this.object(v, ps, pptr, path),
          h('button', {type: 'button', class: 'link', onclick: () => { obj[key] = this.initial(s.oneOf[plainIdx], ptr); draw(); this.changed(true); }}, t('editor.use_value')));
      } else {
        const plain = this.value(obj, key, s.oneOf[plainIdx], ptr + '/oneOf/' + plainIdx, path, text, propPtr);
        const {ptr: pptr} = this.resolve(s.oneOf[pIdx], ptr + '/oneOf/' + pIdx);
        box.dataset.control = plain.id;
        clear(box, plain, h('button', {type: 'button', class: 'link', 'data-add': '', 'data-schema': pptr + '/properties/param', 'data-testid': 'param:' + path,
          'aria-label': t('editor.use_param_for', text),
          onclick: () => { obj[key] = {param: ''}; draw(); this.changed(true); }}, t('editor.use_param')));
      }
    };
    draw();
    box.id = id();
    return box;
  }

  object(v, s, ptr, path) {
    const box = h('div', {class: 'object'});
    const req = s.required || [];
    // Fields a kind requires (the schema's allOf: if kind = X then
    // required […]) are added when the kind is chosen.
    const byKind = {};
    for (const c of s.allOf || []) {
      const k = c.if && c.if.properties && c.if.properties.kind && c.if.properties.kind.const;
      if (k && c.then && c.then.required) byKind[k] = c.then.required;
    }
    const draw = () => {
      clear(box);
      for (const k of Object.keys(s.properties)) {
        box.appendChild(this.prop(v, k, s.properties[k], ptr + '/properties/' + k, child(path, k), req.includes(k)));
      }
      // Fields present first, the add buttons of absent ones in one row;
      // for a covariate or an analysis, those its kind does not use
      // behind "other fields".
      const rel = RELEVANT[ptr] && new Set([...common[ptr], ...(RELEVANT[ptr][v.kind] || [])]);
      const row = h('div', {class: 'adds', role: 'group', 'aria-label': t('editor.add_fields')});
      const more = h('div', {class: 'adds more', role: 'group', hidden: true, 'aria-label': t('editor.other_fields')});
      const moreBtn = rel ? h('button', {type: 'button', class: 'link', 'data-add': '', 'data-schema': ptr + '#other', 'aria-expanded': 'false',
        onclick: () => { more.hidden = !more.hidden; moreBtn.setAttribute('aria-expanded', String(!more.hidden)); }}, t('editor.other_fields')) : null;
      box.append(row, more);
      const tidy = () => {
        for (const sl of [...box.children]) {
          if (!sl.classList.contains('slot-absent')) continue;
          const key = sl.firstChild && sl.firstChild.dataset.testid.slice(('add:' + child(path, '')).length);
          (rel && !rel.has(key) ? more : row).appendChild(sl);
        }
        for (const holder of [row, more]) for (const sl of [...holder.children]) if (sl.classList && sl.classList.contains('slot') && !sl.classList.contains('slot-absent')) box.insertBefore(sl, row);
        if (moreBtn && more.children.length) row.appendChild(moreBtn);
        row.hidden = row.children.length === 0;
      };
      tidy();
      box.onclick = () => queueMicrotask(tidy);
    };
    if (Object.keys(byKind).length) {
      box.addEventListener('change', (e) => {
        if (e.target.dataset.path !== child(path, 'kind')) return;
        let added = false;
        for (const k of byKind[v.kind] || []) {
          if (v[k] === undefined) { v[k] = this.initial(s.properties[k], ptr + '/properties/' + k); added = true; }
        }
        if (added || RELEVANT[ptr]) {
          draw(); if (added) this.changed(true);
          const sel = box.querySelector(`[data-path="${CSS.escape(child(path, 'kind'))}"]`);
          if (sel) sel.focus();
        }
      });
    }
    draw();
    return box;
  }

  map(v, s, ptr, path, text) {
    const box = h('div', {class: 'map'});
    const draw = () => {
      clear(box, Object.keys(v).map((k) => {
        const kid = id();
        const kin = h('input', {id: kid, value: k, 'data-path': child(path, k), 'aria-label': t('editor.map_key', text),
          onchange: () => { const nk = kin.value; if (nk && nk !== k && !(nk in v)) { v[nk] = v[k]; delete v[k]; draw(); this.changed(true); } }});
        const vin = h('input', {value: v[k], 'aria-label': t('editor.map_value', text, k), 'data-testid': 'in:' + child(path, k),
          oninput: () => { v[k] = vin.value; this.changed(false); }});
        return h('div', {class: 'row'}, kin, vin,
          h('button', {type: 'button', class: 'remove', 'aria-label': t('editor.remove', k), onclick: () => { delete v[k]; draw(); this.changed(true); }}, '✕'));
      }), h('button', {type: 'button', class: 'add', 'data-testid': 'additem:' + path, onclick: () => {
        let n = 1; while (('key' + n) in v) n++; v['key' + n] = ''; draw(); this.changed(true);
      }}, t('editor.add_entry')));
    };
    draw();
    return box;
  }

  array(obj, key, s, ptr, path, text, propPtr) {
    const {s: is, ptr: iptr} = this.resolve(s.items, ptr + '/items');
    const ik = this.kind(is);
    if (ik === 'enum') return this.enumSet(obj, key, is, path, text, propPtr);
    if (ik === 'string' || ik === 'number' || ik === 'integer') return this.chips(obj, key, is, path, text, propPtr);
    const arr = obj[key];
    const box = h('div', {class: 'array'});
    const draw = () => {
      const lazy = arr.length > LAZY;
      const items = arr.map((x, i) => this.arrayItem(arr, i, s.items, ptr + '/items', iptr, is, ik, path, text, lazy, draw));
      clear(box, items, h('button', {type: 'button', class: 'add additem', 'data-add': '', 'data-schema': ptr + '/items', 'data-testid': 'additem:' + path,
        onclick: () => {
          arr.push(this.initial(s.items, ptr + '/items')); draw(); this.changed(true);
          const last = box.querySelector(':scope > .item:last-of-type input, :scope > .item:last-of-type select');
          if (last) last.focus();
        }}, t('editor.add_item', text)),
      iptr === '#/$defs/criterion' ? h('button', {type: 'button', class: 'add additem', 'data-testid': 'addgroup:' + path,
        onclick: () => { arr.push({group: {op: 'all', criteria: [{}]}}); draw(); this.changed(true); }}, t('editor.add_group')) : null);
    };
    draw();
    return box;
  }

  arrayItem(arr, i, s0, ptr0, iptr, is, ik, path, text, lazy, redraw) {
    const p = item(path, i);
    const v = arr[i];
    const name = () => (v && typeof v === 'object' ? (v.name || v.label || v.title || v.kind || (v.group && `${enumLabel(v.group.op)}${v.group.n !== undefined ? ' ' + v.group.n : ''} (${(v.group.criteria || []).length})`) || v.event || '') : '');
    const summaryText = h('span', {class: 'item-name'}, `${i + 1}. ${name()}`);
    const move = (to) => {
      if (to < 0 || to >= arr.length) return;
      const [x] = arr.splice(i, 1); arr.splice(to, 0, x); redraw(); this.changed(true);
      // Keep the focus on the moved item's button, for the keyboard.
      const dir = to < i ? 'up:' : 'down:';
      const b = [dir, dir === 'up:' ? 'down:' : 'up:'].map((d) => this.root.querySelector(`[data-testid="${CSS.escape(d + item(path, to))}"]`)).find((x) => x && !x.disabled);
      if (b) b.focus();
    };
    const n = i + 1;
    const tools = h('span', {class: 'tools'},
      h('span', {class: 'handle', draggable: 'true', title: t('editor.drag'), 'aria-hidden': 'true',
        ondragstart: (e) => { e.dataTransfer.setData('text/x-beaver-item', path + '#' + i); e.dataTransfer.effectAllowed = 'move'; }}, '⠿'),
      h('button', {type: 'button', 'aria-label': t('editor.move_up', text, n), 'data-testid': 'up:' + p, disabled: i === 0, onclick: (e) => { e.preventDefault(); move(i - 1); }}, '↑'),
      h('button', {type: 'button', 'aria-label': t('editor.move_down', text, n), 'data-testid': 'down:' + p, disabled: i === arr.length - 1, onclick: (e) => { e.preventDefault(); move(i + 1); }}, '↓'),
      h('button', {type: 'button', class: 'remove', 'aria-label': t('editor.remove_item', text, n), 'data-testid': 'rm:' + p,
        onclick: (e) => {
          e.preventDefault(); arr.splice(i, 1); redraw(); this.changed(true);
          const b = this.root.querySelector(`[data-testid="${CSS.escape('additem:' + path)}"]`);
          if (b) b.focus();
        }}, '✕'));
    const el = h('details', {class: 'item', open: !lazy, 'data-path': p, 'data-schema': ptr0,
      ondragover: (e) => { if (e.dataTransfer.types.includes('text/x-beaver-item')) { e.preventDefault(); el.classList.add('drop'); } },
      ondragleave: () => el.classList.remove('drop'),
      ondrop: (e) => {
        el.classList.remove('drop');
        const src = e.dataTransfer.getData('text/x-beaver-item');
        const at = src.lastIndexOf('#');
        if (src.slice(0, at) !== path) return;
        e.preventDefault(); e.stopPropagation();
        const from = +src.slice(at + 1);
        if (from === i) return;
        const [x] = arr.splice(from, 1); arr.splice(i, 0, x); redraw(); this.changed(true);
      }},
    h('summary', null, summaryText, tools));
    const fill = () => {
      if (el.dataset.filled) return;
      el.dataset.filled = '1';
      let body;
      if (ik === 'object') body = this.object(arr[i], is, iptr, p);
      else {
        body = this.value(arr, i, is, iptr, p, `${text} ${n}`, ptr0);
        for (const c of [body, ...body.querySelectorAll('input,select,textarea')]) if (c.matches('input,select,textarea') && !c.getAttribute('aria-label')) c.setAttribute('aria-label', `${text} ${n}`);
      }
      el.appendChild(h('div', {class: 'item-body'}, h('div', {class: 'msgs', 'aria-live': 'polite'}), body));
      el.addEventListener('input', (e) => { if (e.target.dataset.path === p + '.name' || e.target.dataset.path === p + '.title' || e.target.dataset.path === p + '.label') summaryText.textContent = `${n}. ${name()}`; });
    };
    if (lazy) el.addEventListener('toggle', () => { if (el.open) fill(); });
    else fill();
    return el;
  }

  // enumSet renders an array of enum values as checkboxes.
  enumSet(obj, key, is, path, text, propPtr) {
    const arr = obj[key];
    const fs = h('div', {class: 'enumset', role: 'group', 'aria-label': text, id: id(), 'data-testid': 'in:' + path, 'data-path': path, 'data-schema': propPtr});
    for (const e of is.enum) {
      const cid = id();
      fs.appendChild(h('span', {class: 'check'}, h('input', {type: 'checkbox', id: cid, checked: arr.includes(e), 'data-testid': 'in:' + path + '=' + e,
        onchange: (ev) => {
          const at = arr.indexOf(e);
          if (ev.target.checked && at < 0) arr.push(e);
          if (!ev.target.checked && at >= 0) arr.splice(at, 1);
          this.changed(false);
        }}), h('label', {for: cid}, enumLabel(e))));
    }
    return fs;
  }

  // chips renders an array of strings or numbers: one chip per value and
  // an input that adds values (Enter, comma). In a code set, the input
  // searches the code system of its code list as the user types.
  chips(obj, key, is, path, text, propPtr) {
    const arr = obj[key];
    const numeric = is.type === 'number' || is.type === 'integer';
    const codeField = /code_lists\[\d+\]\.(include|exclude)\.(codes|prefixes)$/.test(path);
    const ref = REFS[key];
    const box = h('div', {class: 'chips'});
    const list = h('ul', {class: 'chip-list', 'aria-label': text});
    const lid = id();
    const inp = h('input', {id: lid, 'aria-label': text, 'data-testid': 'in:' + path, 'data-path': path, 'data-schema': propPtr, autocomplete: 'off',
      list: ref ? 'dl-' + ref : null, 'aria-autocomplete': codeField ? 'list' : null,
      placeholder: codeField ? t('editor.code_search') : t('editor.chip_add')});
    box.dataset.control = lid;
    box.id = id();
    const chip = (x, i) => h('li', {class: 'chip', 'data-path': item(path, i)}, String(x),
      h('span', {class: 'chip-desc'}),
      h('button', {type: 'button', class: 'remove', 'aria-label': t('editor.remove', String(x)), onclick: () => { arr.splice(i, 1); draw(); this.changed(true); inp.focus(); }}, '✕'));
    const system = () => { const m = path.match(/^code_lists\[(\d+)\]/); const cl = m && this.doc.code_lists[+m[1]]; return cl && cl.system; };
    const draw = () => {
      clear(list, arr.map(chip));
      // Short lists of codes show what each code means.
      if (codeField && arr.length <= 30 && system()) {
        [...list.children].forEach((li, i) => this.describe(system(), String(arr[i])).then((d) => {
          if (d) { li.title = d; li.querySelector('.chip-desc').textContent = d; }
        }));
      }
    };
    const addValues = (raw) => {
      const parts = raw.split(/[,;\s]+/).map((x) => x.trim()).filter(Boolean);
      for (const x of parts) {
        const val = numeric ? Number(x) : x;
        if (numeric && isNaN(val)) continue;
        if (!arr.includes(val)) arr.push(val);
      }
      if (parts.length) { draw(); this.changed(true); }
    };
    const sugg = h('ul', {class: 'suggestions', role: 'listbox', id: id(), hidden: true, 'aria-label': t('editor.suggestions')});
    let active = -1;
    let found = [];
    const choose = (c) => { addValues(c.code); inp.value = ''; sugg.hidden = true; found = []; };
    const showSugg = () => {
      clear(sugg, found.map((c, i) => h('li', {role: 'option', id: sugg.id + '-' + i, 'aria-selected': i === active ? 'true' : 'false', class: i === active ? 'active' : null,
        onmousedown: (e) => { e.preventDefault(); choose(c); }},
      h('strong', null, c.code), ' ', c.description,
      (c.valid_from || c.valid_to) ? h('span', {class: 'validity'}, ` ${c.valid_from || '…'} – ${c.valid_to || '…'}`) : null)));
      sugg.hidden = found.length === 0;
      inp.setAttribute('aria-activedescendant', active >= 0 ? sugg.id + '-' + active : '');
    };
    const search = debounce(async () => {
      const q = inp.value.trim();
      const m = path.match(/^code_lists\[(\d+)\]/);
      const cl = m && this.doc.code_lists[+m[1]];
      const system = cl && cl.system;
      if (!q || !system) { found = []; showSugg(); return; }
      try {
        const r = await get(`/codes?system=${encodeURIComponent(system)}&q=${encodeURIComponent(q)}&limit=20`);
        if (inp.value.trim() !== q) return;
        found = r.codes || []; active = -1; showSugg();
      } catch { found = []; showSugg(); }
    }, 150);
    inp.addEventListener('input', () => {
      if (/[,;]/.test(inp.value)) { addValues(inp.value); inp.value = ''; }
      if (codeField) search();
    });
    inp.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' && found.length) { e.preventDefault(); active = (active + 1) % found.length; showSugg(); }
      else if (e.key === 'ArrowUp' && found.length) { e.preventDefault(); active = (active - 1 + found.length) % found.length; showSugg(); }
      else if (e.key === 'Escape') { sugg.hidden = true; }
      else if (e.key === 'Enter') {
        e.preventDefault();
        if (active >= 0 && found[active]) choose(found[active]);
        else { addValues(inp.value); inp.value = ''; sugg.hidden = true; }
      } else if (e.key === 'Backspace' && inp.value === '' && arr.length) { arr.pop(); draw(); this.changed(true); }
    });
    inp.addEventListener('blur', () => { setTimeout(() => { sugg.hidden = true; }, 150); });
    draw();
    box.append(list, h('div', {class: 'chip-input'}, inp, sugg));
    return box;
  }

  // describe returns the description of a code (cached), or ''.
  describe(system, code) {
    this.descriptions = this.descriptions || new Map();
    const key = system + ' ' + code;
    if (!this.descriptions.has(key)) {
      this.descriptions.set(key, get(`/codes?system=${encodeURIComponent(system)}&q=${encodeURIComponent(code)}&limit=5`)
        .then((r) => { const c = (r.codes || []).find((x) => x.code.replace(/\./g, '') === code.replace(/\./g, '')); return c ? c.description : ''; })
        .catch(() => ''));
    }
    return this.descriptions.get(key);
  }

  // showIssues places each message next to the control its path names
  // (or the nearest enclosing one).
  showIssues(errors, warnings) {
    for (const m of this.root.querySelectorAll('.msgs > .msg')) m.remove();
    for (const c of this.root.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
    const place = (issue, cls) => {
      let p = issue.path || '';
      while (p) {
        const el = this.root.querySelector(`.field[data-path="${CSS.escape(p)}"], details.item[data-path="${CSS.escape(p)}"]`);
        if (el && el.offsetParent !== null) {
          const msgs = el.querySelector('.msgs');
          if (msgs) {
            msgs.appendChild(h('p', {class: 'msg ' + cls, 'data-testid': 'msg:' + issue.path}, issue.message));
            const ctl = el.querySelector('input,select,textarea');
            if (ctl && cls === 'error') ctl.setAttribute('aria-invalid', 'true');
            return true;
          }
        }
        p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
        if (p === issue.path) break;
      }
      return false;
    };
    for (const e of errors) place(e, 'error');
    for (const w of warnings) place(w, 'warning');
  }
}

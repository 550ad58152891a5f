// The application: sign-in, navigation and the pages, routed by the URL's
// hash (#/studies, #/studies/7, #/runs/3, #/runs/3/results, #/admin/data …).
import {h, clear, id, debounce} from './dom.js';
import {api, get, post, put, del, setCSRF, ApiError} from './api.js';
import {t, has, fmtDate, fmtNum, loadLanguages, language, setLanguage, LANGS} from './i18n.js';
import {Editor} from './editor.js';

const app = document.getElementById('app');
let me = null; // {user, csrf_token}
let leaveGuard = null; // returns true when the current page may be left
let cleanup = []; // run when the page changes (event streams, timers)
let generation = 0; // counts the pages shown, so that a page still loading knows it was left

function onLeave(f) { cleanup.push(f); }

async function start() {
  await loadLanguages();
  try { me = await get('/me'); setCSRF(me.csrf_token); } catch { me = null; }
  window.addEventListener('hashchange', route);
  window.addEventListener('beforeunload', (e) => { if (leaveGuard && !leaveGuard()) { e.preventDefault(); e.returnValue = ''; } });
  route();
}

let lastHash = location.hash;
function route() {
  if (leaveGuard && location.hash !== lastHash && !leaveGuard()) {
    if (!confirm(t('editor.leave_unsaved'))) { history.replaceState(null, '', lastHash || '#/'); return; }
  }
  lastHash = location.hash;
  leaveGuard = null;
  generation++;
  for (const f of cleanup) f();
  cleanup = [];
  if (!me) return renderLogin();
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [a, b, c] = parts;
  let page;
  if (!a || a === 'studies') page = b === 'new' ? editorPage(null) : b ? editorPage(+b) : studiesPage();
  else if (a === 'runs' && b && c === 'results') page = resultsPage(+b);
  else if (a === 'runs' && b && c === 'compare' && parts[3]) page = comparePage(+b, +parts[3]);
  else if (a === 'runs' && b) page = runPage(+b);
  else if (a === 'tokens') page = tokensPage();
  else if (a === 'admin' && me.user.role === 'admin') page = b === 'users' ? usersPage() : b === 'audit' ? auditPage() : dataPage();
  else page = notFound();
  shell(page);
}

function rerender() { lastHash = null; const g = leaveGuard; leaveGuard = null; route(); leaveGuard = g; }

// shell draws the header, navigation and the page's main element.
function shell(page) {
  const nav = [['#/studies', 'nav.studies', 'studies'], ['#/tokens', 'nav.tokens', 'tokens']];
  if (me.user.role === 'admin') nav.push(['#/admin/data', 'nav.data', 'data'], ['#/admin/users', 'nav.users', 'users'], ['#/admin/audit', 'nav.audit', 'audit']);
  const here = location.hash || '#/studies';
  const main = h('main', {id: 'main', tabindex: '-1'});
  clear(app,
    h('a', {class: 'skip', href: '#main', onclick: (e) => { e.preventDefault(); main.focus(); }}, t('nav.skip')),
    h('header', {class: 'top'},
      h('a', {class: 'brand', href: '#/studies'}, 'Beaver'),
      h('nav', {'aria-label': t('nav.main')}, h('ul', null, nav.map(([href, key, tid]) =>
        h('li', null, h('a', {href, 'data-testid': 'nav-' + tid, 'aria-current': here.startsWith(href) ? 'page' : null}, t(key)))))),
      h('span', {class: 'spacer'}),
      langSwitch(),
      h('span', {class: 'who', 'data-testid': 'who'}, `${me.user.username} · ${t('role.' + me.user.role)}`),
      h('button', {type: 'button', 'data-testid': 'logout', onclick: logout}, t('nav.logout'))),
    main);
  Promise.resolve(page).then((p) => { if (p) clear(main, p); }).catch((e) => clear(main, errorBox(e)));
}

function langSwitch() {
  const sid = id();
  const sel = h('select', {id: sid, 'data-testid': 'lang', onchange: () => { setLanguage(sel.value); rerender(); }},
    LANGS.map((l) => h('option', {value: l, selected: l === language()}, t('lang.' + l))));
  return h('span', {class: 'lang'}, h('label', {for: sid, class: 'sr-only'}, t('nav.language')), sel);
}

async function logout() {
  try { await del('/session'); } catch { /* already out */ }
  me = null; setCSRF(''); leaveGuard = null; location.hash = '#/';
  renderLogin();
}

function errorBox(e) {
  const msg = e instanceof ApiError ? e.message : String(e && e.message || e);
  return h('p', {class: 'error', role: 'alert', 'data-testid': 'error'}, msg);
}

function notFound() { return h('section', null, h('h1', null, t('page.not_found'))); }

// ---------------------------------------------------------------- sign-in

function renderLogin() {
  const err = h('p', {class: 'error', role: 'alert', 'data-testid': 'login-error'});
  const user = h('input', {id: 'username', name: 'username', autocomplete: 'username', required: true});
  const pass = h('input', {id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true});
  const form = h('form', {class: 'login', 'data-testid': 'login-form', onsubmit: async (e) => {
    e.preventDefault();
    try {
      me = await post('/session', {username: user.value, password: pass.value});
      setCSRF(me.csrf_token);
      if (!location.hash || location.hash === '#/') location.hash = '#/studies'; else rerender();
    } catch (ex) { err.textContent = ex.status === 401 ? t('login.failed') : ex.message; }
  }},
  h('h1', null, 'Beaver'),
  h('p', null, t('login.intro')),
  h('label', {for: 'username'}, t('login.username')), user,
  h('label', {for: 'password'}, t('login.password')), pass,
  h('button', {type: 'submit', class: 'primary', 'data-testid': 'login-submit'}, t('login.submit')), err);
  clear(app, h('main', {class: 'login-page'}, h('div', {class: 'login-lang'}, langSwitch()), form));
  user.focus();
}

// ---------------------------------------------------------------- studies

function progressBar(run, label) {
  const pct = run ? Math.round(run.percent || 0) : 0;
  return h('span', {class: 'progress'},
    h('progress', {max: '100', value: String(pct), 'aria-label': label, 'data-testid': 'progress'}),
    h('span', {class: 'pct'}, `${fmtNum(pct)}%`));
}

// followRun calls update with the run at every change: server-sent
// events, or polling every 2 s when they fail.
function followRun(runId, update) {
  let closed = false;
  let timer;
  const poll = async () => {
    if (closed) return;
    try {
      const r = await get('/runs/' + runId);
      update(r);
      if (r.state === 'queued' || r.state === 'running') timer = setTimeout(poll, 2000);
    } catch { timer = setTimeout(poll, 5000); }
  };
  let es = null;
  if (window.EventSource) {
    es = new EventSource('/api/v1/runs/' + runId + '/events');
    es.addEventListener('run', (e) => { try { update(JSON.parse(e.data)); } catch { /* ignore */ } });
    es.addEventListener('end', () => { es.close(); es = null; poll(); });
    es.onerror = () => { if (es) { es.close(); es = null; } if (!closed) poll(); };
  } else poll();
  const stop = () => { closed = true; clearTimeout(timer); if (es) es.close(); };
  onLeave(stop);
  return stop;
}

const live = (s) => s === 'queued' || s === 'running';

async function studiesPage() {
  const canRun = me.user.role !== 'viewer';
  const tbody = h('tbody');
  const total = h('p', {class: 'muted', 'aria-live': 'polite'});
  const qid = id();
  const search = h('input', {id: qid, type: 'search', 'data-testid': 'study-search', oninput: debounce(() => load(), 250)});
  const status = h('p', {class: 'status', role: 'status', 'data-testid': 'status'});
  const fileId = id();
  const file = h('input', {id: fileId, type: 'file', accept: 'application/json,.json', class: 'sr-only', 'data-testid': 'import-file', onchange: () => importFile(file.files[0])});
  async function importFile(f) {
    if (!f) return;
    try {
      const doc = JSON.parse(await f.text());
      const protocol = doc.protocol || doc;
      const st = await post('/studies', {name: doc.protocol ? doc.name : (protocol.title || protocol.name || f.name), description: doc.description || protocol.description || '', protocol});
      status.textContent = t('studies.imported', st.name);
      load();
    } catch (e) { status.textContent = t('studies.import_failed', e.message); }
    file.value = '';
  }
  async function load() {
    const q = search.value.trim();
    let r;
    try { r = await get('/studies?limit=200' + (q ? '&q=' + encodeURIComponent(q) : '')); } catch (e) { clear(tbody, h('tr', null, h('td', {colspan: '6'}, errorBox(e)))); return; }
    total.textContent = r.total === 1 ? t('studies.count_one') : t('studies.count', r.total);
    for (const f of streams) f();
    streams = [];
    clear(tbody, r.studies.length === 0 ? h('tr', null, h('td', {colspan: '6', class: 'muted'}, t('studies.none'))) : r.studies.map(row));
  }
  let streams = [];
  function row(s) {
    const runCell = h('td', {class: 'run-cell'});
    // The link stays the same element while the run changes, so that a
    // click during an update is not lost with a replaced node.
    const link = h('a', {'data-testid': 'run-state'});
    const after = h('span');
    const drawRun = (run) => {
      if (!run) { clear(runCell, h('span', {class: 'muted'}, t('studies.never_run'))); return; }
      link.href = `#/runs/${run.id}`;
      link.className = 'state state-' + run.state;
      link.textContent = stateLabel(run.state);
      clear(after, live(run.state) ? progressBar(run, t('run.progress_of', s.name)) : h('span', {class: 'muted'}, ' ' + fmtDate(run.finished_at || run.created_at)));
      if (link.parentNode !== runCell) clear(runCell, link, after);
    };
    drawRun(s.last_run);
    if (s.last_run && live(s.last_run.state)) streams.push(followRun(s.last_run.id, (r) => drawRun({...s.last_run, ...r})));
    const owner = s.access === 'owner';
    return h('tr', {'data-testid': 'study-row', 'data-id': String(s.id)},
      h('td', null, h('a', {href: `#/studies/${s.id}`, 'data-testid': 'open-study'}, s.name), s.description ? h('div', {class: 'muted small'}, s.description) : null),
      h('td', null, owner ? t('studies.mine') : t('studies.shared_by', s.owner)),
      h('td', null, fmtDate(s.updated_at), h('div', {class: 'muted small'}, t('studies.version_n', s.version))),
      runCell,
      h('td', {class: 'actions'},
        canRun ? h('button', {type: 'button', 'aria-label': t('studies.duplicate_of', s.name), 'data-testid': 'duplicate', onclick: () => duplicate(s)}, t('studies.duplicate')) : null,
        h('button', {type: 'button', 'aria-label': t('studies.export_of', s.name), 'data-testid': 'export', onclick: () => exportStudy(s)}, t('studies.export')),
        owner && canRun ? h('button', {type: 'button', 'aria-label': t('studies.share_of', s.name), 'data-testid': 'share', onclick: () => shareDialog(s)}, t('studies.share')) : null,
        owner && canRun ? h('button', {type: 'button', class: 'danger', 'aria-label': t('studies.delete_of', s.name), 'data-testid': 'delete', onclick: () => remove(s)}, t('studies.delete')) : null));
  }
  async function duplicate(s) {
    try {
      const full = await get('/studies/' + s.id);
      const st = await post('/studies', {name: t('studies.copy_of', full.name), description: full.description, protocol: full.protocol});
      status.textContent = t('studies.duplicated', st.name); load();
    } catch (e) { status.textContent = e.message; }
  }
  async function exportStudy(s) {
    const full = await get('/studies/' + s.id);
    const blob = new Blob([JSON.stringify(full.protocol, null, 2) + '\n'], {type: 'application/json'});
    const a = h('a', {href: URL.createObjectURL(blob), download: (full.protocol.name || 'study-' + s.id) + '.json'});
    document.body.appendChild(a); a.click(); a.remove();
  }
  async function remove(s) {
    if (!confirm(t('studies.confirm_delete', s.name))) return;
    try { await del('/studies/' + s.id); status.textContent = t('studies.deleted', s.name); load(); } catch (e) { status.textContent = e.message; }
  }
  function shareDialog(s) {
    const uid = id();
    const user = h('input', {id: uid, required: true, 'data-testid': 'share-user'});
    const msg = h('p', {role: 'status'});
    const list = h('ul');
    const refresh = async () => {
      try {
        const r = await get(`/studies/${s.id}/shares`);
        clear(list, (r.shares || []).map((x) => h('li', null, `${x.username} (${t('share.' + x.access)}) `,
          h('button', {type: 'button', 'aria-label': t('share.stop_for', x.username), onclick: async () => { await post(`/studies/${s.id}/share`, {username: x.username, access: 'none'}); refresh(); }}, t('share.stop')))));
      } catch (e) { clear(list, errorBox(e)); }
    };
    const dlg = h('dialog', {'aria-labelledby': uid + '-t', 'data-testid': 'share-dialog'},
      h('form', {method: 'dialog', onsubmit: async (e) => {
        e.preventDefault();
        try { await post(`/studies/${s.id}/share`, {username: user.value.trim(), access: 'read'}); msg.textContent = t('share.done', user.value.trim()); user.value = ''; refresh(); } catch (ex) { msg.textContent = ex.message; }
      }},
      h('h2', {id: uid + '-t'}, t('share.title', s.name)), list,
      h('label', {for: uid}, t('share.user')), user, msg,
      h('div', {class: 'buttons'}, h('button', {type: 'submit', 'data-testid': 'share-submit'}, t('share.submit')),
        h('button', {type: 'button', onclick: () => { dlg.close(); dlg.remove(); }}, t('common.close')))));
    document.body.appendChild(dlg); dlg.showModal(); refresh();
  }
  onLeave(() => { for (const f of streams) f(); });
  load();
  return h('section', {'aria-labelledby': 'studies-h'},
    h('div', {class: 'page-head'}, h('h1', {id: 'studies-h'}, t('studies.title')),
      canRun ? h('a', {class: 'button primary', href: '#/studies/new', 'data-testid': 'new-study'}, t('studies.new')) : null,
      canRun ? h('label', {for: fileId, class: 'button', 'data-testid': 'import', tabindex: '0', onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); file.click(); } }}, t('studies.import')) : null, canRun ? file : null),
    h('div', {class: 'toolbar'}, h('label', {for: qid}, t('studies.search')), search), status, total,
    h('table', {class: 'list', 'data-testid': 'studies'},
      h('thead', null, h('tr', null, ['studies.col_name', 'studies.col_owner', 'studies.col_updated', 'studies.col_run', 'studies.col_actions'].map((k) => h('th', {scope: 'col'}, t(k))))),
      tbody));
}

// ---------------------------------------------------------------- editor

let schemaCache = null;
async function protocolSchema() {
  if (!schemaCache) schemaCache = await (await fetch(document.querySelector('meta[name="protocol-schema"]').content)).json();
  return schemaCache;
}

function emptyProtocol() {
  return {version: 1, name: '', phases: {population: {accrual: {}}, index: {}}};
}

async function editorPage(studyId) {
  const gen = generation;
  const [schema, library] = await Promise.all([protocolSchema(), get('/codelists').catch(() => [])]);
  let study = studyId ? await get('/studies/' + studyId) : {name: '', description: '', protocol: emptyProtocol(), version: 0, access: 'owner'};
  const readOnly = study.access !== 'owner' || me.user.role === 'viewer';
  const libList = Array.isArray(library) ? library : (library.codelists || []);
  let saved = JSON.stringify(study.protocol) + '\n' + study.name + '\n' + study.description;
  let history = [JSON.stringify(study.protocol)];
  let future = [];
  let lastValid = null;
  const status = h('p', {class: 'status', role: 'status', 'data-testid': 'editor-status'});
  const issues = h('div', {class: 'issues', 'data-testid': 'issues'});
  const methods = h('div', {class: 'methods', 'data-testid': 'methods', lang: language()});
  const diagram = h('div', {class: 'diagram', 'data-testid': 'diagram'});
  const nid = id(), did = id();
  const nameIn = h('input', {id: nid, value: study.name, 'data-testid': 'study-name', disabled: readOnly, oninput: () => dirtyCheck()});
  const descIn = h('input', {id: did, value: study.description || '', 'data-testid': 'study-description', disabled: readOnly, oninput: () => dirtyCheck()});
  const saveBtn = h('button', {type: 'button', class: 'primary', 'data-testid': 'save', 'aria-keyshortcuts': 'Control+S', disabled: readOnly, onclick: () => save()}, t('editor.save'));
  const undoBtn = h('button', {type: 'button', 'data-testid': 'undo', 'aria-keyshortcuts': 'Control+Z', disabled: true, onclick: () => undo()}, t('editor.undo'));
  const redoBtn = h('button', {type: 'button', 'data-testid': 'redo', 'aria-keyshortcuts': 'Control+Y', disabled: true, onclick: () => redo()}, t('editor.redo'));
  const runBtn = h('button', {type: 'button', 'data-testid': 'run', disabled: readOnly || !studyId, onclick: () => runDialog()}, t('editor.run'));
  const versionsBtn = studyId ? h('button', {type: 'button', 'data-testid': 'versions', onclick: () => versionsDialog()}, t('editor.versions')) : null;
  const runsLink = studyId ? h('a', {href: '#', 'data-testid': 'runs-link', onclick: async (e) => { e.preventDefault(); const r = await get(`/studies/${studyId}/runs`); if (r.runs && r.runs.length) location.hash = `#/runs/${r.runs[0].id}`; else status.textContent = t('editor.no_runs'); }}, t('editor.last_run')) : null;

  const current = () => JSON.stringify(editor.doc) + '\n' + nameIn.value + '\n' + descIn.value;
  const dirty = () => current() !== saved;
  function dirtyCheck() { status.textContent = dirty() ? t('editor.unsaved') : t('editor.saved_v', study.version); }
  const snapshot = debounce(() => {
    const s = JSON.stringify(editor.doc);
    if (s !== history[history.length - 1]) { history.push(s); if (history.length > 200) history.shift(); future = []; }
    undoBtn.disabled = history.length < 2; redoBtn.disabled = future.length === 0;
    dirtyCheck();
  }, 400);
  const validate = debounce(async () => {
    const body = JSON.stringify(editor.doc);
    try {
      const r = await fetch('/api/v1/protocols/validate', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token}, body});
      const v = await r.json();
      if (body !== JSON.stringify(editor.doc)) return; // stale
      lastValid = v;
      editor.showIssues(v.errors || [], v.warnings || []);
      const list = [...(v.errors || []).map((x) => ['error', x]), ...(v.warnings || []).map((x) => ['warning', x])];
      clear(issues, h('h2', null, t('editor.checks')),
        list.length === 0 ? h('p', {class: 'ok', 'data-testid': 'valid'}, t('editor.valid')) :
          h('ul', null, list.map(([cls, x]) => h('li', {class: 'msg ' + cls},
            h('span', {class: 'badge'}, t('editor.' + cls)), ' ',
            x.path ? h('a', {href: '#', onclick: (e) => { e.preventDefault(); focusPath(x.path); }}, x.path) : null, ' ', x.message))));
      runBtn.disabled = readOnly || !studyId || (v.errors || []).length > 0;
      runBtn.title = (v.errors || []).length ? t('editor.fix_errors') : '';
      drawMethods();
      drawDiagram(body);
    } catch (e) { clear(issues, errorBox(e)); }
  }, 350);
  let methodsLang = language();
  function drawMethods() {
    const text = ((lastValid && lastValid.methods) || {})[methodsLang];
    clear(methods, h('div', {class: 'methods-head'}, h('h2', null, t('editor.methods')),
      h('span', {role: 'group', 'aria-label': t('editor.methods_language')}, LANGS.map((l) => h('button', {type: 'button', class: 'link', 'aria-pressed': String(l === methodsLang), 'data-testid': 'methods-' + l,
        onclick: () => { methodsLang = l; drawMethods(); }}, l.toUpperCase())))),
    text ? h('p', {lang: methodsLang}, text) : h('p', {class: 'muted'}, t('editor.methods_none')));
  }
  let diagramCtl = null;
  let diagramURL = null;
  async function drawDiagram(body) {
    if (diagramCtl) diagramCtl.abort();
    diagramCtl = new AbortController();
    try {
      const r = await fetch('/api/v1/protocols/diagram?lang=' + language(), {method: 'POST', credentials: 'same-origin', signal: diagramCtl.signal,
        headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token}, body});
      if (r.ok && (r.headers.get('Content-Type') || '').includes('svg')) {
        if (diagramURL) URL.revokeObjectURL(diagramURL);
        diagramURL = URL.createObjectURL(new Blob([await r.text()], {type: 'image/svg+xml'}));
        clear(diagram, h('h2', null, t('editor.diagram')), h('img', {src: diagramURL, alt: t('editor.diagram_alt'), class: 'svg', 'data-testid': 'diagram-svg'}));
      } else clear(diagram, h('h2', null, t('editor.diagram')), h('p', {class: 'muted placeholder', 'data-testid': 'diagram-placeholder'}, t('editor.diagram_unavailable')));
    } catch (e) { if (e.name !== 'AbortError') clear(diagram, h('h2', null, t('editor.diagram')), h('p', {class: 'muted'}, t('editor.diagram_unavailable'))); }
  }
  const editor = new Editor(schema, structuredClone(study.protocol), {library: libList, onChange: () => { snapshot(); validate(); undoBtn.disabled = false; status.textContent = t('editor.unsaved'); }});
  window.beaverEditor = editor; // for the browser tests' timing probes
  const form = h('div', {class: 'editor-main', inert: readOnly ? '' : null});
  function redraw() {
    clear(form, editor.render());
  }
  function focusPath(p) {
    const el = form.querySelector(`[data-path="${CSS.escape(p)}"]`);
    if (el) { let d = el.closest('details'); while (d) { d.open = true; d = d.parentElement.closest('details'); } el.scrollIntoView({block: 'center'}); const c = el.matches('input,select,textarea') ? el : el.querySelector('input,select,textarea,button'); if (c) c.focus(); }
  }
  function undo() {
    snapshot.flush();
    if (history.length < 2) return;
    future.push(history.pop());
    editor.doc = JSON.parse(history[history.length - 1]); redraw(); validate(); dirtyCheck();
    undoBtn.disabled = history.length < 2; redoBtn.disabled = future.length === 0;
  }
  function redo() {
    if (!future.length) return;
    const s = future.pop(); history.push(s);
    editor.doc = JSON.parse(s); redraw(); validate(); dirtyCheck();
    undoBtn.disabled = history.length < 2; redoBtn.disabled = future.length === 0;
  }
  async function save() {
    snapshot.flush();
    const name = nameIn.value.trim() || editor.doc.title || editor.doc.name || t('editor.untitled');
    const draft = {name, description: descIn.value, protocol: editor.doc};
    try {
      if (!study.id) {
        study = await post('/studies', draft);
        saved = current(); nameIn.value = study.name;
        status.textContent = t('editor.saved_v', study.version);
        leaveGuard = null; location.hash = `#/studies/${study.id}`;
        return;
      }
      study = await put('/studies/' + study.id, {...draft, version: study.version});
      nameIn.value = study.name;
      saved = current();
      status.textContent = t('editor.saved_v', study.version);
      status.dataset.saved = String(study.version);
    } catch (e) {
      if (e.status === 409) {
        if (confirm(t('editor.conflict'))) { leaveGuard = null; rerender(); }
        else status.textContent = t('editor.conflict_kept');
      } else if (e.body && e.body.error && e.body.error.details) {
        editor.showIssues(e.body.error.details, []);
        status.textContent = t('editor.save_invalid');
      } else status.textContent = e.message;
    }
  }
  async function versionsDialog() {
    const tid = id();
    const dlg = h('dialog', {'aria-labelledby': tid, 'data-testid': 'versions-dialog'});
    const close = () => { dlg.close(); dlg.remove(); };
    let list;
    try { list = (await get(`/studies/${study.id}/versions`)).versions || []; } catch (e) { status.textContent = e.message; return; }
    dlg.append(h('h2', {id: tid}, t('editor.versions')), h('p', {class: 'muted'}, t('editor.versions_intro')),
      h('table', {class: 'list'}, h('thead', null, h('tr', null, ['editor.version', 'editor.saved_by', 'editor.saved_at', 'users.actions'].map((k) => h('th', {scope: 'col'}, t(k))))),
        h('tbody', null, list.map((v) => h('tr', null, h('td', null, String(v.version)), h('td', null, v.saved_by || '–'), h('td', null, fmtDate(v.saved_at)),
          h('td', null, h('button', {type: 'button', 'data-testid': 'load-version:' + v.version, 'aria-label': t('editor.load_version', v.version),
            onclick: () => { editor.doc = structuredClone(v.protocol); redraw(); editor.changed(true); status.textContent = t('editor.loaded_version', v.version); close(); }}, t('editor.load'))))))),
      h('div', {class: 'buttons'}, h('button', {type: 'button', onclick: close}, t('common.close'))));
    document.body.appendChild(dlg); dlg.showModal();
  }
  function runDialog() {
    if (dirty()) { status.textContent = t('editor.save_first'); return; }
    const params = editor.doc.parameters || [];
    const inputs = {};
    const tid = id();
    const dlg = h('dialog', {'aria-labelledby': tid, 'data-testid': 'run-dialog'});
    const msg = h('p', {role: 'alert'});
    const fields = params.map((p) => {
      const pid = id();
      const input = p.values ? h('select', {id: pid, 'data-testid': 'runparam:' + p.name}, p.values.map((v) => h('option', {value: v, selected: String(p.default) === v}, v)))
        : h('input', {id: pid, 'data-testid': 'runparam:' + p.name, type: p.type === 'integer' ? 'number' : 'text', placeholder: p.type === 'date' ? t('editor.date_placeholder') : null,
          value: p.default !== undefined ? String(p.default) : '', min: p.min, max: p.max});
      inputs[p.name] = input;
      return h('div', {class: 'row'}, h('label', {for: pid}, p.title || p.name), input);
    });
    dlg.append(h('form', {onsubmit: async (e) => {
      e.preventDefault();
      const values = {};
      for (const [k, el] of Object.entries(inputs)) if (el.value !== '') values[k] = el.value;
      try {
        const r = await post(`/studies/${study.id}/runs`, {params: values});
        dlg.close(); dlg.remove();
        location.hash = `#/runs/${r.id}`;
      } catch (ex) { msg.textContent = ex.message; }
    }},
    h('h2', {id: tid}, t('run.dialog_title')),
    params.length ? fields : h('p', null, t('run.no_params')), msg,
    h('div', {class: 'buttons'}, h('button', {type: 'submit', class: 'primary', 'data-testid': 'run-submit'}, t('editor.run')),
      h('button', {type: 'button', onclick: () => { dlg.close(); dlg.remove(); }}, t('common.cancel')))));
    document.body.appendChild(dlg); dlg.showModal();
  }
  const keys = (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') { e.preventDefault(); if (!saveBtn.disabled) save(); return; }
    if (!(e.ctrlKey || e.metaKey) || e.target.matches('input[type=text],input:not([type]),textarea')) return;
    if (e.key === 'z' && !e.shiftKey) { e.preventDefault(); undo(); }
    if (e.key === 'y' || (e.key === 'z' && e.shiftKey)) { e.preventDefault(); redo(); }
  };
  document.addEventListener('keydown', keys);
  onLeave(() => { document.removeEventListener('keydown', keys); validate.cancel(); snapshot.cancel(); if (diagramCtl) diagramCtl.abort(); delete window.beaverEditor; });
  if (gen !== generation) return null; // left while loading
  leaveGuard = () => !dirty();
  redraw();
  validate();
  dirtyCheck();
  return h('section', {class: 'editor', 'aria-labelledby': 'ed-h'},
    h('div', {class: 'page-head sticky'},
      h('h1', {id: 'ed-h'}, study.id ? t('editor.title_edit') : t('editor.title_new')),
      h('div', {class: 'study-meta'}, h('label', {for: nid}, t('editor.study_name')), nameIn, h('label', {for: did}, t('editor.study_description')), descIn),
      h('div', {class: 'buttons'}, saveBtn, undoBtn, redoBtn, runBtn, versionsBtn, runsLink), status,
      readOnly ? h('p', {class: 'muted'}, t('editor.read_only')) : null),
    h('div', {class: 'editor-cols'}, form, h('aside', {class: 'side', 'aria-label': t('editor.side')}, issues, methods, diagram)));
}

// reasonLabel names a quarantine reason in the page's language, with its
// identifier (docs/flows.md lists them), or the identifier alone.
function reasonLabel(r) { return has('reason.' + r) ? `${t('reason.' + r)} (${r})` : r; }

// monthRanges writes months ("YYYY-MM", sorted) with runs of consecutive
// months as ranges: "2012-07, 2013-01 to 2013-05".
function monthRanges(months) {
  const n = (m) => 12 * Number(m.slice(0, 4)) + Number(m.slice(5, 7)) - 1;
  const out = [];
  for (let i = 0; i < months.length;) {
    let j = i;
    while (j + 1 < months.length && n(months[j + 1]) === n(months[j]) + 1) j++;
    out.push(j > i ? t('data.month_range', months[i], months[j]) : months[i]);
    i = j + 1;
  }
  return out.join(', ');
}

// outOfRange says a flow's dates out of range by kind, or that there are none.
function outOfRange(counts) {
  const all = Object.entries(counts || {});
  if (!all.length) return null;
  const some = all.filter(([, v]) => v > 0);
  if (!some.length) return h('p', {class: 'muted'}, t('data.impossible_dates_none'));
  return h('p', null, t('data.impossible_dates', some.map(([k, v]) => `${has('range.' + k) ? t('range.' + k) : k}: ${fmtNum(v)}`).join(', ')));
}

// ---------------------------------------------------------------- runs

// stateLabel names a run's, step's or import's state (an unknown one as it is).
function stateLabel(s) { return has('state.' + s) ? t('state.' + s) : String(s); }

function fmtDuration(sec) {
  if (sec === null || sec === undefined) return '–';
  sec = Math.round(sec);
  const m = Math.floor(sec / 60), s = sec % 60;
  return m ? t('time.min_sec', m, s) : t('time.sec', s);
}

async function runPage(runId) {
  let run = await get('/runs/' + runId);
  const study = await get('/studies/' + run.study_id).catch(() => null);
  const canRun = me.user.role !== 'viewer';
  const head = h('div');
  const body = h('div');
  const prov = h('div', {class: 'provenance', 'data-testid': 'provenance'});
  const status = h('p', {role: 'status'});
  // The buttons are made once and shown or hidden as the run changes: a
  // redraw at every event must not replace the button under the pointer.
  const cancelBtn = h('button', {type: 'button', class: 'danger', 'data-testid': 'cancel', onclick: async () => { try { draw(await post(`/runs/${runId}/cancel`)); } catch (e) { status.textContent = e.message; } }}, t('run.cancel'));
  const rerunBtn = h('button', {type: 'button', 'data-testid': 'rerun', onclick: async () => { try { const x = await post(`/studies/${run.study_id}/runs`, {params: {}}); location.hash = `#/runs/${x.id}`; } catch (e) { status.textContent = e.message; } }}, t('run.rerun'));
  const resultsLink = h('a', {class: 'button primary', href: `#/runs/${runId}/results`, 'data-testid': 'results-link'}, t('run.results'));
  const buttons = h('div', {class: 'buttons'}, cancelBtn, rerunBtn, resultsLink);
  const draw = (r) => {
    run = r;
    clear(head,
      h('p', null, h('span', {class: 'state state-' + r.state, 'data-testid': 'run-state'}, stateLabel(r.state)), ' ',
        progressBar(r, t('run.progress'))),
      h('dl', {class: 'facts'},
        h('dt', null, t('run.elapsed')), h('dd', null, fmtDuration(r.elapsed_seconds)),
        h('dt', null, t('run.eta')), h('dd', {'data-testid': 'eta'}, live(r.state) ? fmtDuration(r.eta_seconds) : '–'),
        h('dt', null, t('run.data_version')), h('dd', null, String(r.data_version || '–')),
        h('dt', null, t('run.study_version')), h('dd', {'data-testid': 'study-version'}, r.study_version ? String(r.study_version) : '–')),
      r.error ? h('p', {class: 'error', role: 'alert'}, r.error) : null);
    cancelBtn.hidden = !(live(r.state) && canRun);
    rerunBtn.hidden = !(!live(r.state) && canRun);
    resultsLink.hidden = r.state !== 'done';
    clear(body, h('h2', null, t('run.phases')),
      h('table', {class: 'list'}, h('thead', null, h('tr', null, h('th', {scope: 'col'}, t('run.phase')), h('th', {scope: 'col'}, t('run.steps')), h('th', {scope: 'col'}, t('run.progress')))),
        h('tbody', null, (r.phases || []).map((p) => h('tr', null, h('td', null, p.phase), h('td', null, `${p.done} / ${p.total}`),
          h('td', null, h('progress', {max: String(p.total || 1), value: String(p.done), 'aria-label': t('run.phase_progress', p.phase)})))))),
      h('details', null, h('summary', null, t('run.steps_detail', (r.steps || []).length)),
        h('table', {class: 'list small'}, h('thead', null, h('tr', null, ['run.step', 'run.partition', 'run.state', 'run.rows', 'run.time'].map((k) => h('th', {scope: 'col'}, t(k))))),
          h('tbody', null, (r.steps || []).map((s) => h('tr', null, h('td', null, s.name), h('td', null, String(s.partition)), h('td', null, stateLabel(s.state)),
            h('td', {class: 'num'}, s.rows !== undefined ? fmtNum(s.rows) : ''), h('td', {class: 'num'}, s.wall_ms !== undefined ? fmtNum(s.wall_ms / 1000, 2) + ' s' : '')))))));
    if (r.state === 'done') provenance();
  };
  let provDone = false;
  async function provenance() {
    if (provDone) return; provDone = true;
    try {
      const doc = await get(`/runs/${runId}/results`);
      clear(prov, h('h2', null, t('run.provenance')), h('dl', {class: 'facts'},
        h('dt', null, t('run.protocol_hash')), h('dd', null, h('code', null, doc.protocol_hash || '')),
        h('dt', null, t('run.data_version')), h('dd', null, String(doc.data_version)),
        h('dt', null, t('run.data_end')), h('dd', null, fmtDate(doc.data_end)),
        h('dt', null, t('run.software')), h('dd', null, doc.software_version || ''),
        h('dt', null, t('run.scope')), h('dd', null, doc.scope ? [].concat(doc.scope).join(', ') : t('run.scope_all'))));
    } catch { /* not ready */ }
  }
  draw(run);
  if (live(run.state)) followRun(runId, (r) => draw({...run, ...r}));
  const cmp = h('div', {class: 'toolbar'});
  get(`/studies/${run.study_id}/runs`).then((r) => {
    const others = (r.runs || []).filter((x) => x.id !== runId && x.state === 'done');
    if (!others.length) return;
    const cid = id();
    const sel = h('select', {id: cid, 'data-testid': 'compare-with'}, others.map((x) => h('option', {value: String(x.id)}, [t('run.title', x.id), x.study_version ? t('studies.version_n', x.study_version) : null, fmtDate(x.created_at)].filter(Boolean).join(' · '))));
    clear(cmp, h('label', {for: cid}, t('compare.with')), sel,
      h('button', {type: 'button', 'data-testid': 'compare', onclick: () => { location.hash = `#/runs/${runId}/compare/${sel.value}`; }}, t('compare.go')));
  }).catch(() => {});
  return h('section', {'aria-labelledby': 'run-h'},
    h('div', {class: 'page-head'}, h('h1', {id: 'run-h'}, t('run.title', runId)),
      study ? h('a', {href: `#/studies/${study.id}`}, study.name) : null),
    head, buttons, status, cmp, body, prov);
}

// ---------------------------------------------------------------- results

// attLabel writes an attrition line's label in the page's language from
// its key and arguments, as report/format.AttritionLabel does for the
// report: whole numbers as numbers, dates as dates. A criterion's line
// (no key), or a key this table lacks, keeps the document's text.
function attLabel(l) {
  const key = 'attrition.' + l.key;
  if (!l.key || !has(key)) return l.label;
  return t(key, ...(l.args || []).map((a) => (/^-?[0-9]+$/.test(a) ? fmtNum(Number(a)) : fmtDate(a))));
}

// A suppressed count shows as <k (the minimum cell count the document was
// served with: foot.k), starred to the note below the page.
function cnt(v, suppressed, foot) {
  if (v === null || v === undefined) { if (suppressed) { foot.used = true; return h('span', {class: 'suppressed', title: t('results.suppressed_note', foot.k || 5)}, '<' + (foot.k || 5), h('sup', null, '*')); } return '–'; }
  return fmtNum(v);
}
function ci(lo, hi, d) { return (lo === null || lo === undefined) && (hi === null || hi === undefined) ? '–' : `${est(lo, d)} – ${est(hi, d)}`; }
function est(x, d = 3) { return x === null || x === undefined ? '–' : fmtNum(x, d); }

function table(cols, rows, attrs = {}) {
  return h('table', Object.assign({class: 'list results'}, attrs), h('thead', null, h('tr', null, cols.map((c) => h('th', {scope: 'col'}, c)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c, i) => h(i === 0 ? 'th' : 'td', i === 0 ? {scope: 'row'} : {class: 'num'}, c))))));
}

async function chart(runId, name) {
  const box = h('div', {class: 'chart', 'data-testid': 'chart:' + name});
  try {
    const src = `/api/v1/runs/${runId}/charts/${encodeURIComponent(name)}.svg?lang=${language()}`;
    const r = await fetch(src, {credentials: 'same-origin'});
    if (r.ok) clear(box, h('img', {src, alt: t('results.chart_alt', name), class: 'svg', 'data-testid': 'chart-svg:' + name}));
    else clear(box, h('p', {class: 'muted placeholder'}, t('results.chart_unavailable')));
  } catch { clear(box, h('p', {class: 'muted placeholder'}, t('results.chart_unavailable'))); }
  return box;
}

function analysisView(runId, name, a, foot) {
  const r = a.result;
  const parts = [h('h2', {id: 'an-' + name}, `${name} · ${t('e.' + a.kind)}`)];
  if (a.error) parts.push(h('p', {class: 'error'}, a.error));
  if (r && r.stratify_by && Array.isArray(r.classes)) {
    // Stratified: one result per class, side by side.
    parts.push(h('p', {class: 'muted'}, t('results.stratified_by', r.stratify_by)),
      h('div', {class: 'strata'}, r.classes.map((c) => h('div', {class: 'stratum', 'data-testid': `stratum:${name}:${c.class}`},
        h('h3', null, `${r.stratify_by} = ${c.class}`, c.n !== undefined ? h('span', {class: 'muted'}, ` · ${t('results.n_col')} `, cnt(c.n, c.n === null, foot)) : null),
        c.error ? h('p', {class: 'error'}, c.error) : null,
        c.result ? resultView(a.kind, c.result, `${name}:${c.class}`, foot) : null))));
  } else if (r) {
    parts.push(resultView(a.kind, r, name, foot));
  }
  // The kinds the server draws a chart of (report.ChartSVG).
  if (['kaplan_meier', 'cox', 'logistic', 'rates'].includes(a.kind)) parts.push(h('div', {class: 'chart-slot', 'data-chart': name}));
  for (const w of a.warnings || []) parts.push(h('p', {class: 'msg warning'}, w));
  return h('section', {class: 'analysis', 'aria-labelledby': 'an-' + name, 'data-testid': 'analysis:' + name}, parts);
}

// resultView renders one result of an analysis of a kind.
function resultView(kind, r, name, foot) {
  if (kind === 'cox' || kind === 'logistic' || kind === 'linear') {
    const ratio = kind === 'cox' ? 'hr' : kind === 'logistic' ? 'or' : null;
    const coefs = r.coefficients || [];
    const head = h('p', {class: 'muted'}, r.n !== undefined ? [t('results.n_col') + ' ', cnt(r.n, r.suppressed, foot)] : null,
      r.events !== undefined ? [' · ' + t('results.events') + ' ', cnt(r.events, r.suppressed, foot)] : null,
      r.r_squared !== undefined && r.r_squared !== null ? ` · R² ${est(r.r_squared, 3)}` : null,
      r.horizon !== undefined ? ` · ${t('f.horizon')} ${fmtNum(r.horizon)}` : null);
    const tab = table([t('results.term'), t('results.coef'), t('results.se'), ratio ? t('results.' + ratio) : null, t('results.ci95'), t('results.p')].filter(Boolean),
      coefs.map((c) => [c.term, est(c.coef, 4), est(c.robust_se ?? c.se, 4),
        ...(ratio ? [h('span', {'data-testid': `ratio:${name}:${c.term}`}, est(c[ratio], 3)), ci(c[ratio + '_lower'], c[ratio + '_upper'], 3)]
          : [ci(c.lower, c.upper, 3)]), est(c.p, 4)]), {'data-testid': 'table:' + name});
    return h('div', null, head, tab);
  }
  if (kind === 'kaplan_meier') {
    return table([t('results.group'), t('results.n_col'), t('results.events'), t('results.median')],
      (r.groups || []).map((g) => [g.group ?? t('results.all'), cnt(g.n, g.suppressed, foot), cnt(g.events, g.suppressed, foot),
        g.median === null || g.median === undefined ? '–' : `${est(g.median, 0)} (${est(g.median_lower, 0)} – ${est(g.median_upper, 0)})`]), {'data-testid': 'table:' + name});
  }
  if (kind === 'rates') {
    const per = r.per || 1000;
    const adjusted = (r.groups || []).some((g) => g.adjusted !== null && g.adjusted !== undefined);
    return table([t('results.group'), t('results.events'), t('results.persontime'), t('results.rate_per', fmtNum(per)), t('results.ci95'),
      ...(adjusted ? [t('results.adjusted_rate'), t('results.ci95')] : []), t('results.rate_ratio'), t('results.ci95')],
    (r.groups || []).map((g) => [g.group ?? t('results.all'), cnt(g.events, g.suppressed || g.events === null, foot), est(g.persontime, 1),
      est(g.crude, 2), ci(g.crude_lower, g.crude_upper, 2),
      ...(adjusted ? [est(g.adjusted, 2), ci(g.adjusted_lower, g.adjusted_upper, 2)] : []),
      est(g.rate_ratio, 3), ci(g.rr_lower, g.rr_upper, 3)]), {'data-testid': 'table:' + name});
  }
  if (kind === 'descriptive') return descriptive(r, name, foot);
  if (kind === 'attrition') return table([t('results.step'), t('results.persons'), t('results.entries')], (Array.isArray(r) ? r : []).map((l) => [attLabel(l), cnt(l.persons, l.suppressed, foot), cnt(l.entries, l.suppressed, foot)]));
  return h('pre', null, JSON.stringify(r, null, 1));
}

// descriptive renders a descriptive table: one row per covariate (and
// level), one column per group, and the standardized mean differences.
function descriptive(r, name, foot) {
  const groups = r.groups || [];
  const smd = (v) => [].concat(v.smd ?? []).filter((x) => x !== null).map((x) => est(x, 3)).join(', ') || '–';
  const pct = (c) => (c.percent === null || c.percent === undefined ? '' : ` (${est(c.percent, 1)}%)`);
  const cell = (c) => {
    if (!c) return '';
    if (c.mean !== undefined) return `${est(c.mean, 1)} (${est(c.sd, 1)})`;
    const n = c.count !== undefined ? c.count : c.n;
    if (n === null || n === undefined) return cnt(null, c.suppressed || c.percent === null, foot);
    return [fmtNum(n), pct(c)].join('');
  };
  const rows = [];
  for (const v of r.variables || []) {
    const label = v.covariate || v.name;
    if (v.levels) {
      rows.push([h('strong', null, label), ...groups.map(() => ''), smd(v)]);
      for (const l of v.levels) rows.push([`\u2003${l.level}`, ...(l.groups || []).map(cell), '']);
    } else if (v.type === 'continuous') {
      rows.push([`${label}, ${t('results.mean_sd')}`, ...(v.groups || []).map(cell), smd(v)]);
    } else {
      rows.push([label, ...(v.groups || []).map((c) => (c.count !== undefined ? cell(c) : c.percent === null || c.percent === undefined ? cnt(null, true, foot) : `${est(c.percent, 1)}%`)), smd(v)]);
    }
  }
  if (!rows.length) return h('pre', null, JSON.stringify(r, null, 1));
  return table([t('results.variable'), ...groups.map((g) => `${g.group ?? g.name} (n = ${g.n ?? '<' + (foot.k || 5)})`), t('results.smd')], rows, {'data-testid': 'table:' + name});
}

async function resultsPage(runId) {
  const run = await get('/runs/' + runId);
  const doc = await get(`/runs/${runId}/results`);
  const foot = {used: false, k: doc.min_count || 5};
  const sections = [];
  sections.push(h('section', {class: 'analysis', 'aria-labelledby': 'att-h', 'data-testid': 'attrition'}, h('h2', {id: 'att-h'}, t('results.attrition')),
    table([t('results.step'), t('results.persons'), t('results.entries')], (doc.attrition || []).map((l) => [attLabel(l), cnt(l.persons, l.suppressed, foot), cnt(l.entries, l.suppressed, foot)]))));
  // In the protocol's order.
  const study = await get('/studies/' + run.study_id).catch(() => null);
  const order = ((study && study.protocol.phases.analyses) || []).map((a) => a.name);
  const names = Object.keys(doc.analyses || {}).sort((a, b) => (order.indexOf(a) + 1 || 1e9) - (order.indexOf(b) + 1 || 1e9));
  for (const name of names) if (doc.analyses[name].kind !== 'attrition') sections.push(analysisView(runId, name, doc.analyses[name], foot));
  const page = h('section', {'aria-labelledby': 'res-h', class: 'results-page'},
    h('div', {class: 'page-head'}, h('h1', {id: 'res-h'}, t('results.title', runId)),
      h('a', {href: `#/runs/${runId}`}, t('results.back_run')),
      h('div', {class: 'buttons'},
        h('a', {class: 'button', href: `/api/v1/runs/${runId}/results.csv`, download: `run-${runId}.csv`, 'data-testid': 'dl-csv'}, t('results.csv')),
        h('a', {class: 'button', href: `/api/v1/runs/${runId}/results.xlsx`, download: `run-${runId}.xlsx`, 'data-testid': 'dl-xlsx'}, t('results.xlsx')),
        h('a', {class: 'button', href: `/api/v1/runs/${runId}/results`, download: `run-${runId}.json`, 'data-testid': 'dl-json'}, t('results.json')),
        h('a', {class: 'button', href: `/api/v1/runs/${runId}/report.html?lang=${language()}`, target: '_blank', rel: 'noopener', 'data-testid': 'dl-html'}, t('results.report_html')),
        h('a', {class: 'button', href: `/api/v1/runs/${runId}/report.pdf?lang=${language()}`, download: `run-${runId}-${language()}.pdf`, 'data-testid': 'dl-pdf'}, t('results.report_pdf')))),
    h('p', {class: 'muted'}, t('results.provenance', doc.data_version, (doc.protocol_hash || '').slice(0, 12), doc.software_version || '', fmtDate(doc.data_end))),
    sections,
    (doc.warnings || []).length ? h('details', null, h('summary', null, t('results.warnings', doc.warnings.length)), h('ul', null, doc.warnings.map((w) => h('li', null, w)))) : null,
    foot.used ? h('p', {class: 'footnote', 'data-testid': 'suppressed-note'}, '* ' + t('results.suppressed_note', doc.min_count || 5)) : null);
  for (const slot of page.querySelectorAll('.chart-slot')) chart(runId, slot.dataset.chart).then((c) => slot.replaceWith(c));
  return page;
}

// ---------------------------------------------------------------- compare

// flatten lists a JSON value's leaves by path (phases.criteria[0].window.start).
function flatten(v, path = '', out = {}) {
  if (Array.isArray(v)) { if (!v.length) out[path] = '[]'; v.forEach((x, i) => flatten(x, `${path}[${i}]`, out)); }
  else if (v && typeof v === 'object') { if (!Object.keys(v).length) out[path] = '{}'; for (const [k, x] of Object.entries(v)) flatten(x, path ? `${path}.${k}` : k, out); }
  else out[path] = JSON.stringify(v);
  return out;
}

// keyResults lists a results document's key numbers by label.
function keyResults(doc) {
  const out = {};
  const att = doc.attrition || [];
  if (att.length) out[`${t('results.attrition')}: ${attLabel(att[att.length - 1])}`] = att[att.length - 1].persons;
  for (const [name, a] of Object.entries(doc.analyses || {})) {
    const r = a.result;
    if (!r) continue;
    for (const c of r.coefficients || []) {
      const ratio = a.kind === 'cox' ? 'hr' : a.kind === 'logistic' ? 'or' : null;
      out[`${name}: ${c.term}${ratio ? ' ' + t('results.' + ratio) : ''}`] = ratio ? c[ratio] : c.coef ?? c.estimate;
    }
    for (const g of a.kind === 'kaplan_meier' ? r.groups || [] : []) out[`${name}: ${g.group ?? t('results.all')}, ${t('results.median_days')}`] = g.median;
  }
  return out;
}

async function comparePage(a, b) {
  const [ra, rb] = await Promise.all([get('/runs/' + a), get('/runs/' + b)]);
  const [da, db] = await Promise.all([get(`/runs/${a}/results`), get(`/runs/${b}/results`)]);
  const versions = await get(`/studies/${ra.study_id}/versions`).catch(() => ({versions: []}));
  // The protocol each run used: the study version it recorded, or for a
  // run from before runs recorded it, the version saved last before it.
  const runs = await get(`/studies/${ra.study_id}/runs`).catch(() => ({runs: []}));
  const runOf = (id) => (runs.runs || []).find((x) => x.id === id) || {};
  const protocolOf = (id) => {
    const r = runOf(id);
    const all = versions.versions || [];
    if (r.study_version) return all.find((v) => v.version === r.study_version) || null;
    const vs = all.filter((v) => !r.created_at || new Date(v.saved_at) <= new Date(r.created_at)).sort((x, y) => new Date(y.saved_at) - new Date(x.saved_at));
    return vs.length ? vs[0] : null;
  };
  const va = protocolOf(a), vb = protocolOf(b);
  const rows = [];
  const fa = va && va.protocol ? flatten(va.protocol) : {}, fb = vb && vb.protocol ? flatten(vb.protocol) : {};
  for (const k of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) if (fa[k] !== fb[k]) rows.push([k, fa[k] ?? '–', fb[k] ?? '–']);
  const ka = keyResults(da), kb = keyResults(db);
  const fmt = (x) => (typeof x === 'number' ? (Number.isInteger(x) ? fmtNum(x) : est(x, 3)) : x === null || x === undefined ? '–' : String(x));
  return h('section', {'aria-labelledby': 'cmp-h'},
    h('h1', {id: 'cmp-h'}, t('compare.title', a, b)),
    table(['', t('run.title', a), t('run.title', b)], [
      [t('run.protocol_hash'), (da.protocol_hash || '').slice(0, 12), (db.protocol_hash || '').slice(0, 12)],
      [t('compare.study_version'), va ? String(va.version) : '–', vb ? String(vb.version) : '–'],
      [t('run.data_version'), String(da.data_version), String(db.data_version)],
      [t('run.data_end'), fmtDate(da.data_end), fmtDate(db.data_end)],
      [t('run.software'), da.software_version || '', db.software_version || '']], {'data-testid': 'compare-provenance'}),
    h('h2', null, t('compare.protocol')),
    rows.length ? table([t('compare.path'), t('run.title', a), t('run.title', b)], rows, {'data-testid': 'compare-protocol'}) : h('p', {class: 'muted'}, t('compare.same_protocol')),
    h('h2', null, t('compare.results')),
    table([t('compare.quantity'), t('run.title', a), t('run.title', b)], [...new Set([...Object.keys(ka), ...Object.keys(kb)])].map((k) => [k, fmt(ka[k]), fmt(kb[k])]), {'data-testid': 'compare-results'}));
}

// ---------------------------------------------------------------- admin

function objTable(rows, cols, testid) {
  return h('table', {class: 'list', 'data-testid': testid}, h('thead', null, h('tr', null, cols.map(([k]) => h('th', {scope: 'col'}, t(k))))),
    h('tbody', null, rows.map((r) => h('tr', null, cols.map(([, f]) => h('td', null, f(r)))))));
}

async function dataPage() {
  const status = h('p', {role: 'status', 'data-testid': 'upload-status'});
  const fid = id();
  const input = h('input', {id: fid, type: 'file', multiple: true, accept: '.csv,.parquet', class: 'sr-only', tabindex: '-1', 'data-testid': 'upload-input', onchange: () => upload(input.files)});
  const drop = h('div', {class: 'dropzone', 'data-testid': 'dropzone', tabindex: '0', role: 'button', 'aria-describedby': fid + '-hint',
    onkeydown: (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } },
    onclick: () => input.click(),
    ondragover: (e) => { e.preventDefault(); drop.classList.add('over'); },
    ondragleave: () => drop.classList.remove('over'),
    ondrop: (e) => { e.preventDefault(); drop.classList.remove('over'); upload(e.dataTransfer.files); }},
  h('p', {id: fid + '-hint'}, t('data.drop_hint'), ' ', h('label', {for: fid, class: 'button', onclick: (e) => e.stopPropagation()}, t('data.choose'))), input);
  const bar = h('progress', {max: '100', value: '0', hidden: true, 'aria-label': t('data.upload_progress')});
  const list = h('div');
  const detail = h('div', {'data-testid': 'import-detail'});
  const diag = h('div', {'data-testid': 'diagnostics'});
  function upload(files) {
    if (!files || !files.length) return;
    const fd = new FormData();
    for (const f of files) fd.append(f.name, f, f.name);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/imports');
    xhr.setRequestHeader('X-CSRF-Token', me.csrf_token);
    bar.hidden = false;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = String(Math.round(100 * e.loaded / e.total)); };
    xhr.onload = () => {
      bar.hidden = true;
      if (xhr.status === 202) { const r = JSON.parse(xhr.responseText); status.textContent = t('data.uploaded', r.id); load(); watch(r.id); }
      else { let m = xhr.statusText; try { m = JSON.parse(xhr.responseText).error.message; } catch { /* text */ } status.textContent = t('data.upload_failed', m); }
    };
    xhr.onerror = () => { bar.hidden = true; status.textContent = t('data.upload_failed', ''); };
    xhr.send(fd);
  }
  let watchTimer;
  async function watch(uid) {
    clearTimeout(watchTimer);
    try {
      const r = await get('/imports/' + uid);
      showImport(uid, r);
      const st = (r.import && r.import.state) || r.state;
      if (st === 'queued' || st === 'running' || !st) watchTimer = setTimeout(() => watch(uid), 1500);
      else { load(); loadDiag(); }
    } catch (e) { clear(detail, errorBox(e)); }
  }
  onLeave(() => clearTimeout(watchTimer));
  async function showImport(uid, r) {
    const imp = r.import || {};
    const reasons = Object.entries(r.rejected_by_reason || {});
    const parts = [h('h2', null, t('data.upload_n', uid)),
      h('p', null, h('span', {class: 'state', 'data-testid': 'import-state'}, stateLabel((imp.state || r.state || 'queued')))),
      imp.error || r.error ? h('p', {class: 'error'}, imp.error || r.error) : null,
      h('h3', null, t('data.quarantine')),
      reasons.length ? objTable(reasons, [['data.reason', (x) => reasonLabel(x[0])], ['data.rows', (x) => fmtNum(x[1])]], 'quarantine-counts') : h('p', {class: 'muted'}, t('data.no_refusals'))];
    if (reasons.length) {
      try {
        const q = await get(`/imports/${uid}/quarantine?limit=50`);
        const rows = q.rows || q.quarantine || q.items || [];
        if (rows.length) {
          const cols = Object.keys(rows[0]);
          parts.push(h('h3', null, t('data.refused_rows')), h('table', {class: 'list small', 'data-testid': 'quarantine-rows'},
            h('thead', null, h('tr', null, cols.map((c) => h('th', {scope: 'col'}, has('data.q_' + c) ? t('data.q_' + c) : c)))),
            h('tbody', null, rows.map((x) => h('tr', null, cols.map((c) => h('td', null, typeof x[c] === 'object' ? JSON.stringify(x[c]) : String(x[c] ?? ''))))))));
        }
      } catch { /* none */ }
    }
    clear(detail, parts);
  }
  async function load() {
    try {
      const r = await get('/imports');
      const ups = r.uploads || [];
      const hist = r.imports || r.history || [];
      clear(list, h('h2', null, t('data.uploads')),
        ups.length ? objTable(ups, [['data.id', (u) => h('button', {type: 'button', class: 'link', onclick: () => watch(u.id)}, '#' + u.id)],
          ['data.files', (u) => (u.files || []).join(', ')], ['data.state', (u) => stateLabel((u.state || (u.import && u.import.state) || 'queued'))],
          ['data.when', (u) => fmtDate(u.created_at || u.uploaded_at)]], 'uploads') : h('p', {class: 'muted'}, t('data.no_uploads')),
        h('h2', null, t('data.history')),
        hist.length ? objTable(hist, [['data.version', (x) => String(x.data_version ?? x.version ?? '')], ['data.state', (x) => stateLabel(x.state)],
          ['data.started_by', (x) => x.started_by || ''], ['data.when', (x) => fmtDate(x.started_at || x.created_at)],
          ['data.rows', (x) => fmtNum(x.rows_published ?? x.rows ?? null)]], 'imports') : h('p', {class: 'muted'}, t('data.no_imports')));
    } catch (e) { clear(list, errorBox(e)); }
  }
  async function loadDiag() {
    try {
      const d = await get('/data/diagnostics');
      const foot = {used: false, k: d.min_count || 5};
      clear(diag, h('h2', null, t('data.diagnostics', d.data_version)),
        h('img', {src: `/api/v1/data/diagnostics/rows.svg?version=${d.data_version}&lang=${language()}`, alt: t('data.rows_chart'), class: 'svg', 'data-testid': 'diag-rows'}),
        (d.flows || []).map((f) => h('section', {class: 'flow'}, h('h3', null, `${f.flow} · ${fmtNum(f.rows)} ${t('data.rows_word')}`),
          objTable(f.years || [], [['data.year', (y) => String(y.year)], ['data.rows', (y) => cnt(y.rows, true, foot)], ['data.persons', (y) => cnt(y.persons, true, foot)],
            ['data.yoy', (y) => (y.change_from_previous_year === null || y.change_from_previous_year === undefined ? '–' : est(100 * y.change_from_previous_year, 1) + '%')],
            ['data.z', (y) => est(y.robust_z, 2)]], 'years:' + f.flow),
          (f.empty_months || []).length ? h('p', null, t('data.empty_months', monthRanges(f.empty_months))) : null,
          outOfRange(f.dates_out_of_range),
          (f.codes || []).length ? objTable(f.codes, [['data.column', (c) => `${c.table}.${c.column}`], ['data.system', (c) => c.system], ['data.unknown', (c) => fmtNum(c.published_unknown)]], 'codes:' + f.flow) : null)),
        foot.used ? h('p', {class: 'footnote'}, '* ' + t('results.suppressed_note', foot.k)) : null);
    } catch (e) { clear(diag, h('h2', null, t('data.diagnostics', '')), h('p', {class: 'muted'}, e.status === 503 ? t('data.no_data') : e.message)); }
  }
  const areas = h('div', {'data-testid': 'areas'});
  async function loadAreas() {
    try {
      const r = await get('/areas');
      const foot = {used: false, k: r.min_count || 5};
      clear(areas, h('h2', null, t('data.areas')),
        objTable(r.areas || [], [['data.area', (a) => `${has('area.' + a.name) ? t('area.' + a.name) : (a.title || a.name)} (${a.name})`], ['data.persons', (a) => cnt(a.persons, a.suppressed, foot)]], 'areas-table'),
        foot.used ? h('p', {class: 'footnote'}, '* ' + t('results.suppressed_note', r.min_count || 5)) : null);
    } catch (e) { clear(areas, errorBox(e)); }
  }
  load(); loadDiag(); loadAreas();
  return h('section', {'aria-labelledby': 'data-h'}, h('h1', {id: 'data-h'}, t('data.title')), drop, bar, status, detail, list, areas, diag);
}

async function usersPage() {
  const r = await get('/users');
  const settings = await get('/settings').catch(() => null);
  const msg = h('p', {role: 'status', 'data-testid': 'users-status'});
  const uid = id(), pid = id(), rid = id();
  const name = h('input', {id: uid, required: true, 'data-testid': 'new-username'});
  const pass = h('input', {id: pid, type: 'password', required: true, autocomplete: 'new-password', 'data-testid': 'new-password'});
  const roles = ['analyst', 'viewer', 'admin'];
  const role = h('select', {id: rid, 'data-testid': 'new-role'}, roles.map((x) => h('option', {value: x}, t('role.' + x))));
  const patch = async (u, body) => { try { await api('PATCH', '/users/' + u.id, body); msg.textContent = t('users.saved', u.username); } catch (e) { msg.textContent = e.message; } };
  const kid = id();
  const k = settings ? h('input', {id: kid, type: 'number', min: '1', value: String(settings.min_count), 'data-testid': 'min-count'}) : null;
  return h('section', {'aria-labelledby': 'users-h'}, h('h1', {id: 'users-h'}, t('users.title')),
    objTable(r.users || [], [['users.name', (u) => u.username],
      ['users.role', (u) => { const sel = h('select', {'aria-label': t('users.role_of', u.username), 'data-testid': 'role:' + u.username, onchange: () => patch(u, {role: sel.value})},
        roles.map((x) => h('option', {value: x, selected: x === u.role}, t('role.' + x)))); return sel; }],
      ['users.scope', (u) => { const inp = h('input', {value: (u.scope || []).join(', '), placeholder: t('run.scope_all'), 'aria-label': t('users.scope_of', u.username), 'data-testid': 'scope:' + u.username,
        onchange: () => patch(u, {scope: inp.value.split(/[,\s]+/).filter(Boolean)})}); return inp; }],
      ['users.state', (u) => (u.disabled ? t('users.disabled') : t('users.active'))], ['users.created', (u) => fmtDate(u.created_at)],
      ['users.actions', (u) => h('button', {type: 'button', 'aria-label': t(u.disabled ? 'users.enable_of' : 'users.disable_of', u.username), onclick: async () => {
        try { await api('PATCH', '/users/' + u.id, {disabled: !u.disabled}); rerender(); } catch (e) { msg.textContent = e.message; }
      }}, t(u.disabled ? 'users.enable' : 'users.disable'))]], 'users'), msg,
    h('h2', null, t('users.add')),
    h('form', {class: 'inline', onsubmit: async (e) => { e.preventDefault(); try { await post('/users', {username: name.value, password: pass.value, role: role.value, scope: []}); rerender(); } catch (ex) { msg.textContent = ex.message; } }},
      h('label', {for: uid}, t('users.name')), name, h('label', {for: pid}, t('login.password')), pass, h('label', {for: rid}, t('users.role')), role,
      h('button', {type: 'submit'}, t('users.add'))),
    settings ? [h('h2', null, t('settings.title')),
      h('form', {class: 'inline', onsubmit: async (e) => { e.preventDefault(); try { await put('/settings', {...settings, min_count: parseInt(k.value, 10)}); msg.textContent = t('settings.saved'); } catch (ex) { msg.textContent = ex.message; } }},
        h('label', {for: kid}, t('settings.min_count')), k, h('button', {type: 'submit'}, t('settings.save')))] : null);
}

async function tokensPage() {
  const listBox = h('div');
  const drawList = async () => {
    const r = await get('/tokens');
    clear(listBox, objTable(r.tokens || [], [['tokens.name', (x) => x.name], ['tokens.created', (x) => fmtDate(x.created_at)], ['tokens.expires', (x) => (x.expires_at ? fmtDate(x.expires_at) : t('tokens.never'))],
      ['tokens.last_used', (x) => (x.last_used_at ? fmtDate(x.last_used_at) : '–')],
      ['users.actions', (x) => h('button', {type: 'button', class: 'danger', 'aria-label': t('tokens.revoke_of', x.name), onclick: async () => { try { await del('/tokens/' + x.id); drawList(); } catch (e) { msg.textContent = e.message; } }}, t('tokens.revoke'))]], 'tokens'));
  };
  const secret = h('div', {'aria-live': 'polite', 'data-testid': 'token-secret'});
  const nid = id(), eid = id();
  const name = h('input', {id: nid, required: true, 'data-testid': 'token-name'});
  const exp = h('input', {id: eid, placeholder: t('editor.date_placeholder'), pattern: '\\d{4}-\\d{2}-\\d{2}', 'data-testid': 'token-expires'});
  const msg = h('p', {role: 'status'});
  await drawList();
  return h('section', {'aria-labelledby': 'tok-h'}, h('h1', {id: 'tok-h'}, t('tokens.title')),
    h('p', {class: 'muted'}, t('tokens.intro')),
    listBox,
    h('h2', null, t('tokens.new')),
    h('form', {class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const c = await post('/tokens', {name: name.value, expires_at: exp.value ? exp.value + 'T00:00:00Z' : null});
        clear(secret, h('p', null, t('tokens.copy_now')), h('output', {class: 'secret', 'data-testid': 'token-value'}, c.token));
        name.value = ''; exp.value = ''; drawList();
      } catch (ex) { msg.textContent = ex.message; }
    }}, h('label', {for: nid}, t('tokens.name')), name, h('label', {for: eid}, t('tokens.expires')), exp, h('button', {type: 'submit', 'data-testid': 'token-create'}, t('tokens.create'))),
    secret, msg);
}

async function auditPage() {
  const r = await get('/audit?limit=200');
  const rows = Array.isArray(r) ? r : (r.entries || r.audit || r.events || []);
  return h('section', {'aria-labelledby': 'audit-h'}, h('h1', {id: 'audit-h'}, t('audit.title')),
    objTable(rows, [['audit.when', (x) => fmtDate(x.at)], ['audit.user', (x) => x.username || '–'], ['audit.action', (x) => x.action], ['audit.target', (x) => x.target || ''],
      ['audit.address', (x) => x.remote_ip || '']], 'audit'));
}

start();

// A tiny element builder: h('button', {class: 'x', onclick: f}, 'text', child).
// Attributes starting with "on" become listeners; null/false attributes
// and children are skipped. No innerHTML anywhere: text is always text.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'value' || k === 'checked' || k === 'open' || k === 'hidden' || k === 'disabled' || k === 'selected') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// clear removes every child of el and appends the given ones.
export function clear(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

let uid = 0;
// id returns a fresh element id, for label/for pairs.
export function id(prefix = 'f') { return prefix + '-' + (++uid); }

// debounce delays f until ms have passed without a call.
export function debounce(f, ms) {
  let t;
  const d = (...a) => { clearTimeout(t); t = setTimeout(() => f(...a), ms); };
  d.flush = (...a) => { clearTimeout(t); f(...a); };
  d.cancel = () => clearTimeout(t);
  return d;
}

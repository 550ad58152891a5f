// Messages in English and Italian, one table per language
// (i18n/en.json, i18n/it.json); the language is the browser's unless the
// user chose one, which is remembered.
const tables = {};
let lang = 'en';
export const LANGS = ['en', 'it'];

export async function loadLanguages() {
  for (const l of LANGS) {
    const url = document.querySelector(`meta[name="i18n-${l}"]`).content;
    tables[l] = await (await fetch(url)).json();
  }
  let chosen = localStorage.getItem('beaver.lang');
  if (!LANGS.includes(chosen)) {
    chosen = (navigator.languages || [navigator.language]).map((x) => String(x).slice(0, 2)).find((x) => LANGS.includes(x)) || 'en';
  }
  setLanguage(chosen, false);
}

export function language() { return lang; }

export function setLanguage(l, remember = true) {
  lang = l;
  document.documentElement.lang = l;
  if (remember) localStorage.setItem('beaver.lang', l);
}

// t returns the message for key with {0}, {1}… replaced. A missing key
// shows as ⟦key⟧ so that tests (and users) see it.
export function t(key, ...args) {
  const m = tables[lang] && tables[lang][key];
  if (m === undefined) return '⟦' + key + '⟧';
  return m.replace(/\{(\d)\}/g, (_, i) => String(args[+i]));
}

// has tells whether a key exists (for optional labels such as enum values).
export function has(key) { return !!(tables[lang] && tables[lang][key] !== undefined); }

const locales = {en: 'en-GB', it: 'it-IT'};
export function fmtDate(s) {
  if (!s) return '';
  const d = new Date(s.length === 10 ? s + 'T00:00:00Z' : s);
  if (isNaN(d)) return s;
  return s.length === 10
    ? d.toLocaleDateString(locales[lang], {timeZone: 'UTC'})
    : d.toLocaleString(locales[lang], {dateStyle: 'medium', timeStyle: 'short'});
}
export function fmtNum(x, digits) {
  if (x === null || x === undefined) return '';
  if (typeof x !== 'number') return String(x);
  // Grouping always, as the reports write numbers (report/format): Italian
  // CLDR would leave four-digit numbers ungrouped (3099 beside 12.345).
  const o = digits === undefined ? {maximumFractionDigits: 3} : {minimumFractionDigits: digits, maximumFractionDigits: digits};
  o.useGrouping = 'always';
  return x.toLocaleString(locales[lang], o);
}

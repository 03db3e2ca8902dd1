// Message catalogues (served as JSON from /i18n/<lang>.json) and locale formatting.
// Every text a person sees goes through t(); numbers, dates and times through Intl.

const SUPPORTED = ["zh-CN", "en"];
let catalogue = {};
let fallback = {};
let lang = "zh-CN";

export function language() {
  return lang;
}

/** The language: ?lang= override, else the meeting's, else the browser's. */
export function pick(meetingLanguage) {
  const asked = new URLSearchParams(location.search).get("lang");
  for (const candidate of [asked, meetingLanguage, navigator.language]) {
    if (!candidate) continue;
    const hit = SUPPORTED.find((l) => l.toLowerCase() === candidate.toLowerCase())
      || SUPPORTED.find((l) => l.slice(0, 2) === candidate.slice(0, 2).toLowerCase());
    if (hit) return hit;
  }
  return "zh-CN";
}

async function fetchCatalogue(which) {
  const res = await fetch(`/i18n/${which}.json`);
  if (!res.ok) throw new Error(`catalogue ${which}: HTTP ${res.status}`);
  return res.json();
}

export async function load(which) {
  if (which === lang && Object.keys(catalogue).length) return false;
  const [main, en] = await Promise.all([fetchCatalogue(which), which === "en" ? null : fetchCatalogue("en")]);
  catalogue = main;
  fallback = en || main;
  lang = which;
  document.documentElement.lang = which;
  return true;
}

/** A message by key, with {name} placeholders filled (numbers formatted for the locale). */
export function t(key, params = {}) {
  let text = catalogue[key] ?? fallback[key];
  if (text === undefined) {
    console.warn(`missing message ${key}`);
    text = key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => {
    const value = params[name];
    if (value === undefined || value === null) return "";
    return typeof value === "number" ? num(value) : String(value);
  });
}

/** A message that may be absent: the key's text, or the fallback given. */
export function tOr(key, otherwise, params = {}) {
  return catalogue[key] !== undefined || fallback[key] !== undefined ? t(key, params) : otherwise;
}

/** Parts joined by the language's separator (`sep.<kind>`: list 、/, · items ；/; · dot · plus). */
export function joined(parts, kind = "list") {
  return parts.filter((p) => p !== "" && p !== null && p !== undefined).join(t(`sep.${kind}`));
}

/** "label：value" / "label: value" — punctuation from the catalogue, never from code. */
export function pair(label, value) {
  return t("format.pair", { label, value });
}

/** "text（note）" / "text (note)". */
export function paren(text, note) {
  return t("format.paren", { text, note });
}

export function num(value, options = {}) {
  return new Intl.NumberFormat(lang, options).format(value);
}

export function percent(value, digits = 1) {
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: digits }).format(value);
}

export function date(isoDate) {
  if (!isoDate) return "";
  const d = new Date(`${isoDate}T12:00:00`);
  if (Number.isNaN(d.getTime())) return isoDate;
  return new Intl.DateTimeFormat(lang, { dateStyle: "long" }).format(d);
}

export function time(epochSeconds) {
  if (!epochSeconds) return "";
  return new Intl.DateTimeFormat(lang, { timeStyle: "medium" }).format(new Date(epochSeconds * 1000));
}

/** m:ss for a countdown (locale digits). */
export function clockText(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const m = Math.floor(s / 60);
  return `${num(m)}:${num(s % 60, { minimumIntegerDigits: 2 })}`;
}

/** Fill data-i18n (text), data-i18n-label (aria-label) and data-i18n-placeholder in a subtree. */
export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) document.title = t(el.dataset.i18nTitle);
}

/** A server error code as a person reads it. */
export function errorText(err) {
  const code = err && err.code ? err.code : "internal";
  return tOr(`error.${code}`, t("error.unknown", { code }));
}

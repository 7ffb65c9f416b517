// French and English: messages from i18n/<lang>.json, numbers and money through Intl.
// The language comes from the browser unless the user picked one (kept in localStorage).

const SUPPORTED = ["fr", "en"];
const LOCALES = { fr: "fr-FR", en: "en-GB" };
let lang = "en";
let messages = {};
let listeners = [];

export function currentLang() { return lang; }
export function locale() { return LOCALES[lang]; }
export function onLangChange(listener) { listeners.push(listener); }

function preferred() {
  const saved = localStorage.getItem("bt-lang");
  if (SUPPORTED.includes(saved)) return saved;
  const browser = (navigator.languages || [navigator.language || "en"]).map((l) => l.slice(0, 2).toLowerCase());
  return browser.find((l) => SUPPORTED.includes(l)) || "en";
}

export async function setLang(next, staticBase) {
  const response = await fetch(`${staticBase}i18n/${next}.json`);
  messages = await response.json();
  lang = next;
  document.documentElement.lang = next;
  localStorage.setItem("bt-lang", next);
  listeners.forEach((l) => l(next));
}

export async function initI18n(staticBase) {
  await setLang(preferred(), staticBase);
}

export function otherLang() { return lang === "fr" ? "en" : "fr"; }

/** The message for key, with {name} placeholders filled from vars. */
export function t(key, vars = {}) {
  const template = messages[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

const pluralRules = new Map();

/**
 * A message that depends on a count: `key.one`, `key.other` (and `key.many`, ...) chosen by
 * Intl.PluralRules, so no screen writes "vente(s)". `n` is also passed as {n}, formatted.
 */
export function tn(key, n, vars = {}) {
  if (!pluralRules.has(lang)) pluralRules.set(lang, new Intl.PluralRules(locale()));
  const category = pluralRules.get(lang).select(n);
  const chosen = messages[`${key}.${category}`] !== undefined ? `${key}.${category}` : `${key}.other`;
  return t(chosen, { n: number(n), ...vars });
}

const moneyFormats = new Map();
function moneyFormat(currency) {
  const key = `${lang}:${currency}`;
  if (!moneyFormats.has(key)) {
    moneyFormats.set(key, new Intl.NumberFormat(locale(), { style: "currency", currency }));
  }
  return moneyFormats.get(key);
}

/** Decimals of a currency's minor unit (XOF 0, EUR 2), as Intl knows them. */
export function currencyDecimals(currency) {
  return moneyFormat(currency).resolvedOptions().maximumFractionDigits;
}

/** An integer amount in minor units, formatted (1500 XOF -> "1 500 F CFA", 250 EUR -> "2,50 €"). */
export function money(minor, currency) {
  if (minor === null || minor === undefined) return "—";
  return moneyFormat(currency).format(minor / 10 ** currencyDecimals(currency));
}

/** A typed amount ("2,50" or "2.50") back to minor units; NaN when it is not a number. */
export function parseMoney(text, currency) {
  const value = Number(String(text).trim().replace(/\s/g, "").replace(",", "."));
  return Math.round(value * 10 ** currencyDecimals(currency));
}

export function number(n) { return new Intl.NumberFormat(locale()).format(n); }

export function dateTime(iso) {
  return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "short" }).format(new Date(iso));
}

// Every string the console shows comes from a catalogue (i18n/pt-BR.js, i18n/en.js) through
// `t`. pt-BR is the default; the user's choice is remembered in this browser.
import ptBR from "../../i18n/pt-BR.js";
import en from "../../i18n/en.js";
import { store } from "./store.js";

const catalogues = { "pt-BR": ptBR, en };
export const LOCALES = [
  { tag: "pt-BR", name: "Português (Brasil)" },
  { tag: "en", name: "English" },
];
const KEY = "atende.locale";

function initial() {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved && catalogues[saved]) return saved;
  } catch {
    // Storage refused (private mode): the default then.
  }
  return "pt-BR";
}

export const locale = store(initial());

export function setLocale(tag) {
  if (!catalogues[tag]) return;
  try {
    localStorage.setItem(KEY, tag);
  } catch {
    // Not remembered, but still switched.
  }
  document.documentElement.lang = tag;
  locale.set(tag);
}

document.documentElement.lang = locale.get();

/// The message `key` in the current language, `{name}` placeholders filled from `vars`.
/// A key missing from the catalogue shows as itself, so a gap is visible, not blank.
export function t(key, vars) {
  const text = catalogues[locale.get()][key] ?? catalogues["pt-BR"][key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/// "há 5 min" / "5 min ago", from an ISO time or Date, relative to `now`.
export function relativeTime(at, now = Date.now()) {
  const seconds = Math.round((new Date(at).getTime() - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(locale.get(), { numeric: "auto", style: "short" });
  const abs = Math.abs(seconds);
  if (abs < 45) return t("time.now");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  if (abs < 86400 * 30) return rtf.format(Math.round(seconds / 86400), "day");
  return dateTime(at);
}

/// A full local date and time, for titles and tooltips.
export function dateTime(at) {
  return new Intl.DateTimeFormat(locale.get(), { dateStyle: "short", timeStyle: "short" }).format(
    new Date(at),
  );
}

/// A duration in hours and minutes ("5 h 20 min").
export function duration(ms) {
  const minutes = Math.max(0, Math.round(ms / 60000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? t("time.hours_minutes", { h, m }) : t("time.minutes", { m });
}

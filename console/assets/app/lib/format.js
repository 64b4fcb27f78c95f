// Numbers as people read them, in the console's language: money, counts, percentages and
// durations.
import { locale, t } from "./i18n.js";

/// The day before `YYYY-MM-DD` (the last day of a period whose end is excluded).
export function dayBefore(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d - 1));
  return date.toISOString().slice(0, 10);
}

/// "R$ 99,00" / "US$ 12.50" from minor units and an ISO currency code.
export function money(cents, currency) {
  return new Intl.NumberFormat(locale.get(), {
    style: "currency",
    currency: (currency || "brl").toUpperCase(),
  }).format(cents / 100);
}

/// "US$ 0,0123": small cost estimates keep their cents' fractions.
export function usd(amount) {
  // Sums of floating-point costs can come back as -0 or a hair below it.
  if (Math.abs(amount) < 0.00005) amount = 0;
  return new Intl.NumberFormat(locale.get(), {
    style: "currency",
    currency: "USD",
    maximumFractionDigits: amount < 1 ? 4 : 2,
  }).format(amount);
}

/// "12.345" / "12,345".
export function count(n) {
  return new Intl.NumberFormat(locale.get()).format(n);
}

/// "42 %" from 0.42.
export function percent(ratio, digits = 0) {
  return new Intl.NumberFormat(locale.get(), {
    style: "percent",
    maximumFractionDigits: digits,
  }).format(ratio);
}

/// "45 s", "3 min", "2 h 5 min" from seconds; "—" for none.
export function seconds(s) {
  if (s === null || s === undefined) return "—";
  if (s < 60) return t("time.seconds", { s: Math.round(s) });
  const minutes = Math.round(s / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return h > 0 ? t("time.hours_minutes", { h, m }) : t("time.minutes", { m });
}

/// A calendar day ("7 de dez." / "Dec 7") from `YYYY-MM-DD`, read as that day, not as UTC
/// midnight shifted into the browser's zone.
export function day(iso, style = { day: "numeric", month: "short" }) {
  const [y, m, d] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat(locale.get(), style).format(new Date(y, m - 1, d));
}

/// Whether `text` is a UUID (what tenant and aggregate ids are).
export function isUuid(text) {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text);
}

// Pieces the auditor's pages share: filters kept in the address, cursor paging with a way
// back, times as `datetime-local` values, and stored JSON shown with its personal fields
// sealed (the API never decrypts them for auditors, and neither does this page).
import { html, useEffect, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { navigate } from "../lib/router.js";

/// An ISO instant as a `datetime-local` value in this browser's zone ("" for none).
export function toLocalInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/// A `datetime-local` value as an ISO instant ("" for none).
export function fromLocalInput(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/// `path?…` with the non-empty `values` as its query string.
export function withQuery(path, values) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  const s = q.toString();
  return path + (s ? "?" + s : "");
}

/// The filters named by `keys`, as the address holds them: `{values, draft, setDraft, apply,
/// clear}`. The draft is what the form shows; applying moves it into the address, so a
/// filtered view can be bookmarked and the back button undoes a filter.
export function useFilters(keys, query) {
  const values = Object.fromEntries(keys.map((k) => [k, query.get(k) || ""]));
  const key = JSON.stringify(values);
  const [draft, setDraft] = useState(values);
  useEffect(() => setDraft(values), [key]);
  const apply = (event) => {
    if (event) event.preventDefault();
    navigate(withQuery(location.pathname, draft));
  };
  const clear = () => navigate(location.pathname);
  return { values, key, draft, setDraft, apply, clear };
}

/// Cursor paging with a way back: `{cursor, page, next, previous}`; back to the first page
/// whenever `reset` changes (new filters).
export function useCursorPages(reset) {
  const [stack, setStack] = useState([null]);
  useEffect(() => setStack([null]), [reset]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length,
    next: (cursor) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
  };
}

/// "Página N" with previous and next buttons.
export function Pager({ pages, nextCursor, label }) {
  if (pages.page === 1 && !nextCursor) return null;
  return html`<nav class="pager" aria-label=${label}>
    <button type="button" id="page-previous" disabled=${pages.page === 1} onClick=${pages.previous}>
      ${t("audit.previous")}
    </button>
    <span class="muted small" aria-live="polite">${t("audit.page", { n: pages.page })}</span>
    <button type="button" id="page-next" disabled=${!nextCursor} onClick=${() => pages.next(nextCursor)}>
      ${t("audit.next")}
    </button>
  </nav>`;
}

/// Whether `v` is a sealed personal field as stored: `{"$pii": "…"}`.
export function isSealed(v) {
  return !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "$pii" in v;
}

/// How many sealed fields `v` holds.
export function sealedCount(v) {
  if (isSealed(v)) return 1;
  if (v && typeof v === "object") return Object.values(v).reduce((n, x) => n + sealedCount(x), 0);
  return 0;
}

const pad = (depth) => "  ".repeat(depth);

/// Appends `v` to `out` as indented JSON (strings, and marks for sealed fields: a sealed
/// field shows as "sealed", never as its ciphertext). Built as values, not template text:
/// htm trims the newlines a template's own text holds.
function render(v, depth, out) {
  if (isSealed(v)) {
    out.push(html`<span class="sealed">${t("audit.sealed")}</span>`);
  } else if (Array.isArray(v) && v.length > 0) {
    out.push("[\n");
    v.forEach((x, i) => {
      out.push(pad(depth + 1));
      render(x, depth + 1, out);
      out.push(i < v.length - 1 ? ",\n" : "\n");
    });
    out.push(pad(depth) + "]");
  } else if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
    const entries = Object.entries(v);
    out.push("{\n");
    entries.forEach(([k, x], i) => {
      out.push(pad(depth + 1));
      out.push(html`<span class="json-key">${JSON.stringify(k)}</span>`);
      out.push(": ");
      render(x, depth + 1, out);
      out.push(i < entries.length - 1 ? ",\n" : "\n");
    });
    out.push(pad(depth) + "}");
  } else {
    out.push(JSON.stringify(v));
  }
  return out;
}

/// Stored JSON with its personal fields sealed.
export function SealedJson({ value }) {
  return html`<pre class="json">${render(value, 0, [])}</pre>`;
}

/// `t(prefix + value)`, or `value` as stored when the catalogue has no word for it (a kind
/// added to the API after this console was written).
export function named(prefix, value) {
  const key = prefix + value;
  const text = t(key);
  return text === key ? value : text;
}

/// Who acted, in words: an actor kind of the events (`admin`, `system`…) or a caller's role
/// (`owner`, `auditor`…).
export function actorKind(kind) {
  return kind ? named("audit.actor_kind.", kind) : "";
}

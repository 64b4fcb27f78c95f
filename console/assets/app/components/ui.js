// Pieces the tenant pages share: loading a resource from the API, the page heading, a
// status line, and bars drawn in SVG (the CSP allows no inline styles, so widths are SVG
// attributes, and colours come from the stylesheet).
import { html, useCallback, useEffect, useRef, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { api } from "../lib/session.js";

/// `{data, error, loading, reload, setData}` for `GET path`; `path` null loads nothing.
export function useApi(path) {
  const [state, setState] = useState({ data: null, error: null, loading: !!path });
  // The path whose answer the state may take: a slower answer for a path left behind (a
  // filter changed meanwhile) must not overwrite the newer one.
  const latest = useRef(path);
  latest.current = path;
  const reload = useCallback(async () => {
    if (!path) return null;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await api(path);
      if (latest.current === path) setState({ data, error: null, loading: false });
      return data;
    } catch (e) {
      if (latest.current === path) setState((s) => ({ ...s, error: errorMessage(e), loading: false }));
      return null;
    }
  }, [path]);
  useEffect(() => {
    reload();
  }, [reload]);
  const setData = (data) => setState((s) => ({ ...s, data: typeof data === "function" ? data(s.data) : data }));
  return { ...state, reload, setData };
}

/// The API's message for a failed call, or a generic one when the server was not reached.
export function errorMessage(e) {
  if (e && e.status && e.message) return e.message;
  return t("common.network_error");
}

/// The page's title and lead, with room for actions on the right.
export function PageHead({ title, lead, children }) {
  return html`<header class="page-head">
    <div>
      <h1 id="page-title">${title}</h1>
      ${lead && html`<p class="muted lead">${lead}</p>`}
    </div>
    ${children && html`<div class="page-actions">${children}</div>`}
  </header>`;
}

/// Loading and failure, as the first thing a page shows while it has no data.
export function Loading({ error, onRetry }) {
  if (error) {
    return html`<div class="error-box" role="alert">
      <p class="error">${error}</p>
      ${onRetry && html`<button type="button" onClick=${onRetry}>${t("common.retry")}</button>`}
    </div>`;
  }
  return html`<p class="muted" role="status">${t("common.loading")}</p>`;
}

/// The result of an action: a success or an error line, announced to screen readers.
export function Notice({ notice }) {
  if (!notice) return null;
  return html`<p class=${notice.ok ? "success" : "error"} role=${notice.ok ? "status" : "alert"}>
    ${notice.text}
  </p>`;
}

/// A horizontal bar of `value` in 0..=1 (clamped), with an optional marker at `mark`
/// (the threshold); `tone` picks its colour class. The label names it for assistive
/// technology, which reads it as a meter.
export function Bar({ value, mark, tone = "accent", label, id }) {
  const v = Math.max(0, Math.min(1, value || 0));
  const pct = (x) => `${(Math.max(0, Math.min(1, x)) * 100).toFixed(2)}%`;
  return html`<svg class=${"bar " + tone} id=${id} role="meter" aria-label=${label}
    aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round((value || 0) * 100)}
    width="100%" height="18">
    <rect class="bar-track" x="0" y="3" width="100%" height="12" rx="6" />
    ${v > 0 && html`<rect class="bar-fill" x="0" y="3" width=${pct(v)} height="12" rx="6" />`}
    ${mark !== undefined && mark !== null &&
    html`<rect class="bar-mark" x=${pct(mark)} y="0" width="4" height="18" />`}
  </svg>`;
}

// A password the API shows this once (a new tenant's owner, a new platform user), focused
// when it appears so a screen reader reads it; `ids` keeps each page's element ids.
export function PasswordOnce({ ids, title, warning, lead, password, what, saved, onClose, children }) {
  const [copied, setCopied] = useState(false);
  const box = useRef(null);
  useEffect(() => box.current && box.current.focus(), []);
  async function copy() {
    try {
      await navigator.clipboard.writeText(password);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin): the password is selectable on the page.
    }
  }
  return html`<section class="card stack once" id=${ids.box} tabindex="-1" ref=${box}
    aria-labelledby=${ids.box + "-title"}>
    <h2 id=${ids.box + "-title"}>${title}</h2>
    <p class="notice warn" id=${ids.warning}><strong>${warning}</strong></p>
    <p>${lead}</p>
    <div class="copy-row">
      <code id=${ids.password} aria-describedby=${ids.warning}>${password}</code>
      <button type="button" id=${ids.copy} onClick=${copy}
        aria-label=${t("common.copy_label", { what })}>
        ${copied ? t("common.copied") : t("common.copy")}
      </button>
    </div>
    <div class="row">
      ${children}
      <button type="button" id=${ids.close} onClick=${onClose}>${saved}</button>
    </div>
  </section>`;
}

// The chain's verification (`/audit`), the auditor's desk: a button recomputes the event
// chain (`GET /api/v1/audit/verify`) and shows how many links held, the head's hash to copy
// and keep elsewhere, and the first break with its position and reason; below, the
// checkpoints the sealer recorded, newest first.
import { html, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { count } from "../lib/format.js";
import { PageHead, Loading, useApi, errorMessage } from "../components/ui.js";
import { Icon } from "../components/icons.js";
import { Pager, useCursorPages, withQuery } from "../components/audit.js";

const REASONS = [
  "payload_mismatch",
  "missing_event",
  "order_mismatch",
  "missing_link",
  "checkpoint_mismatch",
  "unsealed_gap",
];

/// A hash with a button that copies it.
function CopyHash({ id, hash }) {
  const [copied, setCopied] = useState(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(hash);
      setCopied("ok");
    } catch {
      // No clipboard (an insecure origin, a refusal): select it for a manual copy.
      const range = document.createRange();
      range.selectNodeContents(document.getElementById(id));
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      setCopied("select");
    }
  }
  return html`<div class="copy-row">
    <code class="hash" id=${id}>${hash}</code>
    <button type="button" id=${"copy-" + id} onClick=${copy}>
      <${Icon} name="copy" /> ${t("audit_chain.copy")}
    </button>
    <span class="muted small" role="status">
      ${copied === "ok" ? t("audit_chain.copied") : copied === "select" ? t("audit_chain.copy_select") : ""}
    </span>
  </div>`;
}

function Report({ report }) {
  const b = report.first_break;
  return html`<section class="card stack" id="verify-result" aria-labelledby="verify-result-title">
    <h2 id="verify-result-title">${t("audit_chain.result")}</h2>
    ${report.intact
      ? html`<p class="success" id="chain-status">${t("audit_chain.intact")}</p>`
      : html`<p class="error" id="chain-status">${t("audit_chain.broken")}</p>`}
    ${b &&
    html`<div class="notice danger break" id="chain-break" role="alert">
      <div class="stack">
        <strong>${t("audit_chain.break_at", { link: count(b.link_no), position: count(b.position) })}</strong>
        <span id="break-reason">${REASONS.includes(b.reason) ? t("audit_chain.reason." + b.reason) : b.reason}</span>
        ${b.sealed_as_link && html`<span>${t("audit_chain.sealed_as", { link: count(b.sealed_as_link) })}</span>`}
        <span class="small" lang="en">${b.detail}</span>
        ${b.position > 0 &&
        html`<a href=${withQuery("/audit/events", { after: String(b.position - 1) })}>
          ${t("audit_chain.open_event")}</a>`}
      </div>
    </div>`}
    <dl class="stats">
      <div class="card stat"><dt>${t("audit_chain.checked")}</dt>
        <dd><strong id="checked-count">${count(report.checked)}</strong></dd></div>
      <div class="card stat"><dt>${t("audit_chain.head")}</dt>
        <dd><strong>${count(report.head_link)}</strong>
          <span class="muted small">${t("audit_chain.at_position", { n: count(report.head_position) })}</span></dd></div>
      <div class="card stat"><dt>${t("audit_chain.checkpoints_checked")}</dt>
        <dd><strong>${count(report.checkpoints_checked)}</strong></dd></div>
      <div class="card stat"><dt>${t("audit_chain.unsealed")}</dt>
        <dd><strong>${count(report.unsealed_tail)}</strong></dd></div>
    </dl>
    <div>
      <h3 id="head-hash-title">${t("audit_chain.head_hash")}</h3>
      <p class="hint">${t("audit_chain.head_hash_hint")}</p>
      <${CopyHash} id="head-hash" hash=${report.head_hash} />
    </div>
  </section>`;
}

function Checkpoints() {
  const pages = useCursorPages("");
  const list = useApi(withQuery("/api/v1/audit/checkpoints", { limit: "20", before: pages.cursor }));
  return html`<section class="card" aria-labelledby="checkpoints-title">
    <h2 id="checkpoints-title">${t("audit_chain.checkpoints")}</h2>
    <p class="hint">${t("audit_chain.checkpoints_hint")}</p>
    ${!list.data
      ? html`<${Loading} error=${list.error} onRetry=${list.reload} />`
      : list.data.items.length === 0
        ? html`<p class="muted" id="no-checkpoints">${t("audit_chain.no_checkpoints")}</p>`
        : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="checkpoints-title"><table id="checkpoints">
            <thead><tr>
              <th scope="col">${t("audit_chain.col_link")}</th>
              <th scope="col">${t("audit_chain.col_position")}</th>
              <th scope="col">${t("audit_chain.col_hash")}</th>
              <th scope="col">${t("audit_chain.col_recorded")}</th>
            </tr></thead>
            <tbody>
              ${list.data.items.map(
                (c) => html`<tr key=${c.link_no} data-link=${c.link_no}>
                  <td>${count(c.link_no)}</td>
                  <td>${count(c.position)}</td>
                  <td><code class="hash-short" title=${c.hash}>${c.hash.slice(0, 16)}…</code></td>
                  <td>${dateTime(c.recorded_at)}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>`}
    <${Pager} pages=${pages} nextCursor=${list.data && list.data.next_cursor} label=${t("audit_chain.checkpoints")} />
  </section>`;
}

export default function AuditChain() {
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [ranAt, setRanAt] = useState(null);
  async function verify() {
    setBusy(true);
    setError(null);
    try {
      setReport(await api("/api/v1/audit/verify"));
      setRanAt(new Date());
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return html`<main id="main" class="page audit">
    <${PageHead} title=${t("audit_chain.title")} lead=${t("audit_chain.lead")}>
      <button type="button" class="primary" id="verify" onClick=${verify} disabled=${busy}>
        <${Icon} name="checks" /> ${busy ? t("audit_chain.verifying") : t("audit_chain.verify")}
      </button>
    <//>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${busy && html`<p class="muted" role="status">${t("audit_chain.verifying_long")}</p>`}
    ${report
      ? html`${ranAt && html`<p class="muted small">${t("audit_chain.ran_at", { at: dateTime(ranAt) })}</p>`}
          <${Report} key=${ranAt && ranAt.getTime()} report=${report} />`
      : !busy && html`<p class="empty card" id="not-verified">${t("audit_chain.not_yet")}</p>`}
    <${Checkpoints} />
  </main>`;
}

// Security (`/admin/security`), for admins (F33, F46): the IPs blocked from signing in
// (lift a block, after a confirmation), recent sign-in attempts, the requests the API
// refused (401/403/429) and the audit log's feed with its filters. The audit log is read
// oldest first by the API; the refused requests of the chosen window are shown newest
// first.
import { html, useEffect, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { usePaged } from "../lib/paged.js";
import { PageHead, Loading, Notice, useApi, errorMessage } from "../components/ui.js";
import { Confirm } from "../components/confirm.js";
import { TableWrap } from "../components/table-wrap.js";
import { ExportButtons } from "../components/export.js";

const OUTCOMES = ["succeeded", "failed", "refused"];
const WINDOWS = { "1h": 3600e3, "24h": 86400e3, "7d": 7 * 86400e3 };
const REJECTED_MAX = 1000;

export default function AdminSecurity() {
  const [attemptIp, setAttemptIp] = useState("");
  return html`<main id="main" class="page admin-security">
    <${PageHead} title=${t("admin_security.title")} lead=${t("admin_security.lead")} />
    <${IpBlocks} onShowAttempts=${setAttemptIp} />
    <${Attempts} ip=${attemptIp} setIp=${setAttemptIp} />
    <${Rejected} />
    <${AuditFeed} />
  </main>`;
}

function IpBlocks({ onShowAttempts }) {
  const { data, error, reload } = useApi("/api/v1/admin/ip-blocks");
  const [lifting, setLifting] = useState(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  async function lift() {
    setBusy(true);
    try {
      await api("/api/v1/admin/ip-blocks/" + encodeURIComponent(lifting), { method: "DELETE" });
      setNotice({ ok: true, text: t("admin_security.lifted", { ip: lifting }) });
      await reload();
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
      setLifting(null);
    }
  }
  return html`<section class="card" aria-labelledby="blocks-title">
    <div class="split">
      <h2 id="blocks-title">${t("admin_security.blocks")}</h2>
      <${ExportButtons} table="ip-blocks" />
    </div>
    <p class="hint">${t("admin_security.blocks_hint")}</p>
    <${Notice} notice=${notice} />
    ${!data
      ? html`<${Loading} error=${error} onRetry=${reload} />`
      : data.length === 0
        ? html`<p class="empty" id="no-blocks">${t("admin_security.no_blocks")}</p>`
        : html`<${TableWrap} label=${t("admin_security.blocks")}><table id="ip-blocks">
            <caption class="sr-only">${t("admin_security.blocks")}</caption>
            <thead><tr>
              <th scope="col">${t("admin_security.ip")}</th>
              <th scope="col">${t("admin_security.blocked_until")}</th>
              <th scope="col"><span class="sr-only">${t("admin_security.actions")}</span></th>
            </tr></thead>
            <tbody>
              ${data.map((b) => html`<tr key=${b.ip} data-ip=${b.ip}>
                <th scope="row"><code>${b.ip}</code></th>
                <td>${dateTime(b.blocked_until)}</td>
                <td><div class="row nowrap">
                  <button type="button" class="small-button" onClick=${() => onShowAttempts(b.ip)}
                    aria-label=${t("admin_security.attempts_of", { ip: b.ip })}>${t("admin_security.see_attempts")}</button>
                  <button type="button" class="small-button danger" data-lift=${b.ip}
                    aria-label=${t("admin_security.lift_named", { ip: b.ip })}
                    onClick=${() => { setNotice(null); setLifting(b.ip); }}>${t("admin_security.lift")}</button>
                </div></td>
              </tr>`)}
            </tbody>
          </table><//>`}
    <${Confirm} id="confirm-lift" open=${!!lifting} busy=${busy}
      title=${t("admin_security.lift_title", { ip: lifting || "" })}
      message=${t("admin_security.lift_text")} confirmLabel=${t("admin_security.lift")}
      onConfirm=${lift} onClose=${() => setLifting(null)} />
  </section>`;
}

function Attempts({ ip, setIp }) {
  const [email, setEmail] = useState("");
  const [outcome, setOutcome] = useState("");
  const [applied, setApplied] = useState({ email: "", outcome: "" });
  const q = new URLSearchParams();
  if (ip) q.set("ip", ip);
  if (applied.email) q.set("email", applied.email);
  if (applied.outcome) q.set("outcome", applied.outcome);
  q.set("limit", "25");
  const url = "/api/v1/admin/sign-in-attempts?" + q.toString();
  const list = usePaged(url);
  useEffect(() => {
    setApplied((a) => ({ ...a, outcome }));
  }, [outcome]);
  return html`<section class="card" aria-labelledby="attempts-title">
    <div class="split">
      <h2 id="attempts-title">${t("admin_security.attempts")}</h2>
      <${ExportButtons} table="sign-in-attempts" list=${url} />
    </div>
    <form class="filter-bar" aria-label=${t("admin_security.attempt_filters")}
      onSubmit=${(e) => { e.preventDefault(); setApplied({ email: email.trim(), outcome }); }}>
      <label class="field">${t("admin_security.ip")}
        <input id="attempt-ip" value=${ip} inputmode="text" autocomplete="off"
          onChange=${(e) => setIp(e.currentTarget.value.trim())} /></label>
      <label class="field">${t("admin_security.email")}
        <input id="attempt-email" type="search" value=${email} autocomplete="off"
          onInput=${(e) => setEmail(e.currentTarget.value)} /></label>
      <label class="field">${t("admin_security.outcome")}
        <select id="attempt-outcome" value=${outcome} onChange=${(e) => setOutcome(e.currentTarget.value)}>
          <option value="">${t("admin_billing.all")}</option>
          ${OUTCOMES.map((o) => html`<option value=${o}>${t("admin_security.outcome." + o)}</option>`)}
        </select></label>
      <div class="field end"><button type="submit">${t("admin_billing.search")}</button></div>
    </form>
    ${list.items === null
      ? html`<${Loading} error=${list.error} onRetry=${list.reload} />`
      : list.items.length === 0
        ? html`<p class="empty">${t("admin_security.no_attempts")}</p>`
        : html`<${TableWrap} label=${t("admin_security.attempts")}><table id="attempts">
            <caption class="sr-only">${t("admin_security.attempts")}</caption>
            <thead><tr>
              <th scope="col">${t("admin_billing.when_col")}</th>
              <th scope="col">${t("admin_security.email")}</th>
              <th scope="col">${t("admin_security.ip")}</th>
              <th scope="col">${t("admin_security.outcome")}</th>
            </tr></thead>
            <tbody>
              ${list.items.map((a) => html`<tr key=${a.id}>
                <td>${dateTime(a.at)}</td>
                <td>${a.email}</td>
                <td><code>${a.ip}</code></td>
                <td><span class=${"badge attempt-" + a.outcome}>${t("admin_security.outcome." + a.outcome)}</span>
                  ${a.cleared ? html` <span class="muted small">${t("admin_security.cleared")}</span>` : null}</td>
              </tr>`)}
            </tbody>
          </table><//>`}
    ${list.error && list.items && html`<p class="error" role="alert">${list.error}</p>`}
    ${list.next && html`<p class="list-foot"><button type="button" onClick=${list.more}>${t("admin_billing.more")}</button></p>`}
  </section>`;
}

/// The refused requests of the last `window`, newest first (the API reads oldest first).
function Rejected() {
  const [windowKey, setWindowKey] = useState("24h");
  const [state, setState] = useState({ items: null, error: null, capped: false });
  async function load() {
    const from = new Date(Date.now() - WINDOWS[windowKey]).toISOString();
    const items = [];
    let cursor = null;
    try {
      do {
        const q = new URLSearchParams({ kind: "rejected", from, limit: "500" });
        if (cursor) q.set("cursor", cursor);
        const page = await api("/api/v1/audit/log?" + q.toString());
        items.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor && items.length < REJECTED_MAX);
      setState({ items: items.reverse(), error: null, capped: !!cursor });
    } catch (e) {
      setState((s) => ({ ...s, error: errorMessage(e) }));
    }
  }
  useEffect(() => {
    setState({ items: null, error: null, capped: false });
    load();
  }, [windowKey]);
  return html`<section class="card" aria-labelledby="rejected-title">
    <div class="split">
      <h2 id="rejected-title">${t("admin_security.rejected")}</h2>
      <label class="field inline">${t("admin_security.window")}
        <select id="rejected-window" value=${windowKey} onChange=${(e) => setWindowKey(e.currentTarget.value)}>
          ${Object.keys(WINDOWS).map((k) => html`<option value=${k}>${t("admin_security.window." + k)}</option>`)}
        </select></label>
    </div>
    ${state.items === null
      ? html`<${Loading} error=${state.error} onRetry=${load} />`
      : state.items.length === 0
        ? html`<p class="empty">${t("admin_security.no_rejected")}</p>`
        : html`<${TableWrap} label=${t("admin_security.rejected")}><table id="rejected">
            <caption class="sr-only">${t("admin_security.rejected")}</caption>
            <thead><tr>
              <th scope="col">${t("admin_billing.when_col")}</th>
              <th scope="col">${t("admin_security.request")}</th>
              <th scope="col">${t("admin_security.status")}</th>
              <th scope="col">${t("admin_security.ip")}</th>
              <th scope="col">${t("admin_security.who")}</th>
            </tr></thead>
            <tbody>
              ${state.items.map((r) => html`<tr key=${r.at + r.request_id}>
                <td>${dateTime(r.at)}</td>
                <td><code>${r.method} ${r.path}</code></td>
                <td><span class="badge attempt-failed">${r.status}</span> <span class="muted small">${r.code}</span></td>
                <td>${r.client_ip ? html`<code>${r.client_ip}</code>` : "—"}</td>
                <td>${r.actor_kind || t("admin_security.anonymous")}</td>
              </tr>`)}
            </tbody>
          </table><//>`}
    ${state.capped && html`<p class="hint">${t("admin_security.capped", { n: REJECTED_MAX })}</p>`}
  </section>`;
}

/// An ISO instant from a `date` input's `YYYY-MM-DD`, at the start of that day here.
const dayStart = (d) => (d ? new Date(d + "T00:00").toISOString() : "");

function AuditFeed() {
  const today = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const [form, setForm] = useState({ kind: "", tenant: "", actor: "", from: iso(today), to: "" });
  const [applied, setApplied] = useState(form);
  const q = new URLSearchParams({ limit: "50" });
  if (applied.kind) q.set("kind", applied.kind);
  if (applied.tenant) q.set("tenant", applied.tenant);
  if (applied.actor) q.set("actor", applied.actor);
  if (applied.from) q.set("from", dayStart(applied.from));
  if (applied.to) {
    const end = new Date(applied.to + "T00:00");
    end.setDate(end.getDate() + 1);
    q.set("to", end.toISOString());
  }
  const feed = usePaged("/api/v1/audit/log?" + q.toString());
  const field = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  return html`<section class="card" aria-labelledby="audit-title">
    <h2 id="audit-title">${t("admin_security.audit")}</h2>
    <p class="hint">${t("admin_security.audit_hint")}</p>
    <form class="filter-bar" aria-label=${t("admin_security.audit_filters")}
      onSubmit=${(e) => { e.preventDefault(); setApplied({ ...form, tenant: form.tenant.trim(), actor: form.actor.trim() }); }}>
      <label class="field">${t("admin_security.kind")}
        <select id="audit-kind" value=${form.kind} onChange=${field("kind")}>
          <option value="">${t("admin_billing.all")}</option>
          <option value="action">${t("admin_security.kind.action")}</option>
          <option value="rejected">${t("admin_security.kind.rejected")}</option>
        </select></label>
      <label class="field">${t("admin_security.tenant_id")}
        <input id="audit-tenant" value=${form.tenant} onInput=${field("tenant")} autocomplete="off" /></label>
      <label class="field">${t("admin_security.actor")}
        <input id="audit-actor" value=${form.actor} onInput=${field("actor")} autocomplete="off" /></label>
      <label class="field">${t("admin_security.from")}
        <input id="audit-from" type="date" value=${form.from} onInput=${field("from")} /></label>
      <label class="field">${t("admin_security.to")}
        <input id="audit-to" type="date" value=${form.to} onInput=${field("to")} /></label>
      <div class="field end"><button type="submit">${t("admin_security.apply")}</button></div>
    </form>
    ${feed.items === null
      ? html`<${Loading} error=${feed.error} onRetry=${feed.reload} />`
      : feed.items.length === 0
        ? html`<p class="empty">${t("admin_security.no_audit")}</p>`
        : html`<${TableWrap} label=${t("admin_security.audit")}><table id="audit-feed">
            <caption class="sr-only">${t("admin_security.audit")}</caption>
            <thead><tr>
              <th scope="col">${t("admin_billing.when_col")}</th>
              <th scope="col">${t("admin_security.kind")}</th>
              <th scope="col">${t("admin_security.what")}</th>
              <th scope="col">${t("admin_security.actor")}</th>
              <th scope="col">${t("admin_security.ip")}</th>
            </tr></thead>
            <tbody>
              ${feed.items.map((e, i) => html`<tr key=${i}>
                <td>${dateTime(e.at)}</td>
                <td><span class=${"badge audit-" + e.kind}>${t("admin_security.kind." + e.kind)}</span></td>
                <td>${e.kind === "action"
                  ? html`<code>${e.event_type}</code> <span class="muted small">${e.aggregate_type} #${e.position}</span>`
                  : html`<code>${e.method} ${e.path}</code> <span class="muted small">${e.status} ${e.code}</span>`}</td>
                <td class="wrap">${e.actor_kind || "—"}${e.actor_id ? html` <span class="muted small">${e.actor_id.slice(0, 13)}</span>` : null}</td>
                <td>${e.client_ip ? html`<code>${e.client_ip}</code>` : "—"}</td>
              </tr>`)}
            </tbody>
          </table><//>`}
    ${feed.error && feed.items && html`<p class="error" role="alert">${feed.error}</p>`}
    ${feed.next && html`<p class="list-foot"><button type="button" onClick=${feed.more}>${t("admin_billing.more")}</button></p>`}
  </section>`;
}

// System (`/admin/system`), for admins (F48): `/health` as a page (database, event store,
// the mail and Stripe usage queues, the outside services in use and the model providers), every stream consumer with its lag and parked events
// (inspect one, retry it), and rebuilding a read model from the log with its progress.
// A replay answers when it is done; meanwhile the page follows its progress in
// `GET /api/v1/admin/projections`, which any process can answer.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { count, seconds } from "../lib/format.js";
import { PageHead, Loading, Notice, Bar, errorMessage } from "../components/ui.js";
import { Confirm } from "../components/confirm.js";
import { TableWrap } from "../components/table-wrap.js";

const REFRESH_MS = 5000;
const REPLAY_POLL_MS = 500;

/// `/health` answers 503 with its report when something is down: read the body either way.
async function health() {
  const res = await fetch("/health", { headers: { Accept: "application/json" } });
  return res.json();
}

function State({ ok, warn, text }) {
  const tone = ok ? "ok" : warn ? "warn" : "bad";
  return html`<span class=${"badge health-" + tone}>${text}</span>`;
}

export default function AdminSystem() {
  const [report, setReport] = useState(null);
  const [consumers, setConsumers] = useState(null);
  const [error, setError] = useState(null);
  const [inspecting, setInspecting] = useState(null);
  const [replaying, setReplaying] = useState(null); // name while its replay runs
  const [asking, setAsking] = useState(null);
  const [notice, setNotice] = useState(null);

  async function load() {
    try {
      const [h, c] = await Promise.all([health(), api("/api/v1/admin/projections")]);
      setReport(h);
      setConsumers(c);
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  useEffect(() => {
    load();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") load();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  // While a replay runs, follow its progress more closely.
  useEffect(() => {
    if (!replaying) return undefined;
    const timer = setInterval(async () => {
      try {
        setConsumers(await api("/api/v1/admin/projections"));
      } catch {
        // The next round tries again.
      }
    }, REPLAY_POLL_MS);
    return () => clearInterval(timer);
  }, [replaying]);

  async function replay() {
    const name = asking;
    setAsking(null);
    setReplaying(name);
    setNotice(null);
    try {
      const r = await api(`/api/v1/admin/projections/${encodeURIComponent(name)}/replay`, { method: "POST" });
      setNotice({ ok: true, text: t("admin_system.replayed", { name, events: count(r.events), time: seconds(r.elapsed_ms / 1000) }) });
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setReplaying(null);
      load();
    }
  }

  const live = report ? Object.fromEntries(report.consumers.map((c) => [c.name, c])) : {};
  return html`<main id="main" class="page admin-system">
    <${PageHead} title=${t("admin_system.title")} lead=${t("admin_system.lead")} />
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!report ? html`<${Loading} error=${error} onRetry=${load} />` : html`<${Health} report=${report} />`}
    <section class="card" aria-labelledby="consumers-title">
      <h2 id="consumers-title">${t("admin_system.consumers")}</h2>
      <${Notice} notice=${notice} />
      ${!consumers
        ? html`<${Loading} />`
        : html`<${TableWrap} label=${t("admin_system.consumers")}><table id="consumers">
            <caption class="sr-only">${t("admin_system.consumers")}</caption>
            <thead><tr>
              <th scope="col">${t("admin_system.consumer")}</th>
              <th scope="col" class="num">${t("admin_system.position")}</th>
              <th scope="col" class="num">${t("admin_system.lag")}</th>
              <th scope="col" class="num">${t("admin_system.parked")}</th>
              <th scope="col">${t("admin_system.state")}</th>
              <th scope="col">${t("admin_system.last_replay")}</th>
              <th scope="col"><span class="sr-only">${t("admin_billing.actions")}</span></th>
            </tr></thead>
            <tbody>
              ${consumers.map((c) => html`<tr key=${c.name} data-consumer=${c.name}>
                <th scope="row"><code>${c.name}</code></th>
                <td class="num">${count(c.checkpoint.position)}</td>
                <td class="num">${count(c.lag_events)}</td>
                <td class="num">${c.parked > 0
                  ? html`<span class="badge health-warn">${count(c.parked)}</span>`
                  : "0"}</td>
                <td>${live[c.name] && live[c.name].last_error
                  ? html`<${State} text=${t("admin_system.failing")} /> <span class="small wrap">${live[c.name].last_error}</span>`
                  : html`<${State} ok text=${t("admin_system.running")} />`}</td>
                <td class="replay-cell"><${ReplayState} c=${c} running=${replaying === c.name} /></td>
                <td class="actions-cell"><div class="row">
                  ${c.parked > 0 && html`<button type="button" class="small-button" data-inspect=${c.name}
                    aria-label=${t("admin_system.inspect_named", { name: c.name })}
                    onClick=${() => setInspecting(c.name)}>${t("admin_system.inspect")}</button>`}
                  ${c.replayable && html`<button type="button" class="small-button" data-replay=${c.name}
                    disabled=${!!replaying}
                    aria-label=${t("admin_system.replay_named", { name: c.name })}
                    onClick=${() => setAsking(c.name)}>${t("admin_system.replay")}</button>`}
                </div></td>
              </tr>`)}
            </tbody>
          </table><//>`}
    </section>
    ${inspecting && html`<${Parked} key=${inspecting} name=${inspecting}
      onClose=${() => setInspecting(null)} onChanged=${load} />`}
    <${Confirm} id="confirm-replay" open=${!!asking}
      title=${t("admin_system.replay_title", { name: asking || "" })}
      message=${t("admin_system.replay_text")} confirmLabel=${t("admin_system.replay")}
      onConfirm=${replay} onClose=${() => setAsking(null)} />
  </main>`;
}

function ReplayState({ c, running }) {
  const r = c.replay;
  if (running || (r && !r.finished_at)) {
    const ratio = r && !r.finished_at && r.target_position > 0 ? r.position / r.target_position : 0;
    return html`<div class="replay-progress" role="status">
      <${Bar} value=${ratio} label=${t("admin_system.replay_progress", { name: c.name })} />
      <span class="small">${t("admin_system.replaying", { events: count(r && !r.finished_at ? r.events : 0) })}</span>
    </div>`;
  }
  if (!r) return html`<span class="muted small">${t("admin_system.never")}</span>`;
  if (r.error) return html`<span class="small error-text" title=${r.error}>${t("admin_system.replay_failed", { when: dateTime(r.finished_at) })}</span>`;
  return html`<span class="small">${t("admin_system.replay_done", { when: dateTime(r.finished_at), events: count(r.events) })}</span>`;
}

function Health({ report }) {
  const mail = report.mail;
  const usage = report.stripe_usage;
  const overall = report.status;
  return html`<section class="card" aria-labelledby="health-title">
    <div class="split">
      <h2 id="health-title">${t("admin_system.health")}</h2>
      <${State} ok=${overall === "ok"} warn=${overall === "degraded"} text=${t("admin_system.status." + overall)} />
    </div>
    <dl class="stats" id="health">
      <div class="stat card"><dt>${t("admin_system.database")}</dt>
        <dd><${State} ok=${report.database.ok} text=${report.database.ok ? t("admin_system.up") : t("admin_system.down")} />
          <span class="small muted">${report.database.ok
            ? t("admin_system.round_trip", { ms: report.database.round_trip_ms.toFixed(1) })
            : report.database.error}</span></dd></div>
      <div class="stat card"><dt>${t("admin_system.event_store")}</dt>
        <dd><strong>${report.event_store ? count(report.event_store.head_position) : "—"}</strong>
          <span class="small muted">${t("admin_system.head")}</span></dd></div>
      <div class="stat card" id="mail-queue"><dt>${t("admin_system.mail")}</dt>
        <dd>${mail
          ? html`<strong>${count(mail.queued)}</strong>
              <span class="small muted">${t("admin_system.queued_failed", { failed: count(mail.failed) })}</span>
              ${mail.oldest_due_age_secs !== null && mail.oldest_due_age_secs !== undefined &&
              html`<span class="small muted">${t("admin_system.oldest", { age: seconds(mail.oldest_due_age_secs) })}</span>`}`
          : "—"}</dd></div>
      <div class="stat card" id="meter-queue"><dt>${t("admin_system.meter")}</dt>
        <dd>${usage
          ? html`<strong>${count(usage.pending)}</strong>
              <span class="small muted">${t("admin_system.queued_failed", { failed: count(usage.failed) })}</span>
              ${usage.oldest_pending_age_secs !== null && usage.oldest_pending_age_secs !== undefined &&
              html`<span class="small muted">${t("admin_system.oldest", { age: seconds(usage.oldest_pending_age_secs) })}</span>`}`
          : "—"}</dd></div>
      ${(report.services || []).map((s) => html`<div class="stat card" key=${s.name} data-service=${s.name}>
        <dt>${t("admin_system.service." + s.name)}</dt>
        <dd><${State} ok=${s.ok} warn text=${s.ok ? t("admin_system.up") : t("admin_system.unreachable")} />
          <span class="small muted wrap">${s.ok
            ? t("admin_system.round_trip", { ms: s.round_trip_ms.toFixed(1) })
            : s.error}</span></dd></div>`)}
      ${(report.models || []).map((m) => html`<div class="stat card" key=${m.name} data-model=${m.name}>
        <dt>${t("admin_system.model", { name: m.name })}</dt>
        <dd><${State} ok=${!m.failing} warn text=${m.failing ? t("admin_system.failing") : t("admin_system.up")} />
          <span class="small muted">${t("admin_system.recent_failures", { count: count(m.recent_failures) })}</span>
          ${m.failing && m.last_error && html`<span class="small muted wrap">${m.last_error}</span>`}</dd></div>`)}
    </dl>
  </section>`;
}

function Parked({ name, onClose, onChanged }) {
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const head = useRef(null);
  async function load() {
    try {
      setItems(await api(`/api/v1/admin/projections/${encodeURIComponent(name)}/parked`));
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  useEffect(() => {
    load();
    if (head.current) head.current.focus();
  }, [name]);
  async function retry(position) {
    setBusy(true);
    setNotice(null);
    try {
      await api(`/api/v1/admin/projections/${encodeURIComponent(name)}/parked/${position}/retry`, { method: "POST" });
      setNotice({ ok: true, text: t("admin_system.retried", { position }) });
      await load();
      onChanged();
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }
  return html`<section class="card" aria-labelledby="parked-title" id="parked">
    <div class="split">
      <h2 id="parked-title" tabindex="-1" ref=${head}>${t("admin_system.parked_of", { name })}</h2>
      <button type="button" class="small-button" onClick=${onClose}>${t("admin_system.close")}</button>
    </div>
    <${Notice} notice=${notice} />
    ${items === null
      ? html`<${Loading} error=${error} onRetry=${load} />`
      : items.length === 0
        ? html`<p class="empty">${t("admin_system.no_parked")}</p>`
        : html`<ul class="parked-list">
            ${items.map((p) => html`<li key=${p.position} class="parked-item" data-position=${p.position}>
              <div class="split">
                <p class="parked-what"><code>${p.event_type}</code>
                  <span class="muted small">${t("admin_system.at_position", { position: count(p.position) })} · ${dateTime(p.parked_at)}</span></p>
                <div class="row nowrap">
                  <button type="button" class="small-button" aria-expanded=${open === p.position ? "true" : "false"}
                    onClick=${() => setOpen(open === p.position ? null : p.position)}>${t("admin_system.details")}</button>
                  <button type="button" class="small-button primary" disabled=${busy} data-retry=${p.position}
                    onClick=${() => retry(p.position)}>${t("admin_system.retry")}</button>
                </div>
              </div>
              <p class="error small">${p.error}</p>
              ${open === p.position && html`<dl class="facts flush">
                <div><dt>${t("admin_system.aggregate")}</dt><dd>${p.aggregate_type} <code>${p.aggregate_id}</code></dd></div>
                <div><dt>${t("admin_system.tx")}</dt><dd>${p.tx_id}</dd></div>
                <div><dt>${t("admin_system.attempts")}</dt><dd>${p.attempts}</dd></div>
              </dl>`}
            </li>`)}
          </ul>`}
  </section>`;
}

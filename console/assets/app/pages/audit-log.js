// The audit log (`/audit/log`), for auditors: one time-ordered feed of what was done (every
// event, with its actor, tenant, request and client address) and what was refused (every
// 401, 403 and 429), filtered by tenant, actor, kind and time (kept in the address), a page
// at a time.
import { html, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { PageHead, Loading, useApi } from "../components/ui.js";
import { ExportButtons } from "../components/export.js";
import { isUuid } from "../lib/format.js";
import {
  Pager,
  useCursorPages,
  useFilters,
  withQuery,
  toLocalInput,
  fromLocalInput,
  actorKind,
  named,
} from "../components/audit.js";

const PAGE = 50;
const OUTCOME_BADGE = { done: "answer", refused: "awaiting_human", failed: "handoff" };
const KEYS = ["tenant", "actor", "kind", "from", "to"];

function Filters({ filters }) {
  const { draft, setDraft, apply, clear } = filters;
  const [problem, setProblem] = useState(null);
  const set = (k) => (e) => setDraft({ ...draft, [k]: e.currentTarget.value.trim() });
  function submit(event) {
    event.preventDefault();
    if (draft.tenant && !isUuid(draft.tenant)) {
      setProblem(t("audit.bad_tenant"));
      return;
    }
    setProblem(null);
    apply();
  }
  return html`<form class="card audit-filters" id="log-filters" onSubmit=${submit}
    aria-label=${t("audit.filters")}>
    <div class="form-grid">
      <label class="field">${t("audit.tenant")}
        <input id="f-tenant" value=${draft.tenant} placeholder=${t("audit.tenant_placeholder")}
          aria-describedby=${problem ? "filter-problem" : undefined} onInput=${set("tenant")} /></label>
      <label class="field">${t("audit.actor")}
        <input id="f-actor" value=${draft.actor} placeholder=${t("audit_log.actor_placeholder")}
          onInput=${set("actor")} /></label>
      <label class="field">${t("audit_log.kind")}
        <select id="f-kind" value=${draft.kind} onChange=${set("kind")}>
          <option value="">${t("audit.all")}</option>
          <option value="action">${t("audit_log.kind.action")}</option>
          <option value="rejected">${t("audit_log.kind.rejected")}</option>
        </select></label>
      <label class="field">${t("audit.from")}
        <input id="f-from" type="datetime-local" value=${toLocalInput(draft.from)}
          onInput=${(e) => setDraft({ ...draft, from: fromLocalInput(e.currentTarget.value) })} /></label>
      <label class="field">${t("audit.to")}
        <input id="f-to" type="datetime-local" value=${toLocalInput(draft.to)}
          onInput=${(e) => setDraft({ ...draft, to: fromLocalInput(e.currentTarget.value) })} /></label>
    </div>
    ${problem && html`<p class="error" id="filter-problem" role="alert">${problem}</p>`}
    <div class="row">
      <button type="submit" class="primary" id="apply-filters">${t("audit.apply")}</button>
      <button type="button" id="clear-filters" onClick=${clear}>${t("audit.clear")}</button>
    </div>
  </form>`;
}

function Entry({ e }) {
  const action = e.kind === "action";
  return html`<li class=${"card audit-item " + e.kind} data-kind=${e.kind}>
    <div class="audit-head">
      <span class=${"badge " + (action ? "answer" : "handoff")}>${t("audit_log.kind." + e.kind)}</span>
      ${action
        ? html`<strong class="audit-type">${e.action ? named("audit_log.action.", e.action) : e.event_type}</strong>
            ${e.outcome && html`<span class=${"badge " + (OUTCOME_BADGE[e.outcome] || "resolved")}>
              ${named("audit_log.outcome.", e.outcome)}</span>`}
            <a class="small" href=${withQuery("/audit/events", { after: String(e.position - 1) })}
              aria-label=${t("audit_log.event_at", { n: e.position })}>#${e.position}</a>`
        : html`<strong class="audit-type">${e.method} ${e.path}</strong>
            <span class="badge resolved">${e.status}</span>`}
      <time class="muted small" datetime=${e.at}>${dateTime(e.at)}</time>
    </div>
    ${!action &&
    html`<p class="audit-reason"><code>${e.code}</code>${e.reason && html` — ${e.reason}`}</p>`}
    ${e.target_kind &&
    html`<p class="audit-reason small">${t("audit_log.target")}: ${e.target_kind} <code>${e.target_id}</code>
      ${e.detail && html` — <code>${e.detail}</code>`}</p>`}
    <p class="audit-meta muted small">
      <span class="audit-actor">${t("audit.actor")}: ${e.actor_id
        ? html`${actorKind(e.actor_kind)} <code>${e.actor_id}</code>`
        : t("audit_log.anonymous")}</span>
      ${e.tenant_id && html`<span>${t("audit.tenant")}: <code>${e.tenant_id}</code></span>`}
      ${action && !e.action && e.aggregate_id && e.aggregate_id !== e.tenant_id &&
      html`<span>${named("audit_events.aggregate.", e.aggregate_type)}: <code>${e.aggregate_id}</code></span>`}
      ${e.client_ip && html`<span>${t("audit_log.ip")}: <code>${e.client_ip}</code></span>`}
      ${e.request_id && html`<span>${t("audit_log.request")}: <code>${e.request_id}</code></span>`}
    </p>
  </li>`;
}

export default function AuditLog({ query }) {
  const filters = useFilters(KEYS, query);
  const pages = useCursorPages(filters.key);
  const list = useApi(
    withQuery("/api/v1/audit/log", { ...filters.values, cursor: pages.cursor, limit: String(PAGE) }),
  );
  const items = list.data ? list.data.items : null;
  return html`<main id="main" class="page audit">
    <${PageHead} title=${t("audit_log.title")} lead=${t("audit_log.lead")}>
      <${ExportButtons} table="audit-log" path="/api/v1/audit/log/export" filters=${filters.values} />
    <//>
    <${Filters} filters=${filters} />
    ${!items
      ? html`<${Loading} error=${list.error} onRetry=${list.reload} />`
      : items.length === 0
        ? html`<p class="empty card" id="no-entries">${t("audit_log.empty")}</p>`
        : html`<ul class="audit-list" id="log" aria-label=${t("audit_log.title")}>
            ${items.map((e, i) => html`<${Entry} key=${e.kind + (e.position || e.request_id) + i} e=${e} />`)}
          </ul>`}
    <${Pager} pages=${pages} nextCursor=${list.data && list.data.next_cursor} label=${t("audit_log.title")} />
  </main>`;
}

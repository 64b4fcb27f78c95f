// The event log (`/audit/events`), for auditors: every stored event in position order,
// filtered by tenant, aggregate, type, time or position (kept in the address), a page at a
// time. Payloads show as stored, personal fields sealed; the current selection downloads
// whole as NDJSON, streamed by the API (`Accept: application/x-ndjson`).
import { html, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { download } from "../lib/files.js";
import { count, isUuid } from "../lib/format.js";
import { PageHead, Loading, useApi, errorMessage } from "../components/ui.js";
import {
  Pager,
  SealedJson,
  sealedCount,
  useCursorPages,
  useFilters,
  withQuery,
  toLocalInput,
  fromLocalInput,
  actorKind,
  named,
} from "../components/audit.js";

const PAGE = 50;
const KEYS = ["tenant_id", "aggregate_type", "event_type", "from", "to", "after"];

/// The API's query for `values` (the address's filters); `after` is the API's `cursor`.
function selection(values) {
  const { after, ...rest } = values;
  return { ...rest, cursor: after };
}

function Filters({ filters, types }) {
  const { draft, setDraft, apply, clear } = filters;
  const [problem, setProblem] = useState(null);
  const set = (k) => (e) => setDraft({ ...draft, [k]: e.currentTarget.value });
  const aggregates = [...new Set(types.map((x) => x.aggregate_type))];
  const shown = types.filter((x) => !draft.aggregate_type || x.aggregate_type === draft.aggregate_type);
  function submit(event) {
    event.preventDefault();
    if (draft.tenant_id && !isUuid(draft.tenant_id.trim())) {
      setProblem(t("audit.bad_tenant"));
      return;
    }
    setProblem(null);
    apply();
  }
  return html`<form class="card audit-filters" id="event-filters" onSubmit=${submit}
    aria-label=${t("audit.filters")}>
    <div class="form-grid">
      <label class="field">${t("audit.tenant")}
        <input id="f-tenant" value=${draft.tenant_id} placeholder=${t("audit.tenant_placeholder")}
          aria-describedby=${problem ? "filter-problem" : undefined}
          onInput=${(e) => setDraft({ ...draft, tenant_id: e.currentTarget.value.trim() })} /></label>
      <label class="field">${t("audit_events.aggregate")}
        <select id="f-aggregate" value=${draft.aggregate_type}
          onChange=${(e) => setDraft({ ...draft, aggregate_type: e.currentTarget.value, event_type: "" })}>
          <option value="">${t("audit.all")}</option>
          ${aggregates.map((a) => html`<option value=${a}>${named("audit_events.aggregate.", a)}</option>`)}
        </select></label>
      <label class="field">${t("audit_events.type")}
        <select id="f-type" value=${draft.event_type} onChange=${set("event_type")}>
          <option value="">${t("audit.all")}</option>
          ${shown.map((x) => html`<option value=${x.event_type}>${x.event_type}</option>`)}
        </select></label>
      <label class="field">${t("audit.from")}
        <input id="f-from" type="datetime-local" value=${toLocalInput(draft.from)}
          onInput=${(e) => setDraft({ ...draft, from: fromLocalInput(e.currentTarget.value) })} /></label>
      <label class="field">${t("audit.to")}
        <input id="f-to" type="datetime-local" value=${toLocalInput(draft.to)}
          onInput=${(e) => setDraft({ ...draft, to: fromLocalInput(e.currentTarget.value) })} /></label>
      <label class="field">${t("audit_events.after")}
        <input id="f-after" type="number" min="0" step="1" value=${draft.after}
          onInput=${set("after")} /></label>
    </div>
    ${problem && html`<p class="error" id="filter-problem" role="alert">${problem}</p>`}
    <div class="row">
      <button type="submit" class="primary" id="apply-filters">${t("audit.apply")}</button>
      <button type="button" id="clear-filters" onClick=${clear}>${t("audit.clear")}</button>
    </div>
  </form>`;
}

function Event({ e }) {
  const sealed = sealedCount(e.payload) + sealedCount(e.metadata);
  const m = e.metadata || {};
  return html`<li class="card audit-item" data-position=${e.position}>
    <div class="audit-head">
      <span class="audit-pos">#${e.position}</span>
      <strong class="audit-type">${e.event_type}</strong>
      <span class="badge resolved">${named("audit_events.aggregate.", e.aggregate_type)}</span>
      ${sealed > 0 && html`<span class="badge sealed-count">${t("audit_events.sealed_fields", { n: sealed })}</span>`}
      <time class="muted small" datetime=${e.recorded_at}>${dateTime(e.recorded_at)}</time>
    </div>
    <p class="audit-meta muted small">
      <span>${t("audit_events.aggregate_id")}: <code>${e.aggregate_id}</code> · ${t("audit_events.sequence", { n: e.sequence })}</span>
      ${m.actor_id && html`<span>${t("audit.actor")}: ${actorKind(m.actor_kind)} <code>${m.actor_id}</code></span>`}
      ${m.tenant_id && html`<span>${t("audit.tenant")}: <code>${m.tenant_id}</code></span>`}
    </p>
    <details class="audit-details">
      <summary>${t("audit_events.show_data")}</summary>
      <h3 class="small">${t("audit_events.payload")}</h3>
      <${SealedJson} value=${e.payload} />
      <h3 class="small">${t("audit_events.metadata")}</h3>
      <${SealedJson} value=${e.metadata} />
    </details>
  </li>`;
}

export default function AuditEvents({ query }) {
  const filters = useFilters(KEYS, query);
  const pages = useCursorPages(filters.key);
  const types = useApi("/api/v1/audit/event-types");
  const base = selection(filters.values);
  const list = useApi(
    withQuery("/api/v1/audit/events", { ...base, cursor: pages.cursor || base.cursor, limit: String(PAGE) }),
  );
  const [downloading, setDownloading] = useState(false);
  const [downloadError, setDownloadError] = useState(null);
  async function saveNdjson() {
    setDownloading(true);
    setDownloadError(null);
    try {
      const stamp = new Date().toISOString().slice(0, 19).replace(/:/g, "-");
      await download(withQuery("/api/v1/audit/events", base), `eventos-${stamp}.ndjson`, {
        Accept: "application/x-ndjson",
      });
    } catch (e) {
      setDownloadError(errorMessage(e));
    } finally {
      setDownloading(false);
    }
  }
  const items = list.data ? list.data.items : null;
  return html`<main id="main" class="page audit">
    <${PageHead} title=${t("audit_events.title")} lead=${t("audit_events.lead")}>
      <button type="button" id="download-ndjson" onClick=${saveNdjson} disabled=${downloading}>
        ${downloading ? t("audit_events.downloading") : t("audit_events.download")}
      </button>
    <//>
    ${downloadError && html`<p class="error" role="alert">${downloadError}</p>`}
    <${Filters} filters=${filters} types=${types.data || []} />
    <p class="hint">${t("audit_events.sealed_hint")}</p>
    ${!items
      ? html`<${Loading} error=${list.error} onRetry=${list.reload} />`
      : items.length === 0
        ? html`<p class="empty card" id="no-events">${t("audit_events.empty")}</p>`
        : html`<p class="muted small" id="events-shown">${t("audit_events.shown", {
            n: count(items.length),
            first: items[0].position,
            last: items[items.length - 1].position,
          })}</p>
          <ul class="audit-list" id="events" aria-label=${t("audit_events.title")}>
            ${items.map((e) => html`<${Event} key=${e.position} e=${e} />`)}
          </ul>`}
    <${Pager} pages=${pages} nextCursor=${list.data && list.data.next_cursor} label=${t("audit_events.title")} />
  </main>`;
}

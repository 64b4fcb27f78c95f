// The usage monitor (`/admin/usage`, issue 18): the top AI spenders this UTC month against
// the monthly AI spend thresholds (the global one, set here, and each tenant's own), the
// quota alerts, and one tenant's history (`/admin/usage/:id`) per month and per day, where
// its own threshold is set. A tenant reaching its threshold raises one admin notification
// that month; a threshold refuses nothing.
import { html, useEffect, useMemo, useRef, useState } from "../lib/html.js";
import { t, dateTime, locale } from "../lib/i18n.js";
import { money, count, usd, percent, day, dayBefore } from "../lib/format.js";
import { api } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { useApi, PageHead, Loading, Notice, Bar, errorMessage } from "../components/ui.js";
import { TableWrap } from "../components/table-wrap.js";
import { LineChart } from "../components/chart.js";
import { ExportButtons } from "../components/export.js";

// Axis steps for costs in dollars: cents up to thousands.
const COST_STEPS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000];

/// "0,25" / "12.50": an axis value in dollars (the chart's title names the currency).
function dollars(v) {
  return new Intl.NumberFormat(locale.get(), {
    minimumFractionDigits: 2,
    maximumFractionDigits: Math.abs(v) < 0.01 && v !== 0 ? 4 : 2,
  }).format(v);
}

/// Whether `cost` (US$) reaches `cents`, as the server judges it: in millionths of a
/// dollar, rounded, equal counts.
function reached(cost, cents) {
  return Math.round(cost * 1e6) >= cents * 1e4;
}

/// Dollars typed with a comma or a point, as whole cents; null when not a number.
function cents(text) {
  const n = Number(String(text).trim().replace(",", "."));
  if (String(text).trim() === "" || !Number.isFinite(n)) return null;
  return Math.round(n * 100);
}

function thresholdError(e) {
  return e && e.code === "invalid_threshold" ? t("admin_usage.invalid_amount") : errorMessage(e);
}

/// The amount field and its buttons: save, and clear when one is set.
function ThresholdForm({ id, label, hint, current, onSave, onClear }) {
  const [value, setValue] = useState(current === null || current === undefined ? "" : (current / 100).toFixed(2).replace(".", t("admin_usage.decimal_mark")));
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  async function run(action, done) {
    setBusy(true);
    setNotice(null);
    try {
      await action();
      setNotice({ ok: true, text: done });
    } catch (e) {
      setNotice({ ok: false, text: thresholdError(e) });
    }
    setBusy(false);
  }
  async function save(event) {
    event.preventDefault();
    const amount = cents(value);
    if (amount === null || amount < 0) {
      setNotice({ ok: false, text: t("admin_usage.invalid_amount") });
      return;
    }
    await run(() => onSave(amount), t("admin_usage.saved", { amount: money(amount, "usd") }));
  }
  return html`<form class="stack threshold-form" id=${id} onSubmit=${save}>
    <label class="field" for=${id + "-amount"}>${label}</label>
    <div class="row">
      <span class="amount-input">
        <span class="muted" aria-hidden="true">US$</span>
        <input id=${id + "-amount"} type="text" inputmode="decimal" pattern="[0-9]{1,7}([.,][0-9]{1,2})?" maxlength="10"
          required value=${value} aria-describedby=${id + "-hint"} onInput=${(e) => setValue(e.currentTarget.value)} />
      </span>
      <button type="submit" class="primary" id=${id + "-save"} disabled=${busy}>${t("common.save")}</button>
      ${current !== null && current !== undefined && onClear &&
      html`<button type="button" id=${id + "-clear"} disabled=${busy}
        onClick=${() => run(async () => { await onClear(); setValue(""); }, t("admin_usage.cleared"))}>
        ${t("admin_usage.clear")}</button>`}
    </div>
    <p class="hint" id=${id + "-hint"}>${hint}</p>
    <${Notice} notice=${notice} />
  </form>`;
}

function SetBy({ threshold }) {
  if (!threshold) return null;
  return html`<p class="hint set-by">${t("admin_usage.set_by", {
    who: threshold.set_by_email || threshold.set_by,
    when: dateTime(threshold.set_at),
  })}</p>`;
}

function Thresholds({ thresholds, onChanged }) {
  const g = thresholds.global;
  const save = async (amount) => {
    onChanged(await api("/api/v1/admin/ai-spend-thresholds/global", { method: "PUT", body: { monthly_usd_cents: amount } }));
  };
  const clear = async () => {
    onChanged(await api("/api/v1/admin/ai-spend-thresholds/global", { method: "DELETE" }));
  };
  return html`<section class="card stack" aria-labelledby="thresholds-title" id="spend-thresholds">
    <div>
      <h2 id="thresholds-title">${t("admin_usage.thresholds")}</h2>
      <p class="muted">${t("admin_usage.thresholds_lead")}</p>
    </div>
    <${ThresholdForm} id="global-threshold"
      label=${t("admin_usage.global")} hint=${t("admin_usage.global_hint")}
      current=${g ? g.monthly_usd_cents : null} onSave=${save} onClear=${clear} />
    <${SetBy} threshold=${g} />
    ${thresholds.tenants.length > 0 &&
    html`<div>
      <h3 id="own-thresholds-title">${t("admin_usage.own_thresholds")}</h3>
      <ul class="own-thresholds" aria-labelledby="own-thresholds-title">
        ${thresholds.tenants.map(
          (o) => html`<li key=${o.tenant_id}>
            <a href=${"/admin/usage/" + o.tenant_id}>${o.tenant_name || o.tenant_id.slice(0, 8)}</a>
            <strong>${money(o.monthly_usd_cents, "usd")}</strong>
          </li>`,
        )}
      </ul>
    </div>`}
  </section>`;
}

/// "US$ 5,00 (própria)" for a row of the top spenders, and how much of it is used.
function ThresholdCell({ u, own }) {
  const cents = u.ai_spend_threshold_usd_cents;
  if (cents === null || cents === undefined) return html`<span class="muted">${t("admin_usage.none")}</span>`;
  const used = cents > 0 ? u.estimated_cost_usd / (cents / 100) : 1;
  const hit = reached(u.estimated_cost_usd, cents);
  return html`<span class="threshold-cell">
    <span>${money(cents, "usd")} <span class="muted small">${own ? t("admin_usage.own") : t("admin_usage.global_short")}</span></span>
    ${hit
      ? html`<span class="badge handoff">${t("admin_usage.reached")}</span>`
      : html`<span class="muted small">${percent(used)}</span>`}
  </span>`;
}

function TopSpenders({ owned, version }) {
  const first = useApi("/api/v1/admin/usage?basis=calendar&limit=20");
  const [more, setMore] = useState([]);
  const [cursor, setCursor] = useState(undefined);
  const [busy, setBusy] = useState(false);
  // A threshold changed: read the first page again in place (the table stays meanwhile).
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    setMore([]);
    setCursor(undefined);
    first.reload();
  }, [version]);
  if (!first.data) return html`<section class="card"><${Loading} error=${first.error} onRetry=${first.reload} /></section>`;
  const items = [...first.data.items, ...more];
  const next = cursor === undefined ? first.data.next_cursor : cursor;
  const month = first.data.items.length ? first.data.items[0].period.start : first.data.period;
  async function loadMore() {
    setBusy(true);
    try {
      const page = await api(`/api/v1/admin/usage?basis=calendar&limit=20&cursor=${encodeURIComponent(next)}`);
      setMore([...more, ...page.items]);
      setCursor(page.next_cursor);
    } finally {
      setBusy(false);
    }
  }
  return html`<section class="card" aria-labelledby="spenders-title" id="top-spenders">
    <div class="split">
      <h2 id="spenders-title">${t("admin_usage.top_spenders")}</h2>
      <${ExportButtons} table="usage" list="/api/v1/admin/usage?basis=calendar" />
    </div>
    <p class="muted">${t("admin_usage.top_spenders_lead", { month: day(month, { month: "long", year: "numeric" }) })}</p>
    ${items.length === 0
      ? html`<p class="muted" id="no-spenders">${t("admin_usage.no_spenders")}</p>`
      : html`<${TableWrap} label=${t("admin_usage.top_spenders")}><table id="spenders-table">
          <thead><tr>
            <th scope="col">${t("admin_usage.tenant")}</th>
            <th scope="col" class="num">${t("admin_usage.cost")}</th>
            <th scope="col">${t("admin_usage.threshold")}</th>
            <th scope="col" class="num">${t("admin_usage.answers")}</th>
            <th scope="col" class="num">${t("admin_usage.tokens")}</th>
          </tr></thead>
          <tbody>
            ${items.map(
              (u) => html`<tr key=${u.tenant_id}>
                <th scope="row"><a href=${"/admin/usage/" + u.tenant_id}>${u.tenant_name || u.tenant_id.slice(0, 8)}</a>
                  ${u.plan && html`<span class="muted small"> · ${u.plan}</span>`}</th>
                <td class="num">${usd(u.estimated_cost_usd)}</td>
                <td><${ThresholdCell} u=${u} own=${owned.has(u.tenant_id)} /></td>
                <td class="num">${count(u.ai_replies)}</td>
                <td class="num">${count(u.tokens_in + u.tokens_out)}</td>
              </tr>`,
            )}
          </tbody>
        </table><//>`}
    ${next && html`<div class="row"><button type="button" id="more-spenders" disabled=${busy} onClick=${loadMore}>${t("admin_usage.more")}</button></div>`}
  </section>`;
}

function QuotaAlerts() {
  const alerts = useApi("/api/v1/admin/quota-alerts?limit=20");
  return html`<section class="card" aria-labelledby="alerts-title" id="quota-alerts">
    <h2 id="alerts-title">${t("admin_usage.quota_alerts")}</h2>
    <p class="muted">${t("admin_usage.quota_alerts_lead")}</p>
    ${!alerts.data
      ? html`<${Loading} error=${alerts.error} onRetry=${alerts.reload} />`
      : alerts.data.items.length === 0
        ? html`<p class="muted" id="no-alerts">${t("admin_usage.no_alerts")}</p>`
        : html`<${TableWrap} label=${t("admin_usage.quota_alerts")}><table>
            <thead><tr>
              <th scope="col">${t("admin_usage.tenant")}</th>
              <th scope="col">${t("admin_usage.period")}</th>
              <th scope="col" class="num">${t("admin_usage.answers")}</th>
              <th scope="col">${t("admin_usage.when")}</th>
            </tr></thead>
            <tbody>
              ${alerts.data.items.map(
                (a) => html`<tr key=${a.tenant_id + a.period_start}>
                  <th scope="row"><a href=${"/admin/usage/" + a.tenant_id}>${a.tenant_name || a.tenant_id.slice(0, 8)}</a>
                    <span class="muted small"> · ${a.plan}</span></th>
                  <td>${day(a.period_start)} – ${day(dayBefore(a.period_end))}</td>
                  <td class="num">${t("admin_usage.of_quota", { used: count(a.ai_replies), quota: count(a.quota) })}</td>
                  <td>${dateTime(a.at)}</td>
                </tr>`,
              )}
            </tbody>
          </table><//>`}
  </section>`;
}

function Monitor() {
  const thresholds = useApi("/api/v1/admin/ai-spend-thresholds");
  // Bumped when a threshold changes, so the top spenders show the new one.
  const [version, setVersion] = useState(0);
  const owned = new Set(thresholds.data ? thresholds.data.tenants.map((o) => o.tenant_id) : []);
  return html`<main id="main" class="page admin-usage">
    <${PageHead} title=${t("admin_usage.title")} lead=${t("admin_usage.lead")} />
    <div class="stack">
      ${thresholds.data
        ? html`<${Thresholds} thresholds=${thresholds.data}
            onChanged=${(next) => { thresholds.setData(next); setVersion((v) => v + 1); }} />`
        : html`<${Loading} error=${thresholds.error} onRetry=${thresholds.reload} />`}
      <${TopSpenders} version=${version} owned=${owned} />
      <${QuotaAlerts} />
    </div>
  </main>`;
}

function monthLabel(iso) {
  return day(iso, { month: "short", year: "2-digit" });
}

function Charts({ h }) {
  const charts = useMemo(() => ({
    months: {
      x: h.months.map((_, i) => i),
      label: (i) => (h.months[Math.round(i)] ? monthLabel(h.months[Math.round(i)].date) : ""),
      series: [{ label: t("admin_usage.cost_usd"), color: "--accent", values: h.months.map((m) => m.estimated_cost_usd) }],
    },
    days: {
      x: h.days.map((_, i) => i),
      label: (i) => (h.days[Math.round(i)] ? day(h.days[Math.round(i)].date, { day: "2-digit", month: "2-digit" }) : ""),
      series: [{ label: t("admin_usage.cost_usd"), color: "--info", values: h.days.map((d) => d.estimated_cost_usd) }],
    },
  }), [h]);
  // One month is no trend: its total is in the table below.
  return html`<div class="charts">
    ${h.months.length > 1 &&
    html`<${LineChart} id="chart-months" title=${t("admin_usage.chart_months")} x=${charts.months.x}
      xFormat=${charts.months.label} series=${charts.months.series} yFormat=${dollars} yIncrs=${COST_STEPS} />`}
    <${LineChart} id="chart-days" title=${t("admin_usage.chart_days", { month: day(h.month, { month: "long", year: "numeric" }) })}
      x=${charts.days.x} xFormat=${charts.days.label} series=${charts.days.series} yFormat=${dollars} yIncrs=${COST_STEPS} />
  </div>`;
}

function TenantThreshold({ h, onChanged }) {
  const path = `/api/v1/admin/tenants/${h.tenant_id}/ai-spend-threshold`;
  const own = h.threshold_source === "tenant";
  const current = h.months.length ? h.months[h.months.length - 1] : null;
  const isThisMonth = current && current.date === h.month;
  return html`<section class="card stack" aria-labelledby="tenant-threshold-title" id="tenant-spend">
    <div>
      <h2 id="tenant-threshold-title">${t("admin_usage.tenant_threshold")}</h2>
      <p class="muted" id="tenant-threshold-state">${h.threshold_usd_cents === null
        ? t("admin_usage.watched_by_none")
        : own
          ? t("admin_usage.watched_by_own", { amount: money(h.threshold_usd_cents, "usd") })
          : t("admin_usage.watched_by_global", { amount: money(h.threshold_usd_cents, "usd") })}</p>
    </div>
    ${isThisMonth && h.threshold_usd_cents !== null &&
    html`<p class="quota-line" id="tenant-threshold-use">
      <span>${t("admin_usage.threshold_use", { cost: usd(current.estimated_cost_usd), amount: money(h.threshold_usd_cents, "usd") })}</span>
      ${reached(current.estimated_cost_usd, h.threshold_usd_cents)
        ? html`<span class="badge handoff">${t("admin_usage.reached")}</span>`
        : html`<strong>${percent(h.threshold_usd_cents > 0 ? current.estimated_cost_usd / (h.threshold_usd_cents / 100) : 1)}</strong>`}
    </p>`}
    ${isThisMonth && h.threshold_usd_cents !== null &&
    html`<${Bar} id="tenant-threshold-bar" value=${h.threshold_usd_cents > 0 ? current.estimated_cost_usd / (h.threshold_usd_cents / 100) : 1}
      tone=${reached(current.estimated_cost_usd, h.threshold_usd_cents) ? "bad" : "accent"}
      label=${t("admin_usage.threshold_use", { cost: usd(current.estimated_cost_usd), amount: money(h.threshold_usd_cents, "usd") })} />`}
    <${ThresholdForm} id="tenant-threshold"
      label=${t("admin_usage.own_label")} hint=${t("admin_usage.own_hint")}
      current=${own ? h.threshold_usd_cents : null}
      onSave=${async (amount) => { await api(path, { method: "PUT", body: { monthly_usd_cents: amount } }); await onChanged(); }}
      onClear=${async () => { await api(path, { method: "DELETE" }); await onChanged(); }} />
  </section>`;
}

function History({ id, query }) {
  const asked = (query && query.get("month")) || "";
  const month = /^\d{4}-\d{2}$/.test(asked) ? asked : "";
  const history = useApi(`/api/v1/admin/tenants/${id}/usage-history${month ? "?month=" + month : ""}`);
  const h = history.data;
  const back = html`<p><a href="/admin/usage" class="back-link">← ${t("admin_usage.back")}</a></p>`;
  if (!h) {
    return html`<main id="main" class="page admin-usage">${back}<${Loading} error=${history.error} onRetry=${history.reload} /></main>`;
  }
  const months = [...h.months].reverse();
  // The tenant's AI limits (requests, tokens, cost: a separate setting, which refuses
  // answers) may get a section beside its spend threshold, which only notifies.
  return html`<main id="main" class="page admin-usage">
    ${back}
    <${PageHead} title=${h.tenant_name} lead=${t("admin_usage.history_lead")}>
      <a class="button" href=${"/admin/tenants/" + h.tenant_id} id="open-tenant">${t("admin_usage.open_tenant")}</a>
    <//>
    <div class="stack">
      <${TenantThreshold} h=${h} onChanged=${history.reload} />
      <label class="field inline" for="history-month">${t("admin_usage.month")}
        <select id="history-month" value=${h.month.slice(0, 7)}
          onChange=${(e) => navigate(`/admin/usage/${id}?month=${e.currentTarget.value}`, { replace: true })}>
          ${months.map((m) => html`<option value=${m.date.slice(0, 7)}>${day(m.date, { month: "long", year: "numeric" })}</option>`)}
        </select></label>
      <${Charts} h=${h} />
      <section class="card" aria-labelledby="months-title" id="tenant-months">
        <h2 id="months-title">${t("admin_usage.per_month")}</h2>
        <${TableWrap} label=${t("admin_usage.per_month")}><table>
          <thead><tr>
            <th scope="col">${t("admin_usage.month")}</th>
            <th scope="col" class="num">${t("admin_usage.cost")}</th>
            <th scope="col" class="num">${t("admin_usage.answers")}</th>
            <th scope="col" class="num">${t("admin_usage.tokens")}</th>
          </tr></thead>
          <tbody>
            ${months.map(
              (m) => html`<tr key=${m.date}>
                <th scope="row">${day(m.date, { month: "long", year: "numeric" })}</th>
                <td class="num">${usd(m.estimated_cost_usd)}</td>
                <td class="num">${count(m.ai_replies)}</td>
                <td class="num">${count(m.tokens_in + m.tokens_out)}</td>
              </tr>`,
            )}
          </tbody>
        </table><//>
      </section>
    </div>
  </main>`;
}

export default function AdminUsage({ params, query }) {
  return params && params.id ? html`<${History} key=${params.id} id=${params.id} query=${query} />` : html`<${Monitor} />`;
}

// The admins' home (`/admin/overview`): how the SaaS is doing. MRR and the average revenue
// per paying subscription, trial→paid conversion, this month's AI cost against revenue,
// tenants and subscriptions by status, revenue per month and sign-ups and cancellations
// per day, week or month, and the latest tenants.
import { html, useMemo } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { navigate } from "../lib/router.js";
import { count, money, percent, usd, day } from "../lib/format.js";
import { useApi, PageHead, Loading } from "../components/ui.js";
import { MonthlyPdf } from "../components/export.js";
import { LineChart } from "../components/chart.js";

const GRANULARITIES = ["day", "week", "month"];
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

function Stat({ label, value, hint, id }) {
  return html`<div class="stat card" id=${id}>
    <dt>${label}</dt>
    <dd><strong>${value}</strong>${hint && html`<span class="hint">${hint}</span>`}</dd>
  </div>`;
}

/// "R$ 399,00 · US$ 20,00" for amounts per currency; "—" for none.
function amounts(byCurrency) {
  const entries = Object.entries(byCurrency || {});
  if (entries.length === 0) return "—";
  return entries.map(([c, cents]) => money(cents, c)).join(" · ");
}

export default function AdminOverview({ query }) {
  const granularity = GRANULARITIES.includes(query.get("granularity")) ? query.get("granularity") : "day";
  const status = useApi("/api/v1/admin/reports/status");
  const mrr = useApi("/api/v1/admin/reports/mrr");
  const overview = useApi("/api/v1/admin/reports/overview");
  const revenue = useApi("/api/v1/admin/reports/revenue");
  const signups = useApi(`/api/v1/admin/reports/signups?granularity=${granularity}`);
  const recent = useApi("/api/v1/admin/reports/recent-tenants?limit=5");
  const all = [status, mrr, overview, revenue, signups, recent];
  const failed = all.find((r) => r.error);
  const ready = all.every((r) => r.data);

  return html`<main id="main" class="page admin-overview">
    <${PageHead} title=${t("admin_overview.title")} lead=${t("admin_overview.lead")}>
      <${MonthlyPdf} />
    <//>
    ${!ready
      ? html`<${Loading} error=${failed && failed.error} onRetry=${() => all.forEach((r) => r.reload())} />`
      : html`<${Report} status=${status.data} mrr=${mrr.data} overview=${overview.data}
          revenue=${revenue.data} signups=${signups.data} recent=${recent.data} granularity=${granularity} />`}
  </main>`;
}

function Report({ status, mrr, overview, revenue, signups, recent, granularity }) {
  const conv = overview.conversion;
  const month = overview.month;
  const tenantsActive = (status.tenants.find((s) => s.status === "active") || { count: 0 }).count;
  const tenantsTotal = status.tenants.reduce((n, s) => n + s.count, 0);
  return html`
    <dl class="stats" id="overview-kpis">
      <${Stat} id="kpi-mrr" label=${t("admin_overview.mrr")} value=${amounts(mrr.mrr_cents)}
        hint=${t("admin_overview.paying", { n: count(mrr.paying_subscriptions) })} />
      <${Stat} id="kpi-ticket" label=${t("admin_overview.ticket")}
        value=${overview.average_revenue.length === 0
          ? "—"
          : overview.average_revenue.map((a) => money(a.average_cents, a.currency)).join(" · ")}
        hint=${t("admin_overview.ticket_hint")} />
      <${Stat} id="kpi-conversion" label=${t("admin_overview.conversion")}
        value=${conv.rate === null ? "—" : percent(conv.rate, 1)}
        hint=${t("admin_overview.conversion_hint", {
          converted: count(conv.converted),
          decided: count(conv.trials - conv.running),
          running: count(conv.running),
        })} />
      <${Stat} id="kpi-tenants" label=${t("admin_overview.tenants")} value=${count(tenantsTotal)}
        hint=${t("admin_overview.tenants_active", { n: count(tenantsActive) })} />
    </dl>

    <section class="card" aria-labelledby="ai-vs-revenue-title" id="ai-vs-revenue">
      <h2 id="ai-vs-revenue-title">${t("admin_overview.ai_vs_revenue", { month: day(month.month, { month: "long", year: "numeric" }) })}</h2>
      <dl class="stats compact">
        <${Stat} label=${t("admin_overview.ai_cost")} value=${usd(month.ai_cost_usd)}
          hint=${t("admin_overview.ai_replies", { n: count(month.ai_replies) })} />
        <${Stat} label=${t("admin_overview.month_revenue")} value=${amounts(month.revenue_cents)} />
      </dl>
      ${month.unpriced_models.length > 0 &&
      html`<p class="notice warn">${t("admin_overview.unpriced", { models: month.unpriced_models.join(", ") })}</p>`}
      <p class="hint">${t("admin_overview.ai_hint")}</p>
    </section>

    <div class="overview-grid">
      <${StatusTable} id="tenants-by-status" title=${t("admin_overview.tenants_by_status")}
        rows=${status.tenants} label=${(s) => t("tenant_status." + s)}
        extra=${status.tenants_without_subscription > 0
          ? t("admin_overview.without_subscription", { n: count(status.tenants_without_subscription) })
          : null} />
      <${StatusTable} id="subscriptions-by-status" title=${t("admin_overview.subscriptions_by_status")}
        rows=${status.subscriptions} label=${(s) => t("subscription_status." + s)} />
    </div>

    <div class="charts">
      <${RevenueChart} revenue=${revenue} />
      <${SignupsChart} signups=${signups} granularity=${granularity} />
    </div>

    <section class="card" aria-labelledby="recent-title" id="recent-tenants">
      <div class="section-head">
        <h2 id="recent-title">${t("admin_overview.recent")}</h2>
        <a href="/admin/tenants">${t("admin_overview.all_tenants")}</a>
      </div>
      ${recent.items.length === 0
        ? html`<p class="muted">${t("admin_tenants.none")}</p>`
        : html`<ul class="plain-list">
            ${recent.items.map(
              (r) => html`<li key=${r.tenant_id}>
                <a href=${"/admin/tenants/" + r.tenant_id}>${r.name}</a>
                <span class="muted small">${r.plan} · ${dateTime(r.registered_at)}</span>
                <${TenantStatus} status=${r.status} />
              </li>`,
            )}
          </ul>`}
    </section>`;
}

export function TenantStatus({ status }) {
  return html`<span class=${"badge " + (status === "suspended" ? "handoff" : "answer")}>${t("tenant_status." + status)}</span>`;
}

function StatusTable({ id, title, rows, label, extra }) {
  return html`<section class="card" aria-labelledby=${id + "-title"} id=${id}>
    <h2 id=${id + "-title"}>${title}</h2>
    ${rows.length === 0
      ? html`<p class="muted">${t("admin_overview.none")}</p>`
      : html`<table class="compact-table">
          <thead><tr><th scope="col">${t("admin_overview.status")}</th><th scope="col" class="num">${t("admin_overview.count")}</th></tr></thead>
          <tbody>
            ${rows.map((r) => html`<tr key=${r.status}><th scope="row">${label(r.status)}</th><td class="num">${count(r.count)}</td></tr>`)}
          </tbody>
        </table>`}
    ${extra && html`<p class="hint">${extra}</p>`}
  </section>`;
}

function RevenueChart({ revenue }) {
  const chart = useMemo(() => {
    // Every month of the range, so a month without payments shows as zero.
    const months = [];
    const [fy, fm] = revenue.from.split("-").map(Number);
    const [ty, tm] = revenue.to.split("-").map(Number);
    for (let y = fy, m = fm; y < ty || (y === ty && m <= tm); m === 12 ? ((m = 1), y++) : m++) {
      months.push(`${y}-${String(m).padStart(2, "0")}-01`);
    }
    const currencies = [...new Set(revenue.months.map((r) => r.currency))];
    if (currencies.length === 0) currencies.push("brl");
    const colors = ["--accent", "--info", "--violet", "--warn"];
    const series = currencies.map((c, i) => ({
      label: c.toUpperCase(),
      color: colors[i % colors.length],
      values: months.map((m) => {
        const row = revenue.months.find((r) => r.month === m && r.currency === c);
        return row ? row.amount_cents : 0;
      }),
    }));
    const single = currencies.length === 1 ? currencies[0] : null;
    return {
      x: months.map((_, i) => i),
      label: (i) => (months[Math.round(i)] ? day(months[Math.round(i)], { month: "short", year: "2-digit" }) : ""),
      series,
      yFormat: (v) => (single ? money(v, single) : count(v / 100)),
    };
  }, [revenue]);
  return html`<${LineChart} id="chart-revenue" title=${t("admin_overview.chart_revenue")} x=${chart.x}
    xFormat=${chart.label} series=${chart.series} yFormat=${chart.yFormat} />`;
}

function SignupsChart({ signups, granularity }) {
  const chart = useMemo(() => {
    const b = signups.buckets;
    const style = granularity === "month" ? { month: "short", year: "2-digit" } : { day: "2-digit", month: "2-digit" };
    return {
      x: b.map((_, i) => i),
      label: (i) => (b[Math.round(i)] ? day(b[Math.round(i)].start, style) : ""),
      series: [
        { label: t("admin_overview.new_tenants"), values: b.map((r) => r.new_tenants), color: "--success" },
        { label: t("admin_overview.cancelled_tenants"), values: b.map((r) => r.cancelled_tenants), color: "--danger" },
      ],
    };
  }, [signups, granularity]);
  return html`<div class="chart-with-control">
    <label class="field inline" for="signups-granularity">${t("admin_overview.granularity")}
      <select id="signups-granularity" value=${granularity}
        onChange=${(e) => navigate("/admin/overview?granularity=" + e.currentTarget.value, { replace: true })}>
        ${GRANULARITIES.map((g) => html`<option value=${g}>${t("admin_overview.per." + g)}</option>`)}
      </select>
    </label>
    <${LineChart} id="chart-signups" title=${t("admin_overview.chart_signups")} x=${chart.x}
      xFormat=${chart.label} series=${chart.series} yFormat=${(v) => count(v)} yIncrs=${COUNT_STEPS} />
  </div>`;
}

// The tenant's metrics (`/insights`; `/metrics` is the Prometheus endpoint): totals over a range of days, and per-day charts of
// the messages, hand-offs, the AI's resolution rate and response times.
import { html, useMemo } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { navigate } from "../lib/router.js";
import { count, percent, seconds, day } from "../lib/format.js";
import { useApi, PageHead, Loading } from "../components/ui.js";
import { LineChart } from "../components/chart.js";

const RANGES = [7, 30, 90, 365];
// Axis steps for counts: whole messages only.
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
// Axis steps for durations in seconds: whole seconds, minutes and hours.
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

export default function Metrics({ query }) {
  const days = RANGES.includes(Number(query.get("days"))) ? Number(query.get("days")) : 30;
  const to = new Date();
  const from = new Date(to.getTime() - (days - 1) * 86400000);
  const report = useApi(`/api/v1/metrics?from=${isoDay(from)}&to=${isoDay(to)}`);

  return html`<main id="main" class="page">
    <${PageHead} title=${t("metrics.title")} lead=${t("metrics.lead")}>
      <label class="sr-only" for="metrics-range">${t("metrics.range")}</label>
      <select id="metrics-range" class="range-select" value=${String(days)}
        onChange=${(e) => navigate("/insights?days=" + e.currentTarget.value, { replace: true })}>
        ${RANGES.map((d) => html`<option value=${String(d)}>${t("metrics.last_days", { n: d })}</option>`)}
      </select>
    <//>
    ${report.data
      ? html`<${Report} r=${report.data} />`
      : html`<${Loading} error=${report.error} onRetry=${report.reload} />`}
  </main>`;
}

function Stat({ label, value, hint, id }) {
  return html`<div class="stat card" id=${id}>
    <dt>${label}</dt>
    <dd><strong>${value}</strong>${hint && html`<span class="hint">${hint}</span>`}</dd>
  </div>`;
}

function Report({ r }) {
  const tot = r.totals;
  const charts = useMemo(() => {
    // The x axis counts days from the first, so the charts need no time zone.
    const x = r.days.map((_, i) => i);
    const label = (i) =>
      r.days[Math.round(i)] ? day(r.days[Math.round(i)].day, { day: "2-digit", month: "2-digit" }) : "";
    const col = (k, f = (v) => v) => r.days.map((d) => (d[k] === null || d[k] === undefined ? null : f(d[k])));
    return {
      x,
      label,
      volume: [
        { label: t("metrics.inbound"), values: col("inbound_messages"), color: "--info" },
        { label: t("metrics.ai_replies"), values: col("ai_replies"), color: "--accent" },
        { label: t("metrics.handoffs"), values: col("handoffs"), color: "--danger" },
      ],
      rate: [{ label: t("metrics.ai_rate"), values: col("ai_resolution_rate"), color: "--success" }],
      times: [
        { label: t("metrics.ai_first"), values: col("median_ai_first_response_secs"), color: "--accent" },
        { label: t("metrics.human_first"), values: col("median_human_first_response_secs"), color: "--violet" },
        { label: t("metrics.human_response"), values: col("median_human_response_secs"), color: "--warn" },
      ],
    };
  }, [r]);
  const empty = tot.inbound_messages === 0 && tot.ai_replies === 0 && tot.handoffs === 0;
  return html`
    <dl class="stats" id="metrics-totals">
      <${Stat} label=${t("metrics.inbound")} value=${count(tot.inbound_messages)} />
      <${Stat} label=${t("metrics.ai_replies")} value=${count(tot.ai_replies)} />
      <${Stat} label=${t("metrics.handoffs")} value=${count(tot.handoffs)} />
      <${Stat} label=${t("metrics.ai_rate")}
        value=${tot.ai_resolution_rate === null ? "—" : percent(tot.ai_resolution_rate)}
        hint=${t("metrics.resolved_of", { a: count(tot.resolved_by_ai), n: count(tot.resolved_conversations) })} />
    </dl>
    <dl class="stats">
      <${Stat} label=${t("metrics.ai_first")} value=${seconds(tot.median_ai_first_response_secs)} hint=${t("metrics.median")} />
      <${Stat} label=${t("metrics.human_first")} value=${seconds(tot.median_human_first_response_secs)} hint=${t("metrics.median")} />
      <${Stat} label=${t("metrics.human_response")} value=${seconds(tot.median_human_response_secs)} hint=${t("metrics.median")} />
    </dl>
    ${empty && html`<p class="notice info">${t("metrics.empty")}</p>`}
    <div class="charts">
      <${LineChart} id="chart-volume" title=${t("metrics.chart_volume")} x=${charts.x} xFormat=${charts.label}
        series=${charts.volume} yFormat=${(v) => count(v)} yIncrs=${COUNT_STEPS} />
      <${LineChart} id="chart-rate" title=${t("metrics.chart_rate")} x=${charts.x} xFormat=${charts.label}
        series=${charts.rate} yFormat=${(v) => percent(v)} yRange=${[0, 1]} />
      <${LineChart} id="chart-times" title=${t("metrics.chart_times")} x=${charts.x} xFormat=${charts.label}
        series=${charts.times} yFormat=${seconds} yIncrs=${TIME_STEPS} />
    </div>`;
}

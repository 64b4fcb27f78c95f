// Plan and usage (`/usage`; `/billing`, where Stripe's portal returns): the plan, this
// billing period's AI answers against its quota, the estimated AI cost, and the way to
// Stripe's portal for payment methods, invoices and changing plan.
import { html, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { money, count, percent, usd, day, dayBefore } from "../lib/format.js";
import { api } from "../lib/session.js";
import { useApi, PageHead, Loading, Bar, errorMessage } from "../components/ui.js";

export default function Usage() {
  const usage = useApi("/api/v1/usage");
  const plans = useApi("/api/v1/plans");
  const u = usage.data;
  const plan = u && plans.data && plans.data.items.find((p) => p.id === u.plan);
  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("usage.title")} lead=${t("usage.lead")} />
    ${u
      ? html`<div class="stack">
          <section class="card" aria-labelledby="plan-title">
            <div class="split">
              <div>
                <p class="muted small">${t("usage.plan")}</p>
                <h2 id="plan-title">${plan ? plan.name : u.plan || t("usage.no_plan")}</h2>
                ${plan && html`<p class="muted">${money(plan.monthly_price_cents, plan.currency)} ${t("pricing.per_month")}</p>`}
              </div>
              <${Portal} />
            </div>
          </section>
          <section class="card" aria-labelledby="quota-title">
            <h2 id="quota-title">${t("usage.quota_title")}</h2>
            <p class="muted">${t("usage.period", { from: day(u.period.start, { dateStyle: "long" }), to: day(dayBefore(u.period.end), { dateStyle: "long" }) })}</p>
            ${u.ai_message_quota === null
              ? html`<p id="quota-line"><strong>${count(u.ai_replies)}</strong> ${t("usage.answers_unlimited")}</p>`
              : html`<p class="quota-line" id="quota-line">
                    <span><strong>${count(u.ai_replies)}</strong> ${t("usage.of_quota", { n: count(u.ai_message_quota) })}</span>
                    <strong>${percent(u.quota_used || 0)}</strong>
                  </p>
                  <${Bar} id="quota-bar" value=${u.quota_used || 0}
                    tone=${u.quota_used >= 1 ? "bad" : u.quota_used >= 0.8 ? "warn" : "accent"}
                    label=${t("usage.quota_label", { p: percent(u.quota_used || 0) })} />
                  <p class="hint">${u.quota_used >= 1 ? t("usage.over_quota") : t("usage.quota_hint")}</p>`}
          </section>
          <dl class="stats">
            <div class="stat card"><dt>${t("metrics.inbound")}</dt><dd><strong>${count(u.inbound_messages)}</strong></dd></div>
            <div class="stat card"><dt>${t("metrics.ai_replies")}</dt><dd><strong>${count(u.ai_replies)}</strong></dd></div>
            <div class="stat card" id="cost"><dt>${t("usage.cost")}</dt><dd><strong>${usd(u.estimated_cost_usd)}</strong><span class="hint">${t("usage.cost_hint")}</span></dd></div>
            <div class="stat card"><dt>${t("usage.tokens")}</dt><dd><strong>${count(u.tokens_in + u.tokens_out)}</strong><span class="hint">${t("usage.tokens_split", { i: count(u.tokens_in), o: count(u.tokens_out) })}</span></dd></div>
          </dl>
          ${u.models.length > 0 &&
          html`<section class="card" aria-labelledby="models-title">
            <h2 id="models-title">${t("usage.models")}</h2>
            <div class="table-wrap">
              <table>
                <thead><tr>
                  <th scope="col">${t("usage.model")}</th><th scope="col">${t("metrics.ai_replies")}</th>
                  <th scope="col">${t("usage.tokens")}</th><th scope="col">${t("usage.cost")}</th>
                </tr></thead>
                <tbody>
                  ${u.models.map(
                    (m) => html`<tr>
                      <th scope="row">${m.model}</th><td>${count(m.ai_replies)}</td>
                      <td>${count(m.tokens_in + m.tokens_out)}</td>
                      <td>${m.estimated_cost_usd === null ? t("usage.unpriced") : usd(m.estimated_cost_usd)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>
          </section>`}
        </div>`
      : html`<${Loading} error=${usage.error} onRetry=${usage.reload} />`}
  </main>`;
}

function Portal() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function open() {
    setBusy(true);
    setError(null);
    try {
      const s = await api("/api/v1/billing/portal", { method: "POST", body: {} });
      window.location.assign(s.url);
    } catch (e) {
      setError(e.code === "no_stripe_customer" ? t("usage.no_subscription") : errorMessage(e));
      setBusy(false);
    }
  }
  return html`<div class="portal">
    <button type="button" class="primary" id="billing-portal" onClick=${open} disabled=${busy}>
      ${busy ? t("pricing.redirecting") : t("usage.portal")}
    </button>
    <p class="hint">${t("usage.portal_hint")}</p>
    ${error && html`<p class="error" role="alert">${error} <a href="/plans">${t("usage.see_plans")}</a></p>`}
  </div>`;
}

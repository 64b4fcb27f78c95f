// Subscriptions and payments (`/admin/subscriptions`), for admins (F26): every tenant's
// subscription filtered by status, plan, tenant name and scheduled cancellation (kept in
// the address); cancelling one at the period's end or at once, and undoing a scheduled
// cancellation, after a confirmation; and the payments Stripe reported, each refundable in
// full or in part (components/refund.js). Stripe answers
// these requests and its webhook records the outcome, so a row changes a moment later: the
// page polls until it does.
import { html, useEffect, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { money } from "../lib/format.js";
import { usePaged, withQuery } from "../lib/paged.js";
import { PageHead, Loading, Notice, errorMessage } from "../components/ui.js";
import { Confirm } from "../components/confirm.js";
import { TableWrap } from "../components/table-wrap.js";
import { ExportButtons } from "../components/export.js";
import { RefundedAmount, useRefunds } from "../components/refund.js";

const STATUSES = ["trialing", "active", "past_due", "suspended", "cancelled"];
const POLL_MS = 1500;
const POLL_TIMES = 40;

function subscriptionsUrl(query) {
  const q = new URLSearchParams();
  for (const k of ["status", "plan", "q", "cancel_at_period_end"]) {
    if (query.get(k)) q.set(k, query.get(k));
  }
  return "/api/v1/admin/subscriptions?" + q.toString();
}

function paymentsUrl(query) {
  const q = new URLSearchParams();
  if (query.get("payment_status")) q.set("status", query.get("payment_status"));
  if (query.get("payments_tenant")) q.set("tenant", query.get("payments_tenant"));
  return "/api/v1/admin/payments?" + q.toString();
}

export function SubscriptionStatus({ s }) {
  return html`<span class=${"badge sub-" + s.status}>${t("admin_billing.status." + s.status)}</span>
    ${s.cancel_at_period_end && s.status !== "cancelled" &&
    html` <span class="badge sub-ending">${t("admin_billing.ends_at_period_end")}</span>`}`;
}

export default function AdminSubscriptions({ query }) {
  const subs = usePaged(subscriptionsUrl(query));
  const [plans, setPlans] = useState([]);
  const [search, setSearch] = useState(query.get("q") || "");
  const [notice, setNotice] = useState(null);
  const [asking, setAsking] = useState(null); // {kind: "cancel"|"reactivate", sub}
  const [immediately, setImmediately] = useState(false);
  const [busy, setBusy] = useState(false);
  const [waiting, setWaiting] = useState(null); // {tenant, done(sub) => bool}

  useEffect(() => {
    api("/api/v1/plans").then((p) => setPlans(p.items), () => setPlans([]));
  }, []);

  // After Stripe accepted, the webhook changes the row: look again until it has.
  useEffect(() => {
    if (!waiting) return undefined;
    let left = POLL_TIMES;
    const timer = setInterval(async () => {
      left -= 1;
      try {
        const page = await api(`/api/v1/admin/subscriptions?tenant=${waiting.tenant}`);
        const sub = page.items[0];
        if (sub && waiting.done(sub)) {
          setWaiting(null);
          setNotice({ ok: true, text: t(waiting.doneKey, { tenant: sub.tenant_name || sub.tenant_id }) });
          subs.reload();
          return;
        }
      } catch {
        // Keep polling: the next round reports.
      }
      if (left <= 0) {
        setWaiting(null);
        setNotice({ ok: false, text: t("admin_billing.no_confirmation") });
      }
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [waiting]);

  const set = (k) => (e) => navigate(withQuery(location.pathname, query, { [k]: e.currentTarget.value }));

  async function act() {
    const { kind, sub } = asking;
    setBusy(true);
    setNotice(null);
    try {
      if (kind === "cancel") {
        await api(`/api/v1/admin/subscriptions/${sub.tenant_id}/cancel`, {
          method: "POST",
          body: { immediately },
        });
        setWaiting({
          tenant: sub.tenant_id,
          done: immediately ? (s) => s.status === "cancelled" : (s) => s.cancel_at_period_end,
          doneKey: immediately ? "admin_billing.cancelled_now" : "admin_billing.cancel_scheduled",
        });
      } else {
        await api(`/api/v1/admin/subscriptions/${sub.tenant_id}/reactivate`, { method: "POST" });
        setWaiting({ tenant: sub.tenant_id, done: (s) => !s.cancel_at_period_end, doneKey: "admin_billing.reactivated" });
      }
      setNotice({ ok: true, text: t("admin_billing.sent_to_stripe") });
      setAsking(null);
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
      setAsking(null);
    } finally {
      setBusy(false);
    }
  }

  const name = (s) => s.tenant_name || s.tenant_id.slice(0, 8);
  const stripeActions = (s) => {
    if (s.status === "cancelled") return html`<span class="muted small">—</span>`;
    if (!s.stripe_subscription_id) return html`<span class="muted small">${t("admin_billing.complimentary")}</span>`;
    const pending = waiting && waiting.tenant === s.tenant_id;
    return html`<div class="row">
      ${s.cancel_at_period_end
        ? html`<button type="button" class="small-button" disabled=${pending}
            aria-label=${t("admin_billing.reactivate_named", { tenant: name(s) })}
            data-action="reactivate" data-tenant=${s.tenant_id}
            onClick=${() => setAsking({ kind: "reactivate", sub: s })}>${t("admin_billing.reactivate")}</button>`
        : null}
      <button type="button" class="small-button danger" disabled=${pending}
        aria-label=${t("admin_billing.cancel_named", { tenant: name(s) })}
        data-action="cancel" data-tenant=${s.tenant_id}
        onClick=${() => { setImmediately(false); setAsking({ kind: "cancel", sub: s }); }}>${t("admin_billing.cancel")}</button>
    </div>`;
  };

  return html`<main id="main" class="page admin-billing">
    <${PageHead} title=${t("admin_billing.title")} lead=${t("admin_billing.lead")} />
    <${Notice} notice=${notice} />
    ${waiting && html`<p class="muted small" role="status">${t("admin_billing.waiting_stripe")}</p>`}
    <section class="card" aria-labelledby="subs-title">
      <div class="split">
        <h2 id="subs-title">${t("admin_billing.subscriptions")}</h2>
        <${ExportButtons} table="subscriptions" list=${subscriptionsUrl(query)} />
      </div>
      <form class="filter-bar" aria-label=${t("admin_billing.filters")}
        onSubmit=${(e) => { e.preventDefault(); navigate(withQuery(location.pathname, query, { q: search.trim() })); }}>
        <label class="field">${t("admin_billing.status")}
          <select id="f-status" value=${query.get("status") || ""} onChange=${set("status")}>
            <option value="">${t("admin_billing.all")}</option>
            ${STATUSES.map((s) => html`<option value=${s}>${t("admin_billing.status." + s)}</option>`)}
          </select></label>
        <label class="field">${t("admin_billing.plan")}
          <select id="f-plan" value=${query.get("plan") || ""} onChange=${set("plan")}>
            <option value="">${t("admin_billing.all")}</option>
            ${plans.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
          </select></label>
        <label class="field">${t("admin_billing.scheduled")}
          <select id="f-ending" value=${query.get("cancel_at_period_end") || ""} onChange=${set("cancel_at_period_end")}>
            <option value="">${t("admin_billing.all")}</option>
            <option value="true">${t("admin_billing.scheduled_yes")}</option>
            <option value="false">${t("admin_billing.scheduled_no")}</option>
          </select></label>
        <label class="field grow">${t("admin_billing.tenant")}
          <span class="search">
            <input id="f-q" type="search" value=${search} placeholder=${t("admin_billing.tenant_hint")}
              onInput=${(e) => setSearch(e.currentTarget.value)} />
            <button type="submit">${t("admin_billing.search")}</button>
          </span></label>
      </form>
      ${subs.items === null
        ? html`<${Loading} error=${subs.error} onRetry=${subs.reload} />`
        : subs.items.length === 0
          ? html`<p class="empty">${t("admin_billing.none")}</p>`
          : html`<${TableWrap} label=${t("admin_billing.subscriptions")}><table id="subscriptions">
              <caption class="sr-only">${t("admin_billing.subscriptions")}</caption>
              <thead><tr>
                <th scope="col">${t("admin_billing.tenant")}</th>
                <th scope="col">${t("admin_billing.plan")}</th>
                <th scope="col">${t("admin_billing.status")}</th>
                <th scope="col">${t("admin_billing.paid_until")}</th>
                <th scope="col">${t("admin_billing.started")}</th>
                <th scope="col"><span class="sr-only">${t("admin_billing.actions")}</span></th>
              </tr></thead>
              <tbody>
                ${subs.items.map((s) => html`<tr key=${s.tenant_id} data-tenant=${s.tenant_id}>
                  <th scope="row"><a href=${withQuery("/admin/subscriptions", query, { payments_tenant: s.tenant_id }) + "#payments-title"}
                    title=${t("admin_billing.payments_of", { tenant: name(s) })}>${name(s)}</a></th>
                  <td>${s.plan}</td>
                  <td class="sub-status"><${SubscriptionStatus} s=${s} /></td>
                  <td>${s.paid_until ? dateTime(s.paid_until) : s.trial_end ? t("admin_billing.trial_until", { when: dateTime(s.trial_end) }) : "—"}</td>
                  <td>${dateTime(s.started_at)}</td>
                  <td class="actions-cell">${stripeActions(s)}</td>
                </tr>`)}
              </tbody>
            </table><//>`}
      ${subs.error && subs.items && html`<p class="error" role="alert">${subs.error}</p>`}
      ${subs.next && html`<p class="list-foot"><button type="button" onClick=${subs.more}>${t("admin_billing.more")}</button></p>`}
    </section>
    <${Payments} query=${query} set=${set} />
    <${Confirm} id="confirm-billing" open=${!!asking} busy=${busy}
      title=${asking && (asking.kind === "cancel" ? t("admin_billing.cancel_title", { tenant: name(asking.sub) }) : t("admin_billing.reactivate_title", { tenant: name(asking.sub) }))}
      message=${asking && (asking.kind === "cancel" ? null : t("admin_billing.reactivate_text"))}
      confirmLabel=${asking && (asking.kind === "cancel" ? t("admin_billing.cancel_confirm") : t("admin_billing.reactivate"))}
      danger=${!!asking && asking.kind === "cancel"}
      onConfirm=${act} onClose=${() => setAsking(null)}>
      ${asking && asking.kind === "cancel" && html`<fieldset class="plain stack">
        <legend class="sr-only">${t("admin_billing.when")}</legend>
        <label class="check"><input type="radio" name="cancel-when" id="cancel-at-end" checked=${!immediately}
          onChange=${() => setImmediately(false)} />
          <span>${t("admin_billing.at_period_end")}${asking.sub.paid_until ? " (" + dateTime(asking.sub.paid_until) + ")" : ""}</span></label>
        <label class="check"><input type="radio" name="cancel-when" id="cancel-now" checked=${immediately}
          onChange=${() => setImmediately(true)} />
          <span>${t("admin_billing.now")}</span></label>
        <p class="hint">${immediately ? t("admin_billing.now_hint") : t("admin_billing.at_period_end_hint")}</p>
      </fieldset>`}
    <//>
  </main>`;
}

function Payments({ query, set }) {
  const payments = usePaged(paymentsUrl(query));
  const refunds = useRefunds(payments.reload);
  const tenant = query.get("payments_tenant");
  return html`<section class="card" aria-labelledby="payments-title">
    <div class="split">
      <h2 id="payments-title">${t("admin_billing.payments")}</h2>
      <${ExportButtons} table="payments" list=${paymentsUrl(query)} />
    </div>
    ${refunds.status}
    <div class="filter-bar">
      <label class="field">${t("admin_billing.payment_status")}
        <select id="f-payment-status" value=${query.get("payment_status") || ""} onChange=${set("payment_status")}>
          <option value="">${t("admin_billing.all")}</option>
          <option value="succeeded">${t("admin_billing.payment.succeeded")}</option>
          <option value="failed">${t("admin_billing.payment.failed")}</option>
        </select></label>
      ${tenant && html`<p class="row filter-chip">
        ${t("admin_billing.one_tenant")}
        <a href=${withQuery("/admin/subscriptions", query, { payments_tenant: "" })}>${t("admin_billing.all_tenants")}</a>
      </p>`}
    </div>
    ${payments.items === null
      ? html`<${Loading} error=${payments.error} onRetry=${payments.reload} />`
      : payments.items.length === 0
        ? html`<p class="empty">${t("admin_billing.no_payments")}</p>`
        : html`<${TableWrap} label=${t("admin_billing.payments")}><table id="payments">
            <caption class="sr-only">${t("admin_billing.payments")}</caption>
            <thead><tr>
              <th scope="col">${t("admin_billing.when_col")}</th>
              <th scope="col">${t("admin_billing.tenant")}</th>
              <th scope="col">${t("admin_billing.invoice")}</th>
              <th scope="col">${t("admin_billing.payment_status")}</th>
              <th scope="col" class="num">${t("admin_billing.amount")}</th>
              <th scope="col">${t("admin_billing.period_end")}</th>
              <th scope="col"><span class="sr-only">${t("admin_billing.actions")}</span></th>
            </tr></thead>
            <tbody>
              ${payments.items.map((p) => html`<tr key=${p.position}>
                <td>${dateTime(p.at)}</td>
                <td>${p.tenant_name || p.tenant_id.slice(0, 8)}</td>
                <td><code>${p.invoice_id}</code></td>
                <td><span class=${"badge pay-" + p.status}>${t("admin_billing.payment." + p.status)}</span>
                  ${p.attempt ? html` <span class="muted small">${t("admin_billing.attempt", { n: p.attempt })}</span>` : null}</td>
                <td class="num">${p.amount_cents !== null && p.amount_cents !== undefined ? money(p.amount_cents, p.currency) : "—"}
                  <${RefundedAmount} p=${p} /></td>
                <td>${p.period_end ? dateTime(p.period_end) : "—"}</td>
                <td class="actions-cell">${refunds.button(p)}</td>
              </tr>`)}
            </tbody>
          </table><//>`}
    ${payments.next && html`<p class="list-foot"><button type="button" onClick=${payments.more}>${t("admin_billing.more")}</button></p>`}
    ${refunds.dialog}
  </section>`;
}

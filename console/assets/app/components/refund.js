// Refunding a payment (issue 18), on the Subscriptions and payments page: a confirmation
// that asks for all of what is left or part of it, then Stripe's Refunds API through
// `POST /api/v1/admin/payments/{id}/refund`. Stripe's webhook records the refund, so the row
// changes a moment later: the controller polls the payment until it has.
import { html, useEffect, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { money } from "../lib/format.js";
import { Notice, errorMessage } from "./ui.js";
import { Confirm } from "./confirm.js";

const POLL_MS = 1500;
const POLL_TIMES = 40;

const remainingOf = (p) => (p.amount_cents || 0) - (p.refunded_cents || 0);
const tenantOf = (p) => p.tenant_name || p.tenant_id.slice(0, 8);

/// "100,00", "100.00", "1.234,56" or "1,234.56" in the currency's major unit → minor units;
/// `null` when it is no amount. The last separator followed by one or two digits is the
/// decimal one.
export function minorUnits(text) {
  const s = String(text || "").replace(/[^\d.,]/g, "");
  if (!/\d/.test(s)) return null;
  const m = s.match(/^(.*?)[.,](\d{1,2})$/);
  const whole = (m ? m[1] : s).replace(/[.,]/g, "");
  const cents = m ? m[2].padEnd(2, "0") : "00";
  const n = Number(whole || "0") * 100 + Number(cents);
  return Number.isSafeInteger(n) ? n : null;
}

/// The refunded part of a payment, under its amount: a badge and how much went back.
export function RefundedAmount({ p }) {
  if (!p.refund_state) return null;
  return html`<span class="refunded">
    <span class=${"badge refund-" + p.refund_state}>${t("admin_refund.state." + p.refund_state)}</span>
    <span class="muted small">${t("admin_refund.refunded", { amount: money(p.refunded_cents, p.currency) })}</span>
  </span>`;
}

/// The refund button, dialog and wait for Stripe's confirmation of one payments table;
/// `onRecorded` reloads the table once the webhook recorded the refund.
export function useRefunds(onRecorded) {
  const [asking, setAsking] = useState(null); // the payment
  const [whole, setWhole] = useState(true);
  const [amount, setAmount] = useState("");
  const [invalid, setInvalid] = useState(false);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const [waiting, setWaiting] = useState(null); // {payment, refunded}

  useEffect(() => {
    if (!waiting) return undefined;
    let left = POLL_TIMES;
    const { payment, refunded } = waiting;
    const timer = setInterval(async () => {
      left -= 1;
      try {
        const page = await api(`/api/v1/admin/payments?tenant=${payment.tenant_id}&status=succeeded&limit=200`);
        const now = page.items.find((p) => p.position === payment.position);
        if (now && now.refunded_cents >= refunded) {
          setWaiting(null);
          setNotice({ ok: true, text: t("admin_refund.recorded", {
            amount: money(now.refunded_cents - payment.refunded_cents, now.currency), tenant: tenantOf(now) }) });
          onRecorded();
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

  function ask(p) {
    setWhole(true);
    setAmount("");
    setInvalid(false);
    setAsking(p);
  }

  async function refund() {
    const p = asking;
    const left = remainingOf(p);
    const cents = whole ? left : minorUnits(amount);
    if (!whole && (cents === null || cents <= 0 || cents > left)) {
      setInvalid(true);
      return;
    }
    setBusy(true);
    setNotice(null);
    try {
      await api(`/api/v1/admin/payments/${p.position}/refund`, {
        method: "POST",
        body: whole ? {} : { amount: cents },
      });
      setNotice({ ok: true, text: t("admin_refund.sent") });
      setWaiting({ payment: p, refunded: (p.refunded_cents || 0) + cents });
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
      setAsking(null);
    }
  }

  const button = (p) => {
    if (p.status !== "succeeded" || remainingOf(p) <= 0) return null;
    const pending = waiting && waiting.payment.position === p.position;
    return html`<button type="button" class="small-button" disabled=${!!pending}
      data-action="refund" data-payment=${p.position}
      aria-label=${t("admin_refund.refund_named", { invoice: p.invoice_id, tenant: tenantOf(p) })}
      onClick=${() => ask(p)}>${t("admin_refund.refund")}</button>`;
  };

  const p = asking;
  const dialog = html`<${Confirm} id="confirm-refund" open=${!!p} busy=${busy}
    title=${p && t("admin_refund.title", { tenant: tenantOf(p) })}
    message=${p && t("admin_refund.summary", {
      paid: money(p.amount_cents, p.currency),
      refunded: money(p.refunded_cents || 0, p.currency),
      remaining: money(remainingOf(p), p.currency) })}
    confirmLabel=${t("admin_refund.confirm")} danger=${true}
    onConfirm=${refund} onClose=${() => setAsking(null)}>
    ${p && html`<fieldset class="plain stack">
      <legend class="sr-only">${t("admin_refund.how_much")}</legend>
      <label class="check"><input type="radio" name="refund-how" id="refund-whole" checked=${whole}
        onChange=${() => { setWhole(true); setInvalid(false); }} />
        <span>${t("admin_refund.whole", { amount: money(remainingOf(p), p.currency) })}</span></label>
      <label class="check"><input type="radio" name="refund-how" id="refund-part" checked=${!whole}
        onChange=${() => setWhole(false)} />
        <span>${t("admin_refund.part")}</span></label>
      ${!whole && html`<label class="field">${t("admin_refund.amount", { currency: (p.currency || "").toUpperCase() })}
        <input id="refund-amount" type="text" inputmode="decimal" autocomplete="off" required
          value=${amount} placeholder=${t("admin_refund.amount_example")}
          aria-invalid=${invalid ? "true" : "false"} aria-describedby="refund-amount-hint"
          onInput=${(e) => { setAmount(e.currentTarget.value); setInvalid(false); }} />
        <span id="refund-amount-hint" class=${invalid ? "error small" : "hint"}>
          ${t(invalid ? "admin_refund.invalid" : "admin_refund.amount_hint",
            { max: money(remainingOf(p), p.currency) })}</span></label>`}
      <p class="hint">${t("admin_refund.hint")}</p>
    </fieldset>`}
  <//>`;

  const status = html`<${Notice} notice=${notice} />
    ${waiting && html`<p class="muted small" role="status">${t("admin_billing.waiting_stripe")}</p>`}`;

  return { button, dialog, status };
}

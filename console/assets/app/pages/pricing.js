// The plans on sale (`/plans`, where Stripe's "back" link returns): each plan's price,
// AI answers and features; "Subscribe" asks for the buyer's e-mail and business name, then
// goes to the Stripe Checkout page the API creates.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { t, locale } from "../lib/i18n.js";
import { money, count } from "../lib/format.js";
import { ApiError } from "../lib/session.js";
import { PublicFrame, errorText } from "../components/public-frame.js";
import { Icon } from "../components/icons.js";

async function getJson(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  if (!res.ok) throw new ApiError(res.status);
  return res.json();
}

/// The feature's name in the catalogue, else its key made readable.
function feature(key) {
  const text = t("feature." + key);
  return text === "feature." + key ? key.replace(/_/g, " ") : text;
}

export default function Pricing() {
  const [plans, setPlans] = useState(null);
  const [error, setError] = useState(null);
  const [chosen, setChosen] = useState(null);

  useEffect(() => {
    getJson("/api/v1/plans").then(
      (list) => setPlans([...list.items].sort((a, b) => a.monthly_price_cents - b.monthly_price_cents)),
      (e) => setError(errorText(e)),
    );
  }, []);

  return html`<${PublicFrame} title=${t("pricing.title")} wide>
    <p class="muted lead">${t("pricing.lead")}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    ${!plans && !error && html`<p class="muted" role="status">${t("common.loading")}</p>`}
    ${plans &&
    html`<ul class="plans" aria-label=${t("pricing.plans")}>
      ${plans.map(
        (p, i) => html`<li class=${"plan card" + (i === 1 ? " featured" : "")} key=${p.id} data-plan=${p.id}>
          <h2 id=${"plan-" + p.id}>${p.name}</h2>
          <p class="price">
            <strong>${money(p.monthly_price_cents, p.currency)}</strong>
            <span class="muted">${t("pricing.per_month")}</span>
          </p>
          <p class="quota">
            ${p.monthly_ai_message_quota === null
              ? t("pricing.unlimited")
              : t("pricing.quota", { n: count(p.monthly_ai_message_quota) })}
          </p>
          <ul class="features">
            ${p.features.map((f) => html`<li><${Icon} name="check" />${feature(f)}</li>`)}
          </ul>
          ${p.purchasable
            ? html`<button type="button" class="primary subscribe" aria-describedby=${"plan-" + p.id}
                aria-expanded=${chosen === p.id} onClick=${() => setChosen(chosen === p.id ? null : p.id)}>
                ${t("pricing.subscribe")}
              </button>`
            : html`<p class="hint">${t("pricing.not_purchasable")}</p>`}
          ${chosen === p.id && html`<${CheckoutForm} plan=${p} />`}
        </li>`,
      )}
    </ul>`}
    <p class="aside center"><a href="/login">${t("pricing.have_account")}</a></p>
  <//>`;
}

function CheckoutForm({ plan }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // One key per form: a double click or a retry reaches Stripe as the same session.
  const key = useRef(crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
  const first = useRef(null);
  useEffect(() => first.current && first.current.focus(), []);

  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const res = await fetch("/api/v1/billing/checkout", {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json",
          "Idempotency-Key": key.current,
        },
        body: JSON.stringify({
          plan: plan.id,
          email: String(form.get("email")).trim(),
          business_name: String(form.get("business_name") || "").trim() || undefined,
          locale: locale.get(),
        }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) throw new ApiError(res.status, body.code, body.message);
      window.location.assign(body.url);
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  }

  return html`<form class="stack checkout" onSubmit=${submit} aria-label=${t("pricing.form_label", { plan: plan.name })}>
    <div class="field">
      <label for=${"email-" + plan.id}>${t("pricing.email")}</label>
      <input id=${"email-" + plan.id} name="email" type="email" autocomplete="email" required ref=${first}
        aria-describedby=${"email-hint-" + plan.id} />
      <p class="hint" id=${"email-hint-" + plan.id}>${t("pricing.email_hint")}</p>
    </div>
    <div class="field">
      <label for=${"business-" + plan.id}>${t("pricing.business")}</label>
      <input id=${"business-" + plan.id} name="business_name" type="text" maxlength="200" autocomplete="organization" />
    </div>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit" class="primary" disabled=${busy}>
      ${busy ? t("pricing.redirecting") : t("pricing.continue")}
    </button>
    <p class="hint">${t("pricing.stripe_note")}</p>
  </form>`;
}

// The plans admins manage (`/admin/plans`, issue 18): the catalogue with each plan's price,
// quota, features and Stripe price, a form to create or edit one, retiring with a
// confirmation, and each plan's revision history. A change applies to new checkouts;
// subscriptions keep the terms they bought.
import { html, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { money, count } from "../lib/format.js";
import { PageHead, Loading, Notice, useApi, errorMessage } from "../components/ui.js";

const empty = () => ({
  id: "",
  name: "",
  price: "",
  currency: "BRL",
  quota: "",
  unlimited: false,
  features: "",
  stripe_price_id: "",
});

/// A plan as the form edits it: the price in major units, the features as one line.
const toForm = (p) => ({
  id: p.id,
  name: p.name,
  price: (p.monthly_price_cents / 100).toFixed(2),
  currency: p.currency.toUpperCase(),
  quota: p.monthly_ai_message_quota === null ? "" : String(p.monthly_ai_message_quota),
  unlimited: p.monthly_ai_message_quota === null,
  features: p.features.join(", "),
  stripe_price_id: p.stripe_price_id || "",
  editing: true,
});

const quotaText = (q) => (q === null ? t("admin_plans.unlimited") : t("admin_plans.quota_value", { n: count(q) }));

function Form({ initial, onDone, onCancel }) {
  const [form, setForm] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const set = (field) => (e) => setForm({ ...form, [field]: e.currentTarget.value });
  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    const body = {
      id: form.id.trim(),
      name: form.name,
      monthly_price_cents: Math.round(Number(String(form.price).replace(",", ".")) * 100),
      currency: form.currency,
      monthly_ai_message_quota: form.unlimited ? null : Number(form.quota),
      features: form.features.split(/[\s,]+/).map((f) => f.trim()).filter(Boolean),
      stripe_price_id: form.stripe_price_id.trim() || null,
    };
    try {
      if (form.editing) {
        await api(`/api/v1/admin/plans/${encodeURIComponent(form.id)}`, { method: "PUT", body });
      } else {
        await api("/api/v1/admin/plans", { method: "POST", body });
      }
      onDone(t("admin_plans.saved", { name: body.name.trim() }));
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
      setBusy(false);
    }
  }
  return html`<form class="card stack" id="plan-form" onSubmit=${save} aria-labelledby="plan-form-title">
    <h2 id="plan-form-title">${form.editing ? t("admin_plans.edit_named", { name: initial.name }) : t("admin_plans.new")}</h2>
    ${form.editing && html`<p class="hint">${t("admin_plans.edit_hint")}</p>`}
    <div class="form-grid">
      <label class="field">${t("admin_plans.key")}
        <input id="plan-key" required maxlength="40" pattern="[a-z][a-z0-9_\\-]*" value=${form.id}
          disabled=${form.editing} aria-describedby="plan-key-hint" onInput=${set("id")} />
        <span class="hint" id="plan-key-hint">${t("admin_plans.key_hint")}</span></label>
      <label class="field">${t("admin_plans.name")}
        <input id="plan-name" required maxlength="80" value=${form.name} onInput=${set("name")} /></label>
      <label class="field">${t("admin_plans.price")}
        <input id="plan-price" type="number" required min="0" step="0.01" inputmode="decimal"
          value=${form.price} onInput=${set("price")} /></label>
      <label class="field">${t("admin_plans.currency")}
        <input id="plan-currency" required minlength="3" maxlength="3" value=${form.currency}
          aria-describedby="plan-currency-hint" onInput=${set("currency")} />
        <span class="hint" id="plan-currency-hint">${t("admin_plans.currency_hint")}</span></label>
      <div class="field">
        <label for="plan-quota">${t("admin_plans.quota")}</label>
        <input id="plan-quota" type="number" min="0" step="1" required=${!form.unlimited}
          disabled=${form.unlimited} value=${form.unlimited ? "" : form.quota} onInput=${set("quota")} />
        <label class="check"><input type="checkbox" id="plan-unlimited" checked=${form.unlimited}
          onChange=${(e) => setForm({ ...form, unlimited: e.currentTarget.checked })} />
          ${t("admin_plans.unlimited")}</label>
      </div>
      <label class="field">${t("admin_plans.stripe_price")}
        <input id="plan-stripe-price" maxlength="255" value=${form.stripe_price_id} placeholder="price_…"
          aria-describedby="plan-stripe-hint" onInput=${set("stripe_price_id")} />
        <span class="hint" id="plan-stripe-hint">${t("admin_plans.stripe_hint")}</span></label>
    </div>
    <label class="field">${t("admin_plans.features")}
      <input id="plan-features" value=${form.features} placeholder="ai_answers, human_handoff, reports"
        aria-describedby="plan-features-hint" onInput=${set("features")} />
      <span class="hint" id="plan-features-hint">${t("admin_plans.features_hint")}</span></label>
    <${Notice} notice=${notice} />
    <div class="row">
      <button type="submit" class="primary" id="plan-save" disabled=${busy}>${t("common.save")}</button>
      <button type="button" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

/// Retire, asking once more in place.
function Retire({ plan, onRetired, onError }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return html`<button type="button" class="danger" id=${"retire-" + plan.id}
      aria-label=${t("admin_plans.retire_named", { name: plan.name })}
      onClick=${() => setAsking(true)}>${t("admin_plans.retire")}</button>`;
  }
  return html`<span class="confirm" role="group" aria-label=${t("admin_plans.retire_named", { name: plan.name })}>
    <span class="hint">${t("admin_plans.retire_warning")}</span>
    <button type="button" class="danger-solid" id=${"confirm-retire-" + plan.id} disabled=${busy} autofocus
      onClick=${async () => {
        setBusy(true);
        try {
          await api(`/api/v1/admin/plans/${encodeURIComponent(plan.id)}/retire`, { method: "POST" });
          await onRetired(t("admin_plans.retired_done", { name: plan.name }));
        } catch (e) {
          onError(errorMessage(e));
          setBusy(false);
          setAsking(false);
        }
      }}>${t("admin_plans.retire_confirm")}</button>
    <button type="button" onClick=${() => setAsking(false)}>${t("common.cancel")}</button>
  </span>`;
}

function History({ plan }) {
  if (plan.revisions.length === 0) {
    return html`<p class="hint">${t("admin_plans.no_revisions")}</p>`;
  }
  return html`<details class="plan-history">
    <summary>${t("admin_plans.history", { n: plan.revisions.length })}</summary>
    <ol class="plan-revisions">
      ${plan.revisions.map(
        (r) => html`<li key=${r.effective_at}>
          <p><strong>${money(r.monthly_price_cents, r.currency)}</strong>${" · "}${quotaText(r.monthly_ai_message_quota)}${" · "}${r.name}</p>
          <p class="hint">${t("admin_plans.revision_by", { when: dateTime(r.effective_at), who: r.admin_email || r.admin_id })}</p>
        </li>`,
      )}
    </ol>
  </details>`;
}

function PlanCard({ plan, onEdit, onRetired, onError }) {
  const retired = !!plan.retired_at;
  return html`<article class=${"card plan-card" + (retired ? " retired" : "")} id=${"plan-" + plan.id}
    aria-labelledby=${"plan-title-" + plan.id}>
    <header class="plan-card-head">
      <h2 id=${"plan-title-" + plan.id}>${plan.name} <code class="plan-key">${plan.id}</code></h2>
      <p class="plan-badges">
        ${retired
          ? html`<span class="badge handoff">${t("admin_plans.retired_on", { when: dateTime(plan.retired_at) })}</span>`
          : html`<span class="badge answer">${t("admin_plans.on_sale")}</span>`}
        <span class="badge resolved">${plan.configured ? t("admin_plans.configured") : t("admin_plans.created")}</span>
      </p>
    </header>
    <p class="plan-price"><strong>${money(plan.monthly_price_cents, plan.currency)}</strong>
      <span class="muted">${t("admin_plans.per_month")}</span></p>
    <dl class="plan-facts">
      <div><dt>${t("admin_plans.quota")}</dt>
        <dd>${plan.monthly_ai_message_quota === null ? t("admin_plans.unlimited") : count(plan.monthly_ai_message_quota)}</dd></div>
      <div><dt>${t("admin_plans.stripe_price")}</dt>
        <dd>${plan.stripe_price_id ? html`<code>${plan.stripe_price_id}</code>` : t("admin_plans.not_online")}</dd></div>
      <div><dt>${t("admin_plans.features")}</dt>
        <dd>${plan.features.length ? plan.features.join(", ") : "—"}</dd></div>
    </dl>
    <${History} plan=${plan} />
    ${!retired &&
    html`<div class="row">
      <button type="button" id=${"edit-" + plan.id} aria-label=${t("admin_plans.edit_named", { name: plan.name })}
        onClick=${() => onEdit(plan)}>${t("admin_content.edit")}</button>
      <${Retire} plan=${plan} onRetired=${onRetired} onError=${onError} />
    </div>`}
  </article>`;
}

export default function AdminPlans() {
  const { data, error, reload } = useApi("/api/v1/admin/plans");
  const [editing, setEditing] = useState(null);
  const [notice, setNotice] = useState(null);
  const done = async (text) => {
    setEditing(null);
    setNotice({ ok: true, text });
    await reload();
  };
  const onError = (text) => setNotice({ ok: false, text });
  const items = data ? [...data.items].sort((a, b) => !!a.retired_at - !!b.retired_at) : [];
  return html`<main id="main" class="page">
    <${PageHead} title=${t("admin_plans.title")} lead=${t("admin_plans.lead")}>
      <button type="button" class="primary" id="new-plan"
        onClick=${() => { setNotice(null); setEditing(empty()); }}>${t("admin_plans.new")}</button>
    <//>
    <${Notice} notice=${notice} />
    ${editing && html`<${Form} key=${editing.editing ? editing.id : "new"} initial=${editing} onDone=${done}
      onCancel=${() => setEditing(null)} />`}
    ${!data
      ? html`<${Loading} error=${error} onRetry=${reload} />`
      : items.length === 0
        ? html`<p class="muted">${t("admin_plans.none")}</p>`
        : html`<div class="plan-list">
            ${items.map(
              (p) => html`<${PlanCard} key=${p.id} plan=${p} onError=${onError} onRetired=${done}
                onEdit=${(plan) => { setNotice(null); setEditing(toForm(plan)); window.scrollTo(0, 0); }} />`,
            )}
          </div>`}
  </main>`;
}

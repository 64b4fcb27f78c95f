// The tenants admins run (`/admin/tenants`, `/admin/tenants/:id`): the directory with
// search and filters, onboarding a tenant (its owner's password shown once), and a
// tenant's page: plan, subscription, payments, usage per billing period, knowledge,
// WhatsApp, team with their last sign-in, the timeline, its own AI limits; editing,
// suspending and reactivating it.
import { html, useEffect, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { count, money, percent, usd, day, dayBefore } from "../lib/format.js";
import { PageHead, Loading, Notice, useApi, errorMessage, PasswordOnce } from "../components/ui.js";
import { ExportButtons } from "../components/export.js";
import { TenantStatus } from "./admin-overview.js";

export default function AdminTenants({ params, query }) {
  return params.id ? html`<${Detail} id=${params.id} />` : html`<${Directory} query=${query} />`;
}

/// The plans on sale, for the plan filter and forms.
function usePlans() {
  const plans = useApi("/api/v1/plans");
  return plans.data ? plans.data.items : [];
}

function PlanOptions({ plans, current }) {
  const ids = plans.map((p) => p.id);
  return html`${plans.map((p) => html`<option value=${p.id}>${p.name} (${p.id})</option>`)}
    ${current && !ids.includes(current) && html`<option value=${current}>${current}</option>`}`;
}

// ---- the directory ---------------------------------------------------------------------

function listPath(q, status, plan, cursor) {
  const p = new URLSearchParams();
  if (q) p.set("q", q);
  if (status) p.set("status", status);
  if (plan) p.set("plan", plan);
  if (cursor) p.set("cursor", cursor);
  p.set("limit", "50");
  return "/api/v1/admin/tenants?" + p;
}

function Directory({ query }) {
  const q = query.get("q") || "";
  const status = query.get("status") || "";
  const plan = query.get("plan") || "";
  const plans = usePlans();
  const first = useApi(listPath(q, status, plan));
  const [more, setMore] = useState({ items: [], cursor: undefined });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null);
  // Held in state: a re-render (the plans arriving) must not undo what is being typed.
  const [typed, setTyped] = useState(q);
  useEffect(() => setMore({ items: [], cursor: undefined }), [q, status, plan]);
  useEffect(() => setTyped(q), [q]);
  const go = (next) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries({ q, status, plan, ...next })) if (v) p.set(k, v);
    const s = p.toString();
    navigate("/admin/tenants" + (s ? "?" + s : ""), { replace: true });
  };
  const items = first.data ? [...first.data.items, ...more.items] : [];
  const cursor = more.cursor === undefined ? first.data && first.data.next_cursor : more.cursor;
  async function loadMore() {
    const page = await api(listPath(q, status, plan, cursor));
    setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor || null }));
  }
  return html`<main id="main" class="page admin-tenants">
    <${PageHead} title=${t("admin_tenants.title")} lead=${t("admin_tenants.lead")}>
      <${ExportButtons} table="tenants" filters=${{ q, status, plan }} />
      <button type="button" class="primary" id="new-tenant"
        onClick=${() => { setCreated(null); setCreating(true); }}>${t("admin_tenants.new")}</button>
    <//>
    ${created && html`<${Created} tenant=${created} onClose=${() => setCreated(null)} />`}
    ${creating && html`<${CreateForm} plans=${plans}
      onDone=${(tenant) => { setCreating(false); setCreated(tenant); first.reload(); }}
      onCancel=${() => setCreating(false)} />`}
    <form class="filters tenant-filters" role="search" aria-label=${t("admin_tenants.filters")}
      onSubmit=${(e) => { e.preventDefault(); go({ q: typed.trim() }); }}>
      <div class="search">
        <label class="sr-only" for="tenant-search">${t("admin_tenants.search")}</label>
        <input id="tenant-search" name="q" type="search" value=${typed} placeholder=${t("admin_tenants.search")}
          onInput=${(e) => setTyped(e.currentTarget.value)} />
        <button type="submit">${t("admin_tenants.search_button")}</button>
      </div>
      <label class="sr-only" for="tenant-status">${t("admin_tenants.status")}</label>
      <select id="tenant-status" value=${status} onChange=${(e) => go({ status: e.currentTarget.value })}>
        <option value="">${t("admin_tenants.any_status")}</option>
        <option value="active">${t("tenant_status.active")}</option>
        <option value="suspended">${t("tenant_status.suspended")}</option>
      </select>
      <label class="sr-only" for="tenant-plan">${t("admin_tenants.plan")}</label>
      <select id="tenant-plan" value=${plan} onChange=${(e) => go({ plan: e.currentTarget.value })}>
        <option value="">${t("admin_tenants.any_plan")}</option>
        <${PlanOptions} plans=${plans} current=${plan} />
      </select>
    </form>
    ${!first.data
      ? html`<${Loading} error=${first.error} onRetry=${first.reload} />`
      : items.length === 0
        ? html`<p class="muted" id="tenants-empty">${q || status || plan ? t("admin_tenants.none_found") : t("admin_tenants.none")}</p>`
        : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="page-title"><table id="tenants-table">
            <thead><tr>
              <th scope="col">${t("admin_tenants.name")}</th>
              <th scope="col">${t("admin_tenants.plan")}</th>
              <th scope="col">${t("admin_tenants.status")}</th>
              <th scope="col">${t("admin_tenants.whatsapp")}</th>
              <th scope="col">${t("admin_tenants.registered")}</th>
            </tr></thead>
            <tbody>
              ${items.map(
                (tn) => html`<tr key=${tn.tenant_id}>
                  <td><a href=${"/admin/tenants/" + tn.tenant_id}>${tn.name}</a></td>
                  <td>${tn.plan}</td>
                  <td><${TenantStatus} status=${tn.status} /></td>
                  <td>${tn.phone_number_id ? t("admin_tenants.linked") : html`<span class="muted">${t("admin_tenants.not_linked")}</span>`}</td>
                  <td>${dateTime(tn.registered_at)}</td>
                </tr>`,
              )}
            </tbody>
          </table></div>
          ${cursor && html`<button type="button" class="more" onClick=${loadMore}>${t("admin_tenants.more")}</button>`}`}
  </main>`;
}

function CreateForm({ plans, onDone, onCancel }) {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    setBusy(true);
    setNotice(null);
    try {
      const created = await api("/api/v1/admin/tenants", {
        method: "POST",
        body: {
          name: String(f.get("name")),
          owner_email: String(f.get("owner_email")),
          plan: String(f.get("plan")),
          locale: String(f.get("locale")),
        },
      });
      onDone(created);
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
      setBusy(false);
    }
  }
  return html`<form class="card stack" id="tenant-form" onSubmit=${submit} aria-labelledby="tenant-form-title">
    <h2 id="tenant-form-title">${t("admin_tenants.new")}</h2>
    <p class="hint">${t("admin_tenants.new_hint")}</p>
    <div class="form-grid">
      <label class="field">${t("admin_tenants.name")}
        <input id="tenant-name" name="name" required maxlength="200" /></label>
      <label class="field">${t("admin_tenants.owner_email")}
        <input id="tenant-owner-email" name="owner_email" type="email" required autocomplete="off" /></label>
      <label class="field">${t("admin_tenants.plan")}
        <select id="tenant-new-plan" name="plan" required>
          <${PlanOptions} plans=${plans} />
        </select></label>
      <label class="field">${t("admin_tenants.locale")}
        <select id="tenant-locale" name="locale">
          <option value="pt-BR">Português (Brasil)</option>
          <option value="en">English</option>
        </select></label>
    </div>
    <${Notice} notice=${notice} />
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>${t("admin_tenants.create")}</button>
      <button type="button" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

/// The owner's first password, shown this once: the API keeps only its hash.
function Created({ tenant, onClose }) {
  return html`<${PasswordOnce}
    ids=${{ box: "tenant-created", warning: "password-once", password: "owner-password",
      copy: "copy-password", close: "close-created" }}
    title=${t("admin_tenants.created", { name: tenant.name })}
    warning=${t("admin_tenants.password_once")}
    lead=${t("admin_tenants.password_for", { email: tenant.owner.email })}
    password=${tenant.password} what=${t("admin_tenants.password")}
    saved=${t("admin_tenants.password_saved")} onClose=${onClose}>
    <a class="button" href=${"/admin/tenants/" + tenant.tenant_id}>${t("admin_tenants.open")}</a>
  <//>`;
}

// ---- one tenant ----------------------------------------------------------------------

function Detail({ id }) {
  const profile = useApi(`/api/v1/admin/tenants/${id}/profile`);
  const [notice, setNotice] = useState(null);
  const [editing, setEditing] = useState(false);
  // Bumped by every change, so the parts read from other routes load again.
  const [version, setVersion] = useState(0);
  const p = profile.data;
  if (!p) {
    return html`<main id="main" class="page admin-tenant">
      <p><a href="/admin/tenants" class="back-link">← ${t("admin_tenants.back")}</a></p>
      <${Loading} error=${profile.error} onRetry=${profile.reload} />
    </main>`;
  }
  const done = async (text) => {
    setNotice({ ok: true, text });
    await profile.reload();
    setVersion((v) => v + 1);
  };
  const failed = (e) => setNotice({ ok: false, text: errorMessage(e) });
  return html`<main id="main" class="page admin-tenant">
    <p><a href="/admin/tenants" class="back-link">← ${t("admin_tenants.back")}</a></p>
    <${PageHead} title=${p.name} lead=${html`<${TenantStatus} status=${p.status} /> <span class="muted">${p.plan} · ${p.tenant_id}</span>`}>
      <button type="button" id="edit-tenant" onClick=${() => { setNotice(null); setEditing(!editing); }}
        aria-expanded=${editing ? "true" : "false"}>${t("admin_tenants.edit")}</button>
    <//>
    <${Notice} notice=${notice} />
    ${editing && html`<${EditForm} p=${p}
      onDone=${(next) => { setEditing(false); profile.setData(next); setVersion((v) => v + 1); setNotice({ ok: true, text: t("admin_tenants.saved") }); }}
      onCancel=${() => setEditing(false)} />`}
    <div class="detail-grid">
      <${Summary} p=${p} />
      <${SubscriptionCard} key=${"s" + version} id=${id} />
    </div>
    <${Actions} p=${p} onDone=${done} onError=${failed} />
    <${Usage} usage=${p.usage} id=${id} />
    <${AiLimits} id=${id} onChanged=${() => setVersion((v) => v + 1)} />
    <${Payments} key=${"p" + version} id=${id} />
    <${Team} team=${p.team} />
    <${Timeline} key=${"t" + version} id=${id} />
  </main>`;
}

function EditForm({ p, onDone, onCancel }) {
  const plans = usePlans();
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  // Held in state: a re-render (the plans arriving) must not undo what is being typed.
  const [form, setForm] = useState({ name: p.name, plan: p.plan, locale: p.locale });
  const set = (field) => (e) => setForm({ ...form, [field]: e.currentTarget.value });
  const planEditable = p.complimentary === true && p.subscription_status !== "cancelled";
  async function submit(event) {
    event.preventDefault();
    const body = { name: form.name, locale: form.locale };
    if (planEditable && form.plan !== p.plan) body.plan = form.plan;
    setBusy(true);
    setNotice(null);
    try {
      onDone(await api(`/api/v1/admin/tenants/${p.tenant_id}`, { method: "PATCH", body }));
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
      setBusy(false);
    }
  }
  return html`<form class="card stack" id="tenant-edit" onSubmit=${submit} aria-labelledby="tenant-edit-title">
    <h2 id="tenant-edit-title">${t("admin_tenants.edit")}</h2>
    <div class="form-grid">
      <label class="field">${t("admin_tenants.name")}
        <input id="edit-name" name="name" required maxlength="200" value=${form.name} onInput=${set("name")} /></label>
      <label class="field">${t("admin_tenants.plan")}
        <select id="edit-plan" name="plan" value=${form.plan} onChange=${set("plan")} disabled=${!planEditable}
          aria-describedby=${planEditable ? undefined : "plan-locked"}>
          <${PlanOptions} plans=${plans} current=${p.plan} />
        </select></label>
      <label class="field">${t("admin_tenants.locale")}
        <select id="edit-locale" name="locale" value=${form.locale} onChange=${set("locale")}>
          <option value="pt-BR">Português (Brasil)</option>
          <option value="en">English</option>
        </select></label>
    </div>
    ${!planEditable && html`<p class="hint" id="plan-locked">${t("admin_tenants.plan_locked")}</p>`}
    <${Notice} notice=${notice} />
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>${t("common.save")}</button>
      <button type="button" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

/// Suspend (with a reason) or reactivate, each confirmed once more; reset the owner's
/// password.
function Actions({ p, onDone, onError }) {
  const [asking, setAsking] = useState(null);
  const [busy, setBusy] = useState(false);
  const [reason, setReason] = useState("");
  const run = async (path, body, text) => {
    setBusy(true);
    try {
      const answer = await api(`/api/v1/admin/tenants/${p.tenant_id}/${path}`, { method: "POST", body });
      setAsking(null);
      await onDone(answer && answer.message ? answer.message : typeof text === "function" ? text(answer || {}) : text);
    } catch (e) {
      onError(e);
    }
    setBusy(false);
  };
  return html`<section class="card tenant-actions" aria-labelledby="actions-title">
    <h2 id="actions-title">${t("admin_tenants.actions")}</h2>
    ${asking === "suspend"
      ? html`<form class="stack" id="suspend-form" onSubmit=${(e) => { e.preventDefault(); run("suspend", { reason: reason.trim() }, t("admin_tenants.suspended_done")); }}>
          <p class="notice danger">${t("admin_tenants.suspend_warning")}</p>
          <label class="field">${t("admin_tenants.suspend_reason")}
            <input id="suspend-reason" required maxlength="500" value=${reason}
              onInput=${(e) => setReason(e.currentTarget.value)} /></label>
          <div class="row">
            <button type="submit" class="danger-solid" id="confirm-suspend" disabled=${busy || !reason.trim()}>${t("admin_tenants.confirm_suspend")}</button>
            <button type="button" onClick=${() => setAsking(null)}>${t("common.cancel")}</button>
          </div>
        </form>`
      : asking === "reactivate"
        ? html`<div class="confirm" role="group" aria-label=${t("admin_tenants.confirm_reactivate")}>
            <button type="button" class="primary" id="confirm-reactivate" disabled=${busy}
              onClick=${() => run("reactivate", undefined, t("admin_tenants.reactivated_done"))}>${t("admin_tenants.confirm_reactivate")}</button>
            <button type="button" onClick=${() => setAsking(null)}>${t("common.cancel")}</button>
          </div>`
        : asking === "reset"
          ? html`<div class="confirm" role="group" aria-label=${t("admin_tenants.confirm_reset")}>
              <button type="button" class="danger-solid" id="confirm-reset" disabled=${busy}
                onClick=${() => run("reset-password", undefined, (a) => (a.email ? t("admin_tenants.reset_sent", { email: a.email }) : t("admin_tenants.reset_done")))}>${t("admin_tenants.confirm_reset")}</button>
              <button type="button" onClick=${() => setAsking(null)}>${t("common.cancel")}</button>
            </div>`
          : html`<div class="row">
              ${p.status === "suspended"
                ? html`<button type="button" class="primary" id="reactivate-tenant" onClick=${() => setAsking("reactivate")}>${t("admin_tenants.reactivate")}</button>`
                : html`<button type="button" class="danger" id="suspend-tenant" onClick=${() => { setReason(""); setAsking("suspend"); }}>${t("admin_tenants.suspend")}</button>`}
              <button type="button" id="reset-owner-password" onClick=${() => setAsking("reset")}>${t("admin_tenants.reset")}</button>
            </div>`}
  </section>`;
}

function Field({ label, children, id }) {
  return html`<div class="kv" id=${id}><dt>${label}</dt><dd>${children}</dd></div>`;
}

function whatsappText(w) {
  if (!w.provider && !w.phone_number_id) return t("admin_tenants.wa_none");
  const via = t("admin_tenants.via." + (w.provider || "cloud_api"));
  if (w.connected) return t("admin_tenants.wa_connected", { via });
  if (w.evolution_state) return t("admin_tenants.wa_state", { via, state: t("admin_tenants.wa_state." + w.evolution_state) });
  return t("admin_tenants.wa_not_connected", { via });
}

function Summary({ p }) {
  return html`<section class="card" aria-labelledby="summary-title" id="tenant-summary">
    <h2 id="summary-title">${t("admin_tenants.summary")}</h2>
    <dl class="kv-list">
      <${Field} label=${t("admin_tenants.plan")}>${p.plan}${p.complimentary ? " · " + t("admin_tenants.complimentary") : ""}<//>
      <${Field} label=${t("admin_tenants.locale")}>${p.locale === "en" ? "English" : "Português (Brasil)"}<//>
      <${Field} label=${t("admin_tenants.registered")}>${p.registered_at ? dateTime(p.registered_at) : "—"}<//>
      <${Field} id="tenant-knowledge" label=${t("admin_tenants.knowledge")}>${p.knowledge.version === 0
        ? t("admin_tenants.knowledge_empty")
        : t("admin_tenants.knowledge_size", { chars: count(p.knowledge.chars), version: p.knowledge.version })}<//>
      <${Field} id="tenant-whatsapp" label=${t("admin_tenants.whatsapp")}>${whatsappText(p.whatsapp)}<//>
    </dl>
  </section>`;
}

function SubscriptionCard({ id }) {
  const subs = useApi(`/api/v1/admin/subscriptions?tenant=${id}&limit=1`);
  const s = subs.data && subs.data.items[0];
  return html`<section class="card" aria-labelledby="subscription-title" id="tenant-subscription">
    <h2 id="subscription-title">${t("admin_tenants.subscription")}</h2>
    ${!subs.data
      ? html`<${Loading} error=${subs.error} onRetry=${subs.reload} />`
      : !s
        ? html`<p class="muted">${t("admin_tenants.no_subscription")}</p>`
        : html`<dl class="kv-list">
            <${Field} label=${t("admin_tenants.status")}>${t("subscription_status." + s.status)}${s.complimentary ? " · " + t("admin_tenants.complimentary") : ""}<//>
            <${Field} label=${t("admin_tenants.started")}>${dateTime(s.started_at)}<//>
            ${s.trial_end && html`<${Field} label=${t("admin_tenants.trial_end")}>${dateTime(s.trial_end)}<//>`}
            ${s.paid_until && html`<${Field} label=${t("admin_tenants.paid_until")}>${dateTime(s.paid_until)}<//>`}
            ${s.cancel_at_period_end && html`<${Field} label=${t("admin_tenants.cancels")}>${t("admin_tenants.at_period_end")}<//>`}
            ${s.cancelled_at && html`<${Field} label=${t("admin_tenants.cancelled")}>${dateTime(s.cancelled_at)}${s.cancel_reason ? " · " + s.cancel_reason : ""}<//>`}
          </dl>`}
  </section>`;
}

function Usage({ usage, id }) {
  return html`<section class="card" aria-labelledby="usage-title" id="tenant-usage">
    <h2 id="usage-title">${t("admin_tenants.usage")}</h2>
    <p><a href=${"/admin/usage/" + id} id="tenant-usage-history">${t("admin_tenants.usage_history")} →</a></p>
    <div class="table-wrap" tabindex="0" role="region" aria-labelledby="usage-title"><table>
      <thead><tr>
        <th scope="col">${t("admin_tenants.period")}</th>
        <th scope="col" class="num">${t("admin_tenants.inbound")}</th>
        <th scope="col" class="num">${t("admin_tenants.ai_replies")}</th>
        <th scope="col" class="num">${t("admin_tenants.tokens")}</th>
        <th scope="col" class="num">${t("admin_tenants.cost")}</th>
        <th scope="col" class="num">${t("admin_tenants.quota")}</th>
      </tr></thead>
      <tbody>
        ${usage.map(
          (u) => html`<tr key=${u.period.start}>
            <th scope="row">${day(u.period.start)} – ${day(dayBefore(u.period.end))}</th>
            <td class="num">${count(u.inbound_messages)}</td>
            <td class="num">${count(u.ai_replies)}</td>
            <td class="num">${count(u.tokens_in + u.tokens_out)}</td>
            <td class="num">${usd(u.estimated_cost_usd)}</td>
            <td class="num">${u.quota_used === null ? "—" : percent(u.quota_used)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
  </section>`;
}

// ---- per-tenant AI limits (issue 18) -------------------------------------------------

const AI_LIMITS = ["requests_per_hour", "tokens_per_day", "cost_per_month_usd"];

/// A limit's value as read: 0 is unlimited; the cost in dollars, the others as counts.
function limitText(name, value) {
  if (value === 0) return t("admin_tenants.ai_unlimited");
  return name === "cost_per_month_usd" ? usd(value) : count(value);
}

/// Each limit in force with its source, and a form to set the tenant's own (an empty field
/// is the default) or drop them all.
function AiLimits({ id, onChanged }) {
  const limits = useApi(`/api/v1/admin/tenants/${id}/ai-limits`);
  const [form, setForm] = useState(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const l = limits.data;
  // The form starts from the tenant's own values once they arrive, then keeps what is typed.
  const values = form || (l && Object.fromEntries(AI_LIMITS.map((k) => [k, l[k].own === null ? "" : String(l[k].own)])));
  async function save(body, text) {
    setBusy(true);
    setNotice(null);
    try {
      await api(`/api/v1/admin/tenants/${id}/ai-limits`, { method: "PUT", body });
      setForm(null);
      await limits.reload();
      setNotice({ ok: true, text });
      onChanged();
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    }
    setBusy(false);
  }
  function submit(event) {
    event.preventDefault();
    const body = {};
    for (const k of AI_LIMITS) {
      const v = values[k].trim();
      body[k] = v === "" ? null : Number(v);
    }
    save(body, t("admin_tenants.ai_saved"));
  }
  return html`<section class="card stack" aria-labelledby="ai-limits-title" id="tenant-ai-limits">
    <h2 id="ai-limits-title">${t("admin_tenants.ai_limits")}</h2>
    <p class="hint">${t("admin_tenants.ai_limits_lead")}</p>
    ${!l
      ? html`<${Loading} error=${limits.error} onRetry=${limits.reload} />`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="ai-limits-title"><table id="ai-limits-table">
            <thead><tr>
              <th scope="col">${t("admin_tenants.ai_limit")}</th>
              <th scope="col" class="num">${t("admin_tenants.ai_in_force")}</th>
              <th scope="col">${t("admin_tenants.ai_source")}</th>
              <th scope="col" class="num ai-default-col">${t("admin_tenants.ai_default")}</th>
            </tr></thead>
            <tbody>
              ${AI_LIMITS.map((k) => html`<tr key=${k} data-limit=${k}>
                <th scope="row">${t("admin_tenants.ai_limit." + k)}</th>
                <td class="num">${limitText(k, l[k].effective)}</td>
                <td><span class=${"badge limit-" + l[k].source}>${t("admin_tenants.ai_source." + l[k].source)}</span></td>
                <td class="num ai-default-col">${limitText(k, l[k].default)}</td>
              </tr>`)}
            </tbody>
          </table></div>
          <form class="stack" id="ai-limits-form" onSubmit=${submit} aria-labelledby="ai-limits-title">
            <div class="form-grid">
              ${AI_LIMITS.map((k) => html`<label class="field" key=${k}>${t("admin_tenants.ai_limit." + k)}
                <input id=${"ai-limit-" + k} name=${k} type="number" min="0" inputmode=${k === "cost_per_month_usd" ? "decimal" : "numeric"}
                  step=${k === "cost_per_month_usd" ? "0.01" : "1"} value=${values[k]}
                  placeholder=${limitText(k, l[k].default)} aria-describedby=${"ai-limit-" + k + "-hint"}
                  onInput=${(e) => setForm({ ...values, [k]: e.currentTarget.value })} />
                <span class="hint" id=${"ai-limit-" + k + "-hint"}>${t("admin_tenants.ai_default_is", { value: limitText(k, l[k].default) })}</span></label>`)}
            </div>
            <${Notice} notice=${notice} />
            <div class="row">
              <button type="submit" class="primary" id="save-ai-limits" disabled=${busy}>${t("admin_tenants.ai_save")}</button>
              <button type="button" id="clear-ai-limits" disabled=${busy || AI_LIMITS.every((k) => l[k].own === null)}
                onClick=${() => save({}, t("admin_tenants.ai_cleared"))}>${t("admin_tenants.ai_clear")}</button>
            </div>
          </form>`}
  </section>`;
}

function Payments({ id }) {
  const payments = useApi(`/api/v1/admin/payments?tenant=${id}&limit=20`);
  return html`<section class="card" aria-labelledby="payments-title" id="tenant-payments">
    <h2 id="payments-title">${t("admin_tenants.payments")}</h2>
    ${!payments.data
      ? html`<${Loading} error=${payments.error} onRetry=${payments.reload} />`
      : payments.data.items.length === 0
        ? html`<p class="muted">${t("admin_tenants.no_payments")}</p>`
        : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="payments-title"><table>
            <thead><tr>
              <th scope="col">${t("admin_tenants.when")}</th>
              <th scope="col">${t("admin_tenants.status")}</th>
              <th scope="col" class="num">${t("admin_tenants.amount")}</th>
              <th scope="col">${t("admin_tenants.invoice")}</th>
            </tr></thead>
            <tbody>
              ${payments.data.items.map(
                (pay) => html`<tr key=${pay.position}>
                  <td>${dateTime(pay.at)}</td>
                  <td>${pay.status}</td>
                  <td class="num">${pay.amount_cents === null ? "—" : money(pay.amount_cents, pay.currency)}</td>
                  <td><code>${pay.invoice_id}</code></td>
                </tr>`,
              )}
            </tbody>
          </table></div>`}
  </section>`;
}

function Team({ team }) {
  return html`<section class="card" aria-labelledby="team-title" id="tenant-team">
    <h2 id="team-title">${t("admin_tenants.team")}</h2>
    ${team.length === 0
      ? html`<p class="muted">${t("admin_tenants.no_team")}</p>`
      : html`<div class="table-wrap" tabindex="0" role="region" aria-labelledby="team-title"><table>
          <thead><tr>
            <th scope="col">${t("admin_tenants.email")}</th>
            <th scope="col">${t("admin_tenants.role")}</th>
            <th scope="col">${t("admin_tenants.last_sign_in")}</th>
            <th scope="col">${t("admin_tenants.ip")}</th>
          </tr></thead>
          <tbody>
            ${team.map(
              (u) => html`<tr key=${u.id}>
                <td>${u.email}${u.disabled_at && html` <span class="badge handoff">${t("team.disabled")}</span>`}</td>
                <td><span class=${"badge role-" + u.role}>${t("role." + u.role)}</span></td>
                <td>${u.last_sign_in_at ? dateTime(u.last_sign_in_at) : t("admin_tenants.never")}</td>
                <td>${u.last_sign_in_ip ? html`<code>${u.last_sign_in_ip}</code>` : "—"}</td>
              </tr>`,
            )}
          </tbody>
        </table></div>`}
  </section>`;
}

function Timeline({ id }) {
  const first = useApi(`/api/v1/admin/tenants/${id}/timeline?limit=50`);
  const [more, setMore] = useState({ items: [], cursor: undefined });
  const items = first.data ? [...first.data.items, ...more.items] : [];
  const cursor = more.cursor === undefined ? first.data && first.data.next_cursor : more.cursor;
  async function loadMore() {
    const page = await api(`/api/v1/admin/tenants/${id}/timeline?limit=50&cursor=${cursor}`);
    setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor || null }));
  }
  return html`<section class="card" aria-labelledby="timeline-title" id="tenant-timeline">
    <h2 id="timeline-title">${t("admin_tenants.timeline")}</h2>
    ${!first.data
      ? html`<${Loading} error=${first.error} onRetry=${first.reload} />`
      : items.length === 0
        ? html`<p class="muted">${t("admin_tenants.no_events")}</p>`
        : html`<ol class="timeline">
            ${items.map(
              (e) => html`<li key=${e.position}>
                <time datetime=${e.recorded_at}>${dateTime(e.recorded_at)}</time>
                <strong>${e.event_type}</strong>
                <span class="muted small">${e.aggregate_type} #${e.sequence}</span>
              </li>`,
            )}
          </ol>
          ${cursor && html`<button type="button" class="more" onClick=${loadMore}>${t("admin_tenants.more")}</button>`}`}
  </section>`;
}

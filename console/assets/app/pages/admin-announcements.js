// The announcements admins publish (`/admin/announcements`): the list with drafts and how
// many e-mails each queued, and a form to write or change one.
import { html, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { PageHead, Loading, Notice, useApi, errorMessage } from "../components/ui.js";

/// An ISO instant as a `datetime-local` value in this browser's zone, and back.
function toLocalInput(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
const fromLocalInput = (value) => new Date(value).toISOString();

function empty() {
  const now = Date.now();
  return {
    title: { "pt-BR": "", en: "" },
    body: { "pt-BR": "", en: "" },
    severity: "info",
    audience: { kind: "everyone", plans: [], tenant_ids: [] },
    starts_at: new Date(now).toISOString(),
    ends_at: new Date(now + 7 * 86400000).toISOString(),
    email_owners: false,
    published: false,
  };
}

const split = (text) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

function Form({ initial, onDone, onCancel }) {
  const [form, setForm] = useState(initial);
  const [plans, setPlans] = useState(initial.audience.plans.join(", "));
  const [tenants, setTenants] = useState(initial.audience.tenant_ids.join(", "));
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const setText = (field, lang) => (e) =>
    setForm({ ...form, [field]: { ...form[field], [lang]: e.currentTarget.value } });
  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    const body = {
      title: form.title,
      body: form.body,
      severity: form.severity,
      audience: { kind: form.audience.kind, plans: split(plans), tenant_ids: split(tenants) },
      starts_at: form.starts_at,
      ends_at: form.ends_at,
      email_owners: form.email_owners,
      published: form.published,
    };
    try {
      if (form.id) {
        await api(`/api/v1/admin/announcements/${form.id}`, { method: "PUT", body });
      } else {
        await api("/api/v1/admin/announcements", { method: "POST", body });
      }
      onDone(t("admin_announcements.saved"));
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
      setBusy(false);
    }
  }
  const kind = form.audience.kind;
  return html`<form class="card stack" id="announcement-form" onSubmit=${save}
    aria-labelledby="announcement-form-title">
    <h2 id="announcement-form-title">${form.id ? t("admin_announcements.edit") : t("admin_announcements.new")}</h2>
    <div class="form-grid">
      <label class="field">${t("admin_announcements.title_pt")}
        <input id="announcement-title-pt" required maxlength="200" value=${form.title["pt-BR"]}
          onInput=${setText("title", "pt-BR")} /></label>
      <label class="field">${t("admin_announcements.title_en")}
        <input id="announcement-title-en" maxlength="200" value=${form.title.en}
          onInput=${setText("title", "en")} /></label>
      <label class="field">${t("admin_announcements.severity")}
        <select id="announcement-severity" value=${form.severity}
          onChange=${(e) => setForm({ ...form, severity: e.currentTarget.value })}>
          ${["info", "warning", "maintenance"].map(
            (s) => html`<option value=${s}>${t("announcements.severity_" + s)}</option>`,
          )}
        </select></label>
      <label class="field">${t("admin_announcements.audience")}
        <select id="announcement-audience" value=${kind}
          onChange=${(e) => setForm({ ...form, audience: { ...form.audience, kind: e.currentTarget.value } })}>
          ${["everyone", "plans", "tenants"].map(
            (k) => html`<option value=${k}>${t("admin_announcements.audience_" + k)}</option>`,
          )}
        </select></label>
      ${kind === "plans" &&
      html`<label class="field">${t("admin_announcements.plans")}
        <input id="announcement-plans" required value=${plans} placeholder="pro, enterprise"
          onInput=${(e) => setPlans(e.currentTarget.value)} /></label>`}
      ${kind === "tenants" &&
      html`<label class="field">${t("admin_announcements.tenants")}
        <input id="announcement-tenants" required value=${tenants}
          onInput=${(e) => setTenants(e.currentTarget.value)} /></label>`}
      <label class="field">${t("admin_announcements.from")}
        <input id="announcement-from" type="datetime-local" required value=${toLocalInput(form.starts_at)}
          onInput=${(e) => e.currentTarget.value && setForm({ ...form, starts_at: fromLocalInput(e.currentTarget.value) })} /></label>
      <label class="field">${t("admin_announcements.until")}
        <input id="announcement-until" type="datetime-local" required value=${toLocalInput(form.ends_at)}
          onInput=${(e) => e.currentTarget.value && setForm({ ...form, ends_at: fromLocalInput(e.currentTarget.value) })} /></label>
    </div>
    <label class="field">${t("admin_announcements.body_pt")}
      <textarea id="announcement-body-pt" rows="5" value=${form.body["pt-BR"]}
        onInput=${setText("body", "pt-BR")} aria-describedby="markdown-hint" /></label>
    <label class="field">${t("admin_announcements.body_en")}
      <textarea id="announcement-body-en" rows="4" value=${form.body.en}
        onInput=${setText("body", "en")} aria-describedby="markdown-hint" /></label>
    <p class="hint" id="markdown-hint">${t("admin_content.markdown_hint")}</p>
    <label class="check"><input type="checkbox" id="announcement-email" checked=${form.email_owners}
      onChange=${(e) => setForm({ ...form, email_owners: e.currentTarget.checked })} />
      ${t("admin_announcements.email_owners")}</label>
    <label class="check"><input type="checkbox" id="announcement-published" checked=${form.published}
      onChange=${(e) => setForm({ ...form, published: e.currentTarget.checked })} />
      ${t("admin_content.published")}</label>
    <${Notice} notice=${notice} />
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>${t("common.save")}</button>
      <button type="button" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

function audienceText(a) {
  if (a.audience_kind === "plans") return t("admin_announcements.audience_plans") + ": " + a.audience_plans.join(", ");
  if (a.audience_kind === "tenants") return t("admin_announcements.audience_tenants") + ": " + a.audience_tenants.length;
  return t("admin_announcements.audience_everyone");
}

export default function AdminAnnouncements() {
  const { data, error, reload } = useApi("/api/v1/admin/announcements");
  const [editing, setEditing] = useState(null);
  const [notice, setNotice] = useState(null);
  const done = async (text) => {
    setEditing(null);
    setNotice({ ok: true, text });
    await reload();
  };
  const edit = (a) => ({
    ...a,
    audience: { kind: a.audience_kind, plans: a.audience_plans, tenant_ids: a.audience_tenants },
  });
  return html`<main id="main" class="page">
    <${PageHead} title=${t("admin_announcements.title")} lead=${t("admin_announcements.lead")}>
      <button type="button" class="primary" id="new-announcement"
        onClick=${() => { setNotice(null); setEditing(empty()); }}>${t("admin_announcements.new")}</button>
    <//>
    <${Notice} notice=${notice} />
    ${editing && html`<${Form} key=${editing.id || "new"} initial=${editing} onDone=${done}
      onCancel=${() => setEditing(null)} />`}
    ${!data
      ? html`<${Loading} error=${error} onRetry=${reload} />`
      : data.items.length === 0
        ? html`<p class="muted">${t("admin_announcements.none")}</p>`
        : html`<div class="table-wrap"><table>
            <thead><tr>
              <th scope="col">${t("admin_announcements.col_title")}</th>
              <th scope="col">${t("admin_announcements.audience")}</th>
              <th scope="col">${t("admin_announcements.window")}</th>
              <th scope="col">${t("admin_content.state")}</th>
              <th scope="col">${t("admin_announcements.emails")}</th>
              <th scope="col"><span class="sr-only">${t("admin_content.actions")}</span></th>
            </tr></thead>
            <tbody>
              ${data.items.map(
                (a) => html`<tr key=${a.id}>
                  <td><span class=${"badge " + a.severity}>${t("announcements.severity_" + a.severity)}</span> ${a.title["pt-BR"]}</td>
                  <td>${audienceText(a)}</td>
                  <td>${dateTime(a.starts_at)} – ${dateTime(a.ends_at)}</td>
                  <td>${a.published ? t("admin_content.is_published") : t("admin_content.is_draft")}</td>
                  <td>${a.emails_queued}</td>
                  <td><button type="button"
                    aria-label=${t("admin_content.edit_named", { title: a.title["pt-BR"] })}
                    onClick=${() => { setNotice(null); setEditing(edit(a)); }}>${t("admin_content.edit")}</button></td>
                </tr>`,
              )}
            </tbody>
          </table></div>`}
  </main>`;
}

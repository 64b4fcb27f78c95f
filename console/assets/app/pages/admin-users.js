// The platform's own users (`/admin/users`): admins, super admins and auditors, with their
// last sign-in; creating one (the password shown this once, as for a new tenant's owner),
// disabling one after a confirmation (they are signed out at once) and enabling them again.
// Only a super admin creates or changes a super admin, and nobody disables themself: the
// API refuses both, and the page does not offer them.
import { html, useState } from "../lib/html.js";
import { t, dateTime, relativeTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { PageHead, Loading, Notice, useApi, errorMessage, PasswordOnce } from "../components/ui.js";
import { Confirm } from "../components/confirm.js";
import { TableWrap } from "../components/table-wrap.js";

export default function AdminUsers({ user }) {
  const list = useApi("/api/v1/admin/users");
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null);
  const [notice, setNotice] = useState(null);
  const [changing, setChanging] = useState(null);
  const [busy, setBusy] = useState(false);
  const superAdmin = user.role === "super_admin";

  async function change() {
    const { u, disable } = changing;
    setBusy(true);
    try {
      await api(`/api/v1/admin/users/${u.id}/${disable ? "disable" : "enable"}`, { method: "POST" });
      setNotice({ ok: true, text: t(disable ? "admin_users.disabled_done" : "admin_users.enabled_done", { email: u.email }) });
      await list.reload();
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
      setChanging(null);
    }
  }

  return html`<main id="main" class="page admin-users">
    <${PageHead} title=${t("admin_users.title")} lead=${t("admin_users.lead")}>
      <button type="button" class="primary" id="new-user"
        onClick=${() => { setCreated(null); setNotice(null); setCreating(true); }}>${t("admin_users.new")}</button>
    <//>
    ${created && html`<${Created} created=${created} onClose=${() => setCreated(null)} />`}
    ${creating && html`<${CreateForm} superAdmin=${superAdmin}
      onDone=${(u) => { setCreating(false); setCreated(u); list.reload(); }}
      onCancel=${() => setCreating(false)} />`}
    <${Notice} notice=${notice} />
    ${!list.data
      ? html`<${Loading} error=${list.error} onRetry=${list.reload} />`
      : html`<${TableWrap} label=${t("admin_users.title")}><table id="platform-users">
          <caption class="sr-only">${t("admin_users.title")}</caption>
          <thead><tr>
            <th scope="col">${t("admin_users.email")}</th>
            <th scope="col">${t("admin_users.role")}</th>
            <th scope="col">${t("admin_users.status")}</th>
            <th scope="col">${t("admin_users.last_sign_in")}</th>
            <th scope="col">${t("admin_users.created")}</th>
            <th scope="col"><span class="sr-only">${t("admin_users.actions")}</span></th>
          </tr></thead>
          <tbody>
            ${list.data.map((u) => html`<${Row} key=${u.id} u=${u} me=${u.id === user.id} superAdmin=${superAdmin}
              onChange=${(disable) => { setNotice(null); setChanging({ u, disable }); }} />`)}
          </tbody>
        </table><//>`}
    <${Confirm} id="confirm-user" open=${!!changing} busy=${busy} danger=${!!changing && changing.disable}
      title=${changing ? t(changing.disable ? "admin_users.disable_title" : "admin_users.enable_title", { email: changing.u.email }) : ""}
      message=${changing ? t(changing.disable ? "admin_users.disable_text" : "admin_users.enable_text") : ""}
      confirmLabel=${changing ? t(changing.disable ? "admin_users.disable" : "admin_users.enable") : ""}
      onConfirm=${change} onClose=${() => setChanging(null)} />
  </main>`;
}

function Row({ u, me, superAdmin, onChange }) {
  // A super admin's account is a super admin's business, and one's own is nobody's here.
  const mayChange = !me && (superAdmin || u.role !== "super_admin");
  return html`<tr data-email=${u.email} class=${u.disabled_at ? "muted-row" : ""}>
    <th scope="row" class="wrap user-email">${u.email}${me && html` <span class="badge resolved">${t("admin_users.you")}</span>`}</th>
    <td><span class=${"badge role-" + u.role}>${t("role." + u.role)}</span></td>
    <td>${u.disabled_at
      ? html`<span class="badge handoff" title=${dateTime(u.disabled_at)}>${t("admin_users.disabled")}</span>`
      : html`<span class="badge answer">${t("admin_users.active")}</span>`}</td>
    <td data-label=${t("admin_users.last_sign_in")}>${u.last_sign_in_at
      ? html`<time datetime=${u.last_sign_in_at} title=${dateTime(u.last_sign_in_at)}>${relativeTime(u.last_sign_in_at)}</time>`
      : html`<span class="muted">${t("admin_users.never")}</span>`}</td>
    <td data-label=${t("admin_users.created")}><time datetime=${u.created_at}>${dateTime(u.created_at)}</time></td>
    <td>${mayChange &&
    (u.disabled_at
      ? html`<button type="button" class="small-button" data-enable=${u.email}
          aria-label=${t("admin_users.enable_named", { email: u.email })}
          onClick=${() => onChange(false)}>${t("admin_users.enable")}</button>`
      : html`<button type="button" class="small-button danger" data-disable=${u.email}
          aria-label=${t("admin_users.disable_named", { email: u.email })}
          onClick=${() => onChange(true)}>${t("admin_users.disable")}</button>`)}</td>
  </tr>`;
}

function CreateForm({ superAdmin, onDone, onCancel }) {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  async function submit(event) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    setBusy(true);
    setNotice(null);
    try {
      onDone(await api("/api/v1/admin/users", {
        method: "POST",
        body: { email: String(f.get("email")).trim(), role: String(f.get("role")) },
      }));
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
      setBusy(false);
    }
  }
  return html`<form class="card stack" id="user-form" onSubmit=${submit} aria-labelledby="user-form-title">
    <h2 id="user-form-title">${t("admin_users.new")}</h2>
    <p class="hint">${t("admin_users.new_hint")}</p>
    <div class="form-grid">
      <label class="field">${t("admin_users.email")}
        <input id="user-email" name="email" type="email" required autocomplete="off" /></label>
      <label class="field">${t("admin_users.role")}
        <select id="user-role" name="role">
          <option value="admin">${t("role.admin")}</option>
          <option value="auditor">${t("role.auditor")}</option>
          ${superAdmin && html`<option value="super_admin">${t("role.super_admin")}</option>`}
        </select></label>
    </div>
    <${Notice} notice=${notice} />
    <div class="row">
      <button type="submit" class="primary" id="create-user" disabled=${busy}>${t("admin_users.create")}</button>
      <button type="button" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

/// The new user's password, shown this once: the API keeps only its hash.
function Created({ created, onClose }) {
  return html`<${PasswordOnce}
    ids=${{ box: "user-created", warning: "user-password-once", password: "user-password",
      copy: "copy-user-password", close: "close-user-created" }}
    title=${t("admin_users.created_title", { email: created.email })}
    warning=${t("admin_users.password_once")}
    lead=${t("admin_users.password_for", { email: created.email, role: t("role." + created.role) })}
    password=${created.password} what=${t("admin_users.password")}
    saved=${t("admin_users.password_saved")} onClose=${onClose} />`;
}

// Privacy (`/admin/privacy`), for admins (F65, LGPD): export everything held about a
// tenant's WhatsApp contact as a file, erase that contact with a reason (after a
// confirmation: their keys are destroyed, there is no way back), and every erasure
// recorded. The contact's number goes with their keys, so the list names the conversation.
import { html, useEffect, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { download } from "../lib/files.js";
import { usePaged } from "../lib/paged.js";
import { PageHead, Loading, Notice, errorMessage } from "../components/ui.js";
import { Confirm } from "../components/confirm.js";
import { TableWrap } from "../components/table-wrap.js";

export default function AdminPrivacy({ user }) {
  const [tenants, setTenants] = useState([]);
  const [tenant, setTenant] = useState("");
  const [contact, setContact] = useState("");
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [erasing, setErasing] = useState(false);
  const [reason, setReason] = useState("");
  const erasures = usePaged("/api/v1/admin/privacy/erasures?limit=50");

  useEffect(() => {
    api("/api/v1/admin/tenants?limit=200").then((p) => setTenants(p.items), () => setTenants([]));
  }, []);
  const tenantName = (id) => {
    const x = tenants.find((e) => e.tenant_id === id);
    return x ? x.name : id ? id.slice(0, 8) : "—";
  };
  const number = contact.replace(/[^0-9]/g, "");
  const ready = tenant && number;

  async function exportData(e) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setNotice(null);
    try {
      const q = new URLSearchParams({ tenant_id: tenant, contact: number });
      await download("/api/v1/admin/privacy/export?" + q.toString(), `contato-${number}.json`);
      setNotice({ ok: true, text: t("admin_privacy.exported", { contact: number }) });
    } catch (err) {
      setNotice({ ok: false, text: err.status === 404 ? t("admin_privacy.unknown") : errorMessage(err) });
    } finally {
      setBusy(false);
    }
  }

  async function erase() {
    setBusy(true);
    try {
      const r = await api("/api/v1/admin/privacy/erasures", {
        method: "POST",
        body: { tenant_id: tenant, contact: number, reason: reason.trim() },
      });
      setNotice({ ok: true, text: t("admin_privacy.erased", { contact: number, keys: r.keys_destroyed }) });
      setErasing(false);
      setReason("");
      setContact("");
      erasures.reload();
    } catch (err) {
      setNotice({ ok: false, text: err.status === 404 ? t("admin_privacy.unknown") : errorMessage(err) });
      setErasing(false);
    } finally {
      setBusy(false);
    }
  }

  return html`<main id="main" class="page admin-privacy">
    <${PageHead} title=${t("admin_privacy.title")} lead=${t("admin_privacy.lead")} />
    <form class="card stack" aria-labelledby="subject-title" onSubmit=${exportData}>
      <h2 id="subject-title">${t("admin_privacy.subject")}</h2>
      <div class="form-grid">
        <label class="field">${t("admin_privacy.tenant")}
          <select id="privacy-tenant" required value=${tenant} onChange=${(e) => setTenant(e.currentTarget.value)}>
            <option value="">${t("admin_privacy.pick_tenant")}</option>
            ${tenants.map((x) => html`<option value=${x.tenant_id}>${x.name}</option>`)}
          </select></label>
        <label class="field">${t("admin_privacy.contact")}
          <input id="privacy-contact" required inputmode="tel" autocomplete="off" value=${contact}
            placeholder="5511987654321" aria-describedby="contact-hint"
            onInput=${(e) => setContact(e.currentTarget.value)} />
          <span class="hint" id="contact-hint">${t("admin_privacy.contact_hint")}</span></label>
      </div>
      <${Notice} notice=${notice} />
      <div class="row">
        <button type="submit" class="primary" id="privacy-export" disabled=${busy || !ready}>${t("admin_privacy.export")}</button>
        <button type="button" class="danger" id="privacy-erase" disabled=${busy || !ready}
          onClick=${() => { setNotice(null); setErasing(true); }}>${t("admin_privacy.erase")}</button>
      </div>
    </form>
    <section class="card" aria-labelledby="erasures-title">
      <h2 id="erasures-title">${t("admin_privacy.erasures")}</h2>
      ${erasures.items === null
        ? html`<${Loading} error=${erasures.error} onRetry=${erasures.reload} />`
        : erasures.items.length === 0
          ? html`<p class="empty" id="no-erasures">${t("admin_privacy.no_erasures")}</p>`
          : html`<${TableWrap} label=${t("admin_privacy.erasures")}><table id="erasures">
              <caption class="sr-only">${t("admin_privacy.erasures")}</caption>
              <thead><tr>
                <th scope="col">${t("admin_billing.when_col")}</th>
                <th scope="col">${t("admin_privacy.tenant")}</th>
                <th scope="col">${t("admin_privacy.conversation")}</th>
                <th scope="col">${t("admin_privacy.reason")}</th>
                <th scope="col">${t("admin_privacy.by")}</th>
              </tr></thead>
              <tbody>
                ${erasures.items.map((e) => html`<tr key=${e.position}>
                  <td>${dateTime(e.at)}</td>
                  <td>${tenantName(e.tenant_id)}</td>
                  <td><code title=${e.conversation_id}>${e.conversation_id.slice(0, 8)}</code></td>
                  <td class="wrap">${e.reason}</td>
                  <td>${e.actor_id === user.id ? t("admin_privacy.you") : html`<code>${e.actor_id.slice(0, 8)}</code>`}</td>
                </tr>`)}
              </tbody>
            </table><//>`}
      ${erasures.next && html`<p class="list-foot"><button type="button" onClick=${erasures.more}>${t("admin_billing.more")}</button></p>`}
    </section>
    <${Confirm} id="confirm-erase" open=${erasing} busy=${busy} danger
      title=${t("admin_privacy.erase_title", { contact: number, tenant: tenantName(tenant) })}
      message=${t("admin_privacy.erase_text")} confirmLabel=${t("admin_privacy.erase_confirm")}
      onConfirm=${() => { if (reason.trim()) erase(); }} onClose=${() => setErasing(false)}>
      <label class="field">${t("admin_privacy.reason")}
        <textarea id="erase-reason" required rows="3" maxlength="500" value=${reason}
          onInput=${(e) => setReason(e.currentTarget.value)} /></label>
    <//>
  </main>`;
}

// The team (`/team`): the tenant's owners and agents, invitations waiting to be accepted,
// inviting an agent by e-mail (they choose their own password from the link) and
// disabling one.
import { html, useState } from "../lib/html.js";
import { t, relativeTime, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { useApi, PageHead, Loading, Notice, errorMessage } from "../components/ui.js";

export default function Team({ user }) {
  const users = useApi("/api/v1/users");
  const invitations = useApi("/api/v1/users/invitations");
  const [notice, setNotice] = useState(null);

  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("team.title")} lead=${t("team.lead")} />
    <${Invite} onInvited=${(inv) => {
      invitations.setData((list) => [inv, ...(list || []).filter((i) => i.email !== inv.email)]);
      setNotice({ ok: true, text: t("team.invited", { email: inv.email }) });
    }} />
    <${Notice} notice=${notice} />
    ${invitations.data && invitations.data.length > 0 &&
    html`<section class="card" aria-labelledby="invitations-title">
      <h2 id="invitations-title">${t("team.invitations")}</h2>
      <ul class="people" id="invitations">
        ${invitations.data.map(
          (inv) => html`<${InvitationRow} key=${inv.id} inv=${inv}
            onRevoked=${() => {
              invitations.setData((list) => list.filter((i) => i.id !== inv.id));
              setNotice({ ok: true, text: t("team.revoked", { email: inv.email }) });
            }}
            onError=${(text) => setNotice({ ok: false, text })} />`,
        )}
      </ul>
    </section>`}
    <section class="card" aria-labelledby="members-title">
      <h2 id="members-title">${t("team.members")}</h2>
      ${users.data
        ? html`<ul class="people" id="members">
            ${users.data.map(
              (u) => html`<${UserRow} key=${u.id} u=${u} me=${u.id === user.id}
                onDisabled=${() => {
                  users.setData((list) => list.map((x) => (x.id === u.id ? { ...x, disabled_at: new Date().toISOString() } : x)));
                  setNotice({ ok: true, text: t("team.disabled_done", { email: u.email }) });
                }}
                onError=${(text) => setNotice({ ok: false, text })} />`,
            )}
          </ul>`
        : html`<${Loading} error=${users.error} onRetry=${users.reload} />`}
    </section>
  </main>`;
}

function Invite({ onInvited }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function invite(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const email = String(new FormData(form).get("email") || "").trim();
    setBusy(true);
    setError(null);
    try {
      onInvited(await api("/api/v1/users/invitations", { method: "POST", body: { email, role: "agent" } }));
      form.reset();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return html`<section class="card" aria-labelledby="invite-title">
    <h2 id="invite-title">${t("team.invite_title")}</h2>
    <form class="stack" onSubmit=${invite}>
      <div class="field">
        <label for="invite-email">${t("team.invite_email")}</label>
        <div class="reply-row">
          <input id="invite-email" name="email" type="email" autocomplete="off" required aria-describedby="invite-hint" />
          <button type="submit" class="primary" id="send-invite" disabled=${busy}>${t("team.invite_send")}</button>
        </div>
        <p class="hint" id="invite-hint">${t("team.invite_hint")}</p>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
    </form>
  </section>`;
}

function Person({ email, children, badges }) {
  return html`<li class="person">
    <span class="avatar" aria-hidden="true">${email[0].toUpperCase()}</span>
    <div class="person-main">
      <p class="person-email">${email}</p>
      <p class="person-meta">${badges}</p>
    </div>
    <div class="person-actions">${children}</div>
  </li>`;
}

/// A destructive button that asks once more, in place.
function Confirm({ label, confirmLabel, onConfirm, id }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) return html`<button type="button" class="danger" id=${id} onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" role="group" aria-label=${confirmLabel}>
    <button type="button" class="danger-solid" disabled=${busy} autofocus
      onClick=${async () => {
        setBusy(true);
        await onConfirm();
        setBusy(false);
        setAsking(false);
      }}>${confirmLabel}</button>
    <button type="button" onClick=${() => setAsking(false)}>${t("common.cancel")}</button>
  </span>`;
}

function UserRow({ u, me, onDisabled, onError }) {
  const badges = html`<span class=${"badge role-" + u.role}>${t("role." + u.role)}</span>
    ${me && html`<span class="badge resolved">${t("team.you")}</span>`}
    ${u.disabled_at
      ? html`<span class="badge handoff">${t("team.disabled")}</span>`
      : html`<span class="muted small">${t("team.since", { when: dateTime(u.created_at) })}</span>`}`;
  return html`<${Person} email=${u.email} badges=${badges}>
    ${u.role === "agent" && !u.disabled_at &&
    html`<${Confirm} id=${"disable-" + u.id} label=${t("team.disable")} confirmLabel=${t("team.disable_confirm")}
      onConfirm=${async () => {
        try {
          await api("/api/v1/users/" + u.id, { method: "DELETE" });
          onDisabled();
        } catch (e) {
          onError(errorMessage(e));
        }
      }} />`}
  <//>`;
}

function InvitationRow({ inv, onRevoked, onError }) {
  const expired = inv.status === "expired";
  const badges = html`<span class="badge role-agent">${t("role." + inv.role)}</span>
    ${expired
      ? html`<span class="badge handoff">${t("team.expired")}</span>`
      : html`<span class="badge awaiting_human">${t("team.pending")}</span>`}
    <span class="muted small">${expired
      ? t("team.sent", { when: relativeTime(inv.created_at) })
      : t("team.expires", { when: relativeTime(inv.expires_at) })}</span>`;
  return html`<${Person} email=${inv.email} badges=${badges}>
    ${!expired &&
    html`<${Confirm} id=${"revoke-" + inv.id} label=${t("team.revoke")} confirmLabel=${t("team.revoke_confirm")}
      onConfirm=${async () => {
        try {
          await api("/api/v1/users/invitations/" + inv.id, { method: "DELETE" });
          onRevoked();
        } catch (e) {
          onError(errorMessage(e));
        }
      }} />`}
  <//>`;
}

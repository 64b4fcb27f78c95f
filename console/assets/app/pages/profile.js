// The signed-in user's profile (`/profile`): who they are, their password, and how the
// console looks and speaks to them; owners also choose the language of the tenant's
// e-mails.
import { html, useState } from "../lib/html.js";
import { t, locale, setLocale, LOCALES } from "../lib/i18n.js";
import { theme, setTheme } from "../lib/theme.js";
import { useStore } from "../lib/store.js";
import { api, signOut } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { useApi, PageHead, Notice, errorMessage } from "../components/ui.js";

export default function Profile({ user }) {
  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("profile.title")} />
    <div class="stack">
      <section class="card" aria-labelledby="me-title">
        <h2 id="me-title">${t("profile.account")}</h2>
        <dl class="facts flush">
          <div><dt>${t("signin.email")}</dt><dd id="profile-email">${user.email}</dd></div>
          <div><dt>${t("profile.role")}</dt><dd>${t("role." + user.role)}</dd></div>
        </dl>
      </section>
      <${Preferences} />
      ${user.role === "owner" && html`<${TenantLocale} />`}
      <${Password} />
    </div>
  </main>`;
}

function Preferences() {
  const current = useStore(locale);
  const choice = useStore(theme);
  return html`<section class="card stack" aria-labelledby="prefs-title">
    <h2 id="prefs-title">${t("profile.preferences")}</h2>
    <div class="field">
      <label for="profile-locale">${t("shell.language")}</label>
      <select id="profile-locale" value=${current} onChange=${(e) => setLocale(e.currentTarget.value)}>
        ${LOCALES.map((l) => html`<option value=${l.tag} lang=${l.tag}>${l.name}</option>`)}
      </select>
      <p class="hint">${t("profile.locale_hint")}</p>
    </div>
    <fieldset class="field plain">
      <legend class="label">${t("profile.theme")}</legend>
      <div class="segmented">
        ${["system", "light", "dark"].map(
          (v) => html`<label class=${"seg" + (choice === v ? " on" : "")}>
            <input type="radio" name="theme" value=${v} checked=${choice === v} onChange=${() => setTheme(v)} />
            ${t("profile.theme." + v)}
          </label>`,
        )}
      </div>
    </fieldset>
  </section>`;
}

function TenantLocale() {
  const setting = useApi("/api/v1/settings/locale");
  const [notice, setNotice] = useState(null);
  async function change(e) {
    const value = e.currentTarget.value;
    try {
      setting.setData(await api("/api/v1/settings/locale", { method: "PUT", body: { locale: value } }));
      setNotice({ ok: true, text: t("profile.tenant_locale_saved") });
    } catch (err) {
      setNotice({ ok: false, text: errorMessage(err) });
    }
  }
  if (!setting.data) return null;
  return html`<section class="card stack" aria-labelledby="tenant-locale-title">
    <h2 id="tenant-locale-title">${t("profile.tenant_locale_title")}</h2>
    <div class="field">
      <label for="tenant-locale">${t("profile.tenant_locale")}</label>
      <select id="tenant-locale" value=${setting.data.locale} onChange=${change}>
        ${LOCALES.map((l) => html`<option value=${l.tag} lang=${l.tag}>${l.name}</option>`)}
      </select>
      <p class="hint">${t("profile.tenant_locale_hint")}</p>
    </div>
    <${Notice} notice=${notice} />
  </section>`;
}

function Password() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [changed, setChanged] = useState(false);
  async function again() {
    await signOut().catch(() => {});
    navigate("/login", { replace: true });
  }
  async function submit(event) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const next = String(f.get("new_password"));
    if (next !== String(f.get("confirm"))) {
      setError(t("password.mismatch"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api("/api/v1/me/password", {
        method: "POST",
        body: { current_password: String(f.get("current_password")), new_password: next },
      });
      // The API ended every session of the user, this one too: they sign in again.
      setChanged(true);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }
  return html`<section class="card" aria-labelledby="password-title">
    <h2 id="password-title">${t("profile.password_title")}</h2>
    <p class="muted">${t("profile.password_lead")}</p>
    ${changed
      ? html`<p class="success" role="status" id="password-changed">${t("profile.password_changed")}</p>
          <p><button type="button" class="primary" onClick=${again}>${t("signin.submit")}</button></p>`
      : html`<form class="stack" onSubmit=${submit}>
      <div class="field">
        <label for="current_password">${t("profile.current_password")}</label>
        <input id="current_password" name="current_password" type="password" autocomplete="current-password" required />
      </div>
      <div class="field">
        <label for="new_password">${t("password.new")}</label>
        <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="12" required aria-describedby="new-password-hint" />
        <p class="hint" id="new-password-hint">${t("password.hint")}</p>
      </div>
      <div class="field">
        <label for="confirm_password">${t("password.confirm")}</label>
        <input id="confirm_password" name="confirm" type="password" autocomplete="new-password" required />
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <div class="row"><button type="submit" class="primary" disabled=${busy}>${t("password.save")}</button></div>
    </form>`}
  </section>`;
}

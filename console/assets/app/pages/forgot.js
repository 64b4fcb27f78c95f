// Forgot password: asks the API to e-mail a reset link. The answer is the same whether or
// not the address has an account.
import { html, useState } from "../lib/html.js";
import { t, locale } from "../lib/i18n.js";
import { publicPost } from "../lib/session.js";
import { PublicFrame, errorText } from "../components/public-frame.js";

export default function Forgot() {
  const [sent, setSent] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget).get("email"));
    setBusy(true);
    setError(null);
    try {
      await publicPost("/api/v1/auth/password-reset", { email, locale: locale.get() });
      setSent(true);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  return html`<${PublicFrame} title=${t("forgot.title")}>
    ${sent
      ? html`<p role="status" class="success">${t("forgot.sent")}</p>`
      : html`<p class="muted">${t("forgot.lead")}</p>
          <form class="stack" onSubmit=${submit} novalidate>
            <div class="field">
              <label for="email">${t("signin.email")}</label>
              <input id="email" name="email" type="email" autocomplete="email" required autofocus />
            </div>
            ${error && html`<p class="error" role="alert">${error}</p>`}
            <button type="submit" class="primary" disabled=${busy}>${t("forgot.submit")}</button>
          </form>`}
    <p class="aside"><a href="/login">${t("common.back_to_signin")}</a></p>
  <//>`;
}

// Choosing a password with a token from an e-mailed link: the reset link and the
// invitation link share it. The API's message is shown when it refuses.
import { html, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { publicPost } from "../lib/session.js";
import { PublicFrame, errorText } from "./public-frame.js";

export function NewPasswordPage({ query, title, lead, endpoint, done }) {
  const token = query.get("token") || "";
  const [error, setError] = useState(null);
  const [finished, setFinished] = useState(false);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const password = String(form.get("password"));
    if (password !== String(form.get("confirm"))) {
      setError(t("password.mismatch"));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await publicPost(endpoint, { token, password });
      setFinished(true);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  if (!token) {
    return html`<${PublicFrame} title=${title}>
      <p class="error" role="alert">${t("password.no_token")}</p>
      <p class="aside"><a href="/forgot-password">${t("signin.forgot")}</a></p>
    <//>`;
  }
  return html`<${PublicFrame} title=${title}>
    ${finished
      ? html`<p role="status" class="success">${done}</p>
          <p><a class="button primary" href="/login">${t("signin.submit")}</a></p>`
      : html`<p class="muted">${lead}</p>
          <form class="stack" onSubmit=${submit} novalidate>
            <div class="field">
              <label for="password">${t("password.new")}</label>
              <input id="password" name="password" type="password" autocomplete="new-password"
                minlength="12" required aria-describedby="password-hint" autofocus />
              <p class="hint" id="password-hint">${t("password.hint")}</p>
            </div>
            <div class="field">
              <label for="confirm">${t("password.confirm")}</label>
              <input id="confirm" name="confirm" type="password" autocomplete="new-password" required />
            </div>
            ${error && html`<p class="error" role="alert">${error}</p>`}
            <button type="submit" class="primary" disabled=${busy}>${t("password.save")}</button>
          </form>`}
    <p class="aside"><a href="/login">${t("common.back_to_signin")}</a></p>
  <//>`;
}

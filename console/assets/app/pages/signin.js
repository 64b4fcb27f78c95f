// Sign-in (`/login`, the link e-mails send). A wrong password shows the API's own message.
import { html, useState, useRef, useEffect } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { signIn } from "../lib/session.js";
import { PublicFrame, errorText } from "../components/public-frame.js";

export default function SignIn() {
  // `autofocus` only works on a document's first render: focus the first field here.
  const first = useRef(null);
  useEffect(() => first.current && first.current.focus(), []);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      // The app moves on to the inbox once the session store says signed-in.
      await signIn(String(form.get("email")), String(form.get("password")));
    } catch (e) {
      // A suspended tenant's users are told why in their own language.
      setError(e && e.code === "tenant_suspended" ? t("signin.suspended") : errorText(e));
      setBusy(false);
    }
  }

  return html`<${PublicFrame} title=${t("signin.title")}>
    <p class="muted">${t("signin.lead")}</p>
    <form class="stack" onSubmit=${submit} novalidate>
      <div class="field">
        <label for="email">${t("signin.email")}</label>
        <input ref=${first} id="email" name="email" type="email" autocomplete="username" required autofocus />
      </div>
      <div class="field">
        <label for="password">${t("signin.password")}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
      </div>
      ${error && html`<p class="error" role="alert" id="signin-error">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy}>
        ${busy ? t("signin.submitting") : t("signin.submit")}
      </button>
    </form>
    <p class="aside"><a href="/forgot-password">${t("signin.forgot")}</a></p>
  <//>`;
}

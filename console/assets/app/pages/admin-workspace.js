// "My workspace" (`/admin/workspace`): opens the admin's own tenant in the tenant console,
// creating it the first time, with no second sign-in.
import { html, useEffect, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { enterWorkspace } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { errorMessage } from "../components/ui.js";

export default function AdminWorkspace() {
  const [error, setError] = useState(null);
  useEffect(() => {
    enterWorkspace()
      .then(() => navigate("/", { replace: true }))
      .catch((e) => setError(errorMessage(e)));
  }, []);
  return html`<main id="main" class="page narrow">
    <h1>${t("workspace.title")}</h1>
    ${error
      ? html`<p class="error" role="alert">${error}</p>`
      : html`<p role="status">${t("workspace.opening")}</p>`}
  </main>`;
}

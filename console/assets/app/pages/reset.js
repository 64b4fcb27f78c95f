// `/reset-password?token=…`, the link the password-reset e-mail sends.
import { html } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { NewPasswordPage } from "../components/new-password.js";

export default function Reset({ query }) {
  return html`<${NewPasswordPage}
    query=${query}
    title=${t("reset.title")}
    lead=${t("reset.lead")}
    endpoint="/api/v1/auth/password-reset/confirm"
    done=${t("reset.done")}
  />`;
}

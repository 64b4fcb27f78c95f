// `/set-password?token=…`, the link an invited agent receives: they choose their password.
import { html } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { NewPasswordPage } from "../components/new-password.js";

export default function SetPassword({ query }) {
  return html`<${NewPasswordPage}
    query=${query}
    title=${t("invite.title")}
    lead=${t("invite.lead")}
    endpoint="/api/v1/auth/invitation/accept"
    done=${t("invite.done")}
  />`;
}

// Where Stripe sends a buyer after paying (`/checkout/success?session_id=…`): the account
// is created when Stripe confirms the payment, and its sign-in details go by e-mail.
import { html } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { PublicFrame } from "../components/public-frame.js";

export default function CheckoutSuccess() {
  return html`<${PublicFrame} title=${t("checkout.title")}>
    <p class="success" role="status">${t("checkout.thanks")}</p>
    <p>${t("checkout.email")}</p>
    <p class="muted">${t("checkout.spam")}</p>
    <p><a class="button primary" href="/login">${t("checkout.signin")}</a></p>
  <//>`;
}

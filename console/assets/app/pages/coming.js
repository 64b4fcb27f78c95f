// A page that is not built yet; the route table points here until it is.
import { html } from "../lib/html.js";
import { t } from "../lib/i18n.js";

export default function Coming() {
  return html`<main id="main" class="page narrow">
    <h1>${t("coming.title")}</h1>
    <p>${t("coming.body")}</p>
    <p><a href="/">${t("notfound.home")}</a></p>
  </main>`;
}

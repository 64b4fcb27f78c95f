// The frame of the pages one sees signed out: a centred card with the brand, and the
// language and theme switches.
import { html } from "../lib/html.js";
import { t, locale, setLocale, LOCALES } from "../lib/i18n.js";
import { effectiveTheme, toggleTheme } from "../lib/theme.js";
import { Icon } from "./icons.js";

export function PublicFrame({ title, children }) {
  const dark = effectiveTheme() === "dark";
  return html`<div class="public">
    <header class="public-top">
      <a class="brand" href="/login"><img src="/assets/favicon.svg" alt="" width="28" height="28" /><span>atende</span></a>
      <div class="topbar-tools">
        <label class="sr-only" for="locale-select">${t("shell.language")}</label>
        <select id="locale-select" class="locale-select" value=${locale.get()} onChange=${(e) => setLocale(e.currentTarget.value)}>
          ${LOCALES.map((l) => html`<option value=${l.tag} lang=${l.tag}>${l.name}</option>`)}
        </select>
        <button type="button" class="icon-button" id="theme-toggle"
          aria-label=${dark ? t("shell.theme_light") : t("shell.theme_dark")}
          title=${dark ? t("shell.theme_light") : t("shell.theme_dark")}
          onClick=${toggleTheme}>
          <${Icon} name=${dark ? "sun" : "moon"} />
        </button>
      </div>
    </header>
    <main id="main" class="public-main">
      <section class="card auth-card" aria-labelledby="page-title">
        <h1 id="page-title">${title}</h1>
        ${children}
      </section>
    </main>
  </div>`;
}

/// The API's message for a failed call, or a generic one when there is none.
export function errorText(error) {
  if (error && error.message && error.status) return error.message;
  return t("common.network_error");
}

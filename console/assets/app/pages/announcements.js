// The tenant's announcements (`/announcements`): every one meant for it that has started,
// newest first, current ones marked.
import { html } from "../lib/html.js";
import { t, locale } from "../lib/i18n.js";
import { useStore } from "../lib/store.js";
import { PageHead, Loading, useApi } from "../components/ui.js";
import { Rendered, Window } from "../components/content.js";

export default function Announcements() {
  const lang = useStore(locale);
  const { data, error, reload } = useApi("/api/v1/announcements?locale=" + encodeURIComponent(lang));
  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("announcements.title")} lead=${t("announcements.lead")} />
    ${!data
      ? html`<${Loading} error=${error} onRetry=${reload} />`
      : data.all.length === 0
        ? html`<p class="muted" role="status">${t("announcements.none")}</p>`
        : html`<ul class="announcement-list">
            ${data.all.map(
              (a) => html`<li class=${"card announcement " + a.severity} key=${a.id}>
                <h2>${a.title}</h2>
                <p class="muted">
                  <span class=${"badge " + a.severity}>${t("announcements.severity_" + a.severity)}</span>
                  ${" "}${a.active ? t("announcements.current") : t("announcements.ended")}
                  ${" · "}<${Window} from=${a.starts_at} until=${a.ends_at} />
                </p>
                <${Rendered} html=${a.body_html} />
              </li>`,
            )}
          </ul>`}
  </main>`;
}

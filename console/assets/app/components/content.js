// The operator's content inside tenant pages: announcement banners (closable, remembered
// per user by the API), a rendered Markdown body, a maintenance window in the viewer's
// time zone and links to the tutorial that explains a page.
import { html, useEffect, useState } from "../lib/html.js";
import { t, locale } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { useStore } from "../lib/store.js";

/// HTML the API rendered from Markdown: raw HTML was dropped and links open outside there,
/// so it is set as is (no script in it can run: the API passes none, and the CSP allows none).
export function Rendered({ html: body, id, className = "md" }) {
  return html`<div class=${className} id=${id} dangerouslySetInnerHTML=${{ __html: body }} />`;
}

/// "from … to …" in the viewer's language and time zone, the zone named.
export function Window({ from, until }) {
  const fmt = new Intl.DateTimeFormat(locale.get(), {
    dateStyle: "short",
    timeStyle: "short",
    timeZoneName: "short",
  });
  return html`<span class="window">${t("announcements.window", {
    from: fmt.format(new Date(from)),
    until: fmt.format(new Date(until)),
  })}</span>`;
}

/// The current announcements for the signed-in tenant user, each closable.
export function AnnouncementBanner() {
  const lang = useStore(locale);
  const [items, setItems] = useState([]);
  useEffect(() => {
    let live = true;
    api("/api/v1/announcements?locale=" + encodeURIComponent(lang))
      .then((body) => live && setItems(body.current))
      .catch(() => {
        // A banner that cannot load is not worth an error on every page.
      });
    return () => {
      live = false;
    };
  }, [lang]);
  if (items.length === 0) return null;
  async function dismiss(id) {
    setItems(items.filter((a) => a.id !== id));
    try {
      await api(`/api/v1/announcements/${id}/dismiss`, { method: "POST" });
    } catch {
      // Shown again on the next page load; nothing else to do.
    }
  }
  return html`<section class="banners" aria-label=${t("announcements.region")}>
    ${items.map(
      (a) => html`<div class=${"banner " + a.severity} key=${a.id} id=${"announcement-" + a.id}>
        <div class="banner-text">
          <strong>${t("announcements.severity_" + a.severity)}: ${a.title}</strong>
          ${a.severity === "maintenance" && html` <${Window} from=${a.starts_at} until=${a.ends_at} />`}
          <${Rendered} html=${a.body_html} />
          <a href="/announcements">${t("announcements.all")}</a>
        </div>
        <button type="button" class="icon-button dismiss"
          aria-label=${t("announcements.dismiss", { title: a.title })}
          onClick=${() => dismiss(a.id)}>×</button>
      </div>`,
    )}
  </section>`;
}

/// A link to the published tutorial `slug`, shown only when there is one.
export function TutorialLink({ slug }) {
  const lang = useStore(locale);
  const [tutorial, setTutorial] = useState(null);
  useEffect(() => {
    let live = true;
    api(`/api/v1/tutorials/${encodeURIComponent(slug)}?locale=${encodeURIComponent(lang)}`)
      .then((body) => live && setTutorial(body))
      .catch(() => live && setTutorial(null));
    return () => {
      live = false;
    };
  }, [slug, lang]);
  if (!tutorial) return null;
  return html`<p class="tutorial-link">
    <a href=${"/tutorials/" + tutorial.slug}>${t("tutorials.see", { title: tutorial.title })}</a>
  </p>`;
}

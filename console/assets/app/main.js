// The console's entry: restores the session from its cookie, then renders the page the
// address names, inside the shell for signed-in pages.
import { html, render, useEffect, useState } from "./lib/html.js";
import { useStore } from "./lib/store.js";
import { here, navigate } from "./lib/router.js";
import { session, restore } from "./lib/session.js";
import { locale, t } from "./lib/i18n.js";
import { theme } from "./lib/theme.js";
import { resolve, allowed, home } from "./routes.js";
import { Shell } from "./shell.js";

const loaded = new Map();

function usePage(route) {
  const [, bump] = useState(0);
  const mod = route && loaded.get(route.page);
  useEffect(() => {
    if (!route || loaded.has(route.page)) return;
    let live = true;
    route.page().then((m) => {
      loaded.set(route.page, m);
      if (live) bump((n) => n + 1);
    });
    return () => {
      live = false;
    };
  }, [route]);
  return mod && mod.default;
}

function App() {
  const s = useStore(session);
  const where = useStore(here);
  // Re-render every page on a language or theme change.
  useStore(locale);
  useStore(theme);
  const found = resolve(where.path);
  const route = found && found.route;
  const Page = usePage(route);

  const needsSignIn = route && route.access !== "public" && s.status === "signed-out";
  const signedInOnPublic =
    route && route.path === "/login" && s.status === "signed-in";
  // The inbox is the tenants' home; admins land on theirs.
  const elsewhereHome =
    s.status === "signed-in" && where.path === "/" && home(s.user) !== "/";
  useEffect(() => {
    if (needsSignIn) {
      const next = where.path === "/" ? "" : "?next=" + encodeURIComponent(where.path);
      navigate("/login" + next, { replace: true });
    } else if (signedInOnPublic) {
      const next = where.query.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : home(s.user), {
        replace: true,
      });
    } else if (elsewhereHome) {
      navigate(home(s.user), { replace: true });
    }
  }, [needsSignIn, signedInOnPublic, elsewhereHome]);

  useEffect(() => {
    document.title = route && route.nav ? `${t(route.nav.label)} · atende` : "atende";
  });

  if (s.status === "loading" || needsSignIn || signedInOnPublic || elsewhereHome) {
    return html`<p class="boot" role="status">${t("common.loading")}</p>`;
  }
  const props = { params: found ? found.params : {}, query: where.query, user: s.user };
  if (!route) {
    const body = html`<main id="main" class="page narrow">
      <h1>${t("notfound.title")}</h1>
      <p><a href="/">${t("notfound.home")}</a></p>
    </main>`;
    return s.status === "signed-in" ? html`<${Shell} user=${s.user} route=${null}>${body}<//>` : body;
  }
  if (route.access === "public") {
    return Page ? html`<${Page} ...${props} />` : html`<p class="boot">${t("common.loading")}</p>`;
  }
  const content = !allowed(route, s.user)
    ? html`<main id="main" class="page narrow"><h1>${t("forbidden.title")}</h1><p>${t("forbidden.body")}</p></main>`
    : Page
      ? html`<${Page} ...${props} />`
      : html`<main id="main" class="page"><p role="status">${t("common.loading")}</p></main>`;
  return html`<${Shell} user=${s.user} route=${route}>${content}<//>`;
}

render(html`<${App} />`, document.getElementById("app"));
restore();

// The frame around every signed-in page: the left navigation (only what the user's role
// may open), the top bar with the language and theme switches and the user menu.
import { html, useState, useEffect, useRef } from "./lib/html.js";
import { t, locale, setLocale, LOCALES } from "./lib/i18n.js";
import { effectiveTheme, toggleTheme } from "./lib/theme.js";
import { signOut, leaveWorkspace } from "./lib/session.js";
import { navigate, here } from "./lib/router.js";
import { useStore } from "./lib/store.js";
import { routes, allowed, home, isAdmin, resolve } from "./routes.js";
import { Icon } from "./components/icons.js";
import { AnnouncementBanner } from "./components/content.js";
import { notices, followNotifications } from "./lib/notifications.js";

// The navigation's headed sections, in order: the admin's three (the business, serving tenants,
// running the platform), then the auditor's desk. Entries without a section come first, unheaded.
const SECTIONS = ["business", "service", "operations", "audit"];

/// The admins' bell: a link to their notifications, with the unread count, live.
function Bell({ user }) {
  const { unread } = useStore(notices);
  useEffect(() => followNotifications(), [user.id]);
  const label = !unread
    ? t("notifications.bell")
    : t(unread === 1 ? "notifications.bell_unread_one" : "notifications.bell_unread", { n: unread });
  return html`<a href="/admin/notifications" class="button icon-button bell" id="notifications-bell"
    aria-label=${label} title=${label}>
    <${Icon} name="bell" />
    ${unread > 0 && html`<span class="bell-count" aria-hidden="true">${unread > 99 ? "99+" : unread}</span>`}
  </a>`;
}

export function Shell({ user, route, children }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const where = useStore(here);
  const userMenu = useRef(null);
  useEffect(() => {
    setMenuOpen(false);
    if (userMenu.current) userMenu.current.open = false;
  }, [where.path]);
  // The user menu closes on a click elsewhere or Escape, as menus do.
  useEffect(() => {
    const close = (event) => {
      const menu = userMenu.current;
      if (!menu || !menu.open) return;
      if (event.type === "keydown" ? event.key === "Escape" : !menu.contains(event.target)) {
        menu.open = false;
        if (event.type === "keydown") menu.querySelector("summary").focus();
      }
    };
    document.addEventListener("click", close);
    document.addEventListener("keydown", close);
    return () => {
      document.removeEventListener("click", close);
      document.removeEventListener("keydown", close);
    };
  }, []);
  const visible = routes.filter((r) => r.nav && allowed(r, user));
  const items = visible.filter((r) => !r.nav.section);
  const sections = SECTIONS.map((name) => ({ name, items: visible.filter((r) => r.nav.section === name) }))
    .filter((s) => s.items.length > 0);
  const current = (r) =>
    route &&
    (route === r || route.parent === r.path || (r.path === "/" && route.path === "/conversations/:id"));
  const link = (r) => html`<li>
    <a href=${r.path} aria-current=${current(r) ? "page" : undefined}>
      <${Icon} name=${r.nav.icon} /><span>${t(r.nav.label)}</span>
    </a>
  </li>`;

  const dark = effectiveTheme() === "dark";
  async function leave() {
    await signOut();
    navigate("/login", { replace: true });
  }

  return html`<div class=${"shell" + (menuOpen ? " menu-open" : "")}>
    <a class="skip" href="#main">${t("shell.skip")}</a>
    <header class="topbar">
      <button
        type="button"
        class="icon-button menu-toggle"
        aria-expanded=${menuOpen}
        aria-controls="main-nav"
        onClick=${() => setMenuOpen(!menuOpen)}
      >
        <${Icon} name="menu" /><span class="sr-only">${t("shell.menu")}</span>
      </button>
      <a class="brand" href=${home(user)}><img src="/assets/favicon.svg" alt="" width="28" height="28" /><span>atende</span></a>
      <div class="topbar-tools">
        <label class="sr-only" for="locale-select">${t("shell.language")}</label>
        <select
          id="locale-select"
          class="locale-select"
          value=${locale.get()}
          onChange=${(e) => setLocale(e.currentTarget.value)}
        >
          ${LOCALES.map((l) => html`<option value=${l.tag} lang=${l.tag}>${l.name}</option>`)}
        </select>
        ${isAdmin(user) && html`<${Bell} user=${user} />`}
        <button
          type="button"
          class="icon-button"
          id="theme-toggle"
          aria-label=${dark ? t("shell.theme_light") : t("shell.theme_dark")}
          title=${dark ? t("shell.theme_light") : t("shell.theme_dark")}
          onClick=${toggleTheme}
        >
          <${Icon} name=${dark ? "sun" : "moon"} />
        </button>
        <details class="user-menu" ref=${userMenu}>
          <summary>
            <span class="avatar" aria-hidden="true">${(user.email || "?")[0].toUpperCase()}</span>
            <span class="sr-only">${t("shell.user_menu")}: </span>
            <span class="user-email">${user.email}</span>
            <span class="sr-only">${t("shell.user_menu")}</span>
          </summary>
          <div class="user-menu-panel">
            <p class="user-who">
              <strong>${user.email}</strong>
              <span class="muted">${t("role." + user.role)}</span>
            </p>
            ${allowed(resolve("/profile").route, user) && html`<a href="/profile">${t("nav.profile")}</a>`}
            <button type="button" class="link-button" id="sign-out" onClick=${leave}>
              <${Icon} name="logout" /> ${t("shell.sign_out")}
            </button>
          </div>
        </details>
      </div>
    </header>
    <nav id="main-nav" class="sidenav" aria-label=${t("shell.navigation")}>
      ${items.length > 0 && html`<ul>${items.map(link)}</ul>`}
      ${sections.map(
        (s) => html`<h2 class="nav-section" id=${"nav-" + s.name}>${t("nav.section." + s.name)}</h2>
          <ul aria-labelledby=${"nav-" + s.name}>${s.items.map(link)}</ul>`,
      )}
    </nav>
    <div class="content">
      ${user.workspace &&
      html`<div class="workspace-bar" role="region" aria-label=${t("workspace.title")}>
        <span>${t("workspace.inside")}</span>
        <button type="button" id="leave-workspace"
          onClick=${() => { leaveWorkspace(); navigate("/admin/support"); }}>${t("workspace.leave")}</button>
      </div>`}
      ${(user.role === "owner" || user.role === "agent") && html`<${AnnouncementBanner} />`}
      ${children}
    </div>
  </div>`;
}

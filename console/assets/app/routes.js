// Every page of the console, in one table. To add a page: write `pages/<name>.js`
// exporting a default component `({params, query, user}) => html`, add its entry here (and
// its nav entry, if it has one), and its strings to both catalogues (i18n/pt-BR.js, en.js).
//
// access: "public" (no sign-in; no shell), "tenant" (owners and agents), "owner" (owners
// only: hidden from agents' nav, and the page refuses them; the API refuses them too),
// "admin" (the platform's admins and super admins; auditors and tenants never see it),
// "auditor" (auditors, who see nothing else, and admins).
// nav: {label, icon, section?} puts it in the left navigation, in table order; a section
// (see SECTIONS in shell.js: the admin's "business", "service", "operations", and "audit") lists
// it under its own heading. parent: the nav entry a sub-page highlights.
import { pattern } from "./lib/router.js";

const inbox = () => import("./pages/inbox.js");
const usage = () => import("./pages/usage.js");
const pricing = () => import("./pages/pricing.js");
const support = () => import("./pages/support.js");
const adminSupport = () => import("./pages/admin-support.js");
const tutorials = () => import("./pages/tutorials.js");
const adminTenants = () => import("./pages/admin-tenants.js");
// The usage monitor (issue 18).
const adminUsage = () => import("./pages/admin-usage.js");

export const routes = [
  { path: "/login", access: "public", page: () => import("./pages/signin.js") },
  { path: "/forgot-password", access: "public", page: () => import("./pages/forgot.js") },
  { path: "/reset-password", access: "public", page: () => import("./pages/reset.js") },
  { path: "/set-password", access: "public", page: () => import("./pages/set-password.js") },

  { path: "/", access: "tenant", page: inbox, nav: { label: "nav.inbox", icon: "inbox" } },
  { path: "/conversations/:id", access: "tenant", page: inbox },
  { path: "/welcome", access: "owner", page: () => import("./pages/onboarding.js"), nav: { label: "nav.onboarding", icon: "flag" } },
  { path: "/knowledge", access: "owner", page: () => import("./pages/knowledge.js"), nav: { label: "nav.knowledge", icon: "book" } },
  { path: "/bot", access: "owner", page: () => import("./pages/bot.js"), nav: { label: "nav.bot", icon: "bot" } },
  { path: "/whatsapp", access: "owner", page: () => import("./pages/whatsapp.js"), nav: { label: "nav.whatsapp", icon: "phone" } },
  { path: "/team", access: "owner", page: () => import("./pages/team.js"), nav: { label: "nav.team", icon: "users" } },
  { path: "/insights", access: "owner", page: () => import("./pages/metrics.js"), nav: { label: "nav.metrics", icon: "chart" } },
  { path: "/usage", access: "owner", page: usage, nav: { label: "nav.usage", icon: "gauge" } },
  { path: "/billing", access: "owner", page: usage },
  { path: "/outbox", access: "owner", page: () => import("./pages/outbox.js"), nav: { label: "nav.outbox", icon: "send" } },
  { path: "/support", access: "tenant", page: support, nav: { label: "nav.support", icon: "help" } },
  { path: "/support/new", access: "tenant", page: support, parent: "/support" },
  { path: "/support/:id", access: "tenant", page: support, parent: "/support" },
  { path: "/tutorials", access: "tenant", page: tutorials, nav: { label: "nav.tutorials", icon: "play" } },
  { path: "/tutorials/:slug", access: "tenant", page: tutorials, parent: "/tutorials" },
  { path: "/announcements", access: "tenant", page: () => import("./pages/announcements.js"), nav: { label: "nav.announcements", icon: "bell" } },
  { path: "/profile", access: "tenant", page: () => import("./pages/profile.js"), nav: { label: "nav.profile", icon: "user" } },

  // Public pages of the shop: the plans (Stripe's "back" link returns to /plans) and the
  // page Stripe sends a buyer to after paying.
  { path: "/plans", access: "public", page: pricing },
  { path: "/pricing", access: "public", page: pricing },
  { path: "/checkout/success", access: "public", page: () => import("./pages/checkout-success.js") },

  // Admin cockpit: overview and tenants (issue 18).
  { path: "/admin/overview", access: "admin", page: () => import("./pages/admin-overview.js"),
    nav: { label: "nav.admin_overview", icon: "chart", section: "business" } },
  { path: "/admin/tenants", access: "admin", page: adminTenants,
    nav: { label: "nav.admin_tenants", icon: "users", section: "business" } },
  { path: "/admin/tenants/:id", access: "admin", page: adminTenants, parent: "/admin/tenants" },

  { path: "/admin/support", access: "admin", page: adminSupport,
    nav: { label: "nav.admin_support", icon: "help", section: "service" } },
  { path: "/admin/support/:id", access: "admin", page: adminSupport, parent: "/admin/support" },
  { path: "/admin/support-knowledge", access: "admin", page: () => import("./pages/admin-knowledge.js"),
    nav: { label: "nav.admin_knowledge", icon: "book", section: "service" } },
  { path: "/admin/support-categories", access: "admin", page: () => import("./pages/admin-categories.js"),
    nav: { label: "nav.admin_categories", icon: "tag", section: "service" } },
  { path: "/admin/tutorials", access: "admin", page: () => import("./pages/admin-tutorials.js"),
    nav: { label: "nav.admin_tutorials", icon: "play", section: "service" } },
  { path: "/admin/announcements", access: "admin", page: () => import("./pages/admin-announcements.js"),
    nav: { label: "nav.admin_announcements", icon: "bell", section: "service" } },
  { path: "/admin/workspace", access: "admin", page: () => import("./pages/admin-workspace.js"),
    nav: { label: "nav.admin_workspace", icon: "home", section: "service" } },
  // Platform users page (issue 18): first of the operations section.
  { path: "/admin/users", access: "admin", page: () => import("./pages/admin-users.js"),
    nav: { label: "nav.admin_users", icon: "users", section: "operations" } },
  // Admin cockpit, operations (issue 18): billing, security, system, privacy.
  { path: "/admin/subscriptions", access: "admin", page: () => import("./pages/admin-subscriptions.js"),
    nav: { label: "nav.admin_billing", icon: "card", section: "business" } },
  { path: "/admin/security", access: "admin", page: () => import("./pages/admin-security.js"),
    nav: { label: "nav.admin_security", icon: "shield", section: "operations" } },
  { path: "/admin/system", access: "admin", page: () => import("./pages/admin-system.js"),
    nav: { label: "nav.admin_system", icon: "server", section: "operations" } },
  { path: "/admin/privacy", access: "admin", page: () => import("./pages/admin-privacy.js"),
    nav: { label: "nav.admin_privacy", icon: "lock", section: "operations" } },
  // Plans managed by admins (issue 18).
  { path: "/admin/plans", access: "admin", page: () => import("./pages/admin-plans.js"),
    nav: { label: "nav.admin_plans", icon: "tag", section: "business" } },
  // The usage monitor (issue 18): top spenders, AI spend thresholds, a tenant's history.
  { path: "/admin/usage", access: "admin", page: adminUsage,
    nav: { label: "nav.admin_usage", icon: "gauge", section: "business" } },
  { path: "/admin/usage/:id", access: "admin", page: adminUsage, parent: "/admin/usage" },
  // Notifications (issue 18): reached from the bell in the top bar, not the navigation.
  { path: "/admin/notifications", access: "admin", page: () => import("./pages/admin-notifications.js") },

  // The auditor's desk (issue 18): the chain's verification (auditors land there), the event
  // log and the audit log. Read-only, like the auditor's role.
  { path: "/audit", access: "auditor", page: () => import("./pages/audit-chain.js"),
    nav: { label: "nav.audit_chain", icon: "checks", section: "audit" } },
  { path: "/audit/events", access: "auditor", page: () => import("./pages/audit-events.js"),
    nav: { label: "nav.audit_events", icon: "file", section: "audit" } },
  { path: "/audit/log", access: "auditor", page: () => import("./pages/audit-log.js"),
    nav: { label: "nav.audit_log", icon: "clock", section: "audit" } },
].map((r) => ({ ...r, match: pattern(r.path) }));

/// The route for `path` and its parameters, or null.
export function resolve(path) {
  for (const route of routes) {
    const params = route.match(path);
    if (params) return { route, params };
  }
  return null;
}

/// Whether `user` may open `route`.
export function allowed(route, user) {
  if (route.access === "public") return true;
  if (!user) return false;
  if (route.access === "owner") return user.role === "owner";
  if (route.access === "admin") return isAdmin(user);
  if (route.access === "auditor") return isAuditor(user) || isAdmin(user);
  return user.role === "owner" || user.role === "agent";
}

/// Whether `user` works for the platform (admin or super admin).
export function isAdmin(user) {
  return !!user && (user.role === "admin" || user.role === "super_admin");
}

/// Whether `user` audits the platform (read-only, no tenant).
export function isAuditor(user) {
  return !!user && user.role === "auditor";
}

/// Where `user` lands after signing in: the inbox for tenants, the overview for admins, the
/// chain's verification for auditors.
export function home(user) {
  if (isAuditor(user)) return "/audit";
  return isAdmin(user) ? "/admin/overview" : "/";
}

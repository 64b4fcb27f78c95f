// Every page of the console, in one table. To add a page: write `pages/<name>.js`
// exporting a default component `({params, query, user}) => html`, add its entry here (and
// its nav entry, if it has one), and its strings to both catalogues (i18n/pt-BR.js, en.js).
//
// access: "public" (no sign-in; no shell), "tenant" (owners and agents), "owner" (owners
// only: hidden from agents' nav, and the page refuses them; the API refuses them too).
// nav: {label, icon} puts it in the left navigation, in table order.
import { pattern } from "./lib/router.js";

const inbox = () => import("./pages/inbox.js");
const usage = () => import("./pages/usage.js");
const pricing = () => import("./pages/pricing.js");

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
  { path: "/metrics", access: "owner", page: () => import("./pages/metrics.js"), nav: { label: "nav.metrics", icon: "chart" } },
  { path: "/usage", access: "owner", page: usage, nav: { label: "nav.usage", icon: "gauge" } },
  { path: "/billing", access: "owner", page: usage },
  { path: "/outbox", access: "owner", page: () => import("./pages/outbox.js"), nav: { label: "nav.outbox", icon: "send" } },
  { path: "/profile", access: "tenant", page: () => import("./pages/profile.js"), nav: { label: "nav.profile", icon: "user" } },

  // Public pages of the shop: the plans (Stripe's "back" link returns to /plans) and the
  // page Stripe sends a buyer to after paying.
  { path: "/plans", access: "public", page: pricing },
  { path: "/pricing", access: "public", page: pricing },
  { path: "/checkout/success", access: "public", page: () => import("./pages/checkout-success.js") },
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
  return user.role === "owner" || user.role === "agent";
}

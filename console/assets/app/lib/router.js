// History routing: the server answers every console path with the same page, and this
// picks the view from `location`. Same-origin <a href> clicks are taken over, so pages
// just write plain links.
import { store } from "./store.js";

export const here = store(current());

function current() {
  return {
    path: location.pathname,
    query: new URLSearchParams(location.search),
  };
}

export function navigate(to, { replace = false } = {}) {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  here.set(current());
  window.scrollTo(0, 0);
}

addEventListener("popstate", () => here.set(current()));

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const a = event.target.closest && event.target.closest("a[href]");
  if (!a || a.target || a.hasAttribute("download")) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

/// Compiles "/conversations/:id" into a matcher returning `{id}` or null.
export function pattern(path) {
  const names = [];
  const re = new RegExp(
    "^" +
      path.replace(/:(\w+)/g, (_, n) => {
        names.push(n);
        return "([^/]+)";
      }) +
      "/?$",
  );
  return (pathname) => {
    const m = re.exec(pathname);
    if (!m) return null;
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
  };
}

// A list the API hands out page by page (`{items, next_cursor}`), for the admin tables.
import { useEffect, useRef, useState } from "./html.js";
import { api } from "./session.js";
import { errorMessage } from "../components/ui.js";

/// `{items, next, error, more(), reload()}` for `url`: `items` is null until the first page
/// arrives; `more` appends the next one; a new `url` starts over.
export function usePaged(url) {
  const [state, setState] = useState({ items: null, next: null, error: null });
  const wanted = useRef(url);
  wanted.current = url;
  async function load(cursor) {
    const base = url;
    const sep = base.includes("?") ? "&" : "?";
    try {
      const page = await api(base + (cursor ? sep + "cursor=" + encodeURIComponent(cursor) : ""));
      if (wanted.current !== base) return;
      setState((s) => ({
        items: cursor ? [...(s.items || []), ...page.items] : page.items,
        next: page.next_cursor || null,
        error: null,
      }));
    } catch (e) {
      setState((s) => ({ ...s, error: errorMessage(e) }));
    }
  }
  useEffect(() => {
    setState({ items: null, next: null, error: null });
    load(null);
  }, [url]);
  return { ...state, more: () => load(state.next), reload: () => load(null) };
}

/// `path` with the address's `query` changed by `changes` (empty values removed).
export function withQuery(path, query, changes) {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  return path + (s ? "?" + s : "");
}

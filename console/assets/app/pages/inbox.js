// The inbox (`/`) and an open conversation (`/conversations/:id`): the list of the
// tenant's conversations, newest-changed first, with filters, paging and live updates over
// the stream; the open one beside it (on phones, instead of it).
import { html, useEffect, useRef, useState, useCallback } from "../lib/html.js";
import { t, relativeTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { useStore } from "../lib/store.js";
import { subscribe, streamUp } from "../lib/stream.js";
import { StatusBadge, HandoffBadge, UnansweredBadge, contactName, ERASED } from "../components/badges.js";
import { Conversation } from "../components/conversation.js";

const STATUSES = ["ai_active", "awaiting_human", "human_replied", "resolved"];
const PAGE = 50;

function listUrl(filters, cursor) {
  const q = new URLSearchParams();
  if (filters.status) q.set("status", filters.status);
  if (filters.agent) q.set("agent", filters.agent);
  if (filters.q) q.set("q", filters.q);
  q.set("limit", String(PAGE));
  if (cursor) q.set("cursor", cursor);
  return "/api/v1/conversations?" + q;
}

function filtersOf(query, user) {
  const agent = query.get("agent") || "";
  return {
    status: query.get("status") || "",
    agent: agent === "me" ? user.id : agent,
    agentChoice: agent,
    q: query.get("q") || "",
  };
}

/// Keeps the filters in the address, so a filtered inbox can be bookmarked or shared.
function withFilters(path, changes, query) {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  return path + (s ? "?" + s : "");
}

export default function Inbox({ params, query, user }) {
  const openId = params.id || null;
  const filters = filtersOf(query, user);
  const key = [filters.status, filters.agent, filters.q].join("|");
  const [items, setItems] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [version, setVersion] = useState(0);
  const [users, setUsers] = useState([]);
  const up = useStore(streamUp);
  const openRef = useRef(openId);
  openRef.current = openId;
  const keyRef = useRef(key);
  keyRef.current = key;
  const reloadTimer = useRef(null);
  // Relative times ("há 5 min") move on without a reload.
  const [, tick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 30000);
    return () => clearInterval(timer);
  }, []);

  const loadFirst = useCallback(async () => {
    const wanted = keyRef.current;
    try {
      const page = await api(listUrl(filters));
      if (wanted !== keyRef.current) return;
      setError(null);
      setItems((old) => {
        // Keep the pages already loaded below the first, minus what moved into it.
        if (!old) return page.items;
        const fresh = new Set(page.items.map((c) => c.id));
        const last = page.items.length ? page.items[page.items.length - 1].updated_at : null;
        const rest = page.next_cursor
          ? old.filter((c) => !fresh.has(c.id) && last && c.updated_at < last)
          : [];
        return page.items.concat(rest);
      });
      setNext((n) => (n === null || !page.next_cursor ? page.next_cursor : n));
    } catch (e) {
      setError(e.message);
    }
  }, [key]);

  useEffect(() => {
    setItems(null);
    setNext(null);
    loadFirst();
  }, [key]);

  useEffect(() => {
    if (user.role !== "owner") return;
    api("/api/v1/users").then(setUsers, () => setUsers([]));
  }, [user.id]);

  useEffect(() => {
    const soon = () => {
      clearTimeout(reloadTimer.current);
      reloadTimer.current = setTimeout(loadFirst, 120);
    };
    const stop = subscribe({
      onChange(change) {
        soon();
        if (change.conversation_id === openRef.current) setVersion((v) => v + 1);
      },
      onResync() {
        soon();
        setVersion((v) => v + 1);
      },
    });
    return () => {
      clearTimeout(reloadTimer.current);
      stop();
    };
  }, [loadFirst]);

  async function more() {
    setLoadingMore(true);
    try {
      const page = await api(listUrl(filters, next));
      setItems((old) => {
        const seen = new Set(old.map((c) => c.id));
        return old.concat(page.items.filter((c) => !seen.has(c.id)));
      });
      setNext(page.next_cursor || null);
    } catch (e) {
      setError(e.message);
    } finally {
      setLoadingMore(false);
    }
  }

  function search(event) {
    event.preventDefault();
    const q = String(new FormData(event.currentTarget).get("q") || "").trim();
    navigate(withFilters(location.pathname, { q }, query));
  }

  const agentName = (id) => {
    if (!id) return null;
    if (id === user.id) return t("conversation.me");
    const u = users.find((x) => x.id === id);
    return u ? u.email : t("conversation.someone");
  };

  return html`<main id="main" class=${"inbox" + (openId ? " has-open" : "")}>
    <section class="inbox-list" aria-labelledby="inbox-title">
      <div class="inbox-head">
        <div class="inbox-title">
          <h1 id="inbox-title">${t("inbox.title")}</h1>
          <span class=${"live" + (up ? "" : " off")} role="status">${up ? t("inbox.live") : t("inbox.offline")}</span>
        </div>
        <form class="filters" role="search" onSubmit=${search} aria-label=${t("inbox.filters")}>
          <div class="field">
            <label class="sr-only" for="filter-status">${t("inbox.status")}</label>
            <select id="filter-status" value=${filters.status}
              onChange=${(e) => navigate(withFilters(location.pathname, { status: e.currentTarget.value }, query))}>
              <option value="">${t("inbox.status")}: ${t("inbox.status_all")}</option>
              ${STATUSES.map((s) => html`<option value=${s}>${t("status." + s)}</option>`)}
            </select>
          </div>
          <div class="field">
            <label class="sr-only" for="filter-agent">${t("inbox.agent")}</label>
            <select id="filter-agent" value=${filters.agentChoice}
              onChange=${(e) => navigate(withFilters(location.pathname, { agent: e.currentTarget.value }, query))}>
              <option value="">${t("inbox.agent")}: ${t("inbox.agent_all")}</option>
              <option value="me">${t("inbox.agent_me")}</option>
              <option value="none">${t("inbox.agent_none")}</option>
              ${users.filter((u) => u.id !== user.id && !u.disabled_at).map((u) => html`<option value=${u.id}>${u.email}</option>`)}
            </select>
          </div>
          <div class="search">
            <label class="sr-only" for="filter-q">${t("inbox.search")}</label>
            <input id="filter-q" name="q" type="search" placeholder=${t("inbox.search")} value=${filters.q} />
            <button type="submit">${t("inbox.search_button")}</button>
          </div>
        </form>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${items === null
        ? html`<p class="empty" role="status">${t("common.loading")}</p>`
        : items.length === 0
          ? html`<p class="empty">${t("inbox.empty")}</p>`
          : html`<ul class="conv-list" aria-label=${t("inbox.list_label")} id="conversation-list">
              ${items.map((c) => html`<${Row} key=${c.id} c=${c} open=${c.id === openId} query=${query} />`)}
            </ul>`}
      ${next && html`<div class="list-foot"><button type="button" onClick=${more} disabled=${loadingMore}>${t("inbox.more")}</button></div>`}
    </section>
    <section class="pane" aria-label=${t("conversation.messages")}>
      ${openId
        ? html`<${Conversation} key=${openId} id=${openId} user=${user} users=${users}
            version=${version} agentName=${agentName} backTo=${withFilters("/", {}, query)}
            onChanged=${loadFirst} />`
        : html`<p class="pane-empty">${t("inbox.pick")}</p>`}
    </section>
  </main>`;
}

function Row({ c, open, query }) {
  const last = c.last_message;
  let preview = t("inbox.no_messages");
  if (last) {
    const text = last.preview === ERASED ? t("message.erased") : last.preview || "…";
    preview = (last.direction === "outbound" ? t("inbox.you") : "") + text;
  }
  const name = contactName(c.contact);
  const handedOff = c.status === "awaiting_human" || c.status === "human_replied";
  return html`<li>
    <a class="conv-item" href=${withFilters("/conversations/" + c.id, {}, query)}
      aria-current=${open ? "page" : undefined} data-conversation=${c.id}>
      <span class="avatar" aria-hidden="true">${name === ERASED ? "?" : name[0].toUpperCase()}</span>
      <span class="conv-name">${name === ERASED ? t("message.erased") : name}</span>
      <span class="conv-badges">
        <time class="conv-time" datetime=${c.updated_at}>${relativeTime(c.updated_at)}</time>
        <${UnansweredBadge} n=${c.unanswered_count} />
      </span>
      <span class="conv-preview">${preview}</span>
      <span class="conv-meta">
        <${StatusBadge} status=${c.status} />
        ${handedOff && html`<${HandoffBadge} />`}
      </span>
    </a>
  </li>`;
}

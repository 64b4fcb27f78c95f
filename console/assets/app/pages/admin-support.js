// The support queue (`/admin/support`, `/admin/support/:id`), for admins: every tenant's
// tickets, oldest waiting first, filtered by status, waiting-for-a-person, category,
// priority, tenant and assignee (kept in the address); an open ticket beside the queue with
// "assign to me", status moves, replies to the tenant and internal notes (which the tenant
// never sees). The queue refreshes itself every few seconds.
import { html, useEffect, useRef, useState, useCallback } from "../lib/html.js";
import { t, relativeTime, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { Icon } from "../components/icons.js";
import { Thread, TicketStatusBadge, PriorityBadge } from "../components/ticket-thread.js";
import { UnreadBadge } from "./support.js";

const STATUSES = ["open", "in_progress", "resolved", "closed"];
const PRIORITIES = ["low", "normal", "high", "urgent"];
const REFRESH_MS = 5000;

function withFilters(path, changes, query) {
  const q = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  return path + (s ? "?" + s : "");
}

function queueUrl(query, user) {
  const q = new URLSearchParams();
  for (const k of ["status", "awaiting_admin", "category", "priority", "tenant_id"]) {
    if (query.get(k)) q.set(k, query.get(k));
  }
  const assignee = query.get("assignee");
  if (assignee) q.set("assignee", assignee === "me" ? user.id : assignee);
  const s = q.toString();
  return "/api/v1/admin/tickets" + (s ? "?" + s : "");
}

export default function AdminSupport({ params, query, user }) {
  const openId = params.id || null;
  const url = queueUrl(query, user);
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [categories, setCategories] = useState([]);
  const [tenants, setTenants] = useState([]);
  const [version, setVersion] = useState(0);
  const urlRef = useRef(url);
  urlRef.current = url;

  const load = useCallback(async () => {
    const wanted = urlRef.current;
    try {
      const page = await api(wanted);
      if (wanted !== urlRef.current) return;
      setItems(page.items);
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }, []);

  useEffect(() => {
    setItems(null);
    load();
  }, [url]);

  useEffect(() => {
    api("/api/v1/tickets/categories").then((c) => setCategories(c.items), () => setCategories([]));
    api("/api/v1/admin/tenants?limit=200").then((p) => setTenants(p.items), () => setTenants([]));
    // No stream for admins yet: the queue and the open ticket catch up on their own.
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") {
        load();
        setVersion((v) => v + 1);
      }
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  const tenantName = (id) => {
    const x = tenants.find((e) => e.tenant_id === id);
    return x ? x.name : id.slice(0, 8);
  };
  const label = (key) => {
    const c = categories.find((x) => x.key === key);
    return c ? c.label : key;
  };
  const adminName = (id) => (id === user.id ? t("conversation.me") : t("admin_support.someone"));
  const set = (k) => (e) => navigate(withFilters(location.pathname, { [k]: e.currentTarget.value }, query));
  const filter = (id, key, allLabel, options) => html`<div class="field">
    <label class="sr-only" for=${id}>${t(key)}</label>
    <select id=${id} value=${query.get(id.replace("q-", "")) || ""} onChange=${set(id.replace("q-", ""))}>
      <option value="">${t(key)}: ${allLabel}</option>
      ${options}
    </select>
  </div>`;

  return html`<main id="main" class=${"inbox admin-support" + (openId ? " has-open" : "")}>
    <section class="inbox-list" aria-labelledby="queue-title">
      <div class="inbox-head">
        <div class="inbox-title">
          <h1 id="queue-title">${t("admin_support.title")}</h1>
          <span class="muted small">${items ? t("admin_support.count", { n: items.length }) : ""}</span>
        </div>
        <form class="filters" aria-label=${t("inbox.filters")} onSubmit=${(e) => e.preventDefault()}>
          ${filter("q-status", "admin_support.status", t("inbox.status_all"),
            STATUSES.map((s) => html`<option value=${s}>${t("ticket_status." + s)}</option>`))}
          ${filter("q-awaiting_admin", "admin_support.waiting", t("admin_support.all_m"), html`
            <option value="true">${t("admin_support.waiting_yes")}</option>
            <option value="false">${t("admin_support.waiting_no")}</option>`)}
          ${filter("q-category", "support.category", t("inbox.status_all"),
            categories.map((c) => html`<option value=${c.key}>${c.label}</option>`))}
          ${filter("q-priority", "support.priority", t("inbox.status_all"),
            PRIORITIES.map((p) => html`<option value=${p}>${t("priority." + p)}</option>`))}
          ${filter("q-tenant_id", "admin_support.tenant", t("admin_support.all_m"),
            tenants.map((x) => html`<option value=${x.tenant_id}>${x.name}</option>`))}
          ${filter("q-assignee", "admin_support.assignee", t("inbox.agent_all"), html`
            <option value="me">${t("inbox.agent_me")}</option>`)}
        </form>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${items === null
        ? html`<p class="empty" role="status">${t("common.loading")}</p>`
        : items.length === 0
          ? html`<p class="empty">${t("admin_support.empty")}</p>`
          : html`<ul class="conv-list" aria-label=${t("admin_support.list_label")} id="queue">
              ${items.map((k) => html`<${QueueRow} key=${k.id} k=${k} open=${k.id === openId}
                query=${query} tenant=${tenantName(k.tenant_id)} category=${label(k.category)} />`)}
            </ul>`}
    </section>
    <section class="pane" aria-label=${t("support.pane")}>
      ${openId
        ? html`<${AdminTicket} key=${openId} id=${openId} user=${user} version=${version}
            tenantName=${tenantName} category=${label} adminName=${adminName}
            backTo=${withFilters("/admin/support", {}, query)} onChanged=${load} />`
        : html`<p class="pane-empty">${t("admin_support.pick")}</p>`}
    </section>
  </main>`;
}

function QueueRow({ k, open, query, tenant, category }) {
  return html`<li>
    <a class="conv-item ticket-item" href=${withFilters("/admin/support/" + k.id, {}, query)}
      aria-current=${open ? "page" : undefined} data-ticket=${k.id}>
      <span class="conv-name">${k.subject}</span>
      <span class="conv-badges">
        ${k.waiting_since
          ? html`<time class="conv-time waiting" datetime=${k.waiting_since} title=${dateTime(k.waiting_since)}>
              ${t("admin_support.waiting_since", { when: relativeTime(k.waiting_since) })}</time>`
          : html`<time class="conv-time" datetime=${k.updated_at}>${relativeTime(k.updated_at)}</time>`}
        <${UnreadBadge} n=${k.unread} />
      </span>
      <span class="conv-preview">${tenant} · ${category}</span>
      <span class="conv-meta">
        <${TicketStatusBadge} status=${k.status} />
        <${PriorityBadge} priority=${k.priority} />
        ${k.awaiting_admin && html`<span class="badge handoff">${t("admin_support.needs_person")}</span>`}
      </span>
    </a>
  </li>`;
}

function AdminTicket({ id, user, version, tenantName, category, adminName, backTo, onChanged }) {
  const [k, setK] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [internal, setInternal] = useState(false);

  async function refresh() {
    try {
      setK(await api("/api/v1/admin/tickets/" + id));
      setError(null);
    } catch (e) {
      setError(e.status === 404 ? t("support.not_found") : e.message);
    }
  }
  useEffect(() => {
    refresh();
  }, [id, version]);

  async function act(path, body, done) {
    setBusy(true);
    setNotice(null);
    try {
      await api(`/api/v1/admin/tickets/${id}/${path}`, { method: "POST", body });
      setNotice({ ok: true, text: done });
      await refresh();
      onChanged();
      return true;
    } catch (e) {
      setNotice({ ok: false, text: e.message });
      return false;
    } finally {
      setBusy(false);
    }
  }

  async function reply(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const text = String(new FormData(form).get("text") || "").trim();
    if (!text) return;
    const done = internal ? t("admin_support.note_saved") : t("conversation.reply_sent");
    if (await act("messages", { text, internal }, done)) form.reset();
  }

  function move(event) {
    event.preventDefault();
    const status = String(new FormData(event.currentTarget).get("status") || "");
    if (status) act("status", { status }, t("admin_support.status_changed"));
  }

  if (error) {
    return html`<div class="page"><p class="error" role="alert">${error}</p>
      <p><a href=${backTo}>${t("support.back")}</a></p></div>`;
  }
  if (!k) return html`<p class="pane-empty" role="status">${t("common.loading")}</p>`;
  const s = k.ticket;
  return html`
    <header class="conv-head">
      <div class="conv-title">
        <a class="button icon-button back" href=${backTo}>
          <${Icon} name="back" /><span class="sr-only">${t("support.back")}</span>
        </a>
        <h2 id="ticket-title">${s.subject}</h2>
        <${TicketStatusBadge} status=${s.status} />
        <${PriorityBadge} priority=${s.priority} />
        ${s.awaiting_admin && html`<span class="badge handoff">${t("admin_support.needs_person")}</span>`}
      </div>
      <p class="conv-sub">
        <span>${tenantName(s.tenant_id)}</span>
        <span>${category(s.category)}</span>
        <span id="ticket-assignee">${s.assigned_admin
          ? t("conversation.assigned_to", { who: adminName(s.assigned_admin) })
          : t("conversation.unassigned")}</span>
        <span>${t("support.opened", { when: dateTime(s.opened_at) })}</span>
      </p>
      <div class="actions" role="group" aria-label=${t("support.actions")}>
        ${s.assigned_admin !== user.id &&
        html`<button type="button" id="assign-me" disabled=${busy}
          onClick=${() => act("assign", {}, t("conversation.assigned"))}>${t("conversation.assign_me")}</button>`}
        <form class="assign" onSubmit=${move}>
          <label class="sr-only" for="ticket-status">${t("admin_support.status")}</label>
          <select id="ticket-status" name="status" value=${s.status}>
            ${STATUSES.map((x) => html`<option value=${x}>${t("ticket_status." + x)}</option>`)}
          </select>
          <button type="submit" disabled=${busy}>${t("admin_support.change_status")}</button>
        </form>
      </div>
      ${notice &&
      html`<p class=${"toast " + (notice.ok ? "success" : "error")} role=${notice.ok ? "status" : "alert"}>${notice.text}</p>`}
    </header>
    <${Thread} messages=${k.messages} side="admin" authorName=${adminName} />
    <form class=${"reply" + (internal ? " note-mode" : "")} onSubmit=${reply}>
      <fieldset class="reply-kind">
        <legend class="sr-only">${t("admin_support.kind")}</legend>
        <label><input type="radio" name="kind" value="public" checked=${!internal}
          onChange=${() => setInternal(false)} />${t("admin_support.kind_public")}</label>
        <label><input type="radio" name="kind" value="internal" id="kind-internal" checked=${internal}
          onChange=${() => setInternal(true)} />${t("admin_support.kind_internal")}</label>
      </fieldset>
      <label for="admin-reply" class="label">${internal ? t("admin_support.note_label") : t("admin_support.reply_label")}</label>
      <div class="reply-row">
        <textarea id="admin-reply" name="text" maxlength="10000" required
          aria-describedby="admin-reply-note"
          placeholder=${internal ? t("admin_support.note_placeholder") : t("support.reply_placeholder")}
          onKeyDown=${(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) e.currentTarget.form.requestSubmit();
          }}></textarea>
        <button type="submit" class="primary" disabled=${busy}>
          <${Icon} name="send" />${internal ? t("admin_support.save_note") : t("conversation.reply_send")}
        </button>
      </div>
      <p class="hint" id="admin-reply-note">${internal ? t("admin_support.note_hint") : t("admin_support.reply_hint")}</p>
    </form>
  `;
}

// Support (`/support`, `/support/new`, `/support/:id`): the tenant's tickets to the atende
// team, newest-changed first with unread counts; opening one (subject, category, priority,
// the first message, up to 5 files); and a ticket's thread, live over the stream: the
// support AI's and the team's answers appear without a reload.
import { html, useEffect, useRef, useState, useCallback } from "../lib/html.js";
import { t, relativeTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { navigate } from "../lib/router.js";
import { useStore } from "../lib/store.js";
import { subscribe, streamUp } from "../lib/stream.js";
import { postForm } from "../lib/files.js";
import { Icon } from "../components/icons.js";
import { UnansweredBadge } from "../components/badges.js";
import { Thread, TicketStatusBadge, PriorityBadge, FilePicker, sendError } from "../components/ticket-thread.js";

const PRIORITIES = ["low", "normal", "high", "urgent"];

export default function Support({ params, user }) {
  const creating = location.pathname === "/support/new";
  const openId = creating ? null : params.id || null;
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [categories, setCategories] = useState([]);
  const [version, setVersion] = useState(0);
  const up = useStore(streamUp);
  const openRef = useRef(openId);
  openRef.current = openId;
  const timer = useRef(null);

  const load = useCallback(async () => {
    try {
      const page = await api("/api/v1/tickets");
      setItems(page.items);
      setError(null);
    } catch (e) {
      setError(e.message);
    }
  }, []);

  useEffect(() => {
    load();
    api("/api/v1/tickets/categories").then((c) => setCategories(c.items), () => setCategories([]));
  }, []);

  useEffect(() => {
    const soon = () => {
      clearTimeout(timer.current);
      timer.current = setTimeout(load, 120);
    };
    const stop = subscribe({
      onChange() {},
      onTicket(change) {
        soon();
        if (change.ticket_id === openRef.current) setVersion((v) => v + 1);
      },
      onResync() {
        soon();
        setVersion((v) => v + 1);
      },
    });
    return () => {
      clearTimeout(timer.current);
      stop();
    };
  }, [load]);

  const label = (key) => {
    const c = categories.find((x) => x.key === key);
    return c ? c.label : key;
  };

  return html`<main id="main" class=${"inbox support" + (openId || creating ? " has-open" : "")}>
    <section class="inbox-list" aria-labelledby="support-title">
      <div class="inbox-head">
        <div class="inbox-title">
          <h1 id="support-title">${t("support.title")}</h1>
          <span class=${"live" + (up ? "" : " off")} role="status">${up ? t("inbox.live") : t("inbox.offline")}</span>
        </div>
        <p class="hint">${t("support.lead")}</p>
        <a class="button primary" href="/support/new" id="new-ticket">${t("support.new")}</a>
      </div>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      ${items === null
        ? html`<p class="empty" role="status">${t("common.loading")}</p>`
        : items.length === 0
          ? html`<p class="empty">${t("support.empty")}</p>`
          : html`<ul class="conv-list" aria-label=${t("support.list_label")} id="ticket-list">
              ${items.map((k) => html`<${Row} key=${k.id} k=${k} open=${k.id === openId} category=${label(k.category)} />`)}
            </ul>`}
    </section>
    <section class="pane" aria-label=${t("support.pane")}>
      ${creating
        ? html`<${NewTicket} categories=${categories} onOpened=${(id) => { load(); navigate("/support/" + id); }} />`
        : openId
          ? html`<${TenantTicket} key=${openId} id=${openId} version=${version} category=${label}
              onChanged=${load} />`
          : html`<p class="pane-empty">${t("support.pick")}</p>`}
    </section>
  </main>`;
}

function Row({ k, open, category }) {
  return html`<li>
    <a class="conv-item ticket-item" href=${"/support/" + k.id} aria-current=${open ? "page" : undefined} data-ticket=${k.id}>
      <span class="conv-name">${k.subject}</span>
      <span class="conv-badges">
        <time class="conv-time" datetime=${k.updated_at}>${relativeTime(k.updated_at)}</time>
        <${UnreadBadge} n=${k.unread} />
      </span>
      <span class="conv-meta">
        <${TicketStatusBadge} status=${k.status} />
        <${PriorityBadge} priority=${k.priority} />
        <span class="muted small">${category}</span>
      </span>
    </a>
  </li>`;
}

export function UnreadBadge({ n }) {
  if (!n) return null;
  return html`<span class="badge count" title=${t("support.unread", { n })}>
    <span aria-hidden="true">${n}</span><span class="sr-only">${t("support.unread", { n })}</span>
  </span>`;
}

function NewTicket({ categories, onOpened }) {
  const [files, setFiles] = useState([]);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    form.delete("attachments");
    for (const f of files) form.append("attachments", f, f.name);
    setBusy(true);
    setProblem(null);
    try {
      const opened = await postForm("/api/v1/tickets", form);
      onOpened(opened.id);
    } catch (e) {
      setProblem(sendError(e));
    } finally {
      setBusy(false);
    }
  }
  return html`<div class="page ticket-new">
    <p><a class="button icon-button back" href="/support"><${Icon} name="back" /><span class="sr-only">${t("support.back")}</span></a></p>
    <h2 id="new-ticket-title">${t("support.new_title")}</h2>
    <p class="hint">${t("support.new_lead")}</p>
    <form class="stack card" onSubmit=${submit} aria-labelledby="new-ticket-title" id="new-ticket-form">
      <div class="field">
        <label for="ticket-subject">${t("support.subject")}</label>
        <input id="ticket-subject" name="subject" required maxlength="200" autocomplete="off" />
      </div>
      <div class="row two">
        <div class="field">
          <label for="ticket-category">${t("support.category")}</label>
          <select id="ticket-category" name="category" required>
            <option value="">${t("support.category_pick")}</option>
            ${categories.map((c) => html`<option value=${c.key}>${c.label}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="ticket-priority">${t("support.priority")}</label>
          <select id="ticket-priority" name="priority" value="normal">
            ${PRIORITIES.map((p) => html`<option value=${p}>${t("priority." + p)}</option>`)}
          </select>
        </div>
      </div>
      <div class="field">
        <label for="ticket-message">${t("support.message")}</label>
        <textarea id="ticket-message" name="message" required rows="6" maxlength="10000"
          placeholder=${t("support.message_placeholder")}></textarea>
      </div>
      <${FilePicker} id="ticket-files" files=${files}
        onChange=${(f, p) => { setFiles(f); setProblem(p ? t(p.key, p.vars) : null); }} />
      ${problem && html`<p class="error" role="alert" id="ticket-problem">${problem}</p>`}
      <div class="row">
        <button type="submit" class="primary" disabled=${busy}>${busy ? t("support.sending") : t("support.open")}</button>
        <a class="button" href="/support">${t("common.cancel")}</a>
      </div>
    </form>
  </div>`;
}

function TenantTicket({ id, version, category, onChanged }) {
  const [k, setK] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [files, setFiles] = useState([]);

  async function refresh() {
    try {
      setK(await api("/api/v1/tickets/" + id));
      setError(null);
    } catch (e) {
      setError(e.status === 404 ? t("support.not_found") : e.message);
    }
  }
  useEffect(() => {
    refresh().then(onChanged);
  }, [id, version]);

  async function act(path, done) {
    setBusy(true);
    setNotice(null);
    try {
      await api(`/api/v1/tickets/${id}/${path}`, { method: "POST", body: {} });
      setNotice({ ok: true, text: done });
      await refresh();
      onChanged();
    } catch (e) {
      setNotice({ ok: false, text: e.message });
    } finally {
      setBusy(false);
    }
  }

  async function reply(event) {
    event.preventDefault();
    const el = event.currentTarget;
    const form = new FormData(el);
    if (!String(form.get("text") || "").trim()) return;
    form.delete("attachments");
    for (const f of files) form.append("attachments", f, f.name);
    setBusy(true);
    setNotice(null);
    try {
      await postForm(`/api/v1/tickets/${id}/messages`, form);
      el.reset();
      setFiles([]);
      await refresh();
      onChanged();
    } catch (e) {
      setNotice({ ok: false, text: sendError(e) });
    } finally {
      setBusy(false);
    }
  }

  if (error) {
    return html`<div class="page"><p class="error" role="alert">${error}</p>
      <p><a href="/support">${t("support.back")}</a></p></div>`;
  }
  if (!k) return html`<p class="pane-empty" role="status">${t("common.loading")}</p>`;
  const s = k.ticket;
  const closed = s.status === "closed";
  return html`
    <header class="conv-head">
      <div class="conv-title">
        <a class="button icon-button back" href="/support">
          <${Icon} name="back" /><span class="sr-only">${t("support.back")}</span>
        </a>
        <h2 id="ticket-title">${s.subject}</h2>
        <${TicketStatusBadge} status=${s.status} />
        <${PriorityBadge} priority=${s.priority} />
      </div>
      <p class="conv-sub">
        <span>${category(s.category)}</span>
        <span>${t("support.opened", { when: relativeTime(s.opened_at) })}</span>
      </p>
      ${s.awaiting_admin && !closed &&
      html`<p class="notice info" id="awaiting-person"><${Icon} name="user" /><span>${t("support.awaiting_person")}</span></p>`}
      ${!closed &&
      html`<div class="actions" role="group" aria-label=${t("support.actions")}>
        ${!s.awaiting_admin &&
        html`<button type="button" id="ask-human" disabled=${busy}
          onClick=${() => act("human", t("support.human_asked"))}>
          <${Icon} name="user" />${t("support.ask_human")}
        </button>`}
        <button type="button" id="close-ticket" disabled=${busy}
          onClick=${() => act("close", t("support.closed"))}>
          ${t("support.close")}
        </button>
      </div>`}
      ${notice &&
      html`<p class=${"toast " + (notice.ok ? "success" : "error")} role=${notice.ok ? "status" : "alert"}>${notice.text}</p>`}
    </header>
    <${Thread} messages=${k.messages} side="tenant" />
    ${closed
      ? html`<p class="reply hint">${t("support.closed_note")}</p>`
      : html`<form class="reply" onSubmit=${reply}>
      <label for="ticket-reply" class="label">${t("support.reply_label")}</label>
      <div class="reply-row">
        <textarea id="ticket-reply" name="text" maxlength="10000" required
          placeholder=${t("support.reply_placeholder")}
          onKeyDown=${(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) e.currentTarget.form.requestSubmit();
          }}></textarea>
        <button type="submit" class="primary" disabled=${busy}>
          <${Icon} name="send" />${t("conversation.reply_send")}
        </button>
      </div>
      <${FilePicker} id="reply-files" files=${files}
        onChange=${(f, p) => { setFiles(f); setNotice(p ? { ok: false, text: t(p.key, p.vars) } : null); }} />
    </form>`}
  `;
}

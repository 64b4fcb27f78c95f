// One open conversation: who and where it stands (status, hand-off and why, assignee, the
// 24 h window), its messages with author and delivery state, and what a person can do:
// reply, assign, resolve, return to the AI.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { t, relativeTime, dateTime, duration } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { Icon } from "./icons.js";
import { StatusBadge, HandoffBadge, Tick, contactName, ERASED } from "./badges.js";

/// Loads the conversation and every page of its messages (oldest first).
async function load(id) {
  const first = await api(`/api/v1/conversations/${id}?limit=200`);
  let cursor = first.next_cursor;
  const messages = first.messages.slice();
  for (let pages = 0; cursor && pages < 20; pages++) {
    const page = await api(
      `/api/v1/conversations/${id}?limit=200&cursor=${encodeURIComponent(cursor)}`,
    );
    messages.push(...page.messages);
    cursor = page.next_cursor;
  }
  return { ...first, messages };
}

export function Conversation({ id, user, users, version, agentName, backTo, onChanged }) {
  const [c, setC] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(Date.now());
  const list = useRef(null);

  async function refresh() {
    try {
      setC(await load(id));
      setError(null);
    } catch (e) {
      setError(e.status === 404 ? t("conversation.not_found") : e.message);
    }
  }

  useEffect(() => {
    refresh();
  }, [id, version]);

  // The window's time left and relative times tick on their own.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30000);
    return () => clearInterval(timer);
  }, []);

  const count = c ? c.messages.length : 0;
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [count]);

  async function act(path, body, done) {
    setBusy(true);
    setNotice(null);
    try {
      await api(`/api/v1/conversations/${id}/${path}`, { method: "POST", body: body ?? {} });
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
    if (await act("reply", { text }, t("conversation.reply_sent"))) form.reset();
  }

  function assign(event) {
    event.preventDefault();
    const agent = String(new FormData(event.currentTarget).get("agent") || "");
    if (agent) act("assign", { agent_id: agent }, t("conversation.assigned"));
  }

  if (error) {
    return html`<div class="page"><p class="error" role="alert">${error}</p>
      <p><a href=${backTo}>${t("conversation.back")}</a></p></div>`;
  }
  if (!c) return html`<p class="pane-empty" role="status">${t("common.loading")}</p>`;

  const name = contactName(c.contact);
  const windowEnds = c.window_ends_at ? new Date(c.window_ends_at).getTime() : 0;
  const windowOpen = windowEnds > now;
  const withHuman = c.status === "awaiting_human" || c.status === "human_replied";
  const resolved = c.status === "resolved";
  const assignable = users.filter((u) => !u.disabled_at);

  return html`
    <header class="conv-head">
      <div class="conv-title">
        <a class="button icon-button back" href=${backTo}>
          <${Icon} name="back" /><span class="sr-only">${t("conversation.back")}</span>
        </a>
        <h2 id="conversation-title">${name === ERASED ? t("message.erased") : name}</h2>
        <${StatusBadge} status=${c.status} />
        ${c.handed_off_at && html`<${HandoffBadge} />`}
      </div>
      <p class="conv-sub">
        ${c.contact.name && c.contact.phone !== ERASED && html`<span>${c.contact.phone}</span>`}
        <span id="assignee">${c.assigned_agent
          ? t("conversation.assigned_to", { who: agentName(c.assigned_agent) })
          : t("conversation.unassigned")}</span>
        <span>${t("conversation.started", { when: dateTime(c.created_at) })}</span>
      </p>
      ${c.handed_off_at &&
      html`<p class="notice warn" id="handoff">
        <${Icon} name="alert" />
        <span>${t("handoff.since", {
          when: relativeTime(c.handed_off_at, now),
          reason: t("handoff." + (c.handoff_reason || "customer_asked")),
        })}</span>
      </p>`}
      ${!resolved &&
      html`<p class=${"notice " + (windowOpen ? "info" : "danger")} id="window">
        <${Icon} name="clock" />
        <span>${windowOpen
          ? t("conversation.window_open", { left: duration(windowEnds - now) })
          : t("conversation.window_closed")}</span>
      </p>`}
      <div class="actions" role="group" aria-label=${t("conversation.actions")}>
        ${user.role === "owner" && assignable.length > 0
          ? html`<form class="assign" onSubmit=${assign}>
              <label class="sr-only" for="assign-agent">${t("conversation.assign_label")}</label>
              <select id="assign-agent" name="agent" value=${c.assigned_agent || ""}>
                <option value="" disabled>${t("conversation.assign_label")}…</option>
                ${assignable.map((u) => html`<option value=${u.id}>${u.email}</option>`)}
              </select>
              <button type="submit" disabled=${busy}>${t("conversation.assign")}</button>
            </form>`
          : c.assigned_agent !== user.id &&
            html`<button type="button" disabled=${busy}
              onClick=${() => act("assign", { agent_id: user.id }, t("conversation.assigned"))}>
              ${t("conversation.assign_me")}
            </button>`}
        ${withHuman &&
        html`<button type="button" id="return-to-ai" disabled=${busy}
          onClick=${() => act("return-to-ai", {}, t("conversation.returned"))}>
          ${t("conversation.return_ai")}
        </button>`}
        ${!resolved &&
        html`<button type="button" id="resolve" disabled=${busy}
          onClick=${() => act("resolve", {}, t("conversation.resolved"))}>
          ${t("conversation.resolve")}
        </button>`}
      </div>
      ${notice &&
      html`<p class=${"toast " + (notice.ok ? "success" : "error")} role=${notice.ok ? "status" : "alert"}>
        ${notice.text}
      </p>`}
    </header>
    <ol class="messages" ref=${list} aria-labelledby="conversation-title" id="messages" tabindex="0">
      ${c.messages.map((m) => html`<${MessageItem} key=${m.sequence} m=${m} agentName=${agentName} />`)}
    </ol>
    ${!resolved &&
    html`<form class="reply" onSubmit=${reply}>
      <label for="reply-text" class="label">${t("conversation.reply_label")}</label>
      <div class="reply-row">
        <textarea id="reply-text" name="text" maxlength="4096" required
          placeholder=${t("conversation.reply_placeholder")}
          disabled=${!windowOpen}
          aria-describedby="reply-note"
          onKeyDown=${(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) e.currentTarget.form.requestSubmit();
          }}></textarea>
        <button type="submit" class="primary" disabled=${busy || !windowOpen}>
          <${Icon} name="send" />${t("conversation.reply_send")}
        </button>
      </div>
      <p class="hint" id="reply-note">
        ${windowOpen ? (c.status === "ai_active" ? t("conversation.reply_ai_note") : "") : t("conversation.window_closed")}
      </p>
    </form>`}
  `;
}

function MessageItem({ m, agentName }) {
  let author = t("author." + m.author);
  if (m.author === "agent" && m.agent_id) author += " · " + agentName(m.agent_id);
  if (m.author === "system" && m.purpose) author += " · " + t("purpose." + m.purpose);
  let body;
  if (m.body === ERASED) body = html`<p class="msg-body erased">${t("message.erased")}</p>`;
  else if (typeof m.body === "string") body = html`<p class="msg-body">${m.body}</p>`;
  else if (m.kind === "media") body = html`<p class="msg-body erased">${t("message.media", { type: m.media_type || "?" })}</p>`;
  else if (m.author === "system") body = html`<p class="msg-body erased">${t("message.system_text")}</p>`;
  else body = html`<p class="msg-body erased">…</p>`;
  const failed = m.delivery && m.delivery.status === "failed";
  return html`<li class=${`msg ${m.direction} ${m.author}`} data-sequence=${m.sequence}>
    <p class="msg-author">${author}</p>
    ${body}
    ${failed && html`<p class="msg-error" role="note">${t("delivery.failed_because", { error: m.delivery.error || "?" })}</p>`}
    <div class="msg-foot">
      <time datetime=${m.at} title=${dateTime(m.at)}>${relativeTime(m.at)}</time>
      ${m.direction === "outbound" && html`<${Tick} delivery=${m.delivery} />`}
    </div>
  </li>`;
}

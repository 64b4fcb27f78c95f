// A support ticket's thread, as a chat: the tenant's messages on one side, the support AI's
// (with the knowledge it answered from) and the support team's on the other; internal notes
// (admins only) stand apart. Files are download buttons: they need the bearer token.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { t, relativeTime, dateTime, locale } from "../lib/i18n.js";
import { download, size, checkFiles, MAX_FILES } from "../lib/files.js";
import { Icon } from "./icons.js";

export function TicketStatusBadge({ status }) {
  return html`<span class=${"badge ticket-" + status}>${t("ticket_status." + status)}</span>`;
}

export function PriorityBadge({ priority }) {
  if (priority === "normal") return null;
  return html`<span class=${"badge priority-" + priority}>${t("priority." + priority)}</span>`;
}

/// `side` is "tenant" or "admin": whose messages are "ours" (right-hand bubbles).
export function Thread({ messages, side, authorName }) {
  const list = useRef(null);
  const count = messages.length;
  useEffect(() => {
    if (list.current) list.current.scrollTop = list.current.scrollHeight;
  }, [count]);
  return html`<ol class="messages ticket-messages" ref=${list} id="ticket-messages"
    aria-labelledby="ticket-title" tabindex="0">
    ${messages.map((m) => html`<${Entry} key=${m.sequence} m=${m} side=${side} authorName=${authorName} />`)}
  </ol>`;
}

function Entry({ m, side, authorName }) {
  const ours = side === "tenant" ? m.author_kind === "tenant" : m.author_kind !== "tenant";
  let author = t("ticket_author." + m.author_kind + (side === "tenant" && m.author_kind === "tenant" ? "_me" : ""));
  if (side === "admin" && m.author_kind === "admin" && m.author_id && authorName) {
    author += " · " + authorName(m.author_id);
  }
  const cls = ["msg", ours ? "outbound" : "inbound", "t-" + m.author_kind, m.internal ? "internal" : ""].join(" ");
  return html`<li class=${cls} data-sequence=${m.sequence}>
    <p class="msg-author">
      ${m.author_kind === "ai" && html`<${Icon} name="bot" className="icon small" />`}
      ${author}
      ${m.internal && html`<span class="badge note-badge">${t("ticket.internal_badge")}</span>`}
    </p>
    <p class="msg-body">${m.text === "[erased]" ? t("message.erased") : m.text}</p>
    ${m.attachments.length > 0 && html`<${Files} files=${m.attachments} />`}
    ${m.author_kind === "ai" && m.sources && m.sources.length > 0 &&
    html`<details class="sources">
      <summary>${t("ticket.sources", { n: m.sources.length })}</summary>
      <ol>${m.sources.map((s) => html`<li>${s}</li>`)}</ol>
    </details>`}
    ${side === "admin" && m.confidence != null &&
    html`<p class="hint">${t("ticket.confidence", { p: Math.round(m.confidence * 100) })}</p>`}
    <div class="msg-foot">
      <time datetime=${m.at} title=${dateTime(m.at)}>${relativeTime(m.at)}</time>
    </div>
  </li>`;
}

function Files({ files }) {
  const [error, setError] = useState(null);
  async function get(f) {
    setError(null);
    try {
      await download(f.url, f.name);
    } catch (e) {
      setError(e.message);
    }
  }
  return html`<ul class="files" aria-label=${t("ticket.files")}>
    ${files.map(
      (f) => html`<li>
        <button type="button" class="file" onClick=${() => get(f)}>
          <${Icon} name=${f.content_type === "application/pdf" ? "file" : "image"} />
          <span class="file-name">${f.name}</span>
          <span class="muted">${size(f.size, locale.get())}</span>
          <span class="sr-only">${t("ticket.download")}</span>
        </button>
      </li>`,
    )}
    ${error && html`<li class="error" role="alert">${error}</li>`}
  </ul>`;
}

/// A file picker with the client-side checks; `onChange(files, problem)`.
export function FilePicker({ id, files, onChange }) {
  function picked(event) {
    const chosen = [...event.currentTarget.files];
    const all = files.concat(chosen);
    event.currentTarget.value = "";
    const problem = checkFiles(all);
    onChange(problem ? files : all, problem);
  }
  return html`<div class="file-picker">
    <input id=${id} class="sr-only file-input" type="file" multiple
      accept="image/png,image/jpeg,image/gif,image/webp,application/pdf"
      aria-describedby=${id + "-hint"} onChange=${picked} />
    <label class="button attach" for=${id}>
      <${Icon} name="clip" />${t("ticket.attach")}
    </label>
    <span class="hint" id=${id + "-hint"}>${t("ticket.attach_hint", { n: MAX_FILES })}</span>
    ${files.length > 0 &&
    html`<ul class="picked">
      ${files.map(
        (f, i) => html`<li>
          <span class="file-name">${f.name}</span>
          <span class="muted">${size(f.size, locale.get())}</span>
          <button type="button" class="icon-button" aria-label=${t("ticket.remove_file", { name: f.name })}
            onClick=${() => onChange(files.filter((_, j) => j !== i), null)}>×</button>
        </li>`,
      )}
    </ul>`}
  </div>`;
}

/// The localized explanation of an API failure on sending files, plus its own message.
export function sendError(e) {
  if (e.status === 413) return t("tickets.api_too_big") + (e.message && !e.message.startsWith("HTTP") ? " " + e.message : "");
  if (e.status === 415) return t("tickets.api_bad_type") + (e.message ? " " + e.message : "");
  return e.message;
}

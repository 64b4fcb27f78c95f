// The outbox (`/outbox`): the tenant's messages to customers, newest first — sent, waiting
// or failed and why, through which channel.
import { html, useState } from "../lib/html.js";
import { t, relativeTime, dateTime } from "../lib/i18n.js";
import { useApi, PageHead, Loading } from "../components/ui.js";
import { ERASED } from "../components/badges.js";

const STATUS_BADGE = { sent: "answer", pending: "awaiting_human", failed: "handoff" };

export default function Outbox() {
  const [limit, setLimit] = useState(50);
  const [failedOnly, setFailedOnly] = useState(false);
  const list = useApi("/api/v1/outbox?limit=" + limit);
  const items = list.data ? list.data.filter((m) => !failedOnly || m.status === "failed") : null;

  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("outbox.title")} lead=${t("outbox.lead")}>
      <button type="button" onClick=${list.reload} disabled=${list.loading}>${t("outbox.refresh")}</button>
    <//>
    <label class="check">
      <input type="checkbox" id="failed-only" checked=${failedOnly} onChange=${(e) => setFailedOnly(e.currentTarget.checked)} />
      ${t("outbox.failed_only")}
    </label>
    ${items
      ? items.length === 0
        ? html`<p class="empty card">${failedOnly ? t("outbox.no_failures") : t("outbox.empty")}</p>`
        : html`<ul class="outbox" id="outbox">
            ${items.map((m) => html`<${Item} key=${m.outbound_id} m=${m} />`)}
          </ul>`
      : html`<${Loading} error=${list.error} onRetry=${list.reload} />`}
    ${list.data && list.data.length === limit && limit < 200 &&
    html`<div class="list-foot"><button type="button" onClick=${() => setLimit(200)}>${t("inbox.more")}</button></div>`}
  </main>`;
}

function Item({ m }) {
  let text;
  if (m.text === ERASED) text = html`<p class="msg-body erased">${t("message.erased")}</p>`;
  else if (typeof m.text === "string") text = html`<p class="msg-body">${m.text}</p>`;
  else text = html`<p class="msg-body erased">${t("message.system_text")}</p>`;
  return html`<li class="card out-item">
    <div class="out-head">
      <span class=${"badge " + (STATUS_BADGE[m.status] || "resolved")}>${t("outbox.status." + m.status)}</span>
      <span class="out-purpose">${t("outbox.purpose." + m.purpose)}</span>
      <time class="muted small" datetime=${m.caused_at} title=${dateTime(m.caused_at)}>${relativeTime(m.caused_at)}</time>
    </div>
    ${text}
    ${m.last_error && html`<p class="msg-error">${t("outbox.error", { error: m.last_error })}</p>`}
    <p class="out-meta muted small">
      ${m.channel && html`<span>${t("outbox.channel." + m.channel)}</span>`}
      ${m.kind === "template" && html`<span>${t("outbox.template")}</span>`}
      ${m.attempts > 1 && html`<span>${t("outbox.attempts", { n: m.attempts })}</span>`}
      <a href=${"/conversations/" + m.conversation_id}>${t("outbox.open_conversation")}</a>
    </p>
  </li>`;
}

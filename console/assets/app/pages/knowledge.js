// The knowledge the AI answers from (`/knowledge`): one text, at most 50,000 characters,
// with a live count, the saved version and how far indexing has got; beside it, "try the
// bot" with a customer's question.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { t, relativeTime, dateTime } from "../lib/i18n.js";
import { count } from "../lib/format.js";
import { api } from "../lib/session.js";
import { useApi, PageHead, Loading, Notice, Bar, errorMessage } from "../components/ui.js";
import { TryBot } from "../components/try-bot.js";

export const MAX_CHARS = 50000;

/// Characters as the API counts them: Unicode scalar values, not UTF-16 units.
const chars = (s) => {
  let n = 0;
  for (const _ of s) n += 1;
  return n;
};

export default function Knowledge() {
  const doc = useApi("/api/v1/knowledge");
  return html`<main id="main" class="page">
    <${PageHead} title=${t("knowledge.title")} lead=${t("knowledge.lead")} />
    ${doc.data
      ? html`<div class="two-col">
          <${Editor} doc=${doc} />
          <section class="card" aria-labelledby="try-title">
            <h2 id="try-title">${t("try.title")}</h2>
            <p class="muted">${t("try.lead")}</p>
            <${TryBot} />
          </section>
        </div>`
      : html`<${Loading} error=${doc.error} onRetry=${doc.reload} />`}
  </main>`;
}

/// The knowledge editor; also the onboarding's second step.
export function Editor({ doc, onSaved }) {
  const saved = doc.data;
  const [text, setText] = useState(saved.text);
  const [base, setBase] = useState(saved.text);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const [waitingFor, setWaitingFor] = useState(null);
  const timer = useRef(null);
  const n = chars(text);
  const over = n > MAX_CHARS;
  const dirty = text !== base;

  // After a save, the index trails for a moment: look again until it has the version.
  useEffect(() => {
    if (waitingFor === null) return;
    const indexed = saved.index && saved.index.version >= waitingFor;
    if (indexed) {
      setWaitingFor(null);
      return;
    }
    // Only the index is taken from the read: the text and version just saved are newer
    // than what a lagging read model may still hold.
    timer.current = setTimeout(async () => {
      try {
        const fresh = await api("/api/v1/knowledge");
        doc.setData((d) => ({ ...d, index: fresh.index }));
      } catch {
        doc.setData((d) => ({ ...d }));
      }
    }, 1500);
    return () => clearTimeout(timer.current);
  }, [waitingFor, saved]);

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      const r = await api("/api/v1/knowledge", { method: "PUT", body: { text } });
      doc.setData((d) => ({ ...d, text, version: r.version, char_count: r.char_count, replaced_at: new Date().toISOString() }));
      setBase(text);
      setWaitingFor(r.version);
      setNotice({ ok: true, text: t("knowledge.saved", { v: r.version }) });
      if (onSaved) onSaved(r);
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  const index = saved.index;
  const indexing = saved.version > 0 && (!index || index.version < saved.version);
  return html`<section class="card" aria-labelledby="editor-title">
    <form class="stack" onSubmit=${save}>
      <div class="field">
        <div class="label-row">
          <label for="knowledge-text" id="editor-title" class="label">${t("knowledge.text_label")}</label>
          <span class=${"char-count" + (over ? " over" : "")} id="char-count" aria-live="polite">
            ${t("knowledge.count", { n: count(n), max: count(MAX_CHARS) })}
          </span>
        </div>
        <textarea id="knowledge-text" class="knowledge-text" name="text" value=${text}
          aria-describedby="knowledge-hint char-count" aria-invalid=${over}
          placeholder=${t("knowledge.placeholder")}
          onInput=${(e) => {
            setText(e.currentTarget.value);
            setNotice(null);
          }}></textarea>
        <${Bar} value=${n / MAX_CHARS} tone=${over ? "bad" : n / MAX_CHARS > 0.9 ? "warn" : "accent"}
          label=${t("knowledge.count", { n: count(n), max: count(MAX_CHARS) })} />
        <p class=${over ? "hint over" : "hint"} id="knowledge-hint">${over ? t("knowledge.too_long", { n: count(n - MAX_CHARS) }) : t("knowledge.hint")}</p>
      </div>
      <div class="row">
        <button type="submit" class="primary" id="save-knowledge" disabled=${busy || over || !dirty}>
          ${busy ? t("common.saving") : t("knowledge.save")}
        </button>
        ${dirty && html`<span class="muted">${t("knowledge.unsaved")}</span>`}
      </div>
      <${Notice} notice=${notice} />
    </form>
    <dl class="facts" id="knowledge-state">
      <div><dt>${t("knowledge.version")}</dt><dd>${saved.version || t("knowledge.none")}</dd></div>
      <div>
        <dt>${t("knowledge.updated")}</dt>
        <dd>${saved.replaced_at ? html`<time datetime=${saved.replaced_at} title=${dateTime(saved.replaced_at)}>${relativeTime(saved.replaced_at)}</time>` : "—"}</dd>
      </div>
      <div>
        <dt>${t("knowledge.index")}</dt>
        <dd id="index-state">
          ${saved.version === 0
            ? "—"
            : indexing
              ? html`<span class="badge awaiting_human">${t("knowledge.indexing")}</span>`
              : html`<span class="badge answer">${t("knowledge.indexed", { v: index.version, n: index.chunk_count })}</span>`}
        </dd>
      </div>
    </dl>
  </section>`;
}

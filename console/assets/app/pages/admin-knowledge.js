// The support knowledge (`/admin/support-knowledge`): the one text the support AI answers
// tickets from, replaced whole on save.
import { html, useEffect, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";

const MAX = 50000;

export default function SupportKnowledge() {
  const [k, setK] = useState(null);
  const [text, setText] = useState("");
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);

  async function load() {
    try {
      const got = await api("/api/v1/admin/support-knowledge");
      setK(got);
      setText(got.text);
    } catch (e) {
      setNotice({ ok: false, text: e.message });
    }
  }
  useEffect(() => {
    load();
  }, []);

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      await api("/api/v1/admin/support-knowledge", { method: "PUT", body: { text } });
      setNotice({ ok: true, text: t("support_knowledge.saved") });
      await load();
    } catch (e) {
      setNotice({ ok: false, text: e.message });
    } finally {
      setBusy(false);
    }
  }

  return html`<main id="main" class="page narrow wide-form">
    <h1>${t("support_knowledge.title")}</h1>
    <p class="muted">${t("support_knowledge.lead")}</p>
    ${k === null && !notice
      ? html`<p role="status">${t("common.loading")}</p>`
      : html`<form class="stack card" onSubmit=${save}>
          <div class="field">
            <label for="support-knowledge">${t("support_knowledge.label")}</label>
            <textarea id="support-knowledge" rows="18" maxlength=${MAX} value=${text}
              aria-describedby="support-knowledge-meta"
              onInput=${(e) => setText(e.currentTarget.value)}></textarea>
            <p class="hint" id="support-knowledge-meta">
              ${t("support_knowledge.count", { n: text.length.toLocaleString(), max: MAX.toLocaleString() })}
              ${k && k.replaced_at ? " · " + t("support_knowledge.meta", { version: k.version, when: dateTime(k.replaced_at), chunks: k.chunk_count }) : ""}
            </p>
          </div>
          ${notice && html`<p class=${notice.ok ? "success" : "error"} role=${notice.ok ? "status" : "alert"}>${notice.text}</p>`}
          <div class="row"><button type="submit" class="primary" disabled=${busy}>${t("common.save")}</button></div>
        </form>`}
  </main>`;
}

// "Try the bot": a customer's question, and what the AI would do with it now — its
// answer or a hand-off, the confidence against the tenant's threshold, and the passages of
// the knowledge it found. Nothing is recorded but that the owner tried (onboarding).
import { html, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { percent } from "../lib/format.js";
import { api } from "../lib/session.js";
import { Bar, errorMessage } from "./ui.js";

export function TryBot({ onTried, idPrefix = "try" }) {
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  async function ask(event) {
    event.preventDefault();
    const question = String(new FormData(event.currentTarget).get("question") || "").trim();
    if (!question) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await api("/api/v1/knowledge/ask", { method: "POST", body: { question } }));
      // Onboarding's "try the bot" step; a server without it changes nothing here.
      api("/api/v1/onboarding/bot-tried", { method: "POST", body: {} }).then(
        (progress) => onTried && onTried(progress),
        () => onTried && onTried(null),
      );
    } catch (e) {
      setResult(null);
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  const q = idPrefix + "-question";
  return html`<div class="try-bot">
    <form class="try-form" onSubmit=${ask}>
      <label for=${q} class="label">${t("try.label")}</label>
      <div class="reply-row">
        <input id=${q} name="question" type="text" maxlength="1000" required
          placeholder=${t("try.placeholder")} autocomplete="off" />
        <button type="submit" class="primary" disabled=${busy}>${busy ? t("try.asking") : t("try.ask")}</button>
      </div>
      <p class="hint">${t("try.hint")}</p>
    </form>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <div aria-live="polite">${result && html`<${Verdict} r=${result} idPrefix=${idPrefix} />`}</div>
  </div>`;
}

function Verdict({ r, idPrefix }) {
  const answers = r.decision === "answer";
  return html`<section class="verdict" id=${idPrefix + "-result"} aria-label=${t("try.result")}>
    <p class="verdict-head">
      <span class=${"badge " + (answers ? "answer" : "handoff")} id=${idPrefix + "-decision"}>
        ${answers ? t("try.answers") : t("try.hands_off")}
      </span>
      ${!answers && r.reason && html`<span class="muted">${t("try.reason." + r.reason)}</span>`}
    </p>
    ${answers && r.answer && html`<blockquote class="msg outbound ai bot-answer">
      <p class="msg-author">${t("author.ai")}</p>
      <p class="msg-body">${r.answer}</p>
    </blockquote>`}
    ${answers && !r.answer && html`<p class="muted">${t("try.model_answers")}</p>`}
    <div class="confidence">
      <p class="confidence-line">
        <span>${t("try.confidence")}: <strong>${percent(r.confidence)}</strong></span>
        <span class="muted">${t("try.threshold")}: ${percent(r.threshold)}</span>
      </p>
      <${Bar} value=${r.confidence} mark=${r.threshold}
        tone=${r.confidence >= r.threshold ? "good" : "bad"}
        label=${t("try.confidence_label", { c: percent(r.confidence), th: percent(r.threshold) })} />
      <p class="hint">${t("try.confidence_hint")}</p>
    </div>
    <h3>${t("try.passages")}</h3>
    ${r.passages.length === 0
      ? html`<p class="muted">${t("try.no_passages")}</p>`
      : html`<ol class="passages">
          ${r.passages.map(
            (p) => html`<li>
              <p class="passage-score">
                <span class="muted">${t("try.score")}</span> <strong>${percent(p.score)}</strong>
              </p>
              <p class="passage-text">${p.text}</p>
            </li>`,
          )}
        </ol>`}
  </section>`;
}

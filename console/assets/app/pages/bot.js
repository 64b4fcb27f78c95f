// How the bot talks and when it hands over (`/bot`): its tone, the confidence threshold,
// and the automatic messages it sends.
import { html, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { percent } from "../lib/format.js";
import { api } from "../lib/session.js";
import { useApi, PageHead, Loading, Notice, errorMessage } from "../components/ui.js";

const TONES = ["formal", "casual", "technical"];
const MESSAGES = ["greeting", "fallback_message", "waiting_message", "return_message"];

export default function Bot() {
  const settings = useApi("/api/v1/settings/bot");
  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("bot.title")} lead=${t("bot.lead")} />
    ${settings.data
      ? html`<${Form} initial=${settings.data} />`
      : html`<${Loading} error=${settings.error} onRetry=${settings.reload} />`}
  </main>`;
}

function Form({ initial }) {
  const [s, setS] = useState(initial);
  // Typed as one comma-separated line; sent as a list (the API trims and keeps each once).
  const [keywords, setKeywords] = useState((initial.handoff_keywords || []).join(", "));
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const set = (k) => (e) => setS({ ...s, [k]: e.currentTarget.value });

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      const handoff_keywords = keywords.split(/[,\n]/).map((k) => k.trim()).filter(Boolean);
      const body = { ...s, confidence_threshold: Number(s.confidence_threshold), handoff_keywords };
      const saved = await api("/api/v1/settings/bot", { method: "PUT", body });
      setS(saved);
      setKeywords((saved.handoff_keywords || []).join(", "));
      setNotice({ ok: true, text: t("bot.saved") });
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return html`<form class="stack" onSubmit=${save}>
    <fieldset class="card stack">
      <legend>${t("bot.behaviour")}</legend>
      <div class="field">
        <span class="label" id="tone-label">${t("bot.tone")}</span>
        <div class="choices" role="radiogroup" aria-labelledby="tone-label">
          ${TONES.map(
            (tone) => html`<label class="choice">
              <input type="radio" name="tone" value=${tone} checked=${s.tone === tone}
                onChange=${() => setS({ ...s, tone })} />
              <span><strong>${t("bot.tone." + tone)}</strong><span class="hint">${t("bot.tone_hint." + tone)}</span></span>
            </label>`,
          )}
        </div>
      </div>
      <div class="field">
        <div class="label-row">
          <label for="threshold">${t("bot.threshold")}</label>
          <output for="threshold" id="threshold-value">${percent(Number(s.confidence_threshold))}</output>
        </div>
        <input id="threshold" name="confidence_threshold" type="range" min="0" max="1" step="0.05"
          value=${s.confidence_threshold} aria-describedby="threshold-hint"
          aria-valuetext=${percent(Number(s.confidence_threshold))}
          onInput=${set("confidence_threshold")} />
        <div class="range-ends muted" aria-hidden="true"><span>${t("bot.threshold_low")}</span><span>${t("bot.threshold_high")}</span></div>
        <p class="hint" id="threshold-hint">${t("bot.threshold_hint")}</p>
      </div>
      <div class="field">
        <label for="handoff-keywords">${t("bot.keywords")}</label>
        <input id="handoff-keywords" name="handoff_keywords" type="text" maxlength="2000"
          value=${keywords} placeholder=${t("bot.keywords_placeholder")}
          aria-describedby="handoff-keywords-hint" onInput=${(e) => setKeywords(e.currentTarget.value)} />
        <p class="hint" id="handoff-keywords-hint">${t("bot.keywords_hint")}</p>
      </div>
    </fieldset>
    <fieldset class="card stack">
      <legend>${t("bot.messages")}</legend>
      ${MESSAGES.map(
        (k) => html`<div class="field">
          <label for=${"msg-" + k}>${t("bot.msg." + k)}</label>
          <textarea id=${"msg-" + k} name=${k} rows="2" maxlength="1000" required value=${s[k]}
            aria-describedby=${"msg-hint-" + k} onInput=${set(k)}></textarea>
          <p class="hint" id=${"msg-hint-" + k}>${t("bot.msg_hint." + k)}</p>
        </div>`,
      )}
    </fieldset>
    <${Notice} notice=${notice} />
    <div class="row">
      <button type="submit" class="primary" id="save-bot" disabled=${busy}>${busy ? t("common.saving") : t("common.save")}</button>
    </div>
  </form>`;
}

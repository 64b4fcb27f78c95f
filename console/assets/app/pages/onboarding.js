// First steps for a new owner (`/welcome`): connect WhatsApp, load the knowledge, try the
// bot, go live. Progress is the API's (`GET /api/v1/onboarding`), so leaving and coming
// back resumes at the first step not done; any step can be reopened.
import { html, useEffect, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { useApi, PageHead, Loading, Notice, Bar, errorMessage } from "../components/ui.js";
import { Icon } from "../components/icons.js";
import { Connect } from "./whatsapp.js";
import { Editor } from "./knowledge.js";
import { TryBot } from "../components/try-bot.js";

const STEPS = [
  { key: "whatsapp", done: "whatsapp_connected" },
  { key: "knowledge", done: "knowledge_loaded" },
  { key: "try", done: "bot_tried" },
  { key: "live", done: "live" },
];

export default function Onboarding() {
  const progress = useApi("/api/v1/onboarding");
  const p = progress.data;
  const firstOpen = p ? STEPS.findIndex((s) => !p[s.done]) : 0;
  const [open, setOpen] = useState(null);
  const current = open === null ? (firstOpen === -1 ? 3 : firstOpen) : open;
  const doneCount = p ? STEPS.filter((s) => p[s.done]).length : 0;

  // A step done moves on to the next one not done.
  const refresh = async () => {
    const next = await progress.reload();
    if (next) setOpen(null);
    return next;
  };

  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("onboarding.title")} lead=${t("onboarding.lead")} />
    ${!p
      ? html`<${Loading} error=${progress.error} onRetry=${progress.reload} />`
      : html`<div class="progress-head">
            <p class="progress-line" id="onboarding-progress">
              ${t("onboarding.progress", { n: doneCount, total: STEPS.length })}
            </p>
            <${Bar} value=${doneCount / STEPS.length} tone="good"
              label=${t("onboarding.progress", { n: doneCount, total: STEPS.length })} />
          </div>
          <ol class="steps" aria-label=${t("onboarding.steps")}>
            ${STEPS.map((s, i) => {
              const done = p[s.done];
              return html`<li class=${"step" + (done ? " done" : "") + (i === current ? " current" : "")}>
                <button type="button" class="step-head" aria-expanded=${i === current}
                  aria-controls=${"step-" + s.key} id=${"step-head-" + s.key} onClick=${() => setOpen(i)}>
                  <span class="step-mark" aria-hidden="true">${done ? html`<${Icon} name="check" />` : i + 1}</span>
                  <span class="step-text">
                    <strong>${t("onboarding.step." + s.key)}</strong>
                    <span class="hint">${done ? t("onboarding.done") : t("onboarding.todo")}</span>
                  </span>
                </button>
                ${i === current &&
                html`<div class="step-body" id=${"step-" + s.key} role="region" aria-labelledby=${"step-head-" + s.key}>
                  <${StepBody} step=${s.key} progress=${p} onDone=${refresh} setProgress=${progress.setData} />
                </div>`}
              </li>`;
            })}
          </ol>`}
  </main>`;
}

function StepBody({ step, progress, onDone, setProgress }) {
  if (step === "whatsapp") return html`<${WhatsAppStep} onDone=${onDone} />`;
  if (step === "knowledge") return html`<${KnowledgeStep} onDone=${onDone} />`;
  if (step === "try") {
    return html`<p class="muted">${t("onboarding.try_lead")}</p>
      <${TryBot} idPrefix="onboarding-try" onTried=${(p) => (p ? setProgress(p) : onDone())} />
      ${progress.bot_tried && html`<p class="row"><button type="button" class="primary" onClick=${onDone}>${t("onboarding.next")}</button></p>`}`;
  }
  return html`<${LiveStep} progress=${progress} setProgress=${setProgress} />`;
}

function WhatsAppStep({ onDone }) {
  const channel = useApi("/api/v1/settings/whatsapp");
  return html`<p class="muted">${t("onboarding.whatsapp_lead")}</p>
    ${channel.data
      ? html`<${Connect} channel=${channel.data} onChange=${channel.setData} onConnected=${onDone} />`
      : html`<${Loading} error=${channel.error} onRetry=${channel.reload} />`}`;
}

function KnowledgeStep({ onDone }) {
  const doc = useApi("/api/v1/knowledge");
  // The progress reads the knowledge read model, which trails the save by a moment: look
  // again until it counts the text.
  const saved = async () => {
    for (let i = 0; i < 12; i += 1) {
      await new Promise((r) => setTimeout(r, 500));
      const p = await onDone();
      if (p && p.knowledge_loaded) return;
    }
  };
  return html`<p class="muted">${t("onboarding.knowledge_lead")}</p>
    ${doc.data ? html`<${Editor} doc=${doc} onSaved=${saved} />` : html`<${Loading} error=${doc.error} onRetry=${doc.reload} />`}`;
}

function LiveStep({ progress, setProgress }) {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const ready = progress.whatsapp_connected && progress.knowledge_loaded;
  useEffect(() => setNotice(null), [progress.live]);
  async function goLive() {
    setBusy(true);
    try {
      setProgress(await api("/api/v1/onboarding/go-live", { method: "POST", body: {} }));
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }
  if (progress.live) {
    return html`<p class="success" id="onboarding-live">${t("onboarding.live_done")}</p>
      <p class="row">
        <a class="button primary" href="/">${t("onboarding.open_inbox")}</a>
        <a class="button" href="/team">${t("onboarding.invite_team")}</a>
      </p>`;
  }
  return html`<p class="muted">${t("onboarding.live_lead")}</p>
    ${!ready && html`<p class="notice warn"><${Icon} name="alert" /><span>${t("onboarding.live_missing")}</span></p>`}
    <${Notice} notice=${notice} />
    <p class="row"><button type="button" class="primary" id="go-live" onClick=${goLive} disabled=${busy || !ready}>${t("onboarding.go_live")}</button></p>`;
}

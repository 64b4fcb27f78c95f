// Connecting WhatsApp (`/whatsapp`): either Meta's Cloud API (the number's id, a token,
// the template for closed windows, and the webhook address to paste into Meta), or an
// Evolution API instance whose QR code the owner scans with the phone, watched until the
// phone is connected.
import { html, useEffect, useRef, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { useApi, PageHead, Loading, Notice, errorMessage } from "../components/ui.js";
import { TutorialLink } from "../components/content.js";

export default function WhatsApp() {
  const channel = useApi("/api/v1/settings/whatsapp");
  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("whatsapp.title")} lead=${t("whatsapp.lead")} />
    <${TutorialLink} slug="conectar-whatsapp" />
    ${channel.data
      ? html`<${Connect} channel=${channel.data} onChange=${channel.setData} />`
      : html`<${Loading} error=${channel.error} onRetry=${channel.reload} />`}
  </main>`;
}

/// The two ways to connect, as tabs; the stored provider opens first. Also used by the
/// onboarding's first step.
export function Connect({ channel, onChange, onConnected }) {
  const [provider, setProvider] = useState(channel.provider || "cloud_api");
  const tab = (p) => html`<button type="button" role="tab" id=${"tab-" + p}
    aria-selected=${provider === p} aria-controls=${"panel-" + p} tabindex=${provider === p ? 0 : -1}
    class=${"tab" + (provider === p ? " active" : "")} onClick=${() => setProvider(p)}
    onKeyDown=${(e) => {
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        const other = p === "cloud_api" ? "evolution" : "cloud_api";
        setProvider(other);
        document.getElementById("tab-" + other).focus();
      }
    }}>
    <strong>${t("whatsapp.provider." + p)}</strong>
    <span class="hint">${t("whatsapp.provider_hint." + p)}</span>
  </button>`;
  return html`<div class="stack">
    <div class="tabs" role="tablist" aria-label=${t("whatsapp.provider")}>
      ${tab("cloud_api")}${tab("evolution")}
    </div>
    <section class="card" role="tabpanel" id=${"panel-" + provider} aria-labelledby=${"tab-" + provider}>
      ${provider === "cloud_api"
        ? html`<${Cloud} channel=${channel} onChange=${onChange} onConnected=${onConnected} />`
        : html`<${Evolution} channel=${channel} onConnected=${onConnected} />`}
    </section>
  </div>`;
}

function Copy({ value, label, id }) {
  const [done, setDone] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    } catch {
      // No clipboard (insecure origin): the value is selectable on the page.
    }
  }
  return html`<div class="copy-row">
    <code id=${id}>${value}</code>
    <button type="button" onClick=${copy} aria-label=${t("common.copy_label", { what: label })}>
      ${done ? t("common.copied") : t("common.copy")}
    </button>
  </div>`;
}

function Cloud({ channel, onChange, onConnected }) {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const webhook = location.origin + "/webhooks/whatsapp";
  const cloud = channel.provider === "cloud_api" && channel.phone_number_id;

  async function save(event) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const v = (k) => String(f.get(k) || "").trim();
    const body = {
      provider: "cloud_api",
      phone_number_id: v("phone_number_id"),
      display_phone_number: v("display_phone_number"),
      template_name: v("template_name"),
      template_language: v("template_language"),
    };
    // An empty token field keeps the stored one.
    if (v("access_token")) body.access_token = v("access_token");
    setBusy(true);
    setNotice(null);
    try {
      const saved = await api("/api/v1/settings/whatsapp", { method: "PUT", body });
      onChange && onChange(saved);
      setNotice({ ok: true, text: t("whatsapp.cloud_saved") });
      onConnected && onConnected();
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  }

  return html`<div class="stack">
    ${cloud && html`<p class="success" id="cloud-linked">${t("whatsapp.cloud_linked", { id: channel.phone_number_id })}</p>`}
    <form class="stack" onSubmit=${save}>
      <div class="grid-2">
        <div class="field">
          <label for="phone_number_id">${t("whatsapp.phone_number_id")}</label>
          <input id="phone_number_id" name="phone_number_id" required inputmode="numeric"
            value=${channel.phone_number_id || ""} aria-describedby="pnid-hint" />
          <p class="hint" id="pnid-hint">${t("whatsapp.phone_number_id_hint")}</p>
        </div>
        <div class="field">
          <label for="display_phone_number">${t("whatsapp.display_number")}</label>
          <input id="display_phone_number" name="display_phone_number" type="tel" required
            autocomplete="off" placeholder="+55 11 91234-5678" />
        </div>
      </div>
      <div class="field">
        <label for="access_token">${t("whatsapp.access_token")}</label>
        <input id="access_token" name="access_token" type="password" autocomplete="off"
          aria-describedby="token-hint"
          placeholder=${channel.access_token_stored ? t("whatsapp.stored") : ""} />
        <p class="hint" id="token-hint">${channel.access_token_stored ? t("whatsapp.token_keep") : t("whatsapp.token_hint")}</p>
      </div>
      <div class="grid-2">
        <div class="field">
          <label for="template_name">${t("whatsapp.template_name")}</label>
          <input id="template_name" name="template_name" value=${channel.template_name || ""} aria-describedby="template-hint" />
        </div>
        <div class="field">
          <label for="template_language">${t("whatsapp.template_language")}</label>
          <input id="template_language" name="template_language" placeholder="pt_BR" value=${channel.template_language || ""} />
        </div>
      </div>
      <p class="hint" id="template-hint">${t("whatsapp.template_hint")}</p>
      <${Notice} notice=${notice} />
      <div class="row"><button type="submit" class="primary" disabled=${busy}>${busy ? t("common.saving") : t("whatsapp.cloud_save")}</button></div>
    </form>
    <div class="meta-box">
      <h3>${t("whatsapp.meta_title")}</h3>
      <p class="muted">${t("whatsapp.meta_lead")}</p>
      <p class="label">${t("whatsapp.webhook_url")}</p>
      <${Copy} value=${webhook} label=${t("whatsapp.webhook_url")} id="cloud-webhook" />
      <p class="label">${t("whatsapp.verify_token")}</p>
      <p class="hint">${t("whatsapp.verify_token_hint")}</p>
      <p class="hint">${t("whatsapp.fields_hint")}</p>
    </div>
  </div>`;
}

function Evolution({ channel, onConnected }) {
  const exists = channel.provider === "evolution" && !!channel.evolution_instance;
  const [qr, setQr] = useState(null);
  const [state, setState] = useState(null);
  const [info, setInfo] = useState(exists ? { instance: channel.evolution_instance, evolution_url: channel.evolution_url } : null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const told = useRef(false);
  const connected = state && state.connected;

  // Where the phone stands, every 2 s until it is connected; a fresh QR code every 30 s,
  // as Evolution's expire within about a minute.
  useEffect(() => {
    if (!info || connected) return;
    let live = true;
    let ticks = 0;
    const poll = async () => {
      ticks += 1;
      try {
        const s = await api("/api/v1/settings/whatsapp/evolution/state");
        if (!live) return;
        setState(s);
        if (!s.connected && qr && ticks % 15 === 0) {
          const fresh = await api("/api/v1/settings/whatsapp/evolution/qr");
          if (live) setQr(fresh);
        }
      } catch (e) {
        if (live) setError(errorMessage(e));
      }
    };
    poll();
    const timer = setInterval(poll, 2000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [info, connected, !!qr]);

  useEffect(() => {
    if (connected && !told.current) {
      told.current = true;
      onConnected && onConnected();
    }
  }, [connected]);

  async function create(event) {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    const v = (k) => String(f.get(k) || "").trim() || undefined;
    setBusy(true);
    setError(null);
    try {
      const r = await api("/api/v1/settings/whatsapp/evolution/instance", {
        method: "POST",
        body: { evolution_url: v("evolution_url"), global_api_key: v("global_api_key"), instance_name: v("instance_name") },
      });
      setInfo(r);
      setQr(r);
      setState({ state: r.state, connected: r.connected });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function showQr() {
    setBusy(true);
    setError(null);
    try {
      const r = await api("/api/v1/settings/whatsapp/evolution/qr");
      setQr(r);
      setState({ state: r.state, connected: r.connected });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return html`<div class="stack">
    ${info &&
    html`<div class="evo-status">
      <p class="row">
        <span>${t("whatsapp.instance")}: <strong>${info.instance}</strong></span>
        <span class=${"badge " + (connected ? "answer" : state && state.state === "connecting" ? "awaiting_human" : "resolved")}
          id="evolution-state" role="status">
          ${state ? t("whatsapp.state." + state.state) : t("common.loading")}
        </span>
      </p>
      ${connected
        ? html`<p class="success" id="evolution-connected">${t("whatsapp.evo_connected")}</p>`
        : qr && qr.qr_png_base64
          ? html`<div class="qr-box">
              <img id="evolution-qr" class="qr" width="264" height="264"
                src=${"data:image/png;base64," + qr.qr_png_base64} alt=${t("whatsapp.qr_alt")} />
              <ol class="steps-text">
                <li>${t("whatsapp.qr_step1")}</li>
                <li>${t("whatsapp.qr_step2")}</li>
                <li>${t("whatsapp.qr_step3")}</li>
              </ol>
              ${qr.pairing_code && html`<p>${t("whatsapp.pairing_code")}: <code>${qr.pairing_code}</code></p>`}
            </div>`
          : html`<button type="button" class="primary" onClick=${showQr} disabled=${busy} id="show-qr">${t("whatsapp.show_qr")}</button>`}
      ${info.webhook_url && html`<p class="hint">${t("whatsapp.evo_webhook_set")}</p>`}
    </div>`}
    ${!connected &&
    html`<details class="evo-setup" open=${!info}>
      <summary>${info ? t("whatsapp.evo_recreate") : t("whatsapp.evo_create_title")}</summary>
      <form class="stack" onSubmit=${create}>
        <p class="muted">${t("whatsapp.evo_lead")}</p>
        <div class="field">
          <label for="evolution_url">${t("whatsapp.evolution_url")}</label>
          <input id="evolution_url" name="evolution_url" type="url" inputmode="url" placeholder="https://evolution.example.com"
            value=${channel.evolution_url || ""} aria-describedby="evo-url-hint" />
          <p class="hint" id="evo-url-hint">${t("whatsapp.evolution_url_hint")}</p>
        </div>
        <div class="field">
          <label for="global_api_key">${t("whatsapp.global_api_key")}</label>
          <input id="global_api_key" name="global_api_key" type="password" autocomplete="off" aria-describedby="evo-key-hint" />
          <p class="hint" id="evo-key-hint">${t("whatsapp.global_api_key_hint")}</p>
        </div>
        <div class="field">
          <label for="instance_name">${t("whatsapp.instance_name")}</label>
          <input id="instance_name" name="instance_name" pattern="[A-Za-z0-9_\\-]{1,64}" value=${channel.evolution_instance || ""}
            aria-describedby="evo-name-hint" />
          <p class="hint" id="evo-name-hint">${t("whatsapp.instance_name_hint")}</p>
        </div>
        <div class="row"><button type="submit" class="primary" id="create-instance" disabled=${busy}>
          ${busy ? t("whatsapp.creating") : t("whatsapp.create_instance")}
        </button></div>
      </form>
    </details>`}
    ${error && html`<p class="error" role="alert">${error}</p>`}
  </div>`;
}

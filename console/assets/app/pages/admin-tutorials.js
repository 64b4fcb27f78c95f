// The tutorials admins write for tenants (`/admin/tutorials`): the list with drafts, and a
// form to write or change one in both languages.
import { html, useState } from "../lib/html.js";
import { t, dateTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { PageHead, Loading, Notice, useApi, errorMessage } from "../components/ui.js";

const EMPTY = {
  slug: "",
  category: "",
  position: 0,
  title: { "pt-BR": "", en: "" },
  body: { "pt-BR": "", en: "" },
  video_url: "",
  published: false,
};

function Form({ initial, onDone, onCancel }) {
  const [form, setForm] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const set = (field) => (e) => setForm({ ...form, [field]: e.currentTarget.value });
  const setText = (field, lang) => (e) =>
    setForm({ ...form, [field]: { ...form[field], [lang]: e.currentTarget.value } });
  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    const body = {
      ...form,
      position: Number(form.position) || 0,
      video_url: form.video_url.trim() || null,
    };
    try {
      if (form.id) {
        await api(`/api/v1/admin/tutorials/${form.id}`, { method: "PUT", body });
      } else {
        await api("/api/v1/admin/tutorials", { method: "POST", body });
      }
      onDone(t("admin_tutorials.saved"));
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
      setBusy(false);
    }
  }
  return html`<form class="card stack" id="tutorial-form" onSubmit=${save}
    aria-labelledby="tutorial-form-title">
    <h2 id="tutorial-form-title">${form.id ? t("admin_tutorials.edit") : t("admin_tutorials.new")}</h2>
    <div class="form-grid">
      <label class="field">${t("admin_tutorials.title_pt")}
        <input id="tutorial-title-pt" required maxlength="200" value=${form.title["pt-BR"]}
          onInput=${setText("title", "pt-BR")} /></label>
      <label class="field">${t("admin_tutorials.title_en")}
        <input id="tutorial-title-en" maxlength="200" value=${form.title.en}
          onInput=${setText("title", "en")} /></label>
      <label class="field">${t("admin_tutorials.slug")}
        <input id="tutorial-slug" required pattern="[a-z0-9]+(-[a-z0-9]+)*" maxlength="80"
          value=${form.slug} onInput=${set("slug")} aria-describedby="tutorial-slug-hint" />
        <span class="hint" id="tutorial-slug-hint">${t("admin_tutorials.slug_hint")}</span></label>
      <label class="field">${t("admin_tutorials.category")}
        <input id="tutorial-category" required maxlength="60" value=${form.category}
          onInput=${set("category")} /></label>
      <label class="field">${t("admin_tutorials.position")}
        <input id="tutorial-position" type="number" value=${form.position}
          onInput=${set("position")} /></label>
      <label class="field">${t("admin_tutorials.video")}
        <input id="tutorial-video" type="url" value=${form.video_url || ""}
          placeholder="https://www.youtube.com/watch?v=…" onInput=${set("video_url")}
          aria-describedby="tutorial-video-hint" />
        <span class="hint" id="tutorial-video-hint">${t("admin_tutorials.video_hint")}</span></label>
    </div>
    <label class="field">${t("admin_tutorials.body_pt")}
      <textarea id="tutorial-body-pt" rows="8" value=${form.body["pt-BR"]}
        onInput=${setText("body", "pt-BR")} aria-describedby="markdown-hint" /></label>
    <label class="field">${t("admin_tutorials.body_en")}
      <textarea id="tutorial-body-en" rows="6" value=${form.body.en}
        onInput=${setText("body", "en")} aria-describedby="markdown-hint" /></label>
    <p class="hint" id="markdown-hint">${t("admin_content.markdown_hint")}</p>
    <label class="check"><input type="checkbox" id="tutorial-published" checked=${form.published}
      onChange=${(e) => setForm({ ...form, published: e.currentTarget.checked })} />
      ${t("admin_content.published")}</label>
    <${Notice} notice=${notice} />
    <div class="row">
      <button type="submit" class="primary" disabled=${busy}>${t("common.save")}</button>
      <button type="button" onClick=${onCancel}>${t("common.cancel")}</button>
    </div>
  </form>`;
}

export default function AdminTutorials() {
  const { data, error, reload } = useApi("/api/v1/admin/tutorials");
  const [editing, setEditing] = useState(null);
  const [notice, setNotice] = useState(null);
  const done = async (text) => {
    setEditing(null);
    setNotice({ ok: true, text });
    await reload();
  };
  return html`<main id="main" class="page">
    <${PageHead} title=${t("admin_tutorials.title")} lead=${t("admin_tutorials.lead")}>
      <button type="button" class="primary" id="new-tutorial"
        onClick=${() => { setNotice(null); setEditing({ ...EMPTY }); }}>${t("admin_tutorials.new")}</button>
    <//>
    <${Notice} notice=${notice} />
    ${editing && html`<${Form} key=${editing.id || "new"} initial=${editing} onDone=${done}
      onCancel=${() => setEditing(null)} />`}
    ${!data
      ? html`<${Loading} error=${error} onRetry=${reload} />`
      : data.items.length === 0
        ? html`<p class="muted">${t("admin_tutorials.none")}</p>`
        : html`<div class="table-wrap"><table class="data-table">
            <thead><tr>
              <th scope="col">${t("admin_tutorials.col_title")}</th>
              <th scope="col">${t("admin_tutorials.category")}</th>
              <th scope="col">${t("admin_tutorials.position")}</th>
              <th scope="col">${t("admin_content.state")}</th>
              <th scope="col">${t("admin_content.changed")}</th>
              <th scope="col"><span class="sr-only">${t("admin_content.actions")}</span></th>
            </tr></thead>
            <tbody>
              ${data.items.map(
                (item) => html`<tr key=${item.id}>
                  <td>${item.title["pt-BR"]}<br /><span class="muted">${item.slug}</span></td>
                  <td>${item.category}</td>
                  <td>${item.position}</td>
                  <td>${item.published ? t("admin_content.is_published") : t("admin_content.is_draft")}</td>
                  <td>${dateTime(item.changed_at)}</td>
                  <td><button type="button"
                    aria-label=${t("admin_content.edit_named", { title: item.title["pt-BR"] })}
                    onClick=${() => { setNotice(null); setEditing({ ...item, video_url: item.video_url || "" }); }}>
                    ${t("admin_content.edit")}</button></td>
                </tr>`,
              )}
            </tbody>
          </table></div>`}
  </main>`;
}

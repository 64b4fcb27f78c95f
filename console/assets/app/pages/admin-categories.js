// The ticket categories (`/admin/support-categories`): the list tenants pick from, in
// display order, replaced whole on save. Tickets keep the key they were opened with.
import { html, useEffect, useState } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { api } from "../lib/session.js";

export default function SupportCategories() {
  const [items, setItems] = useState(null);
  const [notice, setNotice] = useState(null);
  const [busy, setBusy] = useState(false);

  async function load() {
    try {
      setItems((await api("/api/v1/tickets/categories")).items);
    } catch (e) {
      setNotice({ ok: false, text: e.message });
    }
  }
  useEffect(() => {
    load();
  }, []);

  const edit = (i, field) => (e) => {
    const value = e.currentTarget.value;
    setItems(items.map((c, j) => (j === i ? { ...c, [field]: value } : c)));
  };
  const moveTo = (i, j) => {
    const next = items.slice();
    [next[i], next[j]] = [next[j], next[i]];
    setItems(next);
  };

  async function save(event) {
    event.preventDefault();
    setBusy(true);
    setNotice(null);
    try {
      const clean = items.map((c) => ({ key: c.key.trim(), label: c.label.trim() }));
      await api("/api/v1/admin/tickets/categories", { method: "PUT", body: { items: clean } });
      setNotice({ ok: true, text: t("categories.saved") });
      await load();
    } catch (e) {
      setNotice({ ok: false, text: e.message });
    } finally {
      setBusy(false);
    }
  }

  return html`<main id="main" class="page narrow">
    <h1>${t("categories.title")}</h1>
    <p class="muted">${t("categories.lead")}</p>
    ${items === null
      ? html`<p role="status">${notice ? "" : t("common.loading")}</p>`
      : html`<form class="stack card" onSubmit=${save}>
          <table class="edit-table">
            <thead><tr>
              <th scope="col">${t("categories.key")}</th>
              <th scope="col">${t("categories.label")}</th>
              <th scope="col"><span class="sr-only">${t("categories.actions")}</span></th>
            </tr></thead>
            <tbody>
              ${items.map(
                (c, i) => html`<tr key=${i}>
                  <td><input aria-label=${t("categories.key_n", { n: i + 1 })} value=${c.key} required
                    pattern="[a-z0-9_\\-]+" maxlength="40" onInput=${edit(i, "key")} /></td>
                  <td><input aria-label=${t("categories.label_n", { n: i + 1 })} value=${c.label} required
                    maxlength="80" onInput=${edit(i, "label")} /></td>
                  <td class="row-actions">
                    <button type="button" class="icon-button" disabled=${i === 0}
                      aria-label=${t("categories.up", { n: i + 1 })} onClick=${() => moveTo(i, i - 1)}>↑</button>
                    <button type="button" class="icon-button" disabled=${i === items.length - 1}
                      aria-label=${t("categories.down", { n: i + 1 })} onClick=${() => moveTo(i, i + 1)}>↓</button>
                    <button type="button" class="icon-button danger" disabled=${items.length === 1}
                      aria-label=${t("categories.remove", { n: i + 1 })}
                      onClick=${() => setItems(items.filter((_, j) => j !== i))}>×</button>
                  </td>
                </tr>`,
              )}
            </tbody>
          </table>
          <p class="hint">${t("categories.hint")}</p>
          ${notice && html`<p class=${notice.ok ? "success" : "error"} role=${notice.ok ? "status" : "alert"}>${notice.text}</p>`}
          <div class="row">
            <button type="button" id="add-category" disabled=${items.length >= 50}
              onClick=${() => setItems(items.concat([{ key: "", label: "" }]))}>${t("categories.add")}</button>
            <button type="submit" class="primary" disabled=${busy}>${t("common.save")}</button>
          </div>
        </form>`}
  </main>`;
}

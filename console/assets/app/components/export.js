// Reports export (F45): the table a page shows as CSV or a spreadsheet, with the filters it
// has applied, and the monthly overview as a PDF. The API needs the bearer token, so the
// files are fetched and handed to the browser (lib/files.js), not linked.
//
//   <${ExportButtons} table="tenants" filters=${{ q, status, plan }} />
//   <${ExportButtons} table="payments" list=${"/api/v1/admin/payments?status=failed"} />
//
// `table` is the name in GET /api/v1/admin/reports/export/{table}; the filters are the list
// route's own query parameters, given as `filters` or read from the `list` URL the page
// lists from (empty ones are left out; paging is no filter). `path` names another export
// route that takes a `format` (the audit log's, for auditors).
import { html, useState } from "../lib/html.js";
import { download } from "../lib/files.js";
import { withQuery } from "../lib/paged.js";
import { t, locale } from "../lib/i18n.js";
import { errorMessage } from "./ui.js";

const BASE = "/api/v1/admin/reports/export/";

/// Today as the API names its files (UTC).
function today() {
  return new Date().toISOString().slice(0, 10);
}

function useDownload() {
  const [busy, setBusy] = useState(null);
  const [error, setError] = useState(null);
  async function run(which, url, name) {
    setBusy(which);
    setError(null);
    try {
      await download(url, name);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }
  return { busy, error, run };
}

/// The filters of a list URL: its query less the paging.
function filtersOf(list) {
  const at = list.indexOf("?");
  const q = new URLSearchParams(at < 0 ? "" : list.slice(at + 1));
  q.delete("cursor");
  q.delete("limit");
  return Object.fromEntries(q);
}

/// CSV and XLSX buttons for `table` with `filters` (or those of the `list` URL).
export function ExportButtons({ table, filters = {}, list = "", path = BASE + table }) {
  const { busy, error, run } = useDownload();
  const wanted = { ...filtersOf(list), ...filters };
  const save = (format) =>
    run(format, withQuery(path, { format }, wanted), `${table}-${today()}.${format}`);
  return html`<div class="export-control">
    <div class="export-buttons" role="group" aria-label=${t("export.label")}>
      <span class="export-label muted small" aria-hidden="true">${t("export.label")}</span>
      ${["csv", "xlsx"].map(
        (format) => html`<button type="button" key=${format} class="small-button" id=${`export-${table}-${format}`}
          aria-label=${t("export.as", { format: format.toUpperCase() })}
          disabled=${busy !== null} aria-busy=${busy === format ? "true" : null}
          onClick=${() => save(format)}>${busy === format ? t("export.saving") : format.toUpperCase()}</button>`,
      )}
    </div>
    ${error && html`<p class="error small" role="alert">${error}</p>`}
  </div>`;
}

/// This month as `YYYY-MM`.
function thisMonth() {
  return new Date().toISOString().slice(0, 7);
}

/// A month picker and a PDF button for the monthly overview, in the console's language.
export function MonthlyPdf() {
  const { busy, error, run } = useDownload();
  const [month, setMonth] = useState(thisMonth());
  const save = () => {
    const chosen = /^\d{4}-\d{2}$/.test(month) ? month : thisMonth();
    run("pdf", withQuery(BASE + "overview", { format: "pdf", month: chosen, locale: locale.get() }, {}),
      `overview-${chosen}.pdf`);
  };
  return html`<div class="export-control">
    <div class="export-buttons">
      <label class="small" for="overview-pdf-month">${t("export.month")}</label>
      <input id="overview-pdf-month" type="month" value=${month} max=${thisMonth()}
        onInput=${(e) => setMonth(e.currentTarget.value)} />
      <button type="button" class="small-button" id="overview-pdf" disabled=${busy !== null}
        aria-busy=${busy ? "true" : null} onClick=${save}>${busy ? t("export.saving") : t("export.pdf")}</button>
    </div>
    ${error && html`<p class="error small" role="alert">${error}</p>`}
  </div>`;
}

// The tenant's tutorials (`/tutorials`, `/tutorials/:slug`): the published ones in the
// console's language, searchable, by category; one opened shows its body and video link.
import { html, useEffect, useState } from "../lib/html.js";
import { t, locale } from "../lib/i18n.js";
import { useStore } from "../lib/store.js";
import { PageHead, Loading, useApi } from "../components/ui.js";
import { Rendered } from "../components/content.js";

function Video({ url }) {
  if (!url) return null;
  return html`<p class="video-link">
    <a href=${url} target="_blank" rel="noopener noreferrer">${t("tutorials.watch")}</a>
  </p>`;
}

function One({ slug, lang }) {
  const { data, error, reload } = useApi(
    `/api/v1/tutorials/${encodeURIComponent(slug)}?locale=${encodeURIComponent(lang)}`,
  );
  return html`<main id="main" class="page narrow">
    <p><a href="/tutorials">← ${t("tutorials.all")}</a></p>
    ${!data
      ? html`<${Loading} error=${error} onRetry=${reload} />`
      : html`<article class="card tutorial" aria-labelledby="page-title">
          <h1 id="page-title">${data.title}</h1>
          <p class="muted">${data.category}</p>
          <${Video} url=${data.video_url} />
          <${Rendered} html=${data.body_html} id="tutorial-body" />
        </article>`}
  </main>`;
}

export default function Tutorials({ params, query }) {
  const lang = useStore(locale);
  return params.slug
    ? html`<${One} slug=${params.slug} lang=${lang} />`
    : html`<${List} query=${query} lang=${lang} />`;
}

function List({ query, lang }) {
  const [q, setQ] = useState(query.get("q") || "");
  const [typed, setTyped] = useState(q);
  const [category, setCategory] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setQ(typed), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const path =
    `/api/v1/tutorials?locale=${encodeURIComponent(lang)}` +
    (q.trim() ? `&q=${encodeURIComponent(q.trim())}` : "") +
    (category ? `&category=${encodeURIComponent(category)}` : "");
  const { data, error, reload } = useApi(path);
  return html`<main id="main" class="page">
    <${PageHead} title=${t("tutorials.title")} lead=${t("tutorials.lead")} />
    <form class="row filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label for="tutorial-search">${t("tutorials.search")}</label>
      <input id="tutorial-search" type="search" value=${typed}
        onInput=${(e) => setTyped(e.currentTarget.value)} />
      <label for="tutorial-category">${t("tutorials.category")}</label>
      <select id="tutorial-category" value=${category}
        onChange=${(e) => setCategory(e.currentTarget.value)}>
        <option value="">${t("tutorials.every_category")}</option>
        ${(data ? data.categories : []).map((c) => html`<option value=${c}>${c}</option>`)}
      </select>
    </form>
    ${!data
      ? html`<${Loading} error=${error} onRetry=${reload} />`
      : data.items.length === 0
        ? html`<p class="muted" role="status">${t("tutorials.none")}</p>`
        : html`<ul class="tutorial-list">
            ${data.items.map(
              (item) => html`<li class="card" key=${item.id}>
                <h2><a href=${"/tutorials/" + item.slug}>${item.title}</a></h2>
                <p class="muted">${item.category}${item.video_url ? " · " + t("tutorials.has_video") : ""}</p>
              </li>`,
            )}
          </ul>`}
  </main>`;
}

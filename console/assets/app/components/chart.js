// A line chart drawn by the vendored uPlot, coloured from the stylesheet's variables (so it
// follows the theme) and sized to its box. Canvas is invisible to assistive technology:
// the figure's caption names it and a table under it holds the same numbers.
import { html, useEffect, useRef } from "../lib/html.js";
import { effectiveTheme } from "../lib/theme.js";
import { t } from "../lib/i18n.js";
import uPlot from "../../vendor/uplot.js";

let styled = false;
function uplotStyles() {
  if (styled) return;
  styled = true;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/assets/vendor/uplot.css";
  document.head.appendChild(link);
}

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/// `x`: unix seconds; `series`: [{label, values, color (a CSS variable), format}];
/// `yFormat`: how the axis and the table write a value.
/// `yRange`: fixed [min, max] of the y axis; `yIncrs`: the steps its ticks may take.
export function LineChart({ id, title, x, series, yFormat = String, xFormat, yRange, yIncrs, height = 220 }) {
  const box = useRef(null);
  const plot = useRef(null);
  const dark = effectiveTheme() === "dark";

  useEffect(() => {
    uplotStyles();
    const el = box.current;
    if (!el) return;
    const text = cssVar("--muted");
    const grid = cssVar("--border");
    const axis = (values) => ({ stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, values });
    const opts = {
      width: Math.max(280, el.clientWidth),
      height,
      cursor: { drag: { x: false, y: false } },
      // The legend names the lines; the numbers are in the table below.
      legend: { show: true, live: false },
      scales: { x: { time: false }, y: yRange ? { range: () => yRange } : {} },
      axes: [
        // Whole days only on the x axis.
        { ...axis((u, ticks) => ticks.map((v) => xFormat(v))), incrs: [1, 2, 5, 7, 14, 30, 60, 90] },
        { ...axis((u, ticks) => ticks.map((v) => yFormat(v))), size: 64, ...(yIncrs ? { incrs: yIncrs } : {}) },
      ],
      series: [
        { label: t("metrics.day"), value: (u, v) => (v === null || v === undefined ? "—" : xFormat(v)) },
        ...series.map((s) => ({
          label: s.label,
          stroke: cssVar(s.color),
          width: 2,
          points: { size: 5, fill: cssVar(s.color) },
          spanGaps: true,
          value: (u, v) => (v === null || v === undefined ? "—" : yFormat(v)),
        })),
      ],
    };
    const data = [x, ...series.map((s) => s.values)];
    plot.current = new uPlot(opts, data, el);
    const resize = new ResizeObserver(() => {
      if (plot.current) plot.current.setSize({ width: Math.max(280, el.clientWidth), height });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current.destroy();
      plot.current = null;
    };
  }, [x, series, dark]);

  return html`<figure class="chart card" aria-labelledby=${id + "-title"}>
    <figcaption id=${id + "-title"} class="chart-title">${title}</figcaption>
    <div class="chart-box" ref=${box} id=${id} role="img" aria-label=${title}></div>
    <details class="chart-data">
      <summary>${t("metrics.show_numbers")}</summary>
      <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">${t("metrics.day")}</th>${series.map((s) => html`<th scope="col">${s.label}</th>`)}</tr></thead>
          <tbody>
            ${x.map(
              (v, i) => html`<tr>
                <th scope="row">${xFormat(v)}</th>
                ${series.map((s) => html`<td>${s.values[i] === null || s.values[i] === undefined ? "—" : yFormat(s.values[i])}</td>`)}
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>
  </figure>`;
}

// A wide table in a box that scrolls sideways on a narrow screen: the box takes the focus,
// so keyboard users can scroll it too, and is named for assistive technology.
import { html } from "../lib/html.js";

export function TableWrap({ label, children }) {
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${label}>${children}</div>`;
}

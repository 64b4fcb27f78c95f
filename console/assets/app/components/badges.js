// Small visual markers shared by the inbox and the conversation: status, hand-off,
// unanswered count, delivery ticks.
import { html } from "../lib/html.js";
import { t } from "../lib/i18n.js";
import { Icon } from "./icons.js";

export function StatusBadge({ status }) {
  return html`<span class=${"badge " + status}>${t("status." + status)}</span>`;
}

export function HandoffBadge() {
  return html`<span class="badge handoff">${t("handoff.badge")}</span>`;
}

export function UnansweredBadge({ n }) {
  if (!n) return null;
  return html`<span class="badge count" title=${t("inbox.unanswered", { n })}>
    <span aria-hidden="true">${n}</span><span class="sr-only">${t("inbox.unanswered", { n })}</span>
  </span>`;
}

/// ✓ sent, ✓✓ delivered, blue ✓✓ read, ⚠ failed; the clock while the provider has not
/// reported yet.
export function Tick({ delivery }) {
  const status = delivery ? delivery.status : "pending";
  const icon = { sent: "check", delivered: "checks", read: "checks", failed: "alert" }[status] || "clock";
  const label = t("delivery." + status);
  return html`<span class=${"tick " + status} title=${label} role="img" aria-label=${label}>
    <${Icon} name=${icon} />
  </span>`;
}

/// The contact's display name: their profile name, else their number.
export function contactName(contact) {
  return (contact && (contact.name || contact.phone)) || "?";
}

export const ERASED = "[erased]";

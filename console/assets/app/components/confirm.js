// A confirmation before an action that cannot be taken back (cancelling a subscription,
// erasing a contact, rebuilding a read model): a modal <dialog>, so focus stays inside it
// and Escape closes it, with whatever the action needs asked inside (a reason, a choice).
import { html, useEffect, useRef } from "../lib/html.js";
import { t } from "../lib/i18n.js";

/// `open` shows it; `onConfirm` runs on the confirm button (the dialog stays open while it
/// runs, `busy` disables the buttons); `onClose` on cancel or Escape. `children` sit between
/// the message and the buttons; `danger` paints the confirm button red.
export function Confirm({ id, open, title, message, confirmLabel, danger = false, busy = false,
  onConfirm, onClose, children }) {
  const ref = useRef(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  const submit = (e) => {
    e.preventDefault();
    if (!busy) onConfirm();
  };
  return html`<dialog class="confirm-dialog card" id=${id} ref=${ref} aria-labelledby=${id + "-title"}
    onCancel=${(e) => { e.preventDefault(); if (!busy) onClose(); }}>
    ${open && html`<form class="stack" method="dialog" onSubmit=${submit}>
      <h2 id=${id + "-title"}>${title}</h2>
      ${message && html`<p>${message}</p>`}
      ${children}
      <div class="row confirm-buttons">
        <button type="button" onClick=${onClose} disabled=${busy}>${t("common.cancel")}</button>
        <button type="submit" id=${id + "-ok"} class=${danger ? "danger-solid" : "primary"}
          disabled=${busy}>${confirmLabel}</button>
      </div>
    </form>`}
  </dialog>`;
}

// The live stream of the tenant's conversation changes, or of an admin's notifications
// (`/api/v1/stream`, server-sent events). EventSource cannot send headers, so the access
// token goes in the query; the server ends a stream when that token expires, and we
// reconnect with a fresh one.
import { accessToken } from "./session.js";
import { store } from "./store.js";

/// Whether the stream is connected now.
export const streamUp = store(false);

/// Calls `onChange(data)` for each `conversation` event, `onTicket(data)` for each `ticket`
/// event (a support ticket of the tenant changed), `onNotification(data)` for each
/// `notification` event (admins: a new admin notification) and `onResync()` when changes
/// may have been missed (also after every reconnection). Returns a function that stops it.
export function subscribe({ onChange, onResync, onTicket = () => {}, onNotification = () => {} }) {
  let source = null;
  let stopped = false;
  let retry = 0;
  let timer = null;

  async function connect() {
    if (stopped) return;
    const token = await accessToken().catch(() => null);
    if (stopped || !token) return;
    source = new EventSource("/api/v1/stream?access_token=" + encodeURIComponent(token));
    source.addEventListener("open", () => {
      retry = 0;
      streamUp.set(true);
      // Changes made before this connection (while the page loaded, or while we were
      // away) were not sent: reload what is shown.
      onResync();
    });
    source.addEventListener("conversation", (e) => {
      try {
        onChange(JSON.parse(e.data));
      } catch {
        onResync();
      }
    });
    source.addEventListener("ticket", (e) => {
      try {
        onTicket(JSON.parse(e.data));
      } catch {
        onResync();
      }
    });
    source.addEventListener("notification", (e) => {
      try {
        onNotification(JSON.parse(e.data));
      } catch {
        onResync();
      }
    });
    source.addEventListener("resync", () => onResync());
    source.addEventListener("error", () => {
      // EventSource retries on its own with the same (possibly expired) token; we
      // reconnect ourselves instead, with a token that is valid.
      streamUp.set(false);
      source.close();
      const delay = Math.min(1000 * 2 ** retry, 15000);
      retry += 1;
      timer = setTimeout(connect, delay);
    });
  }

  // A page left for another (kept in the back/forward cache) must not hold its stream:
  // browsers allow only six connections per server, and each page's stream is one.
  const hide = () => {
    clearTimeout(timer);
    if (source) source.close();
    streamUp.set(false);
  };
  const show = (event) => {
    if (event.persisted && !stopped) connect();
  };
  addEventListener("pagehide", hide);
  addEventListener("pageshow", show);

  connect();
  return () => {
    stopped = true;
    removeEventListener("pagehide", hide);
    removeEventListener("pageshow", show);
    hide();
  };
}

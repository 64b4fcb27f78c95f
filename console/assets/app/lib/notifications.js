// The admins' notifications (issue 18): the unread count the shell's bell shows, kept live
// by the stream's `notification` events, and a counter the notifications page watches to
// reload when one arrives.
import { api } from "./session.js";
import { store } from "./store.js";
import { subscribe } from "./stream.js";

/// `{unread, arrived}`: the signed-in admin's unread count (null until known) and how many
/// notifications arrived live since the console opened.
export const notices = store({ unread: null, arrived: 0 });

/// Sets the unread count, as a notifications call answered it.
export function setUnread(unread) {
  notices.set((n) => ({ ...n, unread }));
}

async function refresh() {
  try {
    const page = await api("/api/v1/admin/notifications?limit=1");
    setUnread(page.unread);
  } catch {
    // The bell keeps its last count; the next event or reconnection tries again.
  }
}

/// Follows the admin's notifications until the returned function is called.
export function followNotifications() {
  refresh();
  return subscribe({
    onChange: () => {},
    onResync: refresh,
    onNotification: () => {
      notices.set((n) => ({ ...n, arrived: n.arrived + 1 }));
      refresh();
    },
  });
}

/// Where an admin acts on notification `n`: its tenant, its usage history, the
/// subscriptions, the security or the system page.
export function targetOf(n) {
  switch (n.kind) {
    case "tenant_registered":
    case "quota_reached":
      return n.tenant_id ? `/admin/tenants/${n.tenant_id}` : "/admin/tenants";
    case "ai_spend_threshold_reached":
      return n.tenant_id ? `/admin/usage/${n.tenant_id}` : "/admin/usage";
    case "payment_failed":
    case "subscription_cancelled":
      return "/admin/subscriptions";
    case "ip_blocked":
      return "/admin/security";
    default:
      return "/admin/system";
  }
}

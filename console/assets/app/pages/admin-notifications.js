// The admin's notifications (`/admin/notifications`, issue 18): newest first, unread ones
// emphasised, each linking to where to act; mark one or all read. New ones appear live
// (the shell follows the stream; see lib/notifications.js).
import { html, useEffect, useState } from "../lib/html.js";
import { t, dateTime, relativeTime } from "../lib/i18n.js";
import { api } from "../lib/session.js";
import { useStore } from "../lib/store.js";
import { notices, setUnread, targetOf } from "../lib/notifications.js";
import { PageHead, Loading, Notice, errorMessage } from "../components/ui.js";
import { Icon } from "../components/icons.js";
import { money, usd, day } from "../lib/format.js";
import { ExportButtons } from "../components/export.js";

const TONE = {
  tenant_registered: "info",
  payment_failed: "warning",
  subscription_cancelled: "warning",
  quota_reached: "warning",
  ip_blocked: "danger",
  event_parked: "danger",
  mail_given_up: "danger",
  usage_report_given_up: "danger",
  ai_spend_threshold_reached: "warning",
};

function subjectOf(n) {
  if (n.subject) return n.subject;
  return n.tenant_id ? n.tenant_id.slice(0, 8) : "";
}

/// The sentence under the title: the kind's particulars.
function detailOf(n) {
  const d = n.detail || {};
  switch (n.kind) {
    case "tenant_registered":
      return t("notifications.detail.tenant_registered", { plan: d.plan });
    case "payment_failed":
      return t("notifications.detail.payment_failed", { invoice: d.invoice_id, attempt: d.attempt });
    case "subscription_cancelled":
      return t("notifications.detail.subscription_cancelled", { reason: d.reason });
    case "quota_reached":
      return t("notifications.detail.quota_reached", { used: d.used, quota: d.quota });
    case "ai_spend_threshold_reached":
      return t("notifications.detail.ai_spend_threshold_reached", {
        cost: usd(d.estimated_cost_usd || 0),
        amount: money(d.threshold_usd_cents || 0, "usd"),
        month: d.month ? day(d.month + "-01", { month: "long", year: "numeric" }) : "",
      });
    case "ip_blocked":
      return t("notifications.detail.ip_blocked", { until: dateTime(d.until) });
    case "event_parked":
      return t("notifications.detail.event_parked", {
        type: d.event_type, position: d.position, error: d.error,
      });
    default:
      return d.error || "";
  }
}

function actionOf(path) {
  if (path.startsWith("/admin/tenants")) return t("notifications.open_tenant");
  if (path === "/admin/subscriptions") return t("notifications.open_subscriptions");
  if (path.startsWith("/admin/usage")) return t("notifications.open_usage");
  if (path === "/admin/security") return t("notifications.open_security");
  return t("notifications.open_system");
}

function Item({ n, onRead }) {
  const title = t("notifications.kind." + n.kind, { subject: subjectOf(n) });
  const target = targetOf(n);
  const detail = detailOf(n);
  const headingId = `notification-${n.id}`;
  return html`<li class=${"notice-item" + (n.read ? "" : " unread")}>
    <div class="notice-main">
      <p class="notice-title" id=${headingId}>
        ${!n.read && html`<span class="sr-only">${t("notifications.unread_mark")}: </span>`}
        <span class=${"badge " + TONE[n.kind]}>${t("notifications.tag." + n.kind)}</span>
        <span>${title}</span>
      </p>
      <p class="notice-detail muted">
        <time datetime=${n.at} title=${dateTime(n.at)}>${relativeTime(n.at)}</time>
        ${detail && html` · ${detail}`}
      </p>
    </div>
    <div class="notice-actions">
      <a href=${target} class="button">${actionOf(target)}</a>
      ${!n.read &&
      html`<button type="button" class="icon-button" onClick=${() => onRead(n)}
        aria-label=${t("notifications.mark_read_named", { title })} title=${t("notifications.mark_read")}>
        <${Icon} name="check" />
      </button>`}
    </div>
  </li>`;
}

export default function AdminNotifications() {
  const { arrived } = useStore(notices);
  const [only, setOnly] = useState("all");
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  const [more, setMore] = useState(false);
  const [notice, setNotice] = useState(null);
  const query = only === "unread" ? "&unread=true" : "";

  async function load() {
    try {
      const page = await api(`/api/v1/admin/notifications?limit=50${query}`);
      setData(page);
      setUnread(page.unread);
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }
  // Reload on a filter change and whenever a notification arrives live.
  useEffect(() => {
    load();
  }, [only, arrived]);

  async function loadMore() {
    setMore(true);
    try {
      const page = await api(
        `/api/v1/admin/notifications?limit=50${query}&cursor=${encodeURIComponent(data.next_cursor)}`,
      );
      setData({ ...page, items: [...data.items, ...page.items] });
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    }
    setMore(false);
  }

  async function read(n) {
    try {
      const r = await api(`/api/v1/admin/notifications/${n.id}/read`, { method: "POST" });
      setUnread(r.unread);
      await load();
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    }
  }

  async function readAll() {
    setNotice(null);
    const newest = data && data.items.length > 0 ? data.items[0].id : null;
    const upTo = newest ? `?up_to=${newest}` : "";
    try {
      const r = await api(`/api/v1/admin/notifications/read-all${upTo}`, { method: "POST" });
      setUnread(r.unread);
      await load();
      setNotice({ ok: true, text: t("notifications.all_read") });
    } catch (e) {
      setNotice({ ok: false, text: errorMessage(e) });
    }
  }

  const unread = data ? data.unread : 0;
  return html`<main id="main" class="page narrow">
    <${PageHead} title=${t("notifications.title")} lead=${t("notifications.lead")}>
      <${ExportButtons} table="notifications" filters=${{ unread: only === "unread" ? "true" : "" }} />
      <button type="button" id="read-all" onClick=${readAll} disabled=${!data || unread === 0}>
        <${Icon} name="checks" /> ${t("notifications.read_all")}
      </button>
    <//>
    <div class="row notice-filter" role="group" aria-label=${t("notifications.filter")}>
      ${["all", "unread"].map(
        (f) => html`<button type="button" class=${only === f ? "primary" : ""} aria-pressed=${only === f}
          id=${"filter-" + f} onClick=${() => setOnly(f)}>${t("notifications.filter." + f)}</button>`,
      )}
      <span class="muted" role="status">${data ? t(unread === 1 ? "notifications.unread_count_one" : "notifications.unread_count", { n: unread }) : ""}</span>
    </div>
    <${Notice} notice=${notice} />
    ${!data
      ? html`<${Loading} error=${error} onRetry=${load} />`
      : data.items.length === 0
        ? html`<p class="muted empty-state">${only === "unread" ? t("notifications.none_unread") : t("notifications.none")}</p>`
        : html`<ul class="notice-list" aria-labelledby="page-title">
            ${data.items.map((n) => html`<${Item} key=${n.id} n=${n} onRead=${read} />`)}
          </ul>
          ${data.next_cursor &&
          html`<p class="list-foot"><button type="button" onClick=${loadMore} disabled=${more}>
            ${t("notifications.more")}</button></p>`}`}
  </main>`;
}

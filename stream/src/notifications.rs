//! What the platform's admins are told (issue 18): a new tenant, a failed payment, a
//! cancelled subscription, a quota reached, an AI spend threshold reached, an IP blocked, an event a consumer parked, a mail
//! or usage report given up. Each fact is raised once ([`Notice::key`] is unique), in the
//! transaction that records it where it can be, and announced on [`CHANNEL`] so an admin's
//! console hears of it at once. Whether an admin has read one is theirs alone.
//!
//! This module owns `admin_notifications` and `admin_notification_reads`. It lives in the
//! stream runtime, not in `projections`, because that is the lowest crate every place a fact
//! happens may depend on: the runtime itself parks events, the `projections` read model
//! raises what events say, `workers` give up jobs and reach quotas, and `read-api` blocks IPs.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The PostgreSQL notification channel a new notification is announced on, inside the
/// transaction that raised it: listeners hear of it when it becomes visible.
pub const CHANNEL: &str = "atende_admin_notifications";

/// What a notification is about. Stored by [`Kind::as_str`]; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A business became a tenant.
    TenantRegistered,
    /// A tenant's payment attempt failed.
    PaymentFailed,
    /// A tenant's subscription was cancelled.
    SubscriptionCancelled,
    /// A tenant's AI answers reached the alert share of its plan's quota.
    QuotaReached,
    /// Too many failed sign-ins blocked an IP.
    IpBlocked,
    /// A stream consumer gave up on an event.
    EventParked,
    /// An e-mail was given up.
    MailGivenUp,
    /// A usage report to Stripe was given up.
    UsageReportGivenUp,
    // The usage monitor (issue 18).
    /// A tenant's estimated AI cost in a UTC month reached its spend threshold.
    AiSpendThresholdReached,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 9] = [
        Kind::TenantRegistered,
        Kind::PaymentFailed,
        Kind::SubscriptionCancelled,
        Kind::QuotaReached,
        Kind::IpBlocked,
        Kind::EventParked,
        Kind::MailGivenUp,
        Kind::UsageReportGivenUp,
        // The usage monitor (issue 18).
        Kind::AiSpendThresholdReached,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TenantRegistered => "tenant_registered",
            Kind::PaymentFailed => "payment_failed",
            Kind::SubscriptionCancelled => "subscription_cancelled",
            Kind::QuotaReached => "quota_reached",
            Kind::IpBlocked => "ip_blocked",
            Kind::EventParked => "event_parked",
            Kind::MailGivenUp => "mail_given_up",
            Kind::UsageReportGivenUp => "usage_report_given_up",
            // The usage monitor (issue 18).
            Kind::AiSpendThresholdReached => "ai_spend_threshold_reached",
        }
    }
}

/// A fact to tell the admins about. Build it with the constructor for its kind, which
/// also fixes its key: the same fact always has the same key, so raising it again does
/// nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    kind: Kind,
    key: String,
    tenant_id: Option<Uuid>,
    subject: String,
    detail: Value,
    at: DateTime<Utc>,
}

impl Notice {
    /// A tenant registered (one per tenant).
    pub fn tenant_registered(tenant: Uuid, name: &str, plan: &str, at: DateTime<Utc>) -> Self {
        Self {
            kind: Kind::TenantRegistered,
            key: format!("tenant_registered:{tenant}"),
            tenant_id: Some(tenant),
            subject: name.to_owned(),
            detail: json!({ "plan": plan }),
            at,
        }
    }

    /// Attempt `attempt` at paying `invoice` failed.
    pub fn payment_failed(
        tenant: Uuid,
        tenant_name: Option<&str>,
        invoice: &str,
        attempt: u32,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind: Kind::PaymentFailed,
            key: format!("payment_failed:{tenant}:{invoice}:{attempt}"),
            tenant_id: Some(tenant),
            subject: tenant_name.unwrap_or_default().to_owned(),
            detail: json!({ "invoice_id": invoice, "attempt": attempt }),
            at,
        }
    }

    /// The tenant's subscription was cancelled (once: nothing follows a cancellation).
    pub fn subscription_cancelled(
        tenant: Uuid,
        tenant_name: Option<&str>,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind: Kind::SubscriptionCancelled,
            key: format!("subscription_cancelled:{tenant}"),
            tenant_id: Some(tenant),
            subject: tenant_name.unwrap_or_default().to_owned(),
            detail: json!({ "reason": reason }),
            at,
        }
    }

    /// The tenant's AI answers reached the alert share of `quota` in the billing period
    /// starting `period_start` (once per tenant and period).
    pub fn quota_reached(
        tenant: Uuid,
        tenant_name: Option<&str>,
        period_start: NaiveDate,
        used: i64,
        quota: i64,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind: Kind::QuotaReached,
            key: format!("quota_reached:{tenant}:{period_start}"),
            tenant_id: Some(tenant),
            subject: tenant_name.unwrap_or_default().to_owned(),
            detail: json!({ "period_start": period_start, "used": used, "quota": quota }),
            at,
        }
    }

    /// Sign-ins from `ip` are refused until `until`, after a run of failures ending `at`
    /// (once per block: a block's start never moves while it lasts).
    pub fn ip_blocked(ip: &str, at: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        Self {
            kind: Kind::IpBlocked,
            key: format!("ip_blocked:{ip}:{}", at.timestamp_micros()),
            tenant_id: None,
            subject: ip.to_owned(),
            detail: json!({ "until": until }),
            at,
        }
    }

    /// `consumer` parked the event at `position` (once, however often a retry fails again).
    pub fn event_parked(
        consumer: &str,
        position: i64,
        event_type: &str,
        error: &str,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            kind: Kind::EventParked,
            key: format!("event_parked:{consumer}:{position}"),
            tenant_id: None,
            subject: consumer.to_owned(),
            detail: json!({ "position": position, "event_type": event_type, "error": error }),
            at,
        }
    }

    /// The mail `mail` (its outbox id), with subject line `mail_subject`, was given up.
    pub fn mail_given_up(mail: Uuid, mail_subject: &str, error: &str, at: DateTime<Utc>) -> Self {
        Self {
            kind: Kind::MailGivenUp,
            key: format!("mail_given_up:{mail}"),
            tenant_id: None,
            subject: mail_subject.to_owned(),
            detail: json!({ "mail_id": mail, "error": error }),
            at,
        }
    }

    /// The usage report `report` (its meter event identifier) was given up.
    pub fn usage_report_given_up(report: &str, error: &str, at: DateTime<Utc>) -> Self {
        Self {
            kind: Kind::UsageReportGivenUp,
            key: format!("usage_report_given_up:{report}"),
            tenant_id: None,
            subject: report.to_owned(),
            detail: json!({ "error": error }),
            at,
        }
    }

    // The usage monitor (issue 18).
    /// The tenant's estimated AI cost in the UTC month starting `month` reached its
    /// threshold of `threshold_usd_cents` (once per tenant and month, whatever the
    /// threshold does afterwards).
    pub fn ai_spend_threshold_reached(
        tenant: Uuid,
        tenant_name: Option<&str>,
        month: NaiveDate,
        estimated_cost_usd: f64,
        threshold_usd_cents: i64,
        at: DateTime<Utc>,
    ) -> Self {
        let month = month.format("%Y-%m").to_string();
        Self {
            kind: Kind::AiSpendThresholdReached,
            key: format!("ai_spend_threshold_reached:{tenant}:{month}"),
            tenant_id: Some(tenant),
            subject: tenant_name.unwrap_or_default().to_owned(),
            detail: json!({
                "month": month,
                "estimated_cost_usd": estimated_cost_usd,
                "threshold_usd_cents": threshold_usd_cents,
            }),
            at,
        }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Its key: the same fact, the same key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// What [`CHANNEL`] carries (JSON): a notification was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Raised {
    /// Its id.
    pub id: i64,
    /// Its kind.
    pub kind: Kind,
}

/// Raises `notice` in `db`'s transaction, and announces it on [`CHANNEL`] when it commits.
/// Returns its id, or `None` when that fact was raised already.
#[tracing::instrument(name = "raising an admin notification", skip_all, fields(kind = notice.kind.as_str()))]
pub async fn raise(db: &mut PgConnection, notice: &Notice) -> Result<Option<i64>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO admin_notifications (key, kind, tenant_id, subject, detail, at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (key) DO NOTHING RETURNING id",
    )
    .bind(&notice.key)
    .bind(notice.kind.as_str())
    .bind(notice.tenant_id)
    .bind(&notice.subject)
    .bind(&notice.detail)
    .bind(notice.at)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(id) = id {
        let raised = Raised {
            id,
            kind: notice.kind,
        };
        let payload = serde_json::to_string(&raised).unwrap_or_default();
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *db)
            .await?;
        tracing::info!(id, "an admin notification was raised");
    }
    Ok(id)
}

/// [`raise`] on a connection of `pool`, for facts recorded outside a transaction.
pub async fn raise_now(pool: &PgPool, notice: &Notice) -> Result<Option<i64>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    raise(&mut conn, notice).await
}

/// One notification as an admin sees it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Notification {
    /// Its id; newer ones have greater ids.
    pub id: i64,
    /// Its kind ([`Kind::as_str`]).
    pub kind: String,
    /// The tenant concerned, if any.
    pub tenant_id: Option<Uuid>,
    /// What it is about: the tenant's name, the IP, the consumer, the mail's subject line,
    /// the report's identifier.
    pub subject: String,
    /// The kind's particulars.
    pub detail: Value,
    /// When the fact happened.
    pub at: DateTime<Utc>,
    /// Whether this admin has read it.
    pub read: bool,
}

/// Up to `limit` of the notifications `admin` sees, newest first, older than id `before`
/// if given, only those `admin` has not read if `unread_only`.
pub async fn page(
    pool: &PgPool,
    admin: Uuid,
    before: Option<i64>,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<Notification>, sqlx::Error> {
    sqlx::query_as(
        "SELECT n.id, n.kind, n.tenant_id, n.subject, n.detail, n.at, r.user_id IS NOT NULL AS read
           FROM admin_notifications n
           LEFT JOIN admin_notification_reads r ON r.notification_id = n.id AND r.user_id = $1
          WHERE ($2::bigint IS NULL OR n.id < $2)
            AND (NOT $3 OR r.user_id IS NULL)
          ORDER BY n.id DESC LIMIT $4",
    )
    .bind(admin)
    .bind(before)
    .bind(unread_only)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many notifications `admin` has not read.
pub async fn unread_count(pool: &PgPool, admin: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT count(*) FROM admin_notifications n
          WHERE NOT EXISTS (SELECT 1 FROM admin_notification_reads r
                             WHERE r.notification_id = n.id AND r.user_id = $1)",
    )
    .bind(admin)
    .fetch_one(pool)
    .await
}

/// Marks notification `id` read by `admin`; `false` when there is no such notification.
/// Reading one twice changes nothing.
pub async fn mark_read(pool: &PgPool, id: i64, admin: Uuid) -> Result<bool, sqlx::Error> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM admin_notifications WHERE id = $1)")
            .bind(id)
            .fetch_one(pool)
            .await?;
    if exists {
        sqlx::query(
            "INSERT INTO admin_notification_reads (notification_id, user_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(admin)
        .execute(pool)
        .await?;
    }
    Ok(exists)
}

/// Marks every notification up to id `up_to` (all of them without it) read by `admin`;
/// returns how many were unread. A console passes the newest id it showed, so a
/// notification raised meanwhile stays unread.
pub async fn mark_all_read(
    pool: &PgPool,
    admin: Uuid,
    up_to: Option<i64>,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "INSERT INTO admin_notification_reads (notification_id, user_id)
         SELECT id, $1 FROM admin_notifications WHERE $2::bigint IS NULL OR id <= $2
         ON CONFLICT DO NOTHING",
    )
    .bind(admin)
    .bind(up_to)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_fact_has_the_same_key_and_another_fact_another() {
        let at = Utc::now();
        let tenant = Uuid::now_v7();
        assert_eq!(
            Notice::payment_failed(tenant, None, "in_1", 2, at).key(),
            Notice::payment_failed(tenant, Some("Loja"), "in_1", 2, at).key()
        );
        assert_ne!(
            Notice::payment_failed(tenant, None, "in_1", 2, at).key(),
            Notice::payment_failed(tenant, None, "in_1", 3, at).key()
        );
        assert_ne!(
            Notice::event_parked("a", 7, "T", "e", at).key(),
            Notice::event_parked("b", 7, "T", "e", at).key()
        );
    }

    #[test]
    fn every_kind_has_a_distinct_stored_name_that_serde_agrees_with() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        for k in Kind::ALL {
            assert_eq!(serde_json::to_value(k).unwrap(), json!(k.as_str()));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
    }
}

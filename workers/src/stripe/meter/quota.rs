//! The quota alert (F24): when a tenant's AI answers in a billing period reach 80% of its
//! plan's quota, its owners get one e-mail and admins one row in `quota_alerts`
//! (`GET /api/v1/admin/quota-alerts`) and one notification, once per tenant and period.

use chrono::{DateTime, NaiveDate, Utc};
use integrations::mailer::{date_pattern, enqueue, tenant_locale, NewMail, PublicUrl, Template};
use sqlx::PgConnection;
use stream::HandlerError;
use uuid::Uuid;

/// The share of the quota that raises the alert, in percent.
pub const ALERT_PERCENT: i64 = 80;

/// Whether `used` answers reach the alert threshold of `quota`.
pub fn reached(used: i64, quota: i64) -> bool {
    quota > 0 && used.saturating_mul(100) >= quota.saturating_mul(ALERT_PERCENT)
}

/// An alert to raise.
#[derive(Debug)]
pub(super) struct Alert<'a> {
    pub tenant: Uuid,
    pub tenant_name: Option<String>,
    pub plan: &'a str,
    pub quota: i64,
    pub used: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub at: DateTime<Utc>,
}

/// Records the alert and queues the owners' e-mails, unless this period already has one.
#[tracing::instrument(name = "raising a quota alert", skip_all, fields(tenant = %alert.tenant))]
pub(super) async fn raise(
    db: &mut PgConnection,
    alert: &Alert<'_>,
    public_url: &PublicUrl,
) -> Result<(), HandlerError> {
    let owners: Vec<String> = sqlx::query_scalar(
        "SELECT email FROM users
          WHERE tenant_id = $1 AND role = 'owner' AND disabled_at IS NULL ORDER BY email",
    )
    .bind(alert.tenant)
    .fetch_all(&mut *db)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO quota_alerts (tenant_id, period_start, period_end, tenant_name, plan,
             quota, ai_replies, owners_mailed, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, period_start) DO NOTHING",
    )
    .bind(alert.tenant)
    .bind(alert.period_start)
    .bind(alert.period_end)
    .bind(&alert.tenant_name)
    .bind(alert.plan)
    .bind(alert.quota)
    .bind(alert.used)
    .bind(i32::try_from(owners.len()).unwrap_or(i32::MAX))
    .bind(alert.at)
    .execute(&mut *db)
    .await?
    .rows_affected()
        > 0;
    if !inserted {
        return Ok(());
    }
    let notice = stream::notifications::Notice::quota_reached(
        alert.tenant,
        alert.tenant_name.as_deref(),
        alert.period_start,
        alert.used,
        alert.quota,
        alert.at,
    );
    stream::notifications::raise(&mut *db, &notice).await?;
    tracing::info!(
        used = alert.used,
        quota = alert.quota,
        "a tenant reached 80% of its quota"
    );
    let last_day = alert.period_end.pred_opt().unwrap_or(alert.period_end);
    let locale = tenant_locale(&mut *db, alert.tenant).await?;
    for owner in owners {
        let mail = NewMail {
            idempotency_key: format!(
                "quota-alert:{}:{}:{owner}",
                alert.tenant, alert.period_start
            ),
            to: owner,
            locale,
            template: Template::QuotaAlert {
                tenant_name: alert.tenant_name.clone().unwrap_or_default(),
                used: alert.used,
                quota: alert.quota,
                period_last_day: last_day.format(date_pattern(locale)).to_string(),
                billing_url: public_url.link("/billing"),
            },
        };
        match enqueue(&mut *db, &mail).await {
            Ok(_) => {}
            // A stored address lettre cannot parse must not stop metering.
            Err(integrations::mailer::MailError::InvalidAddress(a)) => {
                tracing::warn!(address = %a, "an owner's address cannot receive the quota alert");
            }
            Err(integrations::mailer::MailError::Database(e)) => return Err(e.into()),
            Err(e) => return Err(HandlerError::Rejected(e.to_string())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::reached;

    #[test]
    fn the_alert_fires_at_eighty_percent_of_a_positive_quota() {
        assert!(!reached(799, 1000));
        assert!(reached(800, 1000));
        assert!(reached(4, 5));
        assert!(!reached(3, 5));
        assert!(!reached(10, 0));
    }
}

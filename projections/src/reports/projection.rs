//! The `admin_reports` projection.

use crate::metrics::payload;
use chrono::Datelike;
use schemas::StoredEvent;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};

/// Keeps the report tables up to date.
#[derive(Debug, Clone, Copy)]
pub struct AdminReports;

impl AdminReports {
    async fn tenant_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let tenant = payload::aggregate_uuid(event)?;
        let status = match event.event_type.as_str() {
            "TenantRegistered" => {
                sqlx::query(
                    "INSERT INTO report_tenants (tenant_id, name, plan, status, registered_at,
                         last_sequence)
                     VALUES ($1, $2, $3, 'active', $4, $5)
                     ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(tenant)
                .bind(payload::text(event, "name")?)
                .bind(payload::text(event, "plan")?)
                .bind(payload::at(event)?)
                .bind(event.sequence)
                .execute(db)
                .await?;
                return Ok(());
            }
            "TenantSuspended" => "suspended",
            "TenantReactivated" => "active",
            _ => return Ok(()),
        };
        // Only status changes move the guard: a redelivered older change is then skipped.
        sqlx::query(
            "UPDATE report_tenants SET status = $2, last_sequence = $3
              WHERE tenant_id = $1 AND last_sequence < $3",
        )
        .bind(tenant)
        .bind(status)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn subscription_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let tenant = payload::aggregate_uuid(event)?;
        let complimentary = match event.event_type.as_str() {
            "SubscriptionStarted" => false,
            "ComplimentarySubscriptionStarted" => true,
            _ => return self.subscription_change(db, event).await,
        };
        sqlx::query(
            "INSERT INTO report_subscriptions (tenant_id, plan, status, complimentary,
                 started_at, last_sequence)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(payload::text(event, "plan")?)
        .bind(payload::text(event, "status")?)
        .bind(complimentary)
        .bind(payload::at(event)?)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Every event after the start, mirroring `Subscription::apply`.
    async fn subscription_change(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let at = payload::at(event)?;
        // (new status, new plan, cancellation time); `None` keeps the column.
        let (status, plan, cancelled_at) = match event.event_type.as_str() {
            "PaymentSucceeded" => (Some("active"), None, None),
            // The CASE below keeps a suspension or cancellation: a retry failing after
            // suspension must not lift it.
            "PaymentFailed" => (Some("past_due"), None, None),
            "GracePeriodExpired" => (Some("suspended"), None, None),
            "SubscriptionCancelled" => (Some("cancelled"), None, Some(at)),
            "PlanChanged" => (None, Some(payload::text(event, "to")?), None),
            _ => return Ok(()),
        };
        let applied = sqlx::query(
            "UPDATE report_subscriptions SET
                 status = CASE
                     WHEN $3::text IS NULL THEN status
                     WHEN $3 = 'past_due' AND status IN ('suspended', 'cancelled') THEN status
                     ELSE $3 END,
                 plan = COALESCE($4::text, plan),
                 cancelled_at = COALESCE($5::timestamptz, cancelled_at),
                 last_sequence = $2
              WHERE tenant_id = $1 AND last_sequence < $2",
        )
        .bind(payload::aggregate_uuid(event)?)
        .bind(event.sequence)
        .bind(status)
        .bind(plan)
        .bind(cancelled_at)
        .execute(&mut *db)
        .await?
        .rows_affected()
            > 0;
        if applied && event.event_type == "PaymentSucceeded" {
            let month = at
                .date_naive()
                .with_day(1)
                .ok_or_else(|| HandlerError::Rejected("no first day of the month".into()))?;
            sqlx::query(
                "INSERT INTO report_revenue (month, currency, amount_cents, payments)
                 VALUES ($1, $2, $3, 1)
                 ON CONFLICT (month, currency) DO UPDATE SET
                     amount_cents = report_revenue.amount_cents + EXCLUDED.amount_cents,
                     payments = report_revenue.payments + 1",
            )
            .bind(month)
            .bind(payload::text(event, "currency")?.to_ascii_lowercase())
            .bind(payload::integer(event, "amount_cents")?)
            .execute(db)
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for AdminReports {
    fn name(&self) -> &'static str {
        "admin_reports"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["tenant", "subscription"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        matches!(event.aggregate_type.as_str(), "tenant" | "subscription")
    }

    fn pace(&self) -> std::time::Duration {
        stream::handler::BACKGROUND_PACE
    }

    fn tables(&self) -> &'static [&'static str] {
        &["report_tenants", "report_subscriptions", "report_revenue"]
    }

    #[tracing::instrument(name = "projecting an event into the admin reports", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        match event.aggregate_type.as_str() {
            "tenant" => self.tenant_event(db, event).await,
            "subscription" => self.subscription_event(db, event).await,
            _ => Ok(()),
        }
    }
}

//! The `admin_reports` projection.

use chrono::Datelike;
use schemas::events::SubscriptionStatus;
use schemas::EventType;
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
        let tenant = event.aggregate_uuid()?;
        let status = match event.kind() {
            Some(EventType::TenantRegistered) => {
                sqlx::query(
                    "INSERT INTO report_tenants (tenant_id, name, plan, status, registered_at,
                         last_sequence)
                     VALUES ($1, $2, $3, 'active', $4, $5)
                     ON CONFLICT (tenant_id) DO NOTHING",
                )
                .bind(tenant)
                .bind(event.text("name")?)
                .bind(event.text("plan")?)
                .bind(event.at()?)
                .bind(event.sequence)
                .execute(db)
                .await?;
                return Ok(());
            }
            Some(EventType::TenantSuspended) => "suspended",
            Some(EventType::TenantReactivated) => "active",
            Some(EventType::TenantRenamed) => {
                // A name is no status: it moves no guard, and the latest rename wins because
                // a tenant's events arrive in its own order.
                sqlx::query("UPDATE report_tenants SET name = $2 WHERE tenant_id = $1")
                    .bind(tenant)
                    .bind(event.text("name")?)
                    .execute(db)
                    .await?;
                return Ok(());
            }
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
        let tenant = event.aggregate_uuid()?;
        let complimentary = match event.kind() {
            Some(EventType::SubscriptionStarted) => false,
            Some(EventType::ComplimentarySubscriptionStarted) => true,
            _ => return self.subscription_change(db, event).await,
        };
        let status = event.text("status")?;
        sqlx::query(
            "INSERT INTO report_subscriptions (tenant_id, plan, status, complimentary,
                 started_at, plan_since, last_sequence, trialed)
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7)
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(event.text("plan")?)
        .bind(status)
        .bind(complimentary)
        .bind(event.at()?)
        .bind(event.sequence)
        .bind(status == SubscriptionStatus::Trialing.as_str())
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
        let at = event.at()?;
        // (new status, new plan, cancellation time); `None` keeps the column.
        let (status, plan, cancelled_at) = match event.kind() {
            Some(EventType::PaymentSucceeded) => (Some("active"), None, None),
            // The CASE below keeps a suspension or cancellation: a retry failing after
            // suspension must not lift it.
            Some(EventType::PaymentFailed) => (Some("past_due"), None, None),
            Some(EventType::GracePeriodExpired) => (Some("suspended"), None, None),
            Some(EventType::SubscriptionCancelled) => (Some("cancelled"), None, Some(at)),
            Some(EventType::PlanChanged) => (None, Some(event.text("to")?), None),
            // Changes no column, but moves the guard so a redelivery is not counted twice.
            Some(EventType::PaymentRefunded) => (None, None, None),
            _ => return Ok(()),
        };
        // A zero invoice (a trial's first one) is no payment: it converts nothing.
        let first_paid = (event.is(EventType::PaymentSucceeded)
            && event.integer("amount_cents")? > 0)
            .then_some(at);
        let applied = sqlx::query(
            "UPDATE report_subscriptions SET
                 status = CASE
                     WHEN $3::text IS NULL THEN status
                     WHEN $3 = 'past_due' AND status IN ('suspended', 'cancelled') THEN status
                     ELSE $3 END,
                 plan = COALESCE($4::text, plan),
                 plan_since = CASE WHEN $4::text IS NOT NULL AND $4 <> plan THEN $6
                                   ELSE plan_since END,
                 cancelled_at = COALESCE($5::timestamptz, cancelled_at),
                 first_paid_at = COALESCE(first_paid_at, $7::timestamptz),
                 last_sequence = $2
              WHERE tenant_id = $1 AND last_sequence < $2",
        )
        .bind(event.aggregate_uuid()?)
        .bind(event.sequence)
        .bind(status)
        .bind(plan)
        .bind(cancelled_at)
        .bind(at)
        .bind(first_paid)
        .execute(&mut *db)
        .await?
        .rows_affected()
            > 0;
        if applied && event.is(EventType::PaymentSucceeded) {
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
            .bind(event.text("currency")?.to_ascii_lowercase())
            .bind(event.integer("amount_cents")?)
            .execute(&mut *db)
            .await?;
        }
        if applied && event.is(EventType::PaymentRefunded) {
            // Counted in the month it is recorded: months already reported stay as they were.
            let month = at
                .date_naive()
                .with_day(1)
                .ok_or_else(|| HandlerError::Rejected("no first day of the month".into()))?;
            let refunded = event.integer("amount_cents")?;
            sqlx::query(
                "INSERT INTO report_revenue (month, currency, amount_cents, payments,
                     refunded_cents, refunds)
                 VALUES ($1, $2, -$3, 0, $3, 1)
                 ON CONFLICT (month, currency) DO UPDATE SET
                     amount_cents = report_revenue.amount_cents - EXCLUDED.refunded_cents,
                     refunded_cents = report_revenue.refunded_cents + EXCLUDED.refunded_cents,
                     refunds = report_revenue.refunds + 1",
            )
            .bind(month)
            .bind(event.text("currency")?.to_ascii_lowercase())
            .bind(refunded)
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

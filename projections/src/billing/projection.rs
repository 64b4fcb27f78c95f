//! The `billing_admin` projection.

use crate::metrics::payload;
use schemas::StoredEvent;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};

/// Keeps `billing_subscriptions` and `billing_payments` up to date.
#[derive(Debug, Clone, Copy)]
pub struct BillingAdmin;

impl BillingAdmin {
    async fn start(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        complimentary: bool,
    ) -> Result<(), HandlerError> {
        let text = |name| payload::field(event, name).and_then(|v| v.as_str().map(str::to_owned));
        sqlx::query(
            "INSERT INTO billing_subscriptions (tenant_id, stripe_customer_id,
                 stripe_subscription_id, plan, status, complimentary, trial_end, started_at,
                 updated_at, last_sequence)
             VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $8, $9)
             ON CONFLICT (tenant_id) DO NOTHING",
        )
        .bind(payload::aggregate_uuid(event)?)
        .bind(text("stripe_customer_id"))
        .bind(text("stripe_subscription_id"))
        .bind(payload::text(event, "plan")?)
        .bind(payload::text(event, "status")?)
        .bind(complimentary)
        .bind(text("trial_end"))
        .bind(payload::at(event)?)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    /// A cancellation scheduled for the period's end, or undone.
    async fn schedule(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let scheduled = payload::field(event, "cancel_at_period_end")
            .and_then(|v| v.as_bool())
            .ok_or_else(|| {
                HandlerError::Rejected(
                    "CancelAtPeriodEndChanged has no cancel_at_period_end".into(),
                )
            })?;
        sqlx::query(
            "UPDATE billing_subscriptions
                SET cancel_at_period_end = $3, updated_at = $4, last_sequence = $2
              WHERE tenant_id = $1 AND last_sequence < $2",
        )
        .bind(payload::aggregate_uuid(event)?)
        .bind(event.sequence)
        .bind(scheduled)
        .bind(payload::at(event)?)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Every event after the start, mirroring `Subscription::apply`.
    async fn change(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        let at = payload::at(event)?;
        let (status, plan, reason, paid_until) = match event.event_type.as_str() {
            "PaymentSucceeded" => (
                Some("active"),
                None,
                None,
                Some(payload::text(event, "period_end")?),
            ),
            "PaymentFailed" => (Some("past_due"), None, None, None),
            "GracePeriodExpired" => (Some("suspended"), None, None, None),
            "SubscriptionCancelled" => (
                Some("cancelled"),
                None,
                Some(payload::text(event, "reason")?),
                None,
            ),
            "PlanChanged" => (None, Some(payload::text(event, "to")?), None, None),
            _ => return Ok(()),
        };
        let tenant = payload::aggregate_uuid(event)?;
        sqlx::query(
            "UPDATE billing_subscriptions SET
                 status = CASE
                     WHEN $3::text IS NULL THEN status
                     -- A retry failing after suspension must not lift it.
                     WHEN $3 = 'past_due' AND status IN ('suspended', 'cancelled') THEN status
                     ELSE $3 END,
                 plan = COALESCE($4::text, plan),
                 cancelled_at = CASE WHEN $5::text IS NULL THEN cancelled_at ELSE $7 END,
                 cancel_reason = COALESCE($5::text, cancel_reason),
                 paid_until = GREATEST(paid_until, $6::timestamptz),
                 updated_at = $7,
                 last_sequence = $2
              WHERE tenant_id = $1 AND last_sequence < $2",
        )
        .bind(tenant)
        .bind(event.sequence)
        .bind(status)
        .bind(plan)
        .bind(reason)
        .bind(paid_until)
        .bind(at)
        .execute(&mut *db)
        .await?;
        let outcome = match event.event_type.as_str() {
            "PaymentSucceeded" => "succeeded",
            "PaymentFailed" => "failed",
            _ => return Ok(()),
        };
        // Keyed by position: a redelivered event writes the same row again, not a new one.
        let amount = payload::field(event, "amount_cents").and_then(|v| v.as_i64());
        let currency = payload::field(event, "currency")
            .and_then(|v| v.as_str())
            .map(str::to_ascii_lowercase);
        let attempt = payload::field(event, "attempt").and_then(|v| v.as_i64());
        let period_end = payload::field(event, "period_end").and_then(|v| v.as_str());
        sqlx::query(
            "INSERT INTO billing_payments (position, tenant_id, invoice_id, status, amount_cents,
                 currency, attempt, period_end, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7::int4, $8::timestamptz, $9)
             ON CONFLICT (position) DO NOTHING",
        )
        .bind(event.position)
        .bind(tenant)
        .bind(payload::text(event, "invoice_id")?)
        .bind(outcome)
        .bind(amount)
        .bind(currency)
        .bind(attempt.and_then(|a| i32::try_from(a).ok()))
        .bind(period_end)
        .bind(at)
        .execute(db)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for BillingAdmin {
    fn name(&self) -> &'static str {
        "billing_admin"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["subscription"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "subscription"
    }

    fn pace(&self) -> std::time::Duration {
        stream::handler::BACKGROUND_PACE
    }

    fn tables(&self) -> &'static [&'static str] {
        &["billing_subscriptions", "billing_payments"]
    }

    #[tracing::instrument(name = "projecting a subscription event into the billing views",
        skip_all, fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "subscription" {
            return Ok(());
        }
        match event.event_type.as_str() {
            "SubscriptionStarted" => self.start(db, event, false).await,
            "ComplimentarySubscriptionStarted" => self.start(db, event, true).await,
            "CancelAtPeriodEndChanged" => self.schedule(db, event).await,
            _ => self.change(db, event).await,
        }
    }
}

//! The `billing_admin` projection.

use schemas::EventType;
use schemas::StoredEvent;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};

/// Keeps `billing_subscriptions`, `billing_payments` and `billing_refunds` up to date.
#[derive(Debug, Clone, Copy)]
pub struct BillingAdmin;

impl BillingAdmin {
    async fn start(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        complimentary: bool,
    ) -> Result<(), HandlerError> {
        let text = |name| {
            event
                .field(name)
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        sqlx::query(
            "INSERT INTO billing_subscriptions (tenant_id, stripe_customer_id,
                 stripe_subscription_id, plan, status, complimentary, trial_end, started_at,
                 updated_at, last_sequence)
             VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8, $8, $9)
             -- A start after a cancellation (the tenant subscribed again) replaces the
             -- cancelled subscription's row, as the aggregate does.
             ON CONFLICT (tenant_id) DO UPDATE SET
                 stripe_customer_id = EXCLUDED.stripe_customer_id,
                 stripe_subscription_id = EXCLUDED.stripe_subscription_id,
                 plan = EXCLUDED.plan,
                 status = EXCLUDED.status,
                 complimentary = EXCLUDED.complimentary,
                 trial_end = EXCLUDED.trial_end,
                 started_at = EXCLUDED.started_at,
                 cancelled_at = NULL,
                 cancel_reason = NULL,
                 cancel_at_period_end = false,
                 updated_at = EXCLUDED.updated_at,
                 last_sequence = EXCLUDED.last_sequence
             WHERE billing_subscriptions.last_sequence < EXCLUDED.last_sequence",
        )
        .bind(event.aggregate_uuid()?)
        .bind(text("stripe_customer_id"))
        .bind(text("stripe_subscription_id"))
        .bind(event.text("plan")?)
        .bind(event.text("status")?)
        .bind(complimentary)
        .bind(text("trial_end"))
        .bind(event.at()?)
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
        let scheduled = event
            .field("cancel_at_period_end")
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
        .bind(event.aggregate_uuid()?)
        .bind(event.sequence)
        .bind(scheduled)
        .bind(event.at()?)
        .execute(db)
        .await?;
        Ok(())
    }

    /// A refund: one row per event, so a redelivered event adds nothing.
    async fn refund(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO billing_refunds (position, tenant_id, refund_id, invoice_id,
                 amount_cents, currency, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (position) DO NOTHING",
        )
        .bind(event.position)
        .bind(event.aggregate_uuid()?)
        .bind(event.text("refund_id")?)
        .bind(event.text("invoice_id")?)
        .bind(event.integer("amount_cents")?)
        .bind(event.text("currency")?.to_ascii_lowercase())
        .bind(event.at()?)
        .execute(&mut *db)
        .await?;
        Ok(())
    }

    /// Every event after the start, mirroring `Subscription::apply`.
    async fn change(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        let at = event.at()?;
        let (status, plan, reason, paid_until) = match event.kind() {
            Some(EventType::PaymentSucceeded) => {
                (Some("active"), None, None, Some(event.text("period_end")?))
            }
            Some(EventType::PaymentFailed) => (Some("past_due"), None, None, None),
            Some(EventType::GracePeriodExpired) => (Some("suspended"), None, None, None),
            Some(EventType::SubscriptionCancelled) => {
                (Some("cancelled"), None, Some(event.text("reason")?), None)
            }
            Some(EventType::PlanChanged) => (None, Some(event.text("to")?), None, None),
            _ => return Ok(()),
        };
        let tenant = event.aggregate_uuid()?;
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
        let outcome = match event.kind() {
            Some(EventType::PaymentSucceeded) => "succeeded",
            Some(EventType::PaymentFailed) => "failed",
            _ => return Ok(()),
        };
        // Keyed by position: a redelivered event writes the same row again, not a new one.
        let amount = event.field("amount_cents").and_then(|v| v.as_i64());
        let currency = event
            .field("currency")
            .and_then(|v| v.as_str())
            .map(str::to_ascii_lowercase);
        let attempt = event.field("attempt").and_then(|v| v.as_i64());
        let period_end = event.field("period_end").and_then(|v| v.as_str());
        sqlx::query(
            "INSERT INTO billing_payments (position, tenant_id, invoice_id, status, amount_cents,
                 currency, attempt, period_end, at)
             VALUES ($1, $2, $3, $4, $5, $6, $7::int4, $8::timestamptz, $9)
             ON CONFLICT (position) DO NOTHING",
        )
        .bind(event.position)
        .bind(tenant)
        .bind(event.text("invoice_id")?)
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
        &[
            "billing_subscriptions",
            "billing_payments",
            "billing_refunds",
        ]
    }

    #[tracing::instrument(name = "projecting a subscription event into the billing views",
        skip_all, fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "subscription" {
            return Ok(());
        }
        match event.kind() {
            Some(EventType::SubscriptionStarted) => self.start(db, event, false).await,
            Some(EventType::ComplimentarySubscriptionStarted) => self.start(db, event, true).await,
            Some(EventType::CancelAtPeriodEndChanged) => self.schedule(db, event).await,
            Some(EventType::PaymentRefunded) => self.refund(db, event).await,
            _ => self.change(db, event).await,
        }
    }
}

//! `ai_spend_watch` (issue 18, the usage monitor): follows the AI's answers and the spend
//! thresholds admins set, in commit order, and raises one admin notification per tenant and
//! UTC month when the tenant's estimated AI cost that month reaches its threshold.
//!
//! - The threshold of a tenant is its own when set, else the global one, else none.
//! - "Reaches" counts: a cost equal to the threshold notifies. Costs are compared in
//!   millionths of a dollar, rounded ([`reached`]), so a cost the page shows as the
//!   threshold's amount is not left out by a floating-point residue.
//! - The cost is the month's tokens per model priced with the configured model prices (the
//!   same price table and rounding the usage pages use); models without a price cost nothing.
//! - Each answer counts once: a conversation's sequence guards it against replays and
//!   redeliveries, and the notification's key (tenant and month) makes raising it again a
//!   no-op. A threshold changed after the month's notification raises no second one; a new
//!   month starts from zero and notifies again.
//! - A threshold only ever raises a notification: it refuses nothing (the AI limits do).
//!
//! Its tables also answer `GET /api/v1/admin/ai-spend-thresholds`.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use schemas::events::{AiSpendEvent, ConversationEvent, GLOBAL_AI_SPEND_SCOPE};
use schemas::plans::ModelPrices;
use schemas::{AnyEvent, EventType, StoredEvent};
use sqlx::PgConnection;
use std::sync::Arc;
use stream::notifications::{raise, Notice};
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

#[cfg(test)]
mod tests;

/// Whether an estimated cost of `cost_usd` reaches a threshold of `threshold_usd_cents`.
pub fn reached(cost_usd: f64, threshold_usd_cents: i64) -> bool {
    // Costs stay far below 2^53 millionths of a dollar: the conversion is exact enough.
    let micros = (cost_usd * 1_000_000.0).round() as i64;
    micros >= threshold_usd_cents.saturating_mul(10_000)
}

/// The first day of the UTC month of `at`.
pub fn month_of(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    day.with_day(1).unwrap_or(day)
}

/// The consumer. Not replayable: it raises notifications, which are no read model.
#[derive(Debug, Clone)]
pub struct AiSpendWatch {
    prices: Arc<ModelPrices>,
}

impl AiSpendWatch {
    /// The consumer name its checkpoint is stored under.
    pub const NAME: &'static str = "ai_spend_watch";

    /// A watch pricing answers with `prices`.
    pub fn new(prices: Arc<ModelPrices>) -> Self {
        Self { prices }
    }

    async fn threshold_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        change: AiSpendEvent,
    ) -> Result<(), HandlerError> {
        let (tenant, cents, admin, at) = match change {
            AiSpendEvent::AiSpendThresholdSet {
                tenant_id,
                monthly_usd_cents,
                admin_id,
                at,
            } => (tenant_id, Some(monthly_usd_cents), admin_id, at),
            AiSpendEvent::AiSpendThresholdCleared {
                tenant_id,
                admin_id,
                at,
            } => (tenant_id, None, admin_id, at),
        };
        // A cleared threshold keeps its row (and its sequence guard) with no amount.
        sqlx::query(
            "INSERT INTO ai_spend_thresholds (scope, tenant_id, monthly_usd_cents, admin_id, at,
                 last_sequence)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (scope) DO UPDATE SET monthly_usd_cents = EXCLUDED.monthly_usd_cents,
                 admin_id = EXCLUDED.admin_id, at = EXCLUDED.at,
                 last_sequence = EXCLUDED.last_sequence
             WHERE ai_spend_thresholds.last_sequence < EXCLUDED.last_sequence",
        )
        .bind(&event.aggregate_id)
        .bind(tenant)
        .bind(cents)
        .bind(admin)
        .bind(at)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn answer(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        model: &str,
        tokens: (i64, i64),
        at: DateTime<Utc>,
    ) -> Result<(), HandlerError> {
        let known: Option<(Uuid, i64)> = sqlx::query_as(
            "SELECT tenant_id, last_sequence FROM ai_spend_conversations
              WHERE conversation_id = $1 FOR UPDATE",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *db)
        .await?;
        let tenant = match known {
            // Per-aggregate order holds in the tail: anything not newer was counted.
            Some((_, applied)) if applied >= event.sequence => return Ok(()),
            Some((tenant, _)) => tenant,
            // Every answer names its tenant in its metadata.
            None => match event
                .metadata
                .get("tenant_id")
                .and_then(|t| t.parse::<Uuid>().ok())
            {
                Some(tenant) => tenant,
                None => return Ok(()),
            },
        };
        sqlx::query(
            "INSERT INTO ai_spend_conversations (conversation_id, tenant_id, last_sequence)
             VALUES ($1, $2, $3)
             ON CONFLICT (conversation_id) DO UPDATE SET last_sequence = EXCLUDED.last_sequence",
        )
        .bind(&event.aggregate_id)
        .bind(tenant)
        .bind(event.sequence)
        .execute(&mut *db)
        .await?;
        let month = month_of(at);
        sqlx::query(
            "INSERT INTO ai_spend_monthly (tenant_id, month, model, ai_replies, tokens_in,
                 tokens_out)
             VALUES ($1, $2, $3, 1, $4, $5)
             ON CONFLICT (tenant_id, month, model) DO UPDATE SET
                 ai_replies = ai_spend_monthly.ai_replies + 1,
                 tokens_in = ai_spend_monthly.tokens_in + EXCLUDED.tokens_in,
                 tokens_out = ai_spend_monthly.tokens_out + EXCLUDED.tokens_out",
        )
        .bind(tenant)
        .bind(month)
        .bind(model)
        .bind(tokens.0)
        .bind(tokens.1)
        .execute(&mut *db)
        .await?;
        // The tenant's own threshold, else the global one; a cleared one has no amount.
        let threshold: Option<i64> = sqlx::query_scalar(
            "SELECT monthly_usd_cents FROM ai_spend_thresholds
              WHERE scope IN ($1, $2) AND monthly_usd_cents IS NOT NULL
              ORDER BY scope = $2 LIMIT 1",
        )
        .bind(tenant.to_string())
        .bind(GLOBAL_AI_SPEND_SCOPE)
        .fetch_optional(&mut *db)
        .await?;
        let Some(threshold) = threshold else {
            return Ok(());
        };
        let models: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT model, tokens_in, tokens_out FROM ai_spend_monthly
              WHERE tenant_id = $1 AND month = $2",
        )
        .bind(tenant)
        .bind(month)
        .fetch_all(&mut *db)
        .await?;
        let cost: f64 = models
            .iter()
            .filter_map(|(m, tin, tout)| self.prices.get(m).map(|p| p.cost_usd(*tin, *tout)))
            .sum();
        if !reached(cost, threshold) {
            return Ok(());
        }
        // The directory reads the same tail and may not have got this far: then the
        // notification names the tenant by id.
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM tenant_directory WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_optional(&mut *db)
                .await?;
        let notice =
            Notice::ai_spend_threshold_reached(tenant, name.as_deref(), month, cost, threshold, at);
        if raise(db, &notice).await?.is_some() {
            tracing::info!(%tenant, %month, cost, threshold, "a tenant reached its AI spend threshold");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for AiSpendWatch {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["conversation", "ai_spend_threshold"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.kind().is_some_and(|k| {
            matches!(
                k,
                EventType::AiReplied
                    | EventType::AiSpendThresholdSet
                    | EventType::AiSpendThresholdCleared
            )
        })
    }

    // An answer is judged by the thresholds set before it in the log, across aggregates.
    fn needs_commit_order(&self) -> bool {
        true
    }

    fn pace(&self) -> std::time::Duration {
        stream::BACKGROUND_PACE
    }

    #[tracing::instrument(name = "watching a tenant's AI spend", skip_all,
        fields(position = event.position, event_type = %event.event_type))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if !self.wants(event) {
            return Ok(());
        }
        match event
            .decode()
            .map_err(|e| HandlerError::Rejected(e.to_string()))?
        {
            AnyEvent::AiSpendThreshold(change) => self.threshold_event(db, event, change).await,
            AnyEvent::Conversation(ConversationEvent::AiReplied {
                model,
                tokens_in,
                tokens_out,
                at,
                ..
            }) => {
                self.answer(
                    db,
                    event,
                    &model,
                    (i64::from(tokens_in), i64::from(tokens_out)),
                    at,
                )
                .await
            }
            _ => Ok(()),
        }
    }
}

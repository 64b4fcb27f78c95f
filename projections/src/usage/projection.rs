//! The `tenant_usage` projection.

use crate::metrics::payload;
use crate::{EventHandler, HandlerError};
use schemas::StoredEvent;
use sqlx::PgConnection;
use uuid::Uuid;

/// Keeps the usage tables up to date.
#[derive(Debug, Clone, Copy)]
pub struct TenantUsage;

impl TenantUsage {
    async fn tenant_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        if event.event_type != "TenantRegistered" {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO usage_tenants (tenant_id, registered_plan, last_tenant_sequence)
             VALUES ($1, $2, $3)
             ON CONFLICT (tenant_id) DO UPDATE SET registered_plan = EXCLUDED.registered_plan,
                 last_tenant_sequence = EXCLUDED.last_tenant_sequence
             WHERE usage_tenants.last_tenant_sequence < EXCLUDED.last_tenant_sequence",
        )
        .bind(payload::aggregate_uuid(event)?)
        .bind(payload::text(event, "plan")?)
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
        let (plan, anchor) = match event.event_type.as_str() {
            "SubscriptionStarted" | "ComplimentarySubscriptionStarted" => {
                (payload::text(event, "plan")?, Some(payload::at(event)?))
            }
            "PlanChanged" => (payload::text(event, "to")?, None),
            _ => return Ok(()),
        };
        // The subscription's id is its tenant's id.
        sqlx::query(
            "INSERT INTO usage_tenants (tenant_id, subscription_plan, billing_anchor,
                 last_subscription_sequence)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant_id) DO UPDATE SET
                 subscription_plan = EXCLUDED.subscription_plan,
                 billing_anchor = COALESCE(EXCLUDED.billing_anchor, usage_tenants.billing_anchor),
                 last_subscription_sequence = EXCLUDED.last_subscription_sequence
             WHERE usage_tenants.last_subscription_sequence < EXCLUDED.last_subscription_sequence",
        )
        .bind(payload::aggregate_uuid(event)?)
        .bind(plan)
        .bind(anchor)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }

    async fn conversation_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        // Only these count; the guard below needs only their sequences, because a later
        // counted event always has a higher one.
        if !matches!(event.event_type.as_str(), "MessageReceived" | "AiReplied") {
            return Ok(());
        }
        let known: Option<(Uuid, i64)> = sqlx::query_as(
            "SELECT tenant_id, last_sequence FROM usage_conversations
              WHERE conversation_id = $1",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *db)
        .await?;
        let tenant = match known {
            // Per-aggregate order holds in the tail, so anything not newer was applied.
            Some((_, applied)) if applied >= event.sequence => return Ok(()),
            Some((tenant, _)) => tenant,
            None if event.event_type == "MessageReceived" => payload::uuid(event, "tenant_id")?,
            None => return Ok(()),
        };
        match event.event_type.as_str() {
            "MessageReceived" => {
                sqlx::query(
                    "INSERT INTO usage_daily (tenant_id, day, inbound_messages) VALUES ($1, $2, 1)
                     ON CONFLICT (tenant_id, day) DO UPDATE
                         SET inbound_messages = usage_daily.inbound_messages + 1",
                )
                .bind(tenant)
                .bind(payload::at(event)?.date_naive())
                .execute(&mut *db)
                .await?;
            }
            "AiReplied" => {
                sqlx::query(
                    "INSERT INTO usage_model_daily (tenant_id, day, model, ai_replies, tokens_in,
                         tokens_out)
                     VALUES ($1, $2, $3, 1, $4, $5)
                     ON CONFLICT (tenant_id, day, model) DO UPDATE SET
                         ai_replies = usage_model_daily.ai_replies + 1,
                         tokens_in = usage_model_daily.tokens_in + EXCLUDED.tokens_in,
                         tokens_out = usage_model_daily.tokens_out + EXCLUDED.tokens_out",
                )
                .bind(tenant)
                .bind(payload::at(event)?.date_naive())
                .bind(payload::text(event, "model")?)
                .bind(payload::integer(event, "tokens_in")?)
                .bind(payload::integer(event, "tokens_out")?)
                .execute(&mut *db)
                .await?;
            }
            _ => {}
        }
        sqlx::query(
            "INSERT INTO usage_conversations (conversation_id, tenant_id, last_sequence)
             VALUES ($1, $2, $3)
             ON CONFLICT (conversation_id) DO UPDATE SET last_sequence = EXCLUDED.last_sequence",
        )
        .bind(&event.aggregate_id)
        .bind(tenant)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for TenantUsage {
    fn name(&self) -> &'static str {
        "tenant_usage"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "usage_tenants",
            "usage_conversations",
            "usage_daily",
            "usage_model_daily",
        ]
    }

    #[tracing::instrument(name = "projecting an event into tenant usage", skip_all,
        fields(position = event.position))]
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        match event.aggregate_type.as_str() {
            "tenant" => self.tenant_event(db, event).await,
            "subscription" => self.subscription_event(db, event).await,
            "conversation" => self.conversation_event(db, event).await,
            _ => Ok(()),
        }
    }
}

//! The responder's stream consumer: what it must remember of each conversation, written in
//! the runner's transaction so every event counts exactly once.
//!
//! It schedules bursts (a customer message while the AI answers), keeps the last messages
//! (sealed) as the AI's memory, records answers for the limits, and queues the hand-off
//! e-mail. The answering itself happens in the [scheduler](super::scheduler), outside the
//! runner, because it waits for the burst window and calls models.

use super::limits::{self, Limits};
use super::notify;
use super::MEMORY_MESSAGES;
use crate::mailer::{HandoffCause, PublicUrl};
use chrono::{DateTime, Utc};
use projections::{EventHandler, HandlerError};
use schemas::{CommandMetadata, StoredEvent};
use serde_json::Value;
use sqlx::PgConnection;
use std::time::Duration;
use uuid::Uuid;

/// The channel the consumer notifies when a burst is scheduled, so the scheduler wakes.
pub const NOTIFY_CHANNEL: &str = "ai_pending";

/// The prefix of the idempotency key of every command the responder issues; the rest names
/// the conversation and the last message answered.
pub(crate) const ANSWER_KEY_PREFIX: &str = "ai-answer:";

/// The idempotency key of the answer to the burst ending at `through`.
pub(crate) fn answer_key(conversation_id: &str, through: i64) -> String {
    format!("{ANSWER_KEY_PREFIX}{conversation_id}:{through}")
}

/// The burst position an answer's idempotency key names, if the event is the responder's.
fn answered_through(event: &StoredEvent) -> Option<i64> {
    let key = event.metadata.get("idempotency_key")?;
    let rest = key.strip_prefix(ANSWER_KEY_PREFIX)?;
    rest.rsplit_once(':')?.1.parse().ok()
}

/// The `ai_responder` stream consumer.
#[derive(Debug, Clone)]
pub struct ResponderState {
    burst: Duration,
    public_url: PublicUrl,
    limits: Limits,
}

impl ResponderState {
    /// A consumer scheduling answers `burst` after a conversation's last customer message
    /// and alerting the owner at 80 % of `limits`.
    pub fn new(burst: Duration, public_url: PublicUrl, limits: Limits) -> Self {
        Self {
            burst,
            public_url,
            limits,
        }
    }
}

fn body(event: &StoredEvent) -> Option<&Value> {
    event.payload.get(&event.event_type)
}

fn at_of(event: &StoredEvent) -> DateTime<Utc> {
    body(event)
        .and_then(|b| b.get("at"))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or(event.recorded_at)
}

/// The text a customer message carries, sealed as stored: the text or a media caption.
fn inbound_text(event: &StoredEvent) -> Option<Value> {
    let content = body(event)?.get("content")?;
    content
        .get("text")
        .or_else(|| content.get("media").and_then(|m| m.get("caption")))
        .filter(|v| !v.is_null())
        .cloned()
}

async fn remember(
    db: &mut PgConnection,
    event: &StoredEvent,
    role: &str,
    text: Option<Value>,
) -> Result<(), HandlerError> {
    sqlx::query(
        "INSERT INTO ai_memory (conversation_id, position, role, text, at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&event.aggregate_id)
    .bind(event.position)
    .bind(role)
    .bind(text)
    .bind(at_of(event))
    .execute(&mut *db)
    .await?;
    // Only the newest messages are ever read; older ones would only hold personal data.
    sqlx::query(
        "DELETE FROM ai_memory WHERE conversation_id = $1 AND position < (
             SELECT position FROM ai_memory WHERE conversation_id = $1
              ORDER BY position DESC OFFSET $2 LIMIT 1)",
    )
    .bind(&event.aggregate_id)
    .bind(i64::try_from(MEMORY_MESSAGES - 1).unwrap_or(9))
    .execute(&mut *db)
    .await?;
    Ok(())
}

impl ResponderState {
    async fn received(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let tenant: Uuid = body(event)
            .and_then(|b| b.get("tenant_id"))
            .and_then(Value::as_str)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| HandlerError::Rejected("MessageReceived without a tenant".into()))?;
        remember(db, event, "customer", inbound_text(event)).await?;
        let metadata = CommandMetadata::from_map(&event.metadata).ok();
        let burst = chrono::Duration::from_std(self.burst).unwrap_or_default();
        // A resolved conversation reopens with the AI, as the aggregate does.
        sqlx::query(
            "INSERT INTO ai_conversations (conversation_id, tenant_id, status, last_sequence,
                 pending_through, due_at, correlation_id, causation_id)
             VALUES ($1, $2, 'ai_active', $3, $4, $5, $6, $7)
             ON CONFLICT (conversation_id) DO UPDATE SET
                 status = CASE WHEN ai_conversations.status = 'resolved' THEN 'ai_active'
                               ELSE ai_conversations.status END,
                 last_sequence = EXCLUDED.last_sequence,
                 pending_through = CASE WHEN ai_conversations.status IN ('ai_active', 'resolved')
                     THEN EXCLUDED.pending_through ELSE ai_conversations.pending_through END,
                 due_at = CASE WHEN ai_conversations.status IN ('ai_active', 'resolved')
                     THEN EXCLUDED.due_at ELSE ai_conversations.due_at END,
                 correlation_id = EXCLUDED.correlation_id,
                 causation_id = EXCLUDED.causation_id",
        )
        .bind(&event.aggregate_id)
        .bind(tenant)
        .bind(event.sequence)
        .bind(event.position)
        .bind(at_of(event) + burst)
        .bind(metadata.as_ref().map(|m| m.correlation_id))
        .bind(metadata.as_ref().map(|m| m.request_id))
        .execute(&mut *db)
        .await?;
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(&mut *db)
            .await?;
        Ok(())
    }

    /// Moves the conversation to `status`; `done_through` marks every message up to that
    /// position as no longer the AI's to answer.
    async fn moved(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        status: Option<&str>,
        done_through: Option<i64>,
    ) -> Result<(), HandlerError> {
        sqlx::query(
            "UPDATE ai_conversations SET
                 status = COALESCE($3, status),
                 last_sequence = $2,
                 answered_through = GREATEST(answered_through, COALESCE($4, answered_through)),
                 pending_through = CASE WHEN pending_through <= COALESCE($4, -1)
                                        THEN NULL ELSE pending_through END,
                 due_at = CASE WHEN pending_through <= COALESCE($4, -1)
                               THEN NULL ELSE due_at END
              WHERE conversation_id = $1",
        )
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .bind(status)
        .bind(done_through)
        .execute(&mut *db)
        .await?;
        Ok(())
    }

    async fn conversation_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT last_sequence FROM ai_conversations WHERE conversation_id = $1 FOR UPDATE",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *db)
        .await?;
        if last.is_some_and(|l| l >= event.sequence) {
            return Ok(());
        }
        let text = |name: &str| body(event).and_then(|b| b.get(name)).cloned();
        match event.event_type.as_str() {
            "MessageReceived" => self.received(db, event).await?,
            "AiReplied" => {
                remember(db, event, "ai", text("text")).await?;
                self.record_usage(db, event).await?;
                self.moved(db, event, None, answered_through(event)).await?;
            }
            "ConfidenceLow" | "HumanRequested" => {
                // The AI stops; whatever the customer wrote so far is for the human now.
                self.moved(db, event, Some("awaiting_human"), Some(event.position))
                    .await?;
                let cause = handoff_cause(event);
                notify::handed_off(db, &self.public_url, event, cause).await?;
            }
            "HumanReplied" => {
                remember(db, event, "human", text("text")).await?;
                self.moved(db, event, Some("human_replied"), Some(event.position))
                    .await?;
            }
            "AiResumed" => {
                self.moved(db, event, Some("ai_active"), Some(event.position))
                    .await?
            }
            "ConversationResolved" => {
                self.moved(db, event, Some("resolved"), Some(event.position))
                    .await?
            }
            "SubjectErased" => {
                sqlx::query("DELETE FROM ai_memory WHERE conversation_id = $1")
                    .bind(&event.aggregate_id)
                    .execute(&mut *db)
                    .await?;
                self.moved(db, event, None, None).await?;
            }
            _ => self.moved(db, event, None, None).await?,
        }
        Ok(())
    }

    async fn record_usage(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let Some(b) = body(event) else {
            return Ok(());
        };
        let tenant: Option<Uuid> = event.metadata.get("tenant_id").and_then(|t| t.parse().ok());
        let Some(tenant) = tenant else {
            return Ok(());
        };
        let int = |k: &str| b.get(k).and_then(Value::as_i64).unwrap_or(0);
        let run = b.get("run");
        let cost = run
            .and_then(|r| r.get("cost_usd"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let provider = run.and_then(|r| r.get("provider")).and_then(Value::as_str);
        let cached = run
            .and_then(|r| r.get("cached"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let model_call = !cached && provider != Some(super::llm::EXTRACTIVE);
        sqlx::query(
            "INSERT INTO ai_usage (position, tenant_id, at, model, tokens_in, tokens_out,
                 cost_usd, model_call)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(event.position)
        .bind(tenant)
        .bind(at_of(event))
        .bind(b.get("model").and_then(Value::as_str).unwrap_or(""))
        .bind(int("tokens_in"))
        .bind(int("tokens_out"))
        .bind(cost)
        .bind(model_call)
        .execute(&mut *db)
        .await?;
        // Counted with this answer, in its transaction: each window alerts once.
        let usage = limits::usage(db, tenant, at_of(event)).await?;
        for (kind, percent, window) in self.limits.near(&usage) {
            notify::limit_near(
                db,
                &self.public_url,
                tenant,
                kind,
                percent,
                &window.to_rfc3339(),
            )
            .await?;
        }
        Ok(())
    }
}

fn handoff_cause(event: &StoredEvent) -> HandoffCause {
    if event.event_type == "HumanRequested" {
        return HandoffCause::CustomerAsked;
    }
    match body(event)
        .and_then(|b| b.get("reason"))
        .and_then(Value::as_str)
    {
        Some("plan_quota_reached") => HandoffCause::QuotaReached,
        Some("request_limit_reached" | "token_limit_reached" | "cost_limit_reached") => {
            HandoffCause::LimitReached
        }
        Some("ai_unavailable") => HandoffCause::AiUnavailable,
        _ => HandoffCause::LowConfidence,
    }
}

#[async_trait::async_trait]
impl EventHandler for ResponderState {
    fn name(&self) -> &'static str {
        "ai_responder"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type == "conversation" {
            self.conversation_event(db, event).await?;
        }
        Ok(())
    }
}

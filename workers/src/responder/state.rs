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
use chrono::{DateTime, Utc};
use integrations::mailer::{HandoffCause, PublicUrl};
use schemas::events::HandoffReason;
use schemas::{CommandMetadata, EventType, StoredEvent};
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;
use std::time::Duration;
use stream::{EventHandler, HandlerError};
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

/// The event's own time (the recording time for an event without one).
fn at_of(event: &StoredEvent) -> DateTime<Utc> {
    event.at().unwrap_or(event.recorded_at)
}

/// The text a customer message carries, sealed as stored: the text or a media caption.
fn inbound_text(event: &StoredEvent) -> Option<Value> {
    let content = event.field("content")?;
    content
        .get("text")
        .or_else(|| content.get("media").and_then(|m| m.get("caption")))
        .filter(|v| !v.is_null())
        .cloned()
}

/// Memory rows of a run of events, written together: one statement for the rows and one to
/// keep each conversation's newest [`MEMORY_MESSAGES`], instead of two per message.
#[derive(Default)]
struct Memory {
    conversations: Vec<String>,
    positions: Vec<i64>,
    roles: Vec<&'static str>,
    texts: Vec<Option<Value>>,
    ats: Vec<DateTime<Utc>>,
}

impl Memory {
    fn push(&mut self, event: &StoredEvent, role: &'static str, text: Option<Value>) {
        self.conversations.push(event.aggregate_id.clone());
        self.positions.push(event.position);
        self.roles.push(role);
        self.texts.push(text);
        self.ats.push(at_of(event));
    }

    async fn flush(&mut self, db: &mut PgConnection) -> Result<(), HandlerError> {
        if self.positions.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(self);
        sqlx::query(
            "INSERT INTO ai_memory (conversation_id, position, role, text, at)
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::jsonb[],
                                  $5::timestamptz[])
             ON CONFLICT DO NOTHING",
        )
        .bind(&rows.conversations)
        .bind(&rows.positions)
        .bind(&rows.roles)
        .bind(&rows.texts)
        .bind(&rows.ats)
        .execute(&mut *db)
        .await?;
        let mut touched = rows.conversations;
        touched.sort_unstable();
        touched.dedup();
        // Only the newest messages are ever read; older ones would only hold personal data.
        sqlx::query(
            "DELETE FROM ai_memory m USING (
                 SELECT conversation_id, position,
                        row_number() OVER (PARTITION BY conversation_id
                                           ORDER BY position DESC) AS newest
                   FROM ai_memory WHERE conversation_id = ANY($1)) AS old
              WHERE old.newest > $2
                AND m.conversation_id = old.conversation_id AND m.position = old.position",
        )
        .bind(&touched)
        .bind(i64::try_from(MEMORY_MESSAGES).unwrap_or(10))
        .execute(&mut *db)
        .await?;
        Ok(())
    }
}

impl ResponderState {
    async fn received(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(), HandlerError> {
        let tenant = event
            .uuid("tenant_id")
            .map_err(|_| HandlerError::Rejected("MessageReceived without a tenant".into()))?;
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

    /// Applies the conversation events of `events` whose sequence is past what is stored.
    async fn conversation_events(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        let mut ids: Vec<&str> = events.iter().map(|e| e.aggregate_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        // Locked in one order, so two processes applying overlapping batches cannot deadlock.
        let applied: HashMap<String, i64> = sqlx::query_as(
            "SELECT conversation_id, last_sequence FROM ai_conversations
              WHERE conversation_id = ANY($1) ORDER BY conversation_id FOR UPDATE",
        )
        .bind(&ids)
        .fetch_all(&mut *db)
        .await?
        .into_iter()
        .collect();
        let mut memory = Memory::default();
        let mut scheduled = false;
        for event in events {
            // A batch holds each event once, in per-aggregate order: only what was stored
            // before it can make an event old.
            if applied
                .get(&event.aggregate_id)
                .is_some_and(|l| *l >= event.sequence)
            {
                continue;
            }
            if event.is(EventType::MessageReceived) {
                memory.push(event, "customer", inbound_text(event));
                self.received(db, event).await?;
                scheduled = true;
            } else {
                // The other events read or erase memory: what is buffered goes first.
                memory.flush(db).await?;
                self.conversation_event(db, event, &mut memory).await?;
                memory.flush(db).await?;
            }
        }
        memory.flush(db).await?;
        if scheduled {
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(NOTIFY_CHANNEL)
                .execute(&mut *db)
                .await?;
        }
        Ok(())
    }

    async fn conversation_event(
        &self,
        db: &mut PgConnection,
        event: &StoredEvent,
        memory: &mut Memory,
    ) -> Result<(), HandlerError> {
        let text = |name: &str| event.field(name).cloned();
        match event.kind() {
            Some(EventType::AiReplied) => {
                memory.push(event, "ai", text("text"));
                self.record_usage(db, event).await?;
                self.moved(db, event, None, answered_through(event)).await?;
            }
            Some(EventType::ConfidenceLow | EventType::HumanRequested) => {
                // The AI stops; whatever the customer wrote so far is for the human now.
                self.moved(db, event, Some("awaiting_human"), Some(event.position))
                    .await?;
                let cause = handoff_cause(event);
                notify::handed_off(db, &self.public_url, event, cause).await?;
            }
            Some(EventType::HumanReplied) => {
                memory.push(event, "human", text("text"));
                self.moved(db, event, Some("human_replied"), Some(event.position))
                    .await?;
            }
            Some(EventType::AiResumed) => {
                self.moved(db, event, Some("ai_active"), Some(event.position))
                    .await?
            }
            Some(EventType::ConversationResolved) => {
                self.moved(db, event, Some("resolved"), Some(event.position))
                    .await?
            }
            Some(EventType::SubjectErased) => {
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
        if event.body().is_none() {
            return Ok(());
        }
        let tenant: Option<Uuid> = event.metadata.get("tenant_id").and_then(|t| t.parse().ok());
        let Some(tenant) = tenant else {
            return Ok(());
        };
        let int = |k: &str| event.integer(k).unwrap_or(0);
        let run = event.field("run");
        let cost = run
            .and_then(|r| r.get("cost_usd"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let provider = run.and_then(|r| r.get("provider")).and_then(Value::as_str);
        let cached = run
            .and_then(|r| r.get("cached"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let model_call = !cached && provider != Some(integrations::llm::EXTRACTIVE);
        sqlx::query(
            "INSERT INTO ai_usage (position, tenant_id, at, model, tokens_in, tokens_out,
                 cost_usd, model_call)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(event.position)
        .bind(tenant)
        .bind(at_of(event))
        .bind(event.text("model").unwrap_or(""))
        .bind(int("tokens_in"))
        .bind(int("tokens_out"))
        .bind(cost)
        .bind(model_call)
        .execute(&mut *db)
        .await?;
        // Counted with this answer, in its transaction: each window alerts once.
        let usage = limits::usage(db, tenant, at_of(event)).await?;
        // The tenant's own limits (issue 18) as the directory knows them now.
        let own = projections::tenants::ai_limits(db, tenant).await?;
        for (kind, percent, window) in self.limits.with_own(own).near(&usage) {
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
    if event.is(EventType::HumanRequested) {
        return HandoffCause::CustomerAsked;
    }
    match event.value::<HandoffReason>("reason") {
        Ok(HandoffReason::PlanQuotaReached) => HandoffCause::QuotaReached,
        Ok(
            HandoffReason::RequestLimitReached
            | HandoffReason::TokenLimitReached
            | HandoffReason::CostLimitReached,
        ) => HandoffCause::LimitReached,
        Ok(HandoffReason::AiUnavailable) => HandoffCause::AiUnavailable,
        _ => HandoffCause::LowConfidence,
    }
}

#[async_trait::async_trait]
impl EventHandler for ResponderState {
    fn name(&self) -> &'static str {
        "ai_responder"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "conversation"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.handle_batch(db, std::slice::from_ref(event)).await
    }

    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        let events = stream::of_aggregate(events, "conversation");
        if events.is_empty() {
            return Ok(());
        }
        self.conversation_events(db, &events).await
    }
}

//! The stream consumer that queues outbound messages.

use chrono::{DateTime, TimeDelta, Utc};
use schemas::{CommandMetadata, StoredEvent};
use serde_json::Value;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// `pg_notify` channel the queue signals when it adds rows.
pub const NOTIFY_CHANNEL: &str = "whatsapp_outbound";

/// What an event asks to send, by event type.
fn purpose(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        "AiReplied" => "ai_reply",
        "ConfidenceLow" => "fallback",
        "HumanRequested" => "waiting",
        "HumanReplied" => "human_reply",
        "AiResumed" => "return",
        "GreetingSent" => "greeting",
        _ => return None,
    })
}

/// Queues a row per outbound message; see the module docs of [`crate::sender`].
#[derive(Debug, Clone)]
pub struct OutboundQueue {
    /// Events older than this when the queue first sees them are not sent: a consumer
    /// started on an old log must not message customers about last month's conversations.
    stale_after: TimeDelta,
}

impl Default for OutboundQueue {
    fn default() -> Self {
        Self {
            stale_after: TimeDelta::hours(24),
        }
    }
}

impl OutboundQueue {
    async fn tenant_of(
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<Option<Uuid>, HandlerError> {
        if let Some(t) = CommandMetadata::from_map(&event.metadata)
            .ok()
            .and_then(|m| m.tenant_id)
        {
            return Ok(Some(t));
        }
        let t: Option<String> = sqlx::query_scalar(
            "SELECT payload #>> '{MessageReceived,tenant_id}' FROM events
              WHERE aggregate_type = 'conversation' AND aggregate_id = $1
                AND event_type = 'MessageReceived'
              ORDER BY sequence LIMIT 1",
        )
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *db)
        .await?
        .flatten();
        Ok(t.and_then(|t| Uuid::parse_str(&t).ok()))
    }
}

/// The event's fields: postgres-es stores the payload under the variant's name.
fn fields(event: &StoredEvent) -> &Value {
    event
        .payload
        .get(&event.event_type)
        .unwrap_or(&event.payload)
}

#[async_trait::async_trait]
impl EventHandler for OutboundQueue {
    fn name(&self) -> &'static str {
        "whatsapp_outbound"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "conversation" && purpose(&event.event_type).is_some()
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.aggregate_type != "conversation" {
            return Ok(());
        }
        let Some(purpose) = purpose(&event.event_type) else {
            return Ok(());
        };
        let body = fields(event);
        let outbound_id = body
            .get("outbound_id")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| HandlerError::Rejected("no outbound_id".into()))?;
        if Utc::now() - event.recorded_at > self.stale_after {
            tracing::warn!(%outbound_id, position = event.position, "an outbound message too old to send; not queued");
            return Ok(());
        }
        let conversation = Uuid::parse_str(&event.aggregate_id)
            .map_err(|_| HandlerError::Rejected("the aggregate id is not a uuid".into()))?;
        let Some(tenant) = Self::tenant_of(db, event).await? else {
            return Err(HandlerError::Rejected(
                "the conversation has no tenant".into(),
            ));
        };
        let text = matches!(purpose, "ai_reply" | "human_reply")
            .then(|| body.get("text").cloned())
            .flatten();
        let at = body
            .get("at")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<DateTime<Utc>>().ok())
            .unwrap_or(event.recorded_at);
        sqlx::query(
            "INSERT INTO whatsapp_outbound
                 (outbound_id, tenant_id, conversation_id, purpose, body, position, caused_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (outbound_id) DO NOTHING",
        )
        .bind(outbound_id)
        .bind(tenant)
        .bind(conversation)
        .bind(purpose)
        .bind(text)
        .bind(event.position)
        .bind(at)
        .execute(&mut *db)
        .await?;
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(&mut *db)
            .await?;
        Ok(())
    }
}

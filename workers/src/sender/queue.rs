//! The stream consumer that queues outbound messages.

use chrono::{TimeDelta, Utc};
use schemas::{CommandMetadata, EventType, StoredEvent};
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// `pg_notify` channel the queue signals when it adds rows.
pub const NOTIFY_CHANNEL: &str = "whatsapp_outbound";

/// What an event asks to send, by event type.
fn purpose(event: &StoredEvent) -> Option<&'static str> {
    Some(match event.kind()? {
        EventType::AiReplied => "ai_reply",
        EventType::ConfidenceLow => "fallback",
        EventType::HumanRequested => "waiting",
        EventType::HumanReplied => "human_reply",
        EventType::AiResumed => "return",
        EventType::GreetingSent => "greeting",
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
            "SELECT payload -> $2 ->> 'tenant_id' FROM events
              WHERE aggregate_type = 'conversation' AND aggregate_id = $1
                AND event_type = $2
              ORDER BY sequence LIMIT 1",
        )
        .bind(&event.aggregate_id)
        .bind(EventType::MessageReceived.as_str())
        .fetch_optional(&mut *db)
        .await?
        .flatten();
        Ok(t.and_then(|t| Uuid::parse_str(&t).ok()))
    }
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
        event.aggregate_type == "conversation" && purpose(event).is_some()
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.handle_batch(db, std::slice::from_ref(event)).await
    }

    /// A batch's messages are queued by one statement, and the sender woken once.
    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        let mut rows = Rows::default();
        for event in events {
            if event.aggregate_type != "conversation" {
                continue;
            }
            let Some(purpose) = purpose(event) else {
                continue;
            };
            let outbound_id = event
                .uuid("outbound_id")
                .map_err(|_| HandlerError::Rejected("no outbound_id".into()))?;
            if Utc::now() - event.recorded_at > self.stale_after {
                tracing::warn!(%outbound_id, position = event.position, "an outbound message too old to send; not queued");
                continue;
            }
            let conversation = Uuid::parse_str(&event.aggregate_id)
                .map_err(|_| HandlerError::Rejected("the aggregate id is not a uuid".into()))?;
            let Some(tenant) = Self::tenant_of(db, event).await? else {
                return Err(HandlerError::Rejected(
                    "the conversation has no tenant".into(),
                ));
            };
            let text = matches!(purpose, "ai_reply" | "human_reply")
                .then(|| event.field("text").cloned())
                .flatten();
            rows.ids.push(outbound_id);
            rows.tenants.push(tenant);
            rows.conversations.push(conversation);
            rows.purposes.push(purpose);
            rows.bodies.push(text);
            rows.positions.push(event.position);
            rows.ats.push(event.at().unwrap_or(event.recorded_at));
        }
        if rows.ids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO whatsapp_outbound
                 (outbound_id, tenant_id, conversation_id, purpose, body, position, caused_at)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[],
                                  $6::bigint[], $7::timestamptz[])
             ON CONFLICT (outbound_id) DO NOTHING",
        )
        .bind(&rows.ids)
        .bind(&rows.tenants)
        .bind(&rows.conversations)
        .bind(&rows.purposes)
        .bind(&rows.bodies)
        .bind(&rows.positions)
        .bind(&rows.ats)
        .execute(&mut *db)
        .await?;
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(&mut *db)
            .await?;
        Ok(())
    }
}

/// The rows a batch queues, as the columns of one statement.
#[derive(Default)]
struct Rows {
    ids: Vec<Uuid>,
    tenants: Vec<Uuid>,
    conversations: Vec<Uuid>,
    purposes: Vec<&'static str>,
    bodies: Vec<Option<serde_json::Value>>,
    positions: Vec<i64>,
    ats: Vec<chrono::DateTime<Utc>>,
}

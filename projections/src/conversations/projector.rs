//! The `conversations` projection: how each conversation event changes the read model.

use super::change::{ConversationChange, CHANNEL};
use super::fields::{contact_key_ids, Body, Contact, Content};
use super::keys::SubjectKeys;
use crate::{EventHandler, HandlerError};
use chrono::{DateTime, TimeDelta, Utc};
use schemas::personal::KeySet;
use schemas::StoredEvent;
use serde_json::Value;
use sqlx::PgConnection;
use std::sync::Arc;
use uuid::Uuid;

/// How long after the customer's last message the business may write freely (F3); the
/// same rule as the aggregate's, which the read side may not import.
const CUSTOMER_WINDOW: TimeDelta = TimeDelta::hours(24);

/// Keeps `conversations`, `conversation_messages` and `conversation_deliveries` up to date
/// and announces every change on [`CHANNEL`].
#[derive(Clone)]
pub struct Conversations {
    keys: Arc<dyn SubjectKeys>,
}

impl std::fmt::Debug for Conversations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversations").finish_non_exhaustive()
    }
}

/// The columns every applied event sets on the conversation row: the guard against applying
/// twice. `$1` id, `$2` sequence, `$3` position, `$4` recorded at.
const APPLIED: &str = "last_sequence = $2, last_position = $3";
const GUARD: &str = "WHERE conversation_id = $1 AND last_sequence < $2
    RETURNING tenant_id, status, updated_at";

type Changed = (Uuid, String, DateTime<Utc>);

/// What an event does to the hand-off time.
#[derive(Clone, Copy)]
enum HandOff {
    Keep,
    Begin(DateTime<Utc>),
    End,
}

/// An outbound message an event asks to send.
struct Outbound<'a> {
    author: &'static str,
    agent_id: Option<Uuid>,
    purpose: Option<&'static str>,
    body: Option<&'a Value>,
    /// Whether it answers the customer (resets the unanswered count).
    answers: bool,
    /// The status it moves the conversation to; `None` leaves it.
    status: Option<&'static str>,
    hand_off: HandOff,
}

impl<'a> Outbound<'a> {
    fn new(author: &'static str, body: Option<&'a Value>) -> Self {
        Self {
            author,
            agent_id: None,
            purpose: None,
            body,
            answers: false,
            status: None,
            hand_off: HandOff::Keep,
        }
    }

    /// A message of the tenant's (fallback, waiting, return), whose text is a setting.
    fn system(purpose: &'static str, status: &'static str, hand_off: HandOff) -> Self {
        Self {
            purpose: Some(purpose),
            status: Some(status),
            hand_off,
            ..Self::new("system", None)
        }
    }
}

impl Conversations {
    /// The projection, opening contact fields with `keys`.
    pub fn new(keys: Arc<dyn SubjectKeys>) -> Self {
        Self { keys }
    }

    async fn keys_for(&self, events: &[&StoredEvent]) -> Result<KeySet, HandlerError> {
        let mut ids = Vec::new();
        for e in events.iter().filter(|e| e.event_type == "MessageReceived") {
            contact_key_ids(e, &mut ids);
        }
        if ids.is_empty() {
            return Ok(KeySet::default());
        }
        ids.sort_unstable();
        ids.dedup();
        self.keys
            .keys(&ids)
            .await
            .map_err(|e| HandlerError::Rejected(e.to_string()))
    }
}

fn conversation_id(event: &StoredEvent) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&event.aggregate_id)
        .map_err(|_| HandlerError::Rejected("the aggregate id is not a uuid".into()))
}

async fn received(
    db: &mut PgConnection,
    e: &StoredEvent,
    keys: &KeySet,
) -> Result<Option<Changed>, HandlerError> {
    let id = conversation_id(e)?;
    let body = Body::of(e);
    let at = body.time("at")?;
    // A provider clock ahead of ours must not stretch the window (as the aggregate says).
    let sent = body.time("sent_at")?.min(at);
    let content = Content::of(body.get("content"))?;
    let contact = Contact::open(&body, keys);
    // One statement for the message and the conversation: a round trip per event is most
    // of what the projection costs.
    let changed = sqlx::query_as(
        "WITH message AS (
             INSERT INTO conversation_messages (conversation_id, sequence, direction, author,
                 kind, media_type, body, provider_message_id, at, position)
             VALUES ($1, $2, 'inbound', 'customer', $14, $15, $11, $16, $12, $3)
             ON CONFLICT DO NOTHING)
         INSERT INTO conversations AS c (conversation_id, tenant_id, status, contact_phone,
             contact_name, contact_search, contact_key_id, contact_seen_at, last_message_preview,
             last_message_direction, last_message_at, unanswered_count, window_ends_at,
             created_at, updated_at, last_sequence, last_position)
         VALUES ($1, $5, 'ai_active', $6, $7, $8, $9, CASE WHEN $9 IS NULL THEN NULL ELSE $10 END,
             $11, 'inbound', $12, 1, $13, $4, $4, $2, $3)
         ON CONFLICT (conversation_id) DO UPDATE SET
             status = CASE c.status WHEN 'resolved' THEN 'ai_active' ELSE c.status END,
             contact_phone = EXCLUDED.contact_phone, contact_name = EXCLUDED.contact_name,
             contact_search = EXCLUDED.contact_search, contact_key_id = EXCLUDED.contact_key_id,
             contact_seen_at = EXCLUDED.contact_seen_at,
             last_message_preview = EXCLUDED.last_message_preview,
             last_message_direction = 'inbound', last_message_at = EXCLUDED.last_message_at,
             unanswered_count = c.unanswered_count + 1,
             window_ends_at = GREATEST(c.window_ends_at, EXCLUDED.window_ends_at),
             updated_at = EXCLUDED.updated_at,
             last_sequence = EXCLUDED.last_sequence, last_position = EXCLUDED.last_position
         WHERE c.last_sequence < EXCLUDED.last_sequence
         RETURNING tenant_id, status, updated_at",
    )
    .bind(id)
    .bind(e.sequence)
    .bind(e.position)
    .bind(e.recorded_at)
    .bind(body.uuid("tenant_id")?)
    .bind(contact.phone)
    .bind(contact.name)
    .bind(contact.search)
    .bind(contact.key_id)
    .bind(at)
    .bind(content.text)
    .bind(sent)
    .bind(sent + CUSTOMER_WINDOW)
    .bind(content.kind)
    .bind(content.media_type)
    .bind(body.text("provider_message_id")?)
    .fetch_optional(db)
    .await?;
    Ok(changed)
}

async fn outbound(
    db: &mut PgConnection,
    e: &StoredEvent,
    message: Outbound<'_>,
) -> Result<Option<Changed>, HandlerError> {
    let id = conversation_id(e)?;
    let body = Body::of(e);
    let at = body.time("at")?;
    let (hand_off, handed_off_at) = match message.hand_off {
        HandOff::Keep => ("keep", None),
        HandOff::Begin(t) => ("begin", Some(t)),
        HandOff::End => ("end", None),
    };
    Ok(sqlx::query_as(&format!(
        "WITH message AS (
             INSERT INTO conversation_messages (conversation_id, sequence, direction, author,
                 agent_id, kind, purpose, body, outbound_id, at, position)
             VALUES ($1, $2, 'outbound', $11, $12, 'text', $13, $5, $14, $6, $3)
             ON CONFLICT DO NOTHING)
         UPDATE conversations SET
             status = COALESCE($7, status),
             handed_off_at = CASE $8 WHEN 'keep' THEN handed_off_at WHEN 'begin' THEN $9 END,
             last_message_preview = $5, last_message_direction = 'outbound',
             last_message_at = $6,
             unanswered_count = CASE WHEN $10 THEN 0 ELSE unanswered_count END,
             updated_at = $4, {APPLIED}
         {GUARD}"
    ))
    .bind(id)
    .bind(e.sequence)
    .bind(e.position)
    .bind(e.recorded_at)
    .bind(message.body)
    .bind(at)
    .bind(message.status)
    .bind(hand_off)
    .bind(handed_off_at)
    .bind(message.answers)
    .bind(message.author)
    .bind(message.agent_id)
    .bind(message.purpose)
    .bind(body.uuid("outbound_id")?)
    .fetch_optional(db)
    .await?)
}

/// Applies one event; returns the row's state when the event changed it.
async fn apply(
    db: &mut PgConnection,
    e: &StoredEvent,
    keys: &KeySet,
) -> Result<Option<Changed>, HandlerError> {
    let body = Body::of(e);
    let message = match e.event_type.as_str() {
        "MessageReceived" => return received(db, e, keys).await,
        "AiReplied" => Outbound {
            answers: true,
            ..Outbound::new("ai", body.get("text"))
        },
        "ConfidenceLow" => Outbound::system(
            "fallback",
            "awaiting_human",
            HandOff::Begin(body.time("at")?),
        ),
        "HumanRequested" => Outbound::system(
            "waiting",
            "awaiting_human",
            HandOff::Begin(body.time("at")?),
        ),
        "HumanReplied" => Outbound {
            agent_id: Some(body.uuid("agent_id")?),
            answers: true,
            status: Some("human_replied"),
            ..Outbound::new("agent", body.get("text"))
        },
        "AiResumed" => Outbound::system("return", "ai_active", HandOff::End),
        "AgentAssigned" => {
            let agent = body.uuid("agent_id")?;
            return update(db, e, "assigned_agent = $5, updated_at = $4", Some(agent)).await;
        }
        "ConversationResolved" => {
            let set = "status = 'resolved', handed_off_at = NULL, updated_at = $4";
            return update(db, e, set, None).await;
        }
        "SubjectErased" => {
            let set = "contact_phone = NULL, contact_name = NULL, contact_search = NULL,
                 contact_key_id = NULL, contact_seen_at = NULL, updated_at = $4";
            return update(db, e, set, None).await;
        }
        "OutboundSent" => {
            sqlx::query(
                "UPDATE conversation_messages SET provider_message_id = $3
                  WHERE conversation_id = $1 AND outbound_id = $2",
            )
            .bind(conversation_id(e)?)
            .bind(body.uuid("outbound_id")?)
            .bind(body.text("provider_message_id")?)
            .execute(&mut *db)
            .await?;
            return update(db, e, "updated_at = updated_at", None).await;
        }
        "OutboundDelivered" | "OutboundFailed" => {
            let status = if e.event_type == "OutboundFailed" {
                "failed"
            } else {
                body.text("status")?
            };
            delivery(db, e, &body, status).await?;
            return update(db, e, "updated_at = updated_at", None).await;
        }
        // A type this version does not know: nothing to show for it.
        _ => return Ok(None),
    };
    outbound(db, e, message).await
}

/// Applies `set` (which may use `$4`, the recording time, and `$5`, `value`) to the row,
/// unless the event was applied already.
async fn update(
    db: &mut PgConnection,
    e: &StoredEvent,
    set: &str,
    value: Option<Uuid>,
) -> Result<Option<Changed>, HandlerError> {
    let sql = format!("UPDATE conversations SET {set}, {APPLIED} {GUARD}");
    let query = sqlx::query_as(&sql)
        .bind(conversation_id(e)?)
        .bind(e.sequence)
        .bind(e.position)
        .bind(e.recorded_at);
    let query = match value {
        Some(v) => query.bind(v),
        None => query,
    };
    Ok(query.fetch_optional(db).await?)
}

async fn delivery(
    db: &mut PgConnection,
    e: &StoredEvent,
    body: &Body<'_>,
    status: &str,
) -> Result<(), HandlerError> {
    // Statuses only move forward; an equal or lower one (late, or delivered again) is old.
    sqlx::query(
        "INSERT INTO conversation_deliveries AS d
             (conversation_id, provider_message_id, status, status_at, error)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (conversation_id, provider_message_id) DO UPDATE SET
             status = EXCLUDED.status, status_at = EXCLUDED.status_at, error = EXCLUDED.error
         WHERE array_position(ARRAY['sent', 'delivered', 'read', 'failed'], EXCLUDED.status)
             > array_position(ARRAY['sent', 'delivered', 'read', 'failed'], d.status)",
    )
    .bind(conversation_id(e)?)
    .bind(body.text("provider_message_id")?)
    .bind(status)
    .bind(body.time("at")?)
    .bind(body.get("error").and_then(Value::as_str))
    .execute(db)
    .await?;
    Ok(())
}

/// Announces the changes when the transaction commits; not from a replay, whose changes
/// the live projection already announced.
async fn announce(db: &mut PgConnection, changes: &[String]) -> Result<(), HandlerError> {
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n
          WHERE current_schema() NOT LIKE 'replay\\_%'",
    )
    .bind(CHANNEL)
    .bind(changes)
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl EventHandler for Conversations {
    fn name(&self) -> &'static str {
        "conversations"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "conversations",
            "conversation_messages",
            "conversation_deliveries",
        ]
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.handle_batch(db, std::slice::from_ref(event)).await
    }

    #[tracing::instrument(name = "projecting events into the conversations", skip_all,
        fields(events = events.len()))]
    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        let events: Vec<&StoredEvent> = events
            .iter()
            .filter(|e| e.aggregate_type == "conversation")
            .collect();
        let keys = self.keys_for(&events).await?;
        let mut changes = Vec::new();
        for e in events {
            if let Some((tenant_id, status, updated_at)) = apply(db, e, &keys).await? {
                let change = ConversationChange {
                    tenant_id,
                    conversation_id: conversation_id(e)?,
                    status,
                    updated_at,
                    position: e.position,
                };
                changes.push(
                    serde_json::to_string(&change)
                        .map_err(|e| HandlerError::Rejected(e.to_string()))?,
                );
            }
        }
        announce(db, &changes).await
    }
}

//! How each conversation event changes a conversation row and what it adds to the other
//! tables, in memory: a batch is applied to the rows it touches, then written in a few
//! statements (see `store`).

use super::fields::{Body, Contact, Content};
use chrono::{DateTime, TimeDelta, Utc};
use schemas::personal::KeySet;
use schemas::StoredEvent;
use serde_json::Value;
use stream::HandlerError;
use uuid::Uuid;

/// How long after the customer's last message the business may write freely (F3); the
/// same rule as the aggregate's, which the read side may not import.
const CUSTOMER_WINDOW: TimeDelta = TimeDelta::hours(24);

/// One row of `conversations`.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(super) struct Row {
    pub conversation_id: Uuid,
    pub tenant_id: Uuid,
    pub status: String,
    pub contact_phone: Option<String>,
    pub contact_name: Option<String>,
    pub contact_search: Option<String>,
    pub contact_key_id: Option<Uuid>,
    pub contact_seen_at: Option<DateTime<Utc>>,
    pub last_message_preview: Option<Value>,
    pub last_message_direction: Option<String>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub unanswered_count: i32,
    pub assigned_agent: Option<Uuid>,
    pub window_ends_at: Option<DateTime<Utc>>,
    pub handed_off_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_sequence: i64,
    pub last_position: i64,
}

/// The columns of [`Row`], in a stable order.
pub(super) const COLUMNS: &str = "conversation_id, tenant_id, status, contact_phone,
    contact_name, contact_search, contact_key_id, contact_seen_at, last_message_preview,
    last_message_direction, last_message_at, unanswered_count, assigned_agent, window_ends_at,
    handed_off_at, created_at, updated_at, last_sequence, last_position";

/// One row of `conversation_messages`.
#[derive(Debug, Clone)]
pub(super) struct MessageRow {
    pub conversation_id: Uuid,
    pub sequence: i64,
    pub direction: &'static str,
    pub author: &'static str,
    pub agent_id: Option<Uuid>,
    pub kind: &'static str,
    pub media_type: Option<String>,
    pub purpose: Option<&'static str>,
    pub body: Option<Value>,
    pub provider_message_id: Option<String>,
    pub outbound_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub position: i64,
}

/// A provider status for an outbound message.
#[derive(Debug, Clone)]
pub(super) struct DeliveryRow {
    pub conversation_id: Uuid,
    pub provider_message_id: String,
    pub status: String,
    pub at: DateTime<Utc>,
    pub error: Option<String>,
}

/// The rank of a delivery status: statuses only move forward.
pub(super) fn rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        "failed" => 4,
        _ => 0,
    }
}

/// The link from an outbound message to the provider's id for it.
#[derive(Debug, Clone)]
pub(super) struct SentRow {
    pub conversation_id: Uuid,
    pub outbound_id: Uuid,
    pub provider_message_id: String,
}

/// What a batch adds besides the conversation rows.
#[derive(Debug, Default)]
pub(super) struct Effects {
    pub messages: Vec<MessageRow>,
    pub sent: Vec<SentRow>,
    pub deliveries: Vec<DeliveryRow>,
}

pub(super) fn conversation_id(event: &StoredEvent) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(&event.aggregate_id)
        .map_err(|_| HandlerError::Rejected("the aggregate id is not a uuid".into()))
}

/// What an event does to the hand-off time.
#[derive(Clone, Copy)]
enum HandOff {
    Keep,
    Begin(DateTime<Utc>),
    End,
}

/// An outbound message an event asks to send.
struct Outbound {
    author: &'static str,
    agent_id: Option<Uuid>,
    purpose: Option<&'static str>,
    body: Option<Value>,
    /// Whether it answers the customer (resets the unanswered count).
    answers: bool,
    /// The status it moves the conversation to; `None` leaves it.
    status: Option<&'static str>,
    hand_off: HandOff,
}

impl Outbound {
    fn new(author: &'static str, body: Option<&Value>) -> Self {
        Self {
            author,
            agent_id: None,
            purpose: None,
            body: body.cloned(),
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

/// Applies `e` to `row` (the conversation's row, `None` before its first message) and adds
/// its messages and statuses to `effects`. Returns whether the row changed: an event the row
/// already reflects (its sequence is not beyond the row's) changes nothing.
pub(super) fn apply(
    row: &mut Option<Row>,
    e: &StoredEvent,
    keys: &KeySet,
    effects: &mut Effects,
) -> Result<bool, HandlerError> {
    let id = conversation_id(e)?;
    let body = Body::of(e);
    // Redelivered: the row has it; only the (idempotent) inserts are repeated.
    let fresh = |row: &Option<Row>| row.as_ref().is_none_or(|r| r.last_sequence < e.sequence);
    let outbound = match e.event_type.as_str() {
        "MessageReceived" => return received(row, e, &body, keys, effects, fresh(row)),
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
        // Greets without changing who answers: the AI's answer follows.
        "GreetingSent" => Outbound {
            purpose: Some("greeting"),
            ..Outbound::new("system", None)
        },
        "AgentAssigned" => {
            let agent = body.uuid("agent_id")?;
            return Ok(touch(row, e, true, |r| r.assigned_agent = Some(agent)));
        }
        "ConversationResolved" => {
            return Ok(touch(row, e, true, |r| {
                r.status = "resolved".into();
                r.handed_off_at = None;
            }))
        }
        "SubjectErased" => {
            return Ok(touch(row, e, true, |r| {
                r.contact_phone = None;
                r.contact_name = None;
                r.contact_search = None;
                r.contact_key_id = None;
                r.contact_seen_at = None;
            }))
        }
        "OutboundSent" => {
            effects.sent.push(SentRow {
                conversation_id: id,
                outbound_id: body.uuid("outbound_id")?,
                provider_message_id: body.text("provider_message_id")?.to_owned(),
            });
            return Ok(touch(row, e, false, |_| {}));
        }
        "OutboundDelivered" | "OutboundFailed" => {
            let status = if e.event_type == "OutboundFailed" {
                "failed"
            } else {
                body.text("status")?
            };
            effects.deliveries.push(DeliveryRow {
                conversation_id: id,
                provider_message_id: body.text("provider_message_id")?.to_owned(),
                status: status.to_owned(),
                at: body.time("at")?,
                error: body.get("error").and_then(Value::as_str).map(str::to_owned),
            });
            return Ok(touch(row, e, false, |_| {}));
        }
        "OutboundRefused" => {
            // Never accepted, so no provider id: the failure is filed under a stand-in id,
            // linked to the message like a real one, so the dashboard shows it failed.
            let outbound_id = body.uuid("outbound_id")?;
            let stand_in = format!("refused:{outbound_id}");
            effects.sent.push(SentRow {
                conversation_id: id,
                outbound_id,
                provider_message_id: stand_in.clone(),
            });
            effects.deliveries.push(DeliveryRow {
                conversation_id: id,
                provider_message_id: stand_in,
                status: "failed".into(),
                at: body.time("at")?,
                error: body.get("error").and_then(Value::as_str).map(str::to_owned),
            });
            return Ok(touch(row, e, false, |_| {}));
        }
        "HumanRepliedFromPhone" => return from_phone(row, e, &body, effects),
        // A type this version does not know: nothing to show for it.
        _ => return Ok(false),
    };
    let at = body.time("at")?;
    effects.messages.push(MessageRow {
        conversation_id: id,
        sequence: e.sequence,
        direction: "outbound",
        author: outbound.author,
        agent_id: outbound.agent_id,
        kind: "text",
        media_type: None,
        purpose: outbound.purpose,
        body: outbound.body.clone(),
        provider_message_id: None,
        outbound_id: Some(body.uuid("outbound_id")?),
        at,
        position: e.position,
    });
    Ok(touch(row, e, true, |r| {
        if let Some(status) = outbound.status {
            r.status = status.into();
        }
        match outbound.hand_off {
            HandOff::Keep => {}
            HandOff::Begin(t) => r.handed_off_at = Some(t),
            HandOff::End => r.handed_off_at = None,
        }
        r.last_message_preview = outbound.body;
        r.last_message_direction = Some("outbound".into());
        r.last_message_at = Some(at);
        if outbound.answers {
            r.unanswered_count = 0;
        }
    }))
}

/// A reply typed on the tenant's phone: an agent's message that is already delivered.
fn from_phone(
    row: &mut Option<Row>,
    e: &StoredEvent,
    body: &Body<'_>,
    effects: &mut Effects,
) -> Result<bool, HandlerError> {
    let at = body.time("at")?;
    let text = body.get("text").filter(|v| !v.is_null()).cloned();
    effects.messages.push(MessageRow {
        conversation_id: conversation_id(e)?,
        sequence: e.sequence,
        direction: "outbound",
        author: "agent",
        agent_id: None,
        kind: "text",
        media_type: None,
        purpose: None,
        body: text.clone(),
        provider_message_id: Some(body.text("provider_message_id")?.to_owned()),
        outbound_id: None,
        at,
        position: e.position,
    });
    Ok(touch(row, e, true, |r| {
        r.status = "human_replied".into();
        r.last_message_preview = text;
        r.last_message_direction = Some("outbound".into());
        r.last_message_at = Some(at);
        r.unanswered_count = 0;
    }))
}

/// Changes an existing row with `change` unless it already reflects `e`; `updated` says
/// whether the event counts as a change of the conversation (moving it up the list).
fn touch(
    row: &mut Option<Row>,
    e: &StoredEvent,
    updated: bool,
    change: impl FnOnce(&mut Row),
) -> bool {
    let Some(r) = row.as_mut().filter(|r| r.last_sequence < e.sequence) else {
        return false;
    };
    change(r);
    if updated {
        r.updated_at = e.recorded_at;
    }
    r.last_sequence = e.sequence;
    r.last_position = e.position;
    true
}

fn received(
    row: &mut Option<Row>,
    e: &StoredEvent,
    body: &Body<'_>,
    keys: &KeySet,
    effects: &mut Effects,
    fresh: bool,
) -> Result<bool, HandlerError> {
    let id = conversation_id(e)?;
    let at = body.time("at")?;
    // A provider clock ahead of ours must not stretch the window (as the aggregate says).
    let sent = body.time("sent_at")?.min(at);
    let content = Content::of(body.get("content"))?;
    let text = content.text.cloned();
    effects.messages.push(MessageRow {
        conversation_id: id,
        sequence: e.sequence,
        direction: "inbound",
        author: "customer",
        agent_id: None,
        kind: content.kind,
        media_type: content.media_type.map(str::to_owned),
        purpose: None,
        body: text.clone(),
        provider_message_id: Some(body.text("provider_message_id")?.to_owned()),
        outbound_id: None,
        at: sent,
        position: e.position,
    });
    let tenant_id = body.uuid("tenant_id")?;
    if !fresh {
        return Ok(false);
    }
    let contact = Contact::open(body, keys);
    let window = sent + CUSTOMER_WINDOW;
    let r = row.get_or_insert_with(|| Row {
        conversation_id: id,
        tenant_id,
        status: "ai_active".into(),
        contact_phone: None,
        contact_name: None,
        contact_search: None,
        contact_key_id: None,
        contact_seen_at: None,
        last_message_preview: None,
        last_message_direction: None,
        last_message_at: None,
        unanswered_count: 0,
        assigned_agent: None,
        window_ends_at: None,
        handed_off_at: None,
        created_at: e.recorded_at,
        updated_at: e.recorded_at,
        last_sequence: 0,
        last_position: 0,
    });
    if r.status == "resolved" {
        r.status = "ai_active".into();
    }
    r.contact_seen_at = contact.key_id.map(|_| at);
    r.contact_phone = contact.phone;
    r.contact_name = contact.name;
    r.contact_search = contact.search;
    r.contact_key_id = contact.key_id;
    r.last_message_preview = text;
    r.last_message_direction = Some("inbound".into());
    r.last_message_at = Some(sent);
    r.unanswered_count += 1;
    r.window_ends_at = r.window_ends_at.max(Some(window));
    r.updated_at = e.recorded_at;
    r.last_sequence = e.sequence;
    r.last_position = e.position;
    Ok(true)
}

//! The envelope in which stored events travel to projections and workers, and the one
//! place where they are read: decoded whole into their typed enum ([`StoredEvent::decode`]),
//! told apart by their typed [`EventType`] ([`StoredEvent::kind`]), or read one payload
//! field at a time ([`StoredEvent::text`], [`StoredEvent::uuid`], …) where a reader wants
//! a field as stored (sealed personal data, payloads of older shapes) rather than the
//! whole event.

use crate::events::{
    AdminActionEvent, AiSpendEvent, ConversationEvent, EventType, PlanEvent, PlatformContentEvent,
    SubscriptionEvent, TenantEvent, TicketEvent, EVENT_VERSION,
};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use uuid::Uuid;

/// The aggregate types; their strings are the `aggregate_type` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggregateKind {
    /// A business subscribed to atende.
    Tenant,
    /// A tenant's paid plan.
    Subscription,
    /// One tenant × WhatsApp contact conversation.
    Conversation,
    /// A support ticket.
    Ticket,
    /// A tutorial or announcement the operator writes for tenants.
    PlatformContent,
    /// The trace of one operator action that no other aggregate records.
    AdminAction,
    // Plans managed by admins (issue 18).
    /// A commercial plan an admin published, revised or retired; its id is the plan's key.
    Plan,
    // The usage monitor's AI spend thresholds (issue 18).
    /// A monthly AI spend threshold an admin set: `global`, or a tenant's id.
    AiSpendThreshold,
}

impl AggregateKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AggregateKind; 8] = [
        Self::Tenant,
        Self::Subscription,
        Self::Conversation,
        Self::Ticket,
        Self::PlatformContent,
        Self::AdminAction,
        // Plans managed by admins (issue 18).
        Self::Plan,
        // The usage monitor's AI spend thresholds (issue 18).
        Self::AiSpendThreshold,
    ];

    /// The stored `aggregate_type` string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::Subscription => "subscription",
            Self::Conversation => "conversation",
            Self::Ticket => "ticket",
            Self::PlatformContent => "platform_content",
            Self::AdminAction => "admin_action",
            // Plans managed by admins (issue 18).
            Self::Plan => "plan",
            // The usage monitor's AI spend thresholds (issue 18).
            Self::AiSpendThreshold => "ai_spend_threshold",
        }
    }

    /// Parses a stored `aggregate_type`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One committed event as the event-store tail delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StoredEvent {
    /// Global position, assigned at insert (not commit) time.
    pub position: i64,
    /// The id of the transaction that wrote the event; the tail's order is `(tx_id, position)`.
    pub tx_id: i64,
    /// When the event was recorded.
    pub recorded_at: DateTime<Utc>,
    /// `tenant`, `subscription`, `conversation`, `ticket`, `platform_content`, `admin_action`,
    /// `plan` or `ai_spend_threshold`.
    pub aggregate_type: String,
    /// The aggregate's id.
    pub aggregate_id: String,
    /// The event's 1-based sequence within its aggregate.
    pub sequence: i64,
    /// Stable event type name (e.g. `MessageReceived`).
    pub event_type: String,
    /// Version of the payload shape for that type.
    pub event_version: String,
    /// The payload as stored.
    pub payload: serde_json::Value,
    /// The command metadata stored with the event.
    pub metadata: HashMap<String, String>,
}

impl StoredEvent {
    /// The tail checkpoint just after this event.
    pub fn checkpoint(&self) -> (i64, i64) {
        (self.tx_id, self.position)
    }

    /// The event's type; `None` for a name this build does not know (an event written by a
    /// newer release), which readers skip as they skip types they do not handle.
    pub fn kind(&self) -> Option<EventType> {
        EventType::parse(&self.event_type)
    }

    /// Whether the event has type `event_type`.
    pub fn is(&self, event_type: EventType) -> bool {
        self.event_type == event_type.as_str()
    }

    /// The whole event as its aggregate's typed enum. Personal fields are opened by the
    /// [`crate::personal::Opener`] active on the thread, if any (else they read as
    /// [`crate::personal::SEALED`]).
    pub fn decode(&self) -> Result<AnyEvent, DecodeError> {
        decode(
            &self.aggregate_type,
            &self.event_type,
            &self.event_version,
            &self.payload,
        )
    }

    /// The payload's body: the object under the event type's tag (postgres-es stores the
    /// enum externally tagged, `{"AiReplied": {...}}`).
    pub fn body(&self) -> Option<&Value> {
        self.payload.get(&self.event_type)
    }

    /// A field of the body as stored; absent and `null` alike are `None`.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.body()?.get(name).filter(|v| !v.is_null())
    }

    fn missing(&self, what: &'static str, name: &str) -> FieldError {
        FieldError::Missing {
            event_type: self.event_type.clone(),
            what,
            name: name.to_owned(),
        }
    }

    /// A required text field.
    pub fn text(&self, name: &str) -> Result<&str, FieldError> {
        self.field(name)
            .and_then(Value::as_str)
            .ok_or_else(|| self.missing("text", name))
    }

    /// A required integer field.
    pub fn integer(&self, name: &str) -> Result<i64, FieldError> {
        self.field(name)
            .and_then(Value::as_i64)
            .ok_or_else(|| self.missing("integer", name))
    }

    /// A required boolean field.
    pub fn boolean(&self, name: &str) -> Result<bool, FieldError> {
        self.field(name)
            .and_then(Value::as_bool)
            .ok_or_else(|| self.missing("boolean", name))
    }

    /// A required uuid field.
    pub fn uuid(&self, name: &str) -> Result<Uuid, FieldError> {
        self.field(name)
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| self.missing("uuid", name))
    }

    /// A required RFC 3339 time field.
    pub fn time(&self, name: &str) -> Result<DateTime<Utc>, FieldError> {
        self.field(name)
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| self.missing("time", name))
    }

    /// A required field of any type the payload's schema gives it (an enum, a nested
    /// struct).
    pub fn value<T: DeserializeOwned>(&self, name: &str) -> Result<T, FieldError> {
        self.field(name)
            .and_then(|v| T::deserialize(v).ok())
            .ok_or_else(|| self.missing("readable", name))
    }

    /// The event's own time: its `at` field, when the fact happened by the clock of the
    /// command that recorded it. Readers use it rather than `recorded_at`, so a replay of
    /// the same log files everything under the same day and period.
    pub fn at(&self) -> Result<DateTime<Utc>, FieldError> {
        self.time("at")
    }

    /// The aggregate id as a uuid (tenants, subscriptions, conversations and tickets all
    /// have uuid ids; a subscription's is its tenant's).
    pub fn aggregate_uuid(&self) -> Result<Uuid, FieldError> {
        Uuid::parse_str(&self.aggregate_id).map_err(|_| FieldError::AggregateId)
    }
}

/// A payload field a reader needs is absent or not of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The body has no such field, or it has another type.
    #[error("{event_type} has no {what} field {name}")]
    Missing {
        /// The stored event type.
        event_type: String,
        /// The type expected (`text`, `uuid`, `time`, …).
        what: &'static str,
        /// The field's name.
        name: String,
    },
    /// The aggregate id is not a uuid.
    #[error("the aggregate id is not a uuid")]
    AggregateId,
}

/// A stored event decoded into its aggregate's typed enum.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvent {
    /// An event of the `tenant` aggregate.
    Tenant(TenantEvent),
    /// An event of the `subscription` aggregate.
    Subscription(SubscriptionEvent),
    /// An event of the `conversation` aggregate.
    Conversation(ConversationEvent),
    /// An event of the `ticket` aggregate.
    Ticket(TicketEvent),
    /// An event of the `platform_content` aggregate.
    PlatformContent(PlatformContentEvent),
    /// An event of the `admin_action` aggregate.
    AdminAction(AdminActionEvent),
    // Plans managed by admins (issue 18).
    /// An event of the `plan` aggregate.
    Plan(PlanEvent),
    // The usage monitor's AI spend thresholds (issue 18).
    /// An event of the `ai_spend_threshold` aggregate.
    AiSpendThreshold(AiSpendEvent),
}

impl AnyEvent {
    /// The event's type.
    pub fn kind(&self) -> EventType {
        match self {
            Self::Tenant(e) => e.kind(),
            Self::Subscription(e) => e.kind(),
            Self::Conversation(e) => e.kind(),
            Self::Ticket(e) => e.kind(),
            Self::PlatformContent(e) => e.kind(),
            Self::AdminAction(e) => e.kind(),
            // Plans managed by admins (issue 18).
            Self::Plan(e) => e.kind(),
            // The usage monitor's AI spend thresholds (issue 18).
            Self::AiSpendThreshold(e) => e.kind(),
        }
    }

    /// When the fact happened, by the clock of the command that recorded it.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Tenant(e) => e.at(),
            Self::Subscription(e) => e.at(),
            Self::Conversation(e) => e.at(),
            Self::Ticket(e) => e.at(),
            Self::PlatformContent(e) => e.at(),
            Self::AdminAction(e) => e.at(),
            // Plans managed by admins (issue 18).
            Self::Plan(e) => e.at(),
            // The usage monitor's AI spend thresholds (issue 18).
            Self::AiSpendThreshold(e) => e.at(),
        }
    }
}

/// Why a stored event could not be decoded.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The `aggregate_type` is none this build knows.
    #[error("unknown aggregate type {0:?}")]
    UnknownAggregate(String),
    /// The `event_type` is no event type of that aggregate known to this build.
    #[error("unknown event type {event_type:?} of aggregate {aggregate}")]
    UnknownType {
        /// The aggregate type.
        aggregate: &'static str,
        /// The stored event type.
        event_type: String,
    },
    /// The event type is known but not in this version of its payload.
    #[error("{event_type} has no version {version:?} (this build reads version {EVENT_VERSION})")]
    UnsupportedVersion {
        /// The event type.
        event_type: EventType,
        /// The stored version.
        version: String,
    },
    /// The payload does not have the shape of its type and version.
    #[error("the payload of {event_type} is malformed: {source}")]
    Payload {
        /// The event type.
        event_type: EventType,
        /// What serde found wrong.
        #[source]
        source: serde_json::Error,
    },
    /// The payload's tag names another event type than the `event_type` column.
    #[error("the payload of {event_type} is tagged {tagged}")]
    TagMismatch {
        /// The `event_type` column.
        event_type: EventType,
        /// The type the payload's tag names.
        tagged: EventType,
    },
}

/// Decodes a stored event, given its columns, into its aggregate's typed enum. Every event
/// type released so far has only version [`EVENT_VERSION`]; a later version comes with its
/// upcaster here.
pub fn decode(
    aggregate_type: &str,
    event_type: &str,
    event_version: &str,
    payload: &Value,
) -> Result<AnyEvent, DecodeError> {
    let aggregate = AggregateKind::parse(aggregate_type)
        .ok_or_else(|| DecodeError::UnknownAggregate(aggregate_type.to_owned()))?;
    let kind = EventType::parse(event_type)
        .filter(|k| k.aggregate() == aggregate)
        .ok_or_else(|| DecodeError::UnknownType {
            aggregate: aggregate.as_str(),
            event_type: event_type.to_owned(),
        })?;
    if event_version != EVENT_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            event_type: kind,
            version: event_version.to_owned(),
        });
    }
    fn typed<T: DeserializeOwned>(kind: EventType, payload: &Value) -> Result<T, DecodeError> {
        T::deserialize(payload).map_err(|source| DecodeError::Payload {
            event_type: kind,
            source,
        })
    }
    let event = match aggregate {
        AggregateKind::Tenant => AnyEvent::Tenant(typed(kind, payload)?),
        AggregateKind::Subscription => AnyEvent::Subscription(typed(kind, payload)?),
        AggregateKind::Conversation => AnyEvent::Conversation(typed(kind, payload)?),
        AggregateKind::Ticket => AnyEvent::Ticket(typed(kind, payload)?),
        AggregateKind::PlatformContent => AnyEvent::PlatformContent(typed(kind, payload)?),
        AggregateKind::AdminAction => AnyEvent::AdminAction(typed(kind, payload)?),
        // Plans managed by admins (issue 18).
        AggregateKind::Plan => AnyEvent::Plan(typed(kind, payload)?),
        // The usage monitor's AI spend thresholds (issue 18).
        AggregateKind::AiSpendThreshold => AnyEvent::AiSpendThreshold(typed(kind, payload)?),
    };
    if event.kind() != kind {
        return Err(DecodeError::TagMismatch {
            event_type: kind,
            tagged: event.kind(),
        });
    }
    Ok(event)
}

#[cfg(test)]
#[path = "stored_tests.rs"]
mod tests;

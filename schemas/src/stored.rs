//! The envelope in which stored events travel to projections and workers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
}

impl AggregateKind {
    /// Every kind, in a fixed order.
    pub const ALL: [AggregateKind; 5] = [
        Self::Tenant,
        Self::Subscription,
        Self::Conversation,
        Self::Ticket,
        Self::PlatformContent,
    ];

    /// The stored `aggregate_type` string.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tenant => "tenant",
            Self::Subscription => "subscription",
            Self::Conversation => "conversation",
            Self::Ticket => "ticket",
            Self::PlatformContent => "platform_content",
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
    /// `tenant`, `subscription`, `conversation`, `ticket` or `platform_content`.
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
}

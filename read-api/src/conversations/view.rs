//! What the conversation routes answer.

use chrono::{DateTime, Utc};
use schemas::personal::ERASED;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// The customer of a conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Contact {
    /// Their WhatsApp number; `[erased]` once erased or past retention.
    pub phone: String,
    /// Their WhatsApp profile name, when they have one; `[erased]` with the number.
    pub name: Option<String>,
}

impl Contact {
    pub(super) fn from_columns(phone: Option<String>, name: Option<String>) -> Self {
        match phone {
            Some(phone) => Self { phone, name },
            // The projection drops both together when their key goes.
            None => Self {
                phone: ERASED.into(),
                name: Some(ERASED.into()),
            },
        }
    }
}

/// The newest message of a conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastMessage {
    /// Its text (or media caption); `[erased]` once erased or past retention; absent for
    /// media without caption and for the tenant's automatic messages.
    #[schema(value_type = Option<String>)]
    pub preview: Option<Value>,
    /// `inbound` (from the customer) or `outbound`.
    pub direction: String,
    /// When it was sent.
    pub at: DateTime<Utc>,
}

/// One conversation in the list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationSummary {
    /// The conversation's id.
    pub id: Uuid,
    /// `ai_active`, `awaiting_human`, `human_replied` or `resolved`.
    pub status: String,
    /// The customer.
    pub contact: Contact,
    /// The newest message.
    pub last_message: Option<LastMessage>,
    /// Customer messages since the last answer (AI or human).
    pub unanswered_count: i32,
    /// The tenant user assigned, if any.
    pub assigned_agent: Option<Uuid>,
    /// When the 24 h customer-service window closes (F3).
    pub window_ends_at: Option<DateTime<Utc>>,
    /// When the conversation last changed; the list's order.
    pub updated_at: DateTime<Utc>,
    /// When the current hand-off to a human began, while it lasts.
    pub handed_off_at: Option<DateTime<Utc>>,
    /// Why, while it lasts: `customer_asked`, `low_confidence`, `plan_quota_reached` (the
    /// plan's AI messages are used up), `request_limit_reached`, `token_limit_reached`,
    /// `cost_limit_reached` or `ai_unavailable`.
    pub handoff_reason: Option<String>,
}

/// A page of the list, most recently changed first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationPage {
    /// The conversations.
    pub items: Vec<ConversationSummary>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// A provider's delivery state of an outbound message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// `sent`, `delivered`, `read` or `failed`.
    pub status: String,
    /// When the provider reported it.
    pub at: DateTime<Utc>,
    /// The provider's error, for `failed`.
    pub error: Option<String>,
}

/// One message of a conversation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Message {
    /// Its place in the conversation (increasing).
    pub sequence: i64,
    /// `inbound` (from the customer) or `outbound`.
    pub direction: String,
    /// `customer`, `ai`, `agent` (see `agent_id`) or `system` (the tenant's greeting,
    /// fallback, waiting or return message).
    pub author: String,
    /// The tenant user who wrote it, for `agent`.
    pub agent_id: Option<Uuid>,
    /// `text` or `media`.
    pub kind: String,
    /// The provider's media type (`image`, `audio`, …), for media.
    pub media_type: Option<String>,
    /// What a system message was for: `greeting`, `fallback`, `waiting` or `return`.
    pub purpose: Option<String>,
    /// The text or caption; `[erased]` once erased or past retention; absent for system
    /// messages (their text is the tenant's setting) and media without caption.
    #[schema(value_type = Option<String>)]
    pub body: Option<Value>,
    /// The provider's id of the message (outbound: once sent).
    pub provider_message_id: Option<String>,
    /// The idempotency key of an outbound message.
    pub outbound_id: Option<Uuid>,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The provider's delivery state, for outbound messages it reported on.
    pub delivery: Option<Delivery>,
}

/// One conversation and a page of its messages, oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConversationDetail {
    /// The conversation.
    #[serde(flatten)]
    pub summary: ConversationSummary,
    /// When the first message arrived.
    pub created_at: DateTime<Utc>,
    /// Messages in order.
    pub messages: Vec<Message>,
    /// Pass as `cursor` for the next messages; absent on the last page.
    pub next_cursor: Option<String>,
}

//! Events of the `conversation` aggregate: one tenant × WhatsApp contact (F1–F9).

use crate::Personal;
use chrono::{DateTime, TimeDelta, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long after the customer's last message the business may write freely (F3): the
/// WhatsApp customer service window. The aggregate decides by it and the conversations
/// read model shows when it ends.
pub const CUSTOMER_WINDOW: TimeDelta = TimeDelta::hours(24);

/// Who is answering a conversation (F4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// The AI answers.
    #[default]
    AiActive,
    /// Handed off; nobody has answered yet.
    AwaitingHuman,
    /// A human answered; the AI stays quiet.
    HumanReplied,
    /// Closed by the tenant; the next customer message reopens it.
    Resolved,
}

/// What a customer sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageContent {
    /// A text message.
    Text(Personal<String>),
    /// A media message (image, audio, document, …); the bot does not read media.
    Media {
        /// The provider's media type (`image`, `audio`, `document`, `sticker`, …).
        kind: String,
        /// The caption typed with it, if any.
        caption: Option<Personal<String>>,
    },
}

impl MessageContent {
    /// The text the customer typed: the message text or a media caption.
    pub fn text(&self) -> Option<&Personal<String>> {
        match self {
            Self::Text(t) => Some(t),
            Self::Media { caption, .. } => caption.as_ref(),
        }
    }
}

/// A provider's delivery status for an outbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Accepted by the provider.
    Sent,
    /// On the customer's phone.
    Delivered,
    /// Read by the customer.
    Read,
    /// Not deliverable.
    Failed,
}

impl DeliveryStatus {
    /// Statuses only move forward; a lower rank arriving late says nothing new.
    pub fn rank(self) -> u8 {
        match self {
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Failed => 4,
        }
    }
}

/// Why the AI took a conversation back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResumeReason {
    /// 24 h without human activity (F8).
    Timeout,
    /// A tenant user handed it back.
    Manual,
}

/// How an AI answer was produced (F13, F16). `AiReplied` gained it after events were
/// already stored, so it is optional there: older answers have none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AiRun {
    /// The configured name of the provider that answered, `cache` for a cached answer or
    /// `extractive` when no provider is configured.
    pub provider: String,
    /// Milliseconds the answer took to obtain (the model call, or the cache look-up).
    pub latency_ms: u64,
    /// Estimated cost in US dollars at the model prices in force when answering.
    pub cost_usd: f64,
    /// Whether the answer came from the response cache, without a model call (F14).
    pub cached: bool,
}

/// Why the AI handed a conversation to a human without being asked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// Retrieval did not support an answer (the confidence is below the tenant's threshold).
    LowConfidence,
    /// The plan's monthly AI message quota is used up.
    PlanQuotaReached,
    /// The tenant's AI requests-per-hour limit is reached (F15).
    RequestLimitReached,
    /// The tenant's AI tokens-per-day limit is reached (F15).
    TokenLimitReached,
    /// The tenant's AI cost-per-month limit is reached (F15).
    CostLimitReached,
    /// Every configured model provider failed.
    AiUnavailable,
}

impl HandoffReason {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LowConfidence => "low_confidence",
            Self::PlanQuotaReached => "plan_quota_reached",
            Self::RequestLimitReached => "request_limit_reached",
            Self::TokenLimitReached => "token_limit_reached",
            Self::CostLimitReached => "cost_limit_reached",
            Self::AiUnavailable => "ai_unavailable",
        }
    }
}

/// What happened in a conversation.
///
/// Events after which the platform sends a WhatsApp message carry an `outbound_id`: the
/// sender uses it as its idempotency key, so a redelivered event never sends twice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub enum ConversationEvent {
    /// The customer sent a message.
    MessageReceived {
        /// The tenant whose number received it.
        tenant_id: Uuid,
        /// The customer's WhatsApp id (their phone number).
        contact_wa_id: Personal<String>,
        /// The customer's profile name, when the provider sent one.
        contact_name: Option<Personal<String>>,
        /// The provider's message id; each is recorded once.
        provider_message_id: String,
        /// What was sent.
        content: MessageContent,
        /// When the customer sent it, by the provider's clock.
        sent_at: DateTime<Utc>,
        /// When atende recorded it.
        at: DateTime<Utc>,
    },
    /// The AI answered; the answer is to be sent.
    AiReplied {
        /// Idempotency key of the outbound message.
        outbound_id: Uuid,
        /// The answer.
        text: Personal<String>,
        /// The model's confidence, 0..=1.
        confidence: f64,
        /// Ids of the knowledge chunks the answer came from.
        sources: Vec<String>,
        /// The model that answered.
        model: String,
        /// Prompt tokens.
        tokens_in: u32,
        /// Completion tokens.
        tokens_out: u32,
        /// Provider, latency, cost and cache use; absent in answers recorded before it was
        /// kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        run: Option<AiRun>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The AI was not confident enough; the tenant's fallback message is to be sent and a
    /// human takes over.
    ConfidenceLow {
        /// Idempotency key of the fallback message.
        outbound_id: Uuid,
        /// The confidence that was too low.
        confidence: f64,
        /// The customer's question.
        question: Personal<String>,
        /// Why the AI handed over; absent (meaning low confidence) in hand-offs recorded
        /// before reasons were kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<HandoffReason>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The customer asked for a human; the tenant's waiting message is to be sent.
    HumanRequested {
        /// Idempotency key of the waiting message.
        outbound_id: Uuid,
        /// What the customer wrote.
        question: Personal<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A tenant user answered from the dashboard; the answer is to be sent.
    HumanReplied {
        /// Idempotency key of the outbound message.
        outbound_id: Uuid,
        /// The user who answered.
        agent_id: Uuid,
        /// The answer.
        text: Personal<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The conversation was assigned to a tenant user.
    AgentAssigned {
        /// The user now responsible.
        agent_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The AI answers again; the tenant's return message is to be sent.
    AiResumed {
        /// Idempotency key of the return message.
        outbound_id: Uuid,
        /// Why.
        reason: ResumeReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// The provider accepted an outbound message and gave it its own id: the link from the
    /// event that asked for the message (its `outbound_id`) to the provider's delivery
    /// statuses (`OutboundDelivered`, `OutboundFailed`), which name only the provider's id.
    OutboundSent {
        /// The `outbound_id` of the event that asked for the message.
        outbound_id: Uuid,
        /// The provider's id of the message sent.
        provider_message_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The provider reported progress of an outbound message (never `failed`).
    OutboundDelivered {
        /// The provider's id of the outbound message.
        provider_message_id: String,
        /// `sent`, `delivered` or `read`.
        status: DeliveryStatus,
        /// When.
        at: DateTime<Utc>,
    },
    /// The provider could not deliver an outbound message.
    OutboundFailed {
        /// The provider's id of the outbound message.
        provider_message_id: String,
        /// The provider's error, if it gave one.
        error: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The tenant closed the conversation.
    ConversationResolved {
        /// When.
        at: DateTime<Utc>,
    },
    /// The platform gave up sending an outbound message the provider never accepted (a
    /// permanent refusal such as an invalid token or number, no template outside the 24 h
    /// window, or attempts exhausted). Unlike `OutboundFailed` there is no provider id: the
    /// message never got one.
    OutboundRefused {
        /// The `outbound_id` of the event that asked for the message.
        outbound_id: Uuid,
        /// Why, as the provider or the sender said it.
        error: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A person of the tenant answered from the connected phone itself (Evolution API's
    /// `fromMe`): human activity, like a reply from the dashboard, but already delivered,
    /// so nothing is to be sent.
    HumanRepliedFromPhone {
        /// The provider's id of the message; each is recorded once.
        provider_message_id: String,
        /// What was typed, when it was text.
        text: Option<Personal<String>>,
        /// When it was sent, by the provider's clock.
        sent_at: DateTime<Utc>,
        /// When atende recorded it.
        at: DateTime<Utc>,
    },
    /// The AI greets a new conversation before its first answer; the tenant's greeting (a
    /// bot setting) is to be sent, as the fallback, waiting and return messages are.
    GreetingSent {
        /// Idempotency key of the greeting message.
        outbound_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The contact's personal data was destroyed (LGPD erasure): their keys are gone, so
    /// every earlier personal field of this conversation now reads as `[erased]`. Who
    /// asked is in the event's metadata; no personal data is in the event.
    SubjectErased {
        /// Why (e.g. the data subject's request, a court order).
        reason: String,
        /// When.
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
#[path = "conversation_tests.rs"]
pub(crate) mod tests;

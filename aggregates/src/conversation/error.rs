//! Why a conversation command is refused.

use crate::error::{DomainError, ErrorKind, ServiceError};
use schemas::events::ConversationStatus;

/// A refused conversation command.
///
/// Messages never contain message texts or numbers: they end up in logs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConversationError {
    /// No message has been received in this conversation yet.
    #[error("no such conversation")]
    NotFound,
    /// The tenant does not exist.
    #[error("no such tenant")]
    TenantNotFound,
    /// The tenant is suspended; only customer messages and delivery statuses are recorded.
    #[error("the tenant is suspended")]
    TenantSuspended,
    /// The message names another tenant than the conversation's.
    #[error("the message belongs to another tenant's conversation")]
    TenantMismatch,
    /// The provider message id is blank.
    #[error("the provider message id is required")]
    ProviderMessageIdRequired,
    /// The AI may only act while the conversation is `AiActive` (F4).
    #[error("the AI may not act on a conversation in state {0:?}")]
    AiNotAllowed(ConversationStatus),
    /// The conversation is resolved.
    #[error("the conversation is resolved")]
    Resolved,
    /// More than 24 h since the customer's last message; only templates may be sent (F3).
    #[error("the 24 h customer-service window is closed")]
    CustomerWindowClosed,
    /// No recent outbound message has this `outbound_id`.
    #[error("no outbound message with this id")]
    UnknownOutbound,
    /// The outbound message was already recorded as sent under another provider id.
    #[error("the outbound message was already sent under another provider id")]
    OutboundSentAsOther,
    /// A confidence is NaN or outside 0..=1.
    #[error("the confidence must be a number from 0 to 1")]
    InvalidConfidence,
    /// A reply text is blank.
    #[error("the text must not be blank")]
    TextRequired,
    /// The tenant gate failed.
    #[error("the tenant directory is unavailable: {0}")]
    Unavailable(ServiceError),
}

impl DomainError for ConversationError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "conversation_not_found",
            Self::TenantNotFound => "tenant_not_found",
            Self::TenantSuspended => "tenant_suspended",
            Self::TenantMismatch => "tenant_mismatch",
            Self::ProviderMessageIdRequired => "provider_message_id_required",
            Self::AiNotAllowed(_) => "ai_not_allowed",
            Self::Resolved => "conversation_resolved",
            Self::CustomerWindowClosed => "customer_window_closed",
            Self::UnknownOutbound => "outbound_not_found",
            Self::OutboundSentAsOther => "outbound_already_sent",
            Self::InvalidConfidence => "invalid_confidence",
            Self::TextRequired => "text_required",
            Self::Unavailable(_) => "service_unavailable",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound | Self::TenantNotFound | Self::UnknownOutbound => ErrorKind::NotFound,
            Self::TenantSuspended => ErrorKind::Forbidden,
            Self::AiNotAllowed(_)
            | Self::Resolved
            | Self::CustomerWindowClosed
            | Self::OutboundSentAsOther => ErrorKind::Conflict,
            Self::TenantMismatch
            | Self::ProviderMessageIdRequired
            | Self::InvalidConfidence
            | Self::TextRequired => ErrorKind::Unprocessable,
            Self::Unavailable(_) => ErrorKind::Unavailable,
        }
    }
}

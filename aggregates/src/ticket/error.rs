//! Why a ticket command is refused.

use crate::error::{DomainError, ErrorKind};
use schemas::events::TicketStatus;

/// A refused ticket command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// The ticket has not been opened.
    #[error("no such ticket")]
    NotFound,
    /// The ticket exists already.
    #[error("the ticket is already open")]
    AlreadyOpened,
    /// The ticket is closed; closing is final.
    #[error("the ticket is closed")]
    Closed,
    /// The status change is not one of the allowed transitions.
    #[error("a ticket cannot go from {from} to {to}")]
    InvalidTransition {
        /// The current status.
        from: TicketStatus,
        /// The requested one.
        to: TicketStatus,
    },
    /// The subject is blank.
    #[error("the subject must not be blank")]
    SubjectRequired,
    /// The category is blank.
    #[error("the category must not be blank")]
    CategoryRequired,
    /// A message or answer is blank.
    #[error("the text must not be blank")]
    TextRequired,
    /// A confidence is NaN or outside 0..=1.
    #[error("the confidence must be a number from 0 to 1")]
    InvalidConfidence,
    /// The AI's confidence is not above the minimum for answering.
    #[error("the AI is not confident enough to answer")]
    AiNotConfident,
    /// An admin has been asked for or handles the ticket; the AI no longer answers.
    #[error("an admin handles the ticket or has been asked for; the AI may not answer")]
    AiNotAllowed,
    /// A message carries more files than allowed.
    #[error("a message carries at most {max} attachments")]
    TooManyAttachments {
        /// The limit.
        max: usize,
    },
}

impl DomainError for TicketError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "ticket_not_found",
            Self::AlreadyOpened => "ticket_already_opened",
            Self::Closed => "ticket_closed",
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::SubjectRequired => "subject_required",
            Self::CategoryRequired => "category_required",
            Self::TextRequired => "text_required",
            Self::InvalidConfidence => "invalid_confidence",
            Self::AiNotConfident => "ai_not_confident",
            Self::AiNotAllowed => "ai_not_allowed",
            Self::TooManyAttachments { .. } => "too_many_attachments",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::AlreadyOpened
            | Self::Closed
            | Self::InvalidTransition { .. }
            | Self::AiNotAllowed => ErrorKind::Conflict,
            Self::SubjectRequired
            | Self::CategoryRequired
            | Self::TextRequired
            | Self::InvalidConfidence
            | Self::AiNotConfident
            | Self::TooManyAttachments { .. } => ErrorKind::Unprocessable,
        }
    }
}

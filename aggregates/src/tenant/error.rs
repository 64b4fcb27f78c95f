//! Why a tenant command is refused.

use crate::error::{DomainError, ErrorKind, ServiceError};

/// A refused tenant command.
///
/// Messages never contain personal data (e-mail addresses, numbers): they end up in logs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TenantError {
    /// The tenant exists already.
    #[error("the tenant is already registered")]
    AlreadyRegistered,
    /// The tenant has not been registered.
    #[error("no such tenant")]
    NotFound,
    /// The name is blank.
    #[error("the tenant's name must not be blank")]
    NameRequired,
    /// The owner's address is not an e-mail address.
    #[error("the owner's e-mail address is not valid")]
    InvalidEmail,
    /// The plan is blank.
    #[error("a plan is required")]
    PlanRequired,
    /// The phone number id is blank.
    #[error("the WhatsApp phone number id must not be blank")]
    PhoneNumberIdRequired,
    /// Another tenant has that number.
    #[error("this WhatsApp number is linked to another tenant")]
    PhoneNumberTaken,
    /// The knowledge text is over the limit.
    #[error("the knowledge has {chars} characters; at most {max} are allowed")]
    KnowledgeTooLong {
        /// Its length in Unicode scalar values.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The threshold is NaN or outside 0..=1.
    #[error("the confidence threshold must be a number from 0 to 1")]
    InvalidConfidenceThreshold,
    /// Too many hand-off keywords, or one too long.
    #[error(
        "at most {} hand-off keywords of at most {} characters each",
        super::MAX_HANDOFF_KEYWORDS,
        super::MAX_HANDOFF_KEYWORD_CHARS
    )]
    InvalidHandoffKeywords,
    /// An AI limit is negative, not a number, or above its maximum.
    #[error("{limit} must be a number from 0 (unlimited) to {max}")]
    InvalidAiLimit {
        /// The limit's field name.
        limit: &'static str,
        /// Its maximum.
        max: String,
    },
    /// The phone number directory failed.
    #[error("the phone number directory is unavailable: {0}")]
    Unavailable(ServiceError),
}

impl DomainError for TenantError {
    fn code(&self) -> &'static str {
        match self {
            Self::AlreadyRegistered => "already_registered",
            Self::NotFound => "tenant_not_found",
            Self::NameRequired => "name_required",
            Self::InvalidEmail => "invalid_email",
            Self::PlanRequired => "plan_required",
            Self::PhoneNumberIdRequired => "phone_number_id_required",
            Self::PhoneNumberTaken => "phone_number_taken",
            Self::KnowledgeTooLong { .. } => "knowledge_too_long",
            Self::InvalidConfidenceThreshold => "invalid_confidence_threshold",
            Self::InvalidHandoffKeywords => "invalid_handoff_keywords",
            Self::InvalidAiLimit { .. } => "invalid_ai_limit",
            Self::Unavailable(_) => "service_unavailable",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::AlreadyRegistered | Self::PhoneNumberTaken => ErrorKind::Conflict,
            Self::NameRequired
            | Self::InvalidEmail
            | Self::PlanRequired
            | Self::PhoneNumberIdRequired
            | Self::KnowledgeTooLong { .. }
            | Self::InvalidConfidenceThreshold
            | Self::InvalidHandoffKeywords
            | Self::InvalidAiLimit { .. } => ErrorKind::Unprocessable,
            Self::Unavailable(_) => ErrorKind::Unavailable,
        }
    }
}

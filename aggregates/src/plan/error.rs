//! Why a plan command is refused.

use crate::error::{DomainError, ErrorKind};

/// A refused plan command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// Neither the configuration nor an admin has put this plan on sale.
    #[error("there is no such plan")]
    NotFound,
    /// A plan with this key exists (configured or published) or existed.
    #[error("a plan with this key exists already")]
    AlreadyExists,
    /// The plan was retired: it stays as it was when retired.
    #[error("this plan was retired and cannot change")]
    Retired,
    /// The key is not 1 to 40 lowercase letters, digits, `-` and `_` starting with a letter.
    #[error("the key must be 1 to 40 lowercase letters, digits, - and _, starting with a letter")]
    InvalidKey,
    /// The spec names another plan than the one commanded.
    #[error("the spec is for plan {spec}, not {plan}")]
    KeyMismatch {
        /// The plan commanded.
        plan: String,
        /// The key in the spec.
        spec: String,
    },
    /// The name is blank or longer than 80 characters.
    #[error("the name must be 1 to 80 characters")]
    InvalidName,
    /// The price is below zero.
    #[error("the monthly price must not be negative")]
    NegativePrice,
    /// The currency is not a 3-letter ISO 4217 code.
    #[error("the currency must be a 3-letter ISO 4217 code")]
    InvalidCurrency,
    /// The quota is below zero.
    #[error("the monthly AI quota must not be negative (leave it empty for unlimited)")]
    NegativeQuota,
    /// A feature key is blank or longer than 60 characters.
    #[error("each feature must be 1 to 60 characters")]
    InvalidFeature,
    /// The Stripe price id is blank, has spaces or is longer than 255 characters.
    #[error("the Stripe price id must be one word of at most 255 characters")]
    InvalidStripePrice,
}

impl DomainError for PlanError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "plan_not_found",
            Self::AlreadyExists => "plan_exists",
            Self::Retired => "plan_retired",
            Self::InvalidKey => "invalid_plan_key",
            Self::KeyMismatch { .. } => "plan_key_mismatch",
            Self::InvalidName => "invalid_plan_name",
            Self::NegativePrice => "invalid_price",
            Self::InvalidCurrency => "invalid_currency",
            Self::NegativeQuota => "invalid_quota",
            Self::InvalidFeature => "invalid_feature",
            Self::InvalidStripePrice => "invalid_stripe_price",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound => ErrorKind::NotFound,
            Self::AlreadyExists | Self::Retired => ErrorKind::Conflict,
            Self::InvalidKey
            | Self::KeyMismatch { .. }
            | Self::InvalidName
            | Self::NegativePrice
            | Self::InvalidCurrency
            | Self::NegativeQuota
            | Self::InvalidFeature
            | Self::InvalidStripePrice => ErrorKind::Unprocessable,
        }
    }
}

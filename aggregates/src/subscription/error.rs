//! Why a subscription command is refused.

use crate::error::{DomainError, ErrorKind};

/// A refused subscription command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// The subscription has not been started.
    #[error("no such subscription")]
    NotFound,
    /// It was started already, from another Stripe subscription or as another grant.
    #[error("the subscription was already started otherwise")]
    AlreadyStarted,
    /// It is cancelled; cancellation is final.
    #[error("the subscription is cancelled")]
    Cancelled,
    /// A Stripe customer or subscription id is blank.
    #[error("the Stripe customer and subscription ids are required")]
    StripeIdRequired,
    /// The plan is blank.
    #[error("a plan is required")]
    PlanRequired,
    /// The invoice id is blank.
    #[error("the invoice id is required")]
    InvoiceIdRequired,
    /// The amount is negative.
    #[error("the amount must not be negative")]
    InvalidAmount,
    /// The currency is not a three-letter code.
    #[error("the currency must be a three-letter ISO 4217 code")]
    InvalidCurrency,
    /// A refund names an invoice this subscription never recorded as paid.
    #[error("no payment of that invoice was recorded")]
    PaymentNotFound,
    /// A refund id is blank.
    #[error("the refund id is required")]
    RefundIdRequired,
}

impl DomainError for SubscriptionError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "subscription_not_found",
            Self::AlreadyStarted => "already_started",
            Self::Cancelled => "subscription_cancelled",
            Self::StripeIdRequired => "stripe_id_required",
            Self::PlanRequired => "plan_required",
            Self::InvoiceIdRequired => "invoice_id_required",
            Self::InvalidAmount => "invalid_amount",
            Self::InvalidCurrency => "invalid_currency",
            Self::PaymentNotFound => "payment_not_found",
            Self::RefundIdRequired => "refund_id_required",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound | Self::PaymentNotFound => ErrorKind::NotFound,
            Self::AlreadyStarted | Self::Cancelled => ErrorKind::Conflict,
            Self::StripeIdRequired
            | Self::PlanRequired
            | Self::InvoiceIdRequired
            | Self::InvalidAmount
            | Self::InvalidCurrency
            | Self::RefundIdRequired => ErrorKind::Unprocessable,
        }
    }
}

//! Stripe's API as atende calls it (F20, F25, F26): Checkout and customer-portal sessions,
//! cancelling and reactivating subscriptions, refunding payments, and usage reports to Stripe Billing Meters.
//!
//! Every request carries an `Idempotency-Key`: a retried call never creates a second
//! session, cancellation or usage report.

mod client;
pub mod usage;

pub use client::{
    CheckoutRequest, CreatedRefund, HostedSession, MeterEvent, RefundRequest, StripeClient,
    StripeConfig, DEFAULT_API_BASE,
};

/// Why a Stripe call failed.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// The client could not be built from the configuration.
    #[error("the Stripe client is misconfigured: {0}")]
    Config(String),
    /// An idempotency key must have 1 to 255 characters.
    #[error("{0:?} cannot be an idempotency key")]
    IdempotencyKey(String),
    /// Stripe answered with an error.
    #[error("Stripe refused the request with status {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Stripe's error type and code, when given.
        code: String,
        /// Stripe's explanation.
        message: String,
    },
    /// Stripe could not be reached, timed out or answered something unreadable.
    #[error("Stripe could not be reached: {0}")]
    Unreachable(String),
}

impl StripeError {
    /// Whether trying again cannot help: Stripe refused the request itself (4xx other
    /// than a conflict or rate limit).
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Config(_) | Self::IdempotencyKey(_) => true,
            Self::Refused { status, .. } => {
                (400..500).contains(status) && *status != 409 && *status != 429
            }
            Self::Unreachable(_) => false,
        }
    }
}

impl From<::stripe::StripeError> for StripeError {
    fn from(e: ::stripe::StripeError) -> Self {
        match e {
            ::stripe::StripeError::Stripe(api, status) => Self::Refused {
                status,
                code: match &api.code {
                    Some(code) => format!("{}/{}", api.type_.as_str(), code.as_str()),
                    None => api.type_.as_str().to_owned(),
                },
                message: api.message.clone().unwrap_or_default(),
            },
            ::stripe::StripeError::ConfigError(m) => Self::Config(m),
            other => Self::Unreachable(other.to_string()),
        }
    }
}

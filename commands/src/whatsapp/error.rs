//! What a webhook can fail with.

use crate::error::CommandError;

/// A webhook was refused or could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// `X-Hub-Signature-256` is missing, malformed or wrong: nothing was read.
    #[error("the X-Hub-Signature-256 header is missing or does not match the body")]
    BadSignature,
    /// The body is not the JSON the provider sends.
    #[error("the body is not a valid webhook payload: {0}")]
    Malformed(String),
    /// No tenant has this Evolution webhook secret.
    #[error("no tenant has this webhook address")]
    UnknownSecret,
    /// Signed webhooks cannot be checked: no app secret is configured.
    #[error("WHATSAPP_APP_SECRET is not configured; signed webhooks cannot be checked")]
    NotConfigured,
    /// Recording failed; the provider should retry (what was recorded is deduplicated).
    #[error("recording the webhook failed")]
    Command(#[from] CommandError),
    /// The database failed.
    #[error("the channel directory failed")]
    Database(#[from] sqlx::Error),
    /// Sealing or opening a credential failed.
    #[error("the key ring failed")]
    Keys(#[from] crate::privacy::KeyError),
}

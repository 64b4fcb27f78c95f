//! The mailer: every e-mail the product sends goes through an outbox table.
//!
//! - [`enqueue`] renders a [`Template`] and inserts it in the caller's transaction, keyed by
//!   an idempotency key that names the cause, so a mail exists exactly when its cause
//!   committed and each cause sends once, however often it is retried or redelivered.
//! - [`Mailer`] sends due mails (`FOR UPDATE SKIP LOCKED`, so any number of processes can run
//!   it), retries failures with exponential backoff and gives up after
//!   [`MailerConfig::max_attempts`] (status `failed`, visible in /health through
//!   [`status`]). It wakes on `pg_notify` from `enqueue` and polls as a fallback.
//! - [`Transport`]: SMTP (`SMTP_URL`) or, without one, `.eml` files in a directory.

mod outbox;
mod public_url;
mod templates;
mod transport;
mod worker;

pub use lettre::message::Mailbox;
pub use outbox::{enqueue, status, tenant_locale, NewMail, OutboxStatus, NOTIFY_CHANNEL};
pub use public_url::{InvalidPublicUrl, PublicUrl};
pub use templates::{
    date_pattern, AiLimitKind, HandoffCause, Locale, Rendered, Template, TicketCause,
    UnsupportedLocale,
};
pub use transport::Transport;
pub use worker::{Mailer, MailerConfig, DEFAULT_FROM};

/// Why mail could not be queued or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient or sender is not a valid address.
    #[error("{0:?} is not a valid e-mail address")]
    InvalidAddress(String),
    /// The SMTP URL could not be used.
    #[error("the SMTP URL is not usable")]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
    /// The database failed.
    #[error("the mail outbox")]
    Database(#[from] sqlx::Error),
}

//! E-mail: what the product writes, how it is queued and how it leaves.
//!
//! - [`enqueue`] renders a [`Template`] and inserts it in the caller's transaction, keyed by
//!   an idempotency key that names the cause, so a mail exists exactly when its cause
//!   committed and each cause sends once, however often it is retried or redelivered. The
//!   mailer worker (`workers::mailer`) sends what is queued; [`status`] counts it for
//!   /health.
//! - [`Transport`]: SMTP (`SMTP_URL`) or, without one, `.eml` files in a directory.

mod public_url;
mod queue;
mod templates;
mod transport;

pub use lettre::message::Mailbox;
pub use public_url::{InvalidPublicUrl, PublicUrl};
pub use queue::{enqueue, status, tenant_locale, NewMail, OutboxStatus, NOTIFY_CHANNEL};
pub use templates::{
    date_pattern, AiLimitKind, HandoffCause, Locale, Rendered, Template, TicketCause,
    UnsupportedLocale,
};
pub use transport::{SendFailure, Transport};

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

//! Putting mail in the outbox table, and its counts for /health. Anything that sends mail
//! (the API, the workers) queues it here; the mailer worker drains the table.

use super::templates::{Locale, Template};
use super::MailError;
use lettre::Address;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The channel `enqueue` notifies so that idle workers send at once.
pub const NOTIFY_CHANNEL: &str = "mail_outbox";

/// A mail to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMail {
    /// Names the cause (`password-reset:<token id>`, `welcome:<event id>`, …): a second mail
    /// with the same key is dropped.
    pub idempotency_key: String,
    /// The recipient's address.
    pub to: String,
    /// The language to render in.
    pub locale: Locale,
    /// What to say.
    pub template: Template,
}

/// Renders `mail` and queues it in the caller's transaction (it is sent only if that
/// commits). Returns false when a mail with its idempotency key was already queued.
#[tracing::instrument(name = "queueing an e-mail", skip_all, fields(template = mail.template.name()))]
pub async fn enqueue(conn: &mut PgConnection, mail: &NewMail) -> Result<bool, MailError> {
    // Refused here rather than by the worker: the caller can still tell its user.
    let to: Address = mail
        .to
        .trim()
        .parse()
        .map_err(|_| MailError::InvalidAddress(mail.to.clone()))?;
    let rendered = mail.template.render(mail.locale);
    let inserted = sqlx::query(
        "INSERT INTO mail_outbox
             (id, idempotency_key, template, locale, recipient, subject, text_body, html_body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(&mail.idempotency_key)
    .bind(mail.template.name())
    .bind(mail.locale.as_str())
    .bind(to.to_string())
    .bind(&rendered.subject)
    .bind(&rendered.text)
    .bind(&rendered.html)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        // Delivered at commit, and not at all on rollback, like the row itself.
        sqlx::query("SELECT pg_notify($1, '')")
            .bind(NOTIFY_CHANNEL)
            .execute(&mut *conn)
            .await?;
    }
    Ok(inserted)
}

/// The language the tenant chose, from the tenant directory (the projection of its
/// `LocaleChanged` events); the default for a tenant the directory does not list yet.
pub async fn tenant_locale(conn: &mut PgConnection, tenant: Uuid) -> Result<Locale, sqlx::Error> {
    let tag: Option<String> =
        sqlx::query_scalar("SELECT locale FROM tenant_directory WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(Locale::from_tag(tag.as_deref()))
}

/// The outbox at a glance, for /health.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct OutboxStatus {
    /// Mails not sent yet (including those waiting for a retry).
    pub queued: i64,
    /// Mails given up on.
    pub failed: i64,
    /// How long the most overdue queued mail has been due, in seconds; none when nothing is
    /// due. A growing value means nothing is sending.
    pub oldest_due_age_secs: Option<f64>,
}

/// Counts queued and failed mails.
pub async fn status(pool: &PgPool) -> Result<OutboxStatus, sqlx::Error> {
    let (queued, failed, oldest_due_age_secs): (i64, i64, Option<f64>) = sqlx::query_as(
        "SELECT
             (SELECT count(*) FROM mail_outbox WHERE status = 'queued'),
             (SELECT count(*) FROM mail_outbox WHERE status = 'failed'),
             (SELECT extract(epoch FROM now() - min(next_attempt_at))::float8
              FROM mail_outbox WHERE status = 'queued' AND next_attempt_at <= now())",
    )
    .fetch_one(pool)
    .await?;
    Ok(OutboxStatus {
        queued,
        failed,
        oldest_due_age_secs,
    })
}

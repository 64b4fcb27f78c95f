//! The outbox table as the mailer worker reads it: claiming and settling mails (they are
//! queued through [`integrations::mailer::enqueue`]).

use sqlx::PgPool;
use std::time::Duration;
use uuid::Uuid;

/// A mail claimed for sending.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct Claimed {
    pub(super) id: Uuid,
    pub(super) recipient: String,
    pub(super) subject: String,
    pub(super) text_body: Option<String>,
    pub(super) html_body: Option<String>,
    pub(super) attempts: i32,
}

/// Claims up to `limit` due mails, counting the attempt and moving their next attempt a
/// `lease` away: if this worker dies mid-send, another takes them once the lease ends.
pub(super) async fn claim(
    pool: &PgPool,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE mail_outbox
         SET attempts = attempts + 1,
             next_attempt_at = now() + make_interval(secs => $2)
         WHERE id IN (
             SELECT id FROM mail_outbox
             WHERE status = 'queued' AND next_attempt_at <= now()
             ORDER BY next_attempt_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
         )
         RETURNING id, recipient, subject, text_body, html_body, attempts",
    )
    .bind(limit)
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await
}

/// Marks a mail sent and forgets its bodies.
pub(super) async fn sent(pool: &PgPool, id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox
         SET status = 'sent', sent_at = now(), last_error = NULL,
             text_body = NULL, html_body = NULL
         WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await
    .map(drop)
}

/// Schedules another attempt in `after`.
pub(super) async fn retry(
    pool: &PgPool,
    id: Uuid,
    after: Duration,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox
         SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3
         WHERE id = $1",
    )
    .bind(id)
    .bind(after.as_secs_f64())
    .bind(error)
    .execute(pool)
    .await
    .map(drop)
}

/// Gives up on a mail (its bodies are forgotten too).
pub(super) async fn failed(pool: &PgPool, id: Uuid, error: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox
         SET status = 'failed', last_error = $2, text_body = NULL, html_body = NULL
         WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .execute(pool)
    .await
    .map(drop)
}

/// When the next queued mail is due, in seconds from now (negative: overdue).
pub(super) async fn next_due_in(pool: &PgPool) -> Result<Option<f64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT extract(epoch FROM min(next_attempt_at) - now())::float8
         FROM mail_outbox WHERE status = 'queued'",
    )
    .fetch_one(pool)
    .await
}

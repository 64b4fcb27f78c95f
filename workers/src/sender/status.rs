//! The outbound queue's state, for `/metrics`.

use sqlx::PgPool;

/// Outbound WhatsApp messages waiting or given up on (every process's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutboundStatus {
    /// Messages waiting to be sent (including those waiting for a retry).
    pub pending: i64,
    /// Messages given up on.
    pub failed: i64,
    /// Seconds the most overdue message has been due; none when nothing is due.
    pub oldest_due_age_secs: Option<f64>,
}

/// Counts pending and failed outbound messages.
pub async fn status(pool: &PgPool) -> Result<OutboundStatus, sqlx::Error> {
    let (pending, failed, oldest_due_age_secs): (i64, i64, Option<f64>) = sqlx::query_as(
        "SELECT
             (SELECT count(*) FROM whatsapp_outbound WHERE status = 'pending'),
             (SELECT count(*) FROM whatsapp_outbound WHERE status = 'failed'),
             (SELECT extract(epoch FROM now() - min(next_attempt_at))::float8
              FROM whatsapp_outbound WHERE status = 'pending' AND next_attempt_at <= now())",
    )
    .fetch_one(pool)
    .await?;
    Ok(OutboundStatus {
        pending,
        failed,
        oldest_due_age_secs,
    })
}

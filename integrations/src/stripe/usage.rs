//! The usage reports owed to Stripe (`meter_reports`, written and sent by the meter
//! reporter in `workers`), counted for /health.

use sqlx::PgPool;

/// The reports' state for /health (shared by every process).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeterStatus {
    /// Reports waiting to be sent or retried.
    pub pending: i64,
    /// Reports given up on.
    pub failed: i64,
    /// Seconds the oldest pending report has waited; none when nothing waits.
    pub oldest_pending_age_secs: Option<f64>,
}

/// Counts reports by state.
pub async fn status(pool: &PgPool) -> Result<MeterStatus, sqlx::Error> {
    let (pending, failed, oldest): (i64, i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'pending'),
                count(*) FILTER (WHERE status = 'failed'),
                EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE status = 'pending'))::float8
           FROM meter_reports WHERE status <> 'reported'",
    )
    .fetch_one(pool)
    .await?;
    Ok(MeterStatus {
        pending,
        failed,
        oldest_pending_age_secs: oldest,
    })
}

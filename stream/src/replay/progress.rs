//! How far a replay has got, kept in `projection_replays` so that any process (not only
//! the one running it) can show it; the latest replay of each projection stays there.
//! Progress is advisory: failing to record it is logged and never stops a replay.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// A projection's latest replay.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ReplayProgress {
    /// The projection.
    pub projection: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The log's head when it started: reaching it is (about) done.
    pub target_position: i64,
    /// The last position read so far.
    pub position: i64,
    /// Events read so far.
    pub events: i64,
    /// When it ended (swapped in, or failed); none while it runs.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Every projection's latest replay.
pub async fn all(pool: &PgPool) -> Result<Vec<ReplayProgress>, sqlx::Error> {
    sqlx::query_as(
        "SELECT consumer AS projection, started_at, target_position, position, events,
                finished_at, error
           FROM projection_replays ORDER BY consumer",
    )
    .fetch_all(pool)
    .await
}

fn logged(result: Result<sqlx::postgres::PgQueryResult, sqlx::Error>) {
    if let Err(e) = result {
        tracing::warn!(error = %e, "the replay's progress could not be recorded");
    }
}

pub(super) async fn begin(pool: &PgPool, names: &[String], target: i64) {
    logged(
        sqlx::query(
            "INSERT INTO projection_replays (consumer, target_position)
             SELECT unnest($1::text[]), $2
             ON CONFLICT (consumer) DO UPDATE SET started_at = now(),
                 target_position = $2, position = 0, events = 0, finished_at = NULL, error = NULL",
        )
        .bind(names)
        .bind(target)
        .execute(pool)
        .await,
    );
}

pub(super) async fn advance(pool: &PgPool, names: &[String], position: i64, events: u64) {
    logged(
        sqlx::query(
            "UPDATE projection_replays SET position = $2, events = $3 WHERE consumer = ANY($1)",
        )
        .bind(names)
        .bind(position)
        .bind(i64::try_from(events).unwrap_or(i64::MAX))
        .execute(pool)
        .await,
    );
}

pub(super) async fn end(pool: &PgPool, names: &[String], error: Option<String>) {
    logged(
        sqlx::query(
            "UPDATE projection_replays
                SET finished_at = now(), error = $2,
                    position = CASE WHEN $2::text IS NULL THEN greatest(position, target_position)
                                    ELSE position END
              WHERE consumer = ANY($1)",
        )
        .bind(names)
        .bind(error)
        .execute(pool)
        .await,
    );
}

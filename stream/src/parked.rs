//! Events a consumer gave up on (`parked_events`), and putting them back.

use super::handler::EventHandler;
use super::tail::{Tail, TailError};
use chrono::{DateTime, Utc};
use schemas::StoredEvent;
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool};

/// One parked event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ParkedEvent {
    /// The consumer that could not apply it.
    pub consumer: String,
    /// The event's global position.
    pub position: i64,
    /// The writing transaction's id.
    pub tx_id: i64,
    /// The event's type.
    pub event_type: String,
    /// Its aggregate's type.
    pub aggregate_type: String,
    /// Its aggregate's id.
    pub aggregate_id: String,
    /// The last error.
    pub error: String,
    /// How many times it was tried before being parked.
    pub attempts: i32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

/// Retrying a parked event did not work out.
#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    /// No such parked event.
    #[error("no parked event at position {position} for consumer {consumer}")]
    NotParked {
        /// The consumer asked about.
        consumer: String,
        /// The position asked about.
        position: i64,
    },
    /// The handler still fails on it; it stays parked.
    #[error("the handler still fails: {0}")]
    StillFailing(String),
    /// Reading the event failed.
    #[error("reading the parked event failed")]
    Tail(#[from] TailError),
    /// The database failed.
    #[error("database error while retrying a parked event")]
    Database(#[from] sqlx::Error),
}

/// Records `event` as parked for `consumer`; call it in the transaction that moves the
/// checkpoint past the event.
pub(crate) async fn park(
    db: &mut PgConnection,
    consumer: &str,
    event: &StoredEvent,
    error: &str,
    attempts: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO parked_events (consumer, position, tx_id, event_type, aggregate_type,
             aggregate_id, error, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (consumer, position) DO UPDATE
           SET error = EXCLUDED.error, attempts = EXCLUDED.attempts, parked_at = now()",
    )
    .bind(consumer)
    .bind(event.position)
    .bind(event.tx_id)
    .bind(&event.event_type)
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(error)
    .bind(attempts)
    .execute(&mut *db)
    .await?;
    // A retry that fails again parks the event anew; its key keeps it one notification.
    let notice = crate::notifications::Notice::event_parked(
        consumer,
        event.position,
        &event.event_type,
        error,
        chrono::Utc::now(),
    );
    crate::notifications::raise(db, &notice).await?;
    Ok(())
}

/// Every event `consumer` parked, oldest first.
pub async fn list(pool: &PgPool, consumer: &str) -> Result<Vec<ParkedEvent>, sqlx::Error> {
    sqlx::query_as("SELECT * FROM parked_events WHERE consumer = $1 ORDER BY tx_id, position")
        .bind(consumer)
        .fetch_all(pool)
        .await
}

/// How many events each consumer has parked (consumers with none are left out).
pub async fn counts<'e>(db: impl PgExecutor<'e>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT consumer, count(*) FROM parked_events GROUP BY consumer")
        .fetch_all(db)
        .await
}

/// Applies the parked event at `position` with `handler` as it is now; on success the event
/// is unparked in the same transaction, otherwise it stays parked with the new error.
#[tracing::instrument(name = "retrying a parked event", skip(tail, handler), fields(consumer = handler.name()))]
pub async fn retry(
    tail: &Tail,
    handler: &dyn EventHandler,
    position: i64,
) -> Result<(), RetryError> {
    let consumer = handler.name();
    let not_parked = || RetryError::NotParked {
        consumer: consumer.to_owned(),
        position,
    };
    let mut tx = tail.pool().begin().await?;
    // The fence first, as the runner and a replay's swap take it first: no lock-order
    // deadlock, and a swap cannot drop the table under this write.
    super::apply::fence(&mut tx, consumer).await?;
    // The row lock keeps two retries of one event from applying it twice.
    let found: Option<(i32,)> = sqlx::query_as(
        "SELECT attempts FROM parked_events WHERE consumer = $1 AND position = $2 FOR UPDATE",
    )
    .bind(consumer)
    .bind(position)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((attempts,)) = found else {
        return Err(not_parked());
    };
    let event = tail.read_at(position).await?.ok_or_else(not_parked)?;
    let mut savepoint = sqlx::Acquire::begin(&mut *tx).await?;
    match handler.handle(&mut savepoint, &event).await {
        Ok(()) => {
            savepoint.commit().await?;
            sqlx::query("DELETE FROM parked_events WHERE consumer = $1 AND position = $2")
                .bind(consumer)
                .bind(position)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(position, "a parked event was applied and unparked");
            Ok(())
        }
        Err(e) => {
            savepoint.rollback().await?;
            let error = e.to_string();
            park(&mut tx, consumer, &event, &error, attempts + 1).await?;
            tx.commit().await?;
            Err(RetryError::StillFailing(error))
        }
    }
}

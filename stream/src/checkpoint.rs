//! Where a consumer of the stream has got to.

use serde::{Deserialize, Serialize};
use sqlx::{PgExecutor, PgPool};

/// A position in the tail's order: the writing transaction id, then the global position.
///
/// Position alone is not enough: positions are assigned at insert, so a later commit can
/// carry a smaller position. Ordering by `(tx_id, position)` below the snapshot xmin never
/// skips such an event.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Checkpoint {
    /// Transaction id (xid8 as a number) of the last event consumed.
    pub tx_id: i64,
    /// Global position of the last event consumed.
    pub position: i64,
}

impl Checkpoint {
    /// Before the first event.
    pub const START: Checkpoint = Checkpoint {
        tx_id: 0,
        position: 0,
    };
}

/// Reads and writes consumer checkpoints in `stream_checkpoints`.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    pool: PgPool,
}

impl CheckpointStore {
    /// A store over the given pool.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The consumer's checkpoint, or the start when it has none yet.
    pub async fn load(&self, consumer: &str) -> Result<Checkpoint, sqlx::Error> {
        load(&self.pool, consumer).await
    }

    /// Every consumer's checkpoint, by name.
    pub async fn all(&self) -> Result<Vec<(String, Checkpoint)>, sqlx::Error> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT consumer, tx_id, position FROM stream_checkpoints ORDER BY consumer",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(c, tx_id, position)| (c, Checkpoint { tx_id, position }))
            .collect())
    }
}

/// Loads a checkpoint with any executor (a pool or an open transaction).
pub async fn load<'e>(db: impl PgExecutor<'e>, consumer: &str) -> Result<Checkpoint, sqlx::Error> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT tx_id, position FROM stream_checkpoints WHERE consumer = $1")
            .bind(consumer)
            .fetch_optional(db)
            .await?;
    Ok(row
        .map(|(tx_id, position)| Checkpoint { tx_id, position })
        .unwrap_or_default())
}

/// Saves a checkpoint; called inside the transaction that applied the events up to it.
pub async fn save<'e>(
    db: impl PgExecutor<'e>,
    consumer: &str,
    at: Checkpoint,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stream_checkpoints (consumer, tx_id, position, updated_at)
         VALUES ($1, $2, $3, now())
         ON CONFLICT (consumer) DO UPDATE
           SET tx_id = EXCLUDED.tx_id, position = EXCLUDED.position, updated_at = now()",
    )
    .bind(consumer)
    .bind(at.tx_id)
    .bind(at.position)
    .execute(db)
    .await?;
    Ok(())
}

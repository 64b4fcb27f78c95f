//! The recorded checkpoints of the chain, newest first: what an auditor copies elsewhere so
//! that a rewrite of the whole chain (checkpoints included) is still caught.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

/// One row of `event_chain_checkpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainCheckpoint {
    /// The link the head was at.
    pub link_no: i64,
    /// The event position that link seals.
    pub position: i64,
    /// That link's hash, hex, as [`super::VerifyReport::head_hash`] reports a head.
    pub hash: String,
    /// When the sealer recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// Up to `limit` checkpoints below link `before` (all of them when `None`), newest first.
#[tracing::instrument(name = "listing the chain's checkpoints", skip(pool))]
pub async fn checkpoints(
    pool: &PgPool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ChainCheckpoint>, sqlx::Error> {
    let rows: Vec<(i64, i64, Vec<u8>, DateTime<Utc>)> = sqlx::query_as(
        "SELECT link_no, position, hash, recorded_at FROM event_chain_checkpoints
          WHERE link_no < $1 ORDER BY link_no DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(link_no, position, hash, recorded_at)| ChainCheckpoint {
            link_no,
            position,
            hash: hex::encode(hash),
            recorded_at,
        })
        .collect())
}

//! The chain's newest link, read on a caller's connection so it can share a snapshot.

use super::link::GENESIS;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// The newest link of the event chain: what a backup records, so that the chain recomputed
/// after a restore can be compared with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The link's number (0 when nothing is sealed yet).
    pub link_no: i64,
    /// The event position it seals (0 when nothing is sealed yet).
    pub position: i64,
    /// Its hash, hex (the all-zero genesis hash when nothing is sealed yet), as
    /// [`super::VerifyReport::head_hash`] reports it.
    pub hash: String,
}

/// Reads the newest link on `conn`: inside a transaction, as of that transaction's snapshot.
pub async fn chain_head(conn: &mut PgConnection) -> Result<ChainHead, sqlx::Error> {
    let head: Option<(i64, i64, Vec<u8>)> = sqlx::query_as(
        "SELECT link_no, position, hash FROM event_chain ORDER BY link_no DESC LIMIT 1",
    )
    .fetch_optional(conn)
    .await?;
    let (link_no, position, hash) = head.unwrap_or((0, 0, GENESIS.to_vec()));
    Ok(ChainHead {
        link_no,
        position,
        hash: hex::encode(hash),
    })
}

//! Recomputes the chain from `events` and reports the first link that breaks.

use super::diagnose::{self, OwnedEvent};
use super::link::{link_hash, LinkedEvent, GENESIS};
use futures::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
use std::iter::Peekable;
use std::slice;

/// Links per page: large enough that round trips do not matter, small enough to bound memory.
const PAGE: i64 = 5_000;
/// Pages read ahead of the one being hashed.
const PAGES_IN_FLIGHT: usize = 3;

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// No break found: every sealed event is stored exactly as it was sealed.
    pub intact: bool,
    /// Links recomputed and found intact (all of them when `intact`, else those before the break).
    pub checked: u64,
    /// The last link in `event_chain` (0 when nothing is sealed yet).
    pub head_link: i64,
    /// The position that link seals (0 when nothing is sealed yet).
    pub head_position: i64,
    /// That link's stored hash, hex (the all-zero genesis hash when nothing is sealed yet).
    /// Compare it with a copy kept elsewhere to catch a rewrite of the whole chain.
    pub head_hash: String,
    /// Checkpoints compared with the recomputed chain.
    pub checkpoints_checked: u64,
    /// Events after the sealed head in tail order: written, not sealed yet.
    pub unsealed_tail: i64,
    /// The first place the chain breaks.
    pub first_break: Option<Break>,
}

/// Where and how the chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Break {
    /// The link that does not verify. For `unsealed_gap`, the first link sealed after the
    /// stray event in tail order, where it should have been linked.
    pub link_no: i64,
    /// The event position concerned.
    pub position: i64,
    /// What is wrong.
    pub reason: BreakReason,
    /// For `order_mismatch`: the link that sealed the event now stored at `position`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_as_link: Option<i64>,
    /// A sentence for humans.
    pub detail: String,
}

/// The kinds of break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakReason {
    /// The event at the link's position was edited (payload, metadata or any hashed column).
    PayloadMismatch,
    /// The event the link seals is gone.
    MissingEvent,
    /// The event at the link's position is intact but was sealed at another link: rows were
    /// moved or swapped.
    OrderMismatch,
    /// A link is missing from `event_chain` (the numbering jumps).
    MissingLink,
    /// The recomputed chain disagrees with a recorded checkpoint, or the chain ends before it.
    CheckpointMismatch,
    /// An event that is not sealed lies before the sealed head: it was inserted afterwards.
    UnsealedGap,
}

/// Verification could not run.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A query failed.
    #[error("reading the event log or its chain failed")]
    Database(#[from] sqlx::Error),
    /// A page reader panicked or was cancelled.
    #[error("reading a page of the chain failed: {0}")]
    Task(String),
}

/// A recorded checkpoint, as stored.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct StoredCheckpoint {
    link_no: i64,
    position: i64,
    hash: Vec<u8>,
}

/// Recomputes every link from the events table in link order and reports the first break,
/// then checks that every event not sealed lies after the sealed head.
///
/// Runs as plain reads (no lock, no transaction id), so neither appends nor the sealer wait
/// for it; links sealed while it runs are left for the next run.
pub async fn verify(pool: &PgPool) -> Result<VerifyReport, VerifyError> {
    verify_watched(pool, &::stream::Unwatched).await
}

/// [`verify`], telling `watcher` the links to check once the head is read, then the links
/// checked so far.
#[tracing::instrument(name = "verifying the event chain", skip_all)]
pub async fn verify_watched(
    pool: &PgPool,
    watcher: &dyn ::stream::Progress,
) -> Result<VerifyReport, VerifyError> {
    // Checkpoints first: every one read is then at or below the head read next, unless the
    // chain was truncated.
    let checkpoints: Vec<StoredCheckpoint> = sqlx::query_as(
        "SELECT link_no, position, hash FROM event_chain_checkpoints ORDER BY link_no",
    )
    .fetch_all(pool)
    .await?;
    let head: Option<(i64, i64, Vec<u8>, Option<i64>)> = sqlx::query_as(
        "SELECT c.link_no, c.position, c.hash, e.tx_id::text::bigint
           FROM event_chain c LEFT JOIN events e ON e.position = c.position
          ORDER BY c.link_no DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    let (head_link, head_position, head_hash, head_tx) =
        head.unwrap_or((0, 0, GENESIS.to_vec(), None));

    let mut walk = Walk {
        prev: GENESIS,
        next_link: 1,
        checked: 0,
        checkpoints: checkpoints.iter().peekable(),
        checkpoints_checked: 0,
    };
    watcher.total(u64::try_from(head_link).unwrap_or(0));
    let mut first_break = walk_chain(pool, &mut walk, head_link, watcher).await?;
    if first_break.is_none() {
        first_break = walk.checkpoints.next().map(|cp| Break {
            link_no: cp.link_no,
            position: cp.position,
            reason: BreakReason::CheckpointMismatch,
            sealed_as_link: None,
            detail: format!(
                "a checkpoint was recorded at link {} but the chain ends at link {head_link}",
                cp.link_no
            ),
        });
    }
    let (total, unsealed_tail) = diagnose::count_events(pool, head_position, head_tx).await?;
    if first_break.is_none() && total - unsealed_tail > walk.checked as i64 {
        if let Some(tx) = head_tx {
            first_break = diagnose::first_stray(pool, tx, head_position).await?;
        }
    }
    Ok(VerifyReport {
        intact: first_break.is_none(),
        checked: walk.checked,
        head_link,
        head_position,
        head_hash: hex::encode(head_hash),
        checkpoints_checked: walk.checkpoints_checked,
        unsealed_tail,
        first_break,
    })
}

/// Pages through the links up to `head_link`, stopping at the first break.
///
/// Rendering jsonb as text dominates the cost and runs in the server, so a few pages are read
/// at once on separate connections (the server renders them on all its cores) while this
/// task hashes the oldest one. Pages are ranges of link numbers, known in advance.
async fn walk_chain(
    pool: &PgPool,
    walk: &mut Walk<'_>,
    head_link: i64,
    watcher: &dyn ::stream::Progress,
) -> Result<Option<Break>, VerifyError> {
    let ranges = (0..head_link)
        .step_by(PAGE as usize)
        .map(move |after| (after, (after + PAGE).min(head_link)));
    let mut pages = stream::iter(ranges)
        .map(|(after, upto)| tokio::spawn(read_page(pool.clone(), after, upto)))
        .buffered(PAGES_IN_FLIGHT);
    while let Some(page) = pages.next().await {
        let rows = page.map_err(|e| VerifyError::Task(e.to_string()))??;
        for row in &rows {
            match walk.step(row)? {
                Step::Intact => {}
                Step::Broken(b) => return Ok(Some(b)),
                Step::Edited(link_no, event) => {
                    return Ok(Some(
                        diagnose::edited(pool, link_no, &event, head_link).await?,
                    ))
                }
            }
        }
        watcher.done(walk.checked);
    }
    if walk.next_link <= head_link {
        // The last links were there when the head was read and are gone now.
        return Ok(Some(missing_link(walk.next_link, 0)));
    }
    Ok(None)
}

/// Links `after + 1 ..= upto` with their events, in link order.
async fn read_page(pool: PgPool, after: i64, upto: i64) -> Result<Vec<PgRow>, sqlx::Error> {
    // The LIMIT 1 keeps the planner from hashing the whole events table: one index lookup per
    // link, in link order, with no sort.
    sqlx::query(
        "SELECT c.link_no, c.position, c.hash,
                e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.event_version,
                e.payload, e.metadata
           FROM (SELECT link_no, position, hash FROM event_chain
                  WHERE link_no > $1 AND link_no <= $2 ORDER BY link_no) AS c
           LEFT JOIN LATERAL (
                SELECT aggregate_type, aggregate_id, sequence, event_type, event_version,
                       payload::text AS payload, metadata::text AS metadata
                  FROM events WHERE position = c.position LIMIT 1) AS e ON true
          ORDER BY c.link_no",
    )
    .bind(after)
    .bind(upto)
    .fetch_all(&pool)
    .await
}

fn missing_link(link_no: i64, position: i64) -> Break {
    Break {
        link_no,
        position,
        reason: BreakReason::MissingLink,
        sealed_as_link: None,
        detail: format!("link {link_no} is missing from the chain"),
    }
}

/// The recomputation so far.
struct Walk<'c> {
    prev: [u8; 32],
    next_link: i64,
    checked: u64,
    checkpoints: Peekable<slice::Iter<'c, StoredCheckpoint>>,
    checkpoints_checked: u64,
}

enum Step {
    Intact,
    Broken(Break),
    /// The link's hash does not match: diagnosed further (edited or moved) by the caller.
    Edited(i64, OwnedEvent),
}

impl Walk<'_> {
    fn step(&mut self, row: &PgRow) -> Result<Step, sqlx::Error> {
        let link_no: i64 = row.try_get(0)?;
        let position: i64 = row.try_get(1)?;
        let stored: &[u8] = row.try_get(2)?;
        if link_no != self.next_link {
            return Ok(Step::Broken(missing_link(self.next_link, position)));
        }
        let Some(aggregate_type) = row.try_get::<Option<&str>, _>(3)? else {
            return Ok(Step::Broken(Break {
                link_no,
                position,
                reason: BreakReason::MissingEvent,
                sealed_as_link: None,
                detail: format!(
                    "the event at position {position}, sealed as link {link_no}, is gone"
                ),
            }));
        };
        let event = LinkedEvent {
            position,
            aggregate_type,
            aggregate_id: row.try_get(4)?,
            sequence: row.try_get(5)?,
            event_type: row.try_get(6)?,
            event_version: row.try_get(7)?,
            payload: row.try_get(8)?,
            metadata: row.try_get(9)?,
        };
        let hash = link_hash(&self.prev, &event);
        if hash[..] != *stored {
            return Ok(Step::Edited(link_no, OwnedEvent::from(&event)));
        }
        if let Some(cp) = self.checkpoints.next_if(|cp| cp.link_no <= link_no) {
            self.checkpoints_checked += 1;
            if cp.link_no != link_no || cp.position != position || cp.hash[..] != hash[..] {
                return Ok(Step::Broken(Break {
                    link_no: cp.link_no,
                    position: cp.position,
                    reason: BreakReason::CheckpointMismatch,
                    sealed_as_link: None,
                    detail: format!(
                        "the chain recomputed up to link {link_no} disagrees with the checkpoint \
                         recorded there: the chain was rewritten"
                    ),
                }));
            }
        }
        self.prev = hash;
        self.next_link += 1;
        self.checked += 1;
        Ok(Step::Intact)
    }
}

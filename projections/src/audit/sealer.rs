//! The `event_chain` consumer: links every event, in tail order, into the hash chain.

use super::link::{link_hash, LinkedEvent, GENESIS};
use chrono::{DateTime, TimeDelta, Utc};
use schemas::StoredEvent;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use std::time::Duration;
use stream::checkpoint::{self, Checkpoint};
use stream::handler::{EventHandler, HandlerError};
use stream::tail::{Tail, TailError};
use tokio::sync::Mutex;

/// The sealer's consumer name; its tail checkpoint is stored under it.
pub const SEALER: &str = "event_chain";

/// The tail's default batch size: one read-ahead then usually covers a whole batch.
const READ_AHEAD: i64 = 1000;

/// Appends every event to `event_chain`; run it under a [`stream::Runner`].
///
/// The runner commits the links with its checkpoint in one transaction, so after a crash the
/// chain resumes exactly after the last committed link: no gap, no event linked twice. The
/// sealer only reads `events`, so appends never wait for it.
#[derive(Debug)]
pub struct EventChain {
    checkpoint_every: i64,
    checkpoint_max_age: TimeDelta,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The head as this handler last linked it; `None` when it must be read from the database.
    head: Option<Head>,
    /// Payload and metadata texts read ahead, by position.
    texts: HashMap<i64, (String, String)>,
    /// Whether the last read-ahead reached the end of the committed log.
    texts_reach_end: bool,
}

#[derive(Debug, Clone, Copy)]
struct Head {
    /// Tail order of the last event linked in memory.
    after: (i64, i64),
    link_no: i64,
    hash: [u8; 32],
    last_checkpoint_at: Option<DateTime<Utc>>,
}

impl Default for EventChain {
    fn default() -> Self {
        Self::new()
    }
}

impl EventChain {
    /// A sealer that records a checkpoint every 1000 links, and at the end of the log when
    /// the newest checkpoint is older than a minute.
    pub fn new() -> Self {
        Self {
            checkpoint_every: 1000,
            checkpoint_max_age: TimeDelta::minutes(1),
            state: Mutex::default(),
        }
    }

    /// Records a checkpoint every `n` links.
    pub fn with_checkpoint_every(mut self, n: i64) -> Self {
        self.checkpoint_every = n.max(1);
        self
    }

    /// Records a checkpoint at the end of the log once the newest is older than `age`.
    pub fn with_checkpoint_max_age(mut self, age: Duration) -> Self {
        self.checkpoint_max_age = TimeDelta::from_std(age).unwrap_or(TimeDelta::MAX);
        self
    }

    #[tracing::instrument(
        name = "sealing events into the chain",
        skip_all,
        fields(events = events.len()),
        level = "trace"
    )]
    async fn seal(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        let mut state = self.state.lock().await;
        // `state.head` stays empty until the links are written: any failure below makes the
        // next call read the head again instead of trusting memory.
        let mut head = state.head.take();
        let mut links = Links::default();
        for event in events {
            // The runner retries a failed batch from its committed checkpoint, so an event at
            // or before the last one linked in memory means those links were rolled back.
            let h = match head.take() {
                Some(h) if event.checkpoint() > h.after => h,
                _ => {
                    links.write(db).await?;
                    match load_head(db, event.position).await? {
                        Some(h) => h,
                        // Sealed by a batch whose commit the runner saw fail although it went
                        // through.
                        None => continue,
                    }
                }
            };
            let (payload, metadata) = state.texts_for(db, event).await?;
            let at_end = state.texts_reach_end && state.texts.is_empty();
            let link_no = h.link_no + 1;
            let hash = link_hash(
                &h.hash,
                &LinkedEvent {
                    position: event.position,
                    aggregate_type: &event.aggregate_type,
                    aggregate_id: &event.aggregate_id,
                    sequence: event.sequence,
                    event_type: &event.event_type,
                    event_version: &event.event_version,
                    payload: &payload,
                    metadata: &metadata,
                },
            );
            links.push(link_no, event.position, hash, false);
            let now = Utc::now();
            let stale = h
                .last_checkpoint_at
                .is_none_or(|t| now - t >= self.checkpoint_max_age);
            let mut last_checkpoint_at = h.last_checkpoint_at;
            if link_no % self.checkpoint_every == 0 || (stale && at_end) {
                links.push(link_no, event.position, hash, true);
                last_checkpoint_at = Some(now);
            }
            head = Some(Head {
                after: event.checkpoint(),
                link_no,
                hash,
                last_checkpoint_at,
            });
        }
        links.write(db).await?;
        state.head = head;
        Ok(())
    }
}

/// Links (and chain checkpoints) computed but not written yet: one statement each per batch.
#[derive(Debug, Default)]
struct Links {
    link_nos: Vec<i64>,
    positions: Vec<i64>,
    hashes: Vec<Vec<u8>>,
    checkpoints: Vec<(i64, i64, Vec<u8>)>,
}

impl Links {
    fn push(&mut self, link_no: i64, position: i64, hash: [u8; 32], checkpoint: bool) {
        if checkpoint {
            self.checkpoints.push((link_no, position, hash.to_vec()));
        } else {
            self.link_nos.push(link_no);
            self.positions.push(position);
            self.hashes.push(hash.to_vec());
        }
    }

    async fn write(&mut self, db: &mut PgConnection) -> Result<(), HandlerError> {
        let links = std::mem::take(self);
        if !links.link_nos.is_empty() {
            sqlx::query(
                "INSERT INTO event_chain (link_no, position, hash)
                 SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bytea[])",
            )
            .bind(&links.link_nos)
            .bind(&links.positions)
            .bind(&links.hashes)
            .execute(&mut *db)
            .await?;
        }
        for (link_no, position, hash) in &links.checkpoints {
            sqlx::query(
                "INSERT INTO event_chain_checkpoints (link_no, position, hash) VALUES ($1, $2, $3)",
            )
            .bind(link_no)
            .bind(position)
            .bind(hash)
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for EventChain {
    fn name(&self) -> &'static str {
        SEALER
    }

    fn pace(&self) -> std::time::Duration {
        stream::handler::BACKGROUND_PACE
    }

    // A parked event would be a gap in the chain, which `verify` reports as tampering:
    // the sealer waits for the fault to be fixed instead.
    fn can_park(&self) -> bool {
        false
    }

    // The chain links every event to the one committed before it, across aggregates.
    fn needs_commit_order(&self) -> bool {
        true
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.seal(db, std::slice::from_ref(event)).await
    }

    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        self.seal(db, events).await
    }
}

/// Whether the event is sealed; the head link's number and hash; the newest checkpoint's time.
type HeadRow = (bool, Option<i64>, Option<Vec<u8>>, Option<DateTime<Utc>>);

/// The committed head, or `None` when the event at `position` is already sealed.
async fn load_head(db: &mut PgConnection, position: i64) -> Result<Option<Head>, HandlerError> {
    tracing::debug!(position, "reading the chain head from the database");
    let (sealed, link_no, hash, last_checkpoint_at): HeadRow = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM event_chain WHERE position = $1),
                h.link_no, h.hash,
                (SELECT recorded_at FROM event_chain_checkpoints ORDER BY link_no DESC LIMIT 1)
           FROM (SELECT 1) AS one
           LEFT JOIN (SELECT link_no, hash FROM event_chain ORDER BY link_no DESC LIMIT 1) AS h
             ON true",
    )
    .bind(position)
    .fetch_one(&mut *db)
    .await?;
    if sealed {
        return Ok(None);
    }
    let hash = match hash {
        None => GENESIS,
        Some(h) => h.try_into().map_err(|_| {
            HandlerError::Rejected("the chain head's hash is not 32 bytes long".into())
        })?,
    };
    Ok(Some(Head {
        after: (0, 0),
        link_no: link_no.unwrap_or(0),
        hash,
        last_checkpoint_at,
    }))
}

impl State {
    /// The stored payload and metadata texts of `event`.
    async fn texts_for(
        &mut self,
        db: &mut PgConnection,
        event: &StoredEvent,
    ) -> Result<(String, String), HandlerError> {
        if let Some(t) = self.texts.remove(&event.position) {
            return Ok(t);
        }
        // One query for the batch the runner most likely holds: this event and the ones
        // after it in tail order. A miss later (a transaction that committed in between with
        // a smaller tx_id) just reads ahead again.
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT position, payload::text, metadata::text
               FROM events
              WHERE (tx_id, position) >= ($1::bigint::text::xid8, $2)
              ORDER BY tx_id, position
              LIMIT $3",
        )
        .bind(event.tx_id)
        .bind(event.position)
        .bind(READ_AHEAD)
        .fetch_all(&mut *db)
        .await?;
        self.texts_reach_end = (rows.len() as i64) < READ_AHEAD;
        self.texts = rows.into_iter().map(|(p, a, b)| (p, (a, b))).collect();
        self.texts.remove(&event.position).ok_or_else(|| {
            HandlerError::Rejected(format!(
                "the event at position {} is no longer in the events table",
                event.position
            ))
        })
    }
}

/// Sealing outside a runner failed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// Reading the tail failed.
    #[error("reading the events to seal failed")]
    Tail(#[from] TailError),
    /// Linking an event failed.
    #[error("sealing an event failed")]
    Handler(#[from] HandlerError),
    /// The transaction or the checkpoint failed.
    #[error("committing sealed links failed")]
    Database(#[from] sqlx::Error),
}

/// Seals every event committed before the call and not sealed yet, `batch_size` per
/// transaction exactly as the runner does; returns how many events it went through. For tools
/// and tests; `serve` runs the sealer under a runner instead.
///
/// An older transaction still open anywhere in the cluster holds the tail back, so this waits
/// for it rather than stopping early.
#[tracing::instrument(name = "sealing every pending event", skip(pool, chain))]
pub async fn seal_pending(
    pool: &PgPool,
    chain: &EventChain,
    batch_size: i64,
) -> Result<u64, SealError> {
    let target: Option<(i64, i64)> = sqlx::query_as(
        "SELECT tx_id::text::bigint, position FROM events
          ORDER BY tx_id DESC, position DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?;
    let Some(target) = target else {
        return Ok(0);
    };
    let tail = Tail::new(pool.clone()).with_batch_size(batch_size);
    let mut at = checkpoint::load(pool, SEALER).await?;
    let mut sealed = 0;
    while (at.tx_id, at.position) < target {
        let events = tail.read_after(at).await?;
        let Some(last) = events.last() else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let mut tx = pool.begin().await?;
        chain.handle_batch(&mut tx, &events).await?;
        at = Checkpoint {
            tx_id: last.tx_id,
            position: last.position,
        };
        checkpoint::save(&mut *tx, SEALER, at).await?;
        tx.commit().await?;
        sealed += events.len() as u64;
    }
    Ok(sealed)
}

//! The tail: every committed event after a checkpoint, in commit-safe order, live.

use super::checkpoint::Checkpoint;
use chrono::{DateTime, Utc};
use schemas::StoredEvent;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, OnceCell};

/// Tells in-process tails that a command committed, so they need not wait for the poll.
///
/// The command side bumps the counter after each commit; every tail holds a receiver, and a
/// `watch` never loses a bump that happened while the tail was busy reading.
#[derive(Debug, Clone)]
pub struct CommitSignal {
    tx: watch::Sender<u64>,
}

impl Default for CommitSignal {
    fn default() -> Self {
        Self::new()
    }
}

impl CommitSignal {
    /// A fresh signal.
    pub fn new() -> Self {
        Self {
            tx: watch::channel(0).0,
        }
    }

    /// Announces a commit.
    pub fn notify(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that wakes on every later commit.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// Reading the events table failed.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    /// The database query failed.
    #[error("reading the event stream failed")]
    Database(#[from] sqlx::Error),
    /// A stored row could not be read as an event envelope.
    #[error("stored event at position {position} has malformed metadata")]
    Malformed {
        /// Where the bad row is.
        position: i64,
        /// What was wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// Reads committed events in `(tx_id, position)` order.
///
/// Only rows written by transactions below the [barrier](BARRIER) are read: no transaction
/// below it can still write events, so no row can later appear before the checkpoint. An
/// open writer of events holds the tail back (it cannot skip past it) until it commits or
/// aborts; other open transactions (read models, workers) do not.
#[derive(Debug, Clone)]
pub struct Tail {
    pool: PgPool,
    batch_size: i64,
    idle_poll: Duration,
    wake: Option<watch::Receiver<u64>>,
    shared: Arc<SharedReads>,
}

/// Reads shared by the clones of one tail. The runners of a process that are caught up are
/// woken by the same commit and ask for the events after the same checkpoint: one query
/// answers them all instead of one per consumer.
#[derive(Debug, Default)]
struct SharedReads {
    reads: Mutex<HashMap<(Checkpoint, i64), SharedRead>>,
    /// The last barrier looked up and when. A barrier only ever rises, and one looked up
    /// earlier stays a correct (lower) bound, so the clones of a tail share one lookup for
    /// up to [`BARRIER_REUSE`] among runners that know of no later commit.
    barrier: tokio::sync::Mutex<Option<BarrierLookup>>,
}

#[derive(Debug, Clone, Copy)]
struct BarrierLookup {
    at: Instant,
    /// The commit signal's value when the lookup began: it saw every commit announced by
    /// then. A runner woken by a later commit must not use it: it would read nothing new
    /// and sleep until yet another commit.
    generation: Option<u64>,
    barrier: i64,
}

/// How long a barrier lookup serves the clones of one tail: at most this much lag added,
/// for one `pg_locks` scan instead of one per read.
const BARRIER_REUSE: Duration = Duration::from_millis(2);

#[derive(Debug, Clone)]
struct SharedRead {
    /// The commit signal's value before the query: it saw every commit announced by then.
    generation: u64,
    began: Instant,
    events: Arc<OnceCell<Arc<Vec<StoredEvent>>>>,
}

/// The transaction id below which every writer of events has ended: the smallest id among
/// the holders of the appenders' lock (see the `events_appender_lock` migration), or, with
/// none, the snapshot's `xmax` (taken when the statement starts, so a writer getting its id
/// later gets one at or above it).
///
/// A holder's id is read from the process array (`pg_stat_get_activity`), where a
/// transaction's id is visible from the moment it is given. Its lock on that id, which
/// `pg_locks` shows, is only taken a moment later — and waits while anyone reads
/// `pg_locks`, as every barrier lookup does. Taking the ids from those locks let a writer
/// that had just got its id go unseen while a later transaction committed: the barrier
/// rose past it and its events, committed afterwards, were never read: the likely cause of
/// a replay that, under a full test suite's load, ended behind its live runner.
///
/// The ids are 32-bit: each is widened against `xmax`, which is at most 2^31 ahead of any
/// running transaction's.
const BARRIER: &str = "
    WITH next AS (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xid),
         writers AS (
             SELECT s.backend_xid::text::bigint AS xid
               FROM pg_locks a
               CROSS JOIN LATERAL pg_stat_get_activity(a.pid) s
              WHERE a.locktype = 'advisory' AND a.granted AND a.pid IS NOT NULL
                AND a.classid = 1635018094 AND a.objid = 1 AND a.objsubid = 2
                AND a.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                AND s.backend_xid IS NOT NULL)
    SELECT LEAST(next.xid, min(next.xid - (((next.xid & 4294967295) - writers.xid)
                                            % 4294967296 + 4294967296) % 4294967296))
      FROM next LEFT JOIN writers ON true
     GROUP BY next.xid";

/// How long a read may answer later askers (that saw no newer commit).
const SHARED_READ_TTL: Duration = Duration::from_millis(200);

#[derive(sqlx::FromRow)]
struct EventRow {
    position: i64,
    tx_id: i64,
    recorded_at: DateTime<Utc>,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: serde_json::Value,
    metadata: serde_json::Value,
}

impl Tail {
    /// A tail over the pool, polling every `idle_poll` when nothing new is known.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            batch_size: 1000,
            idle_poll: Duration::from_millis(250),
            wake: None,
            shared: Arc::default(),
        }
    }

    /// Wakes on the in-process commit signal instead of waiting for the poll.
    pub fn with_commit_signal(mut self, signal: &CommitSignal) -> Self {
        self.wake = Some(signal.subscribe());
        self
    }

    /// How often to look for events committed by other processes.
    pub fn with_idle_poll(mut self, every: Duration) -> Self {
        self.idle_poll = every;
        self
    }

    /// At most this many events per read.
    pub fn with_batch_size(mut self, n: i64) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// The most events one read returns.
    pub fn batch_size(&self) -> i64 {
        self.batch_size
    }

    /// The pool the tail reads from.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The next committed events after `after`, at most the batch size; empty when caught up.
    #[tracing::instrument(
        name = "reading committed events after a checkpoint",
        skip(self),
        level = "trace"
    )]
    pub async fn read_after(&self, after: Checkpoint) -> Result<Vec<StoredEvent>, TailError> {
        self.read_seen(after, None).await
    }

    /// [`Tail::read_after`] for a runner that knows of commits up to `generation`.
    async fn read_seen(
        &self,
        after: Checkpoint,
        generation: Option<u64>,
    ) -> Result<Vec<StoredEvent>, TailError> {
        // Its own statement, before the read: the read's snapshot must be later than the
        // look at the lock holders (a writer below the barrier had ended by then).
        let barrier = self.barrier(generation).await?;
        if barrier <= after.tx_id {
            return Ok(Vec::new());
        }
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT position, tx_id::text::bigint AS tx_id, recorded_at, aggregate_type, aggregate_id,
                    sequence, event_type, event_version, payload, metadata
               FROM events
              WHERE (tx_id, position) > ($1::bigint::text::xid8, $2)
                AND tx_id < $4::bigint::text::xid8
              -- Qualified: a bare `tx_id` here would mean the bigint output column, whose
              -- order no index serves (every read would scan and sort the whole log).
              ORDER BY events.tx_id, events.position
              LIMIT $3",
        )
        .bind(after.tx_id)
        .bind(after.position)
        .bind(self.batch_size)
        .bind(barrier)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(into_event).collect()
    }

    /// The [barrier](BARRIER), looked up at most every [`BARRIER_REUSE`] per process for
    /// runners that know of commits up to `generation`; always looked up without one.
    async fn barrier(&self, generation: Option<u64>) -> Result<i64, TailError> {
        let mut last = self.shared.barrier.lock().await;
        if let Some(l) = *last {
            // A reader that knows no generation (a replay's last stretch, a tail without
            // the commit signal) may be asking because of a commit the lookup predates: it
            // looks again, or a replay could stop behind its live runner.
            let fresh_enough = match (generation, l.generation) {
                (Some(asked), Some(seen)) => seen >= asked,
                _ => false,
            };
            if l.at.elapsed() < BARRIER_REUSE && fresh_enough {
                return Ok(l.barrier);
            }
        }
        // Both taken before the lookup: its answer is as old as the lookup's start.
        let at = Instant::now();
        let seen = self.wake.as_ref().map(|w| *w.borrow());
        let barrier: i64 = sqlx::query_scalar(BARRIER).fetch_one(&self.pool).await?;
        *last = Some(BarrierLookup {
            at,
            generation: seen,
            barrier,
        });
        Ok(barrier)
    }

    /// [`Tail::read_after`], answered by another clone's read when that one saw at least
    /// commit `generation`, or found a full batch (as good as a new read).
    async fn read_shared(
        &self,
        after: Checkpoint,
        generation: u64,
    ) -> Result<Vec<StoredEvent>, TailError> {
        let key = (after, self.batch_size);
        let read = {
            let mut reads = self
                .shared
                .reads
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Only a read that saw every commit the asker knows of, or a full one: an older
            // short one, though still a correct prefix, would lead a runner that fell behind
            // along the trail of small reads the leaders made, one small batch at a time.
            let full = |r: &SharedRead| {
                r.events
                    .get()
                    .is_some_and(|events| events.len() as i64 >= self.batch_size)
            };
            let usable = |r: &SharedRead| {
                r.began.elapsed() < SHARED_READ_TTL && (r.generation >= generation || full(r))
            };
            match reads.get(&key) {
                Some(r) if usable(r) => r.clone(),
                _ => {
                    reads.retain(|_, r| r.began.elapsed() < SHARED_READ_TTL);
                    let r = SharedRead {
                        generation,
                        began: Instant::now(),
                        events: Arc::default(),
                    };
                    reads.insert(key, r.clone());
                    r
                }
            }
        };
        let events = read
            .events
            .get_or_try_init(|| async {
                self.read_seen(after, Some(generation)).await.map(Arc::new)
            })
            .await?;
        Ok(events.as_ref().clone())
    }

    /// The committed event at `position`, if there is one.
    pub async fn read_at(&self, position: i64) -> Result<Option<StoredEvent>, TailError> {
        let row: Option<EventRow> = sqlx::query_as(
            "SELECT position, tx_id::text::bigint AS tx_id, recorded_at, aggregate_type, aggregate_id,
                    sequence, event_type, event_version, payload, metadata
               FROM events WHERE position = $1",
        )
        .bind(position)
        .fetch_optional(&self.pool)
        .await?;
        row.map(into_event).transpose()
    }

    /// Waits until the next batch after `after` is non-empty and returns it.
    ///
    /// Wakes on the commit signal or the idle poll, whichever comes first.
    pub async fn next_batch(&mut self, after: Checkpoint) -> Result<Vec<StoredEvent>, TailError> {
        loop {
            // Mark the current value seen before reading, so a commit that lands during the
            // read wakes the next wait instead of being lost.
            let generation = self.wake.as_mut().map(|w| *w.borrow_and_update());
            let batch = match generation {
                Some(g) => self.read_shared(after, g).await?,
                None => self.read_after(after).await?,
            };
            if !batch.is_empty() {
                return Ok(batch);
            }
            match self.wake.as_mut() {
                Some(w) => {
                    let _ = tokio::time::timeout(self.idle_poll, w.changed()).await;
                }
                None => tokio::time::sleep(self.idle_poll).await,
            }
        }
    }

    /// The highest position written so far (committed or not), 0 for an empty store.
    pub async fn head_position(&self) -> Result<i64, TailError> {
        let (head,): (Option<i64>,) = sqlx::query_as("SELECT max(position) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(head.unwrap_or(0))
    }

    /// How many committed events lie after `after` (counted up to `cap`).
    pub async fn lag(&self, after: Checkpoint, cap: i64) -> Result<i64, TailError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM (
               SELECT 1 FROM events
                WHERE (tx_id, position) > ($1::bigint::text::xid8, $2)
                LIMIT $3) AS pending",
        )
        .bind(after.tx_id)
        .bind(after.position)
        .bind(cap)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }
}

fn into_event(row: EventRow) -> Result<StoredEvent, TailError> {
    let metadata: HashMap<String, String> =
        serde_json::from_value(row.metadata).map_err(|source| TailError::Malformed {
            position: row.position,
            source,
        })?;
    Ok(StoredEvent {
        position: row.position,
        tx_id: row.tx_id,
        recorded_at: row.recorded_at,
        aggregate_type: row.aggregate_type,
        aggregate_id: row.aggregate_id,
        sequence: row.sequence,
        event_type: row.event_type,
        event_version: row.event_version,
        payload: row.payload,
        metadata,
    })
}

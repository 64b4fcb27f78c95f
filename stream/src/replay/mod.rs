//! Rebuilding a read model from the start of the log (F48) while the live one keeps serving.
//!
//! The replay builds the model's tables in a schema of its own, `replay_<name>`, running the
//! very same handler with `search_path` pointing there first, so handler code needs no table
//! mapping. Once caught up it takes the consumer's fence (which pauses the live runner
//! between transactions), applies what is left, and in that same transaction drops the live
//! tables, moves the rebuilt ones in and sets the checkpoint to where the replay got to. The
//! live runner then finds its checkpoint moved and resumes from it: nothing is applied twice.
//! A runner reading Kafka (whose instances may be in other processes) takes the same fence;
//! the swap also rewrites its dedup rows to what the rebuilt model holds, so it skips
//! exactly the events the replay applied.

pub mod progress;
mod shadow;

use crate::checkpoint::{self, Checkpoint};
use crate::handler::EventHandler;
use crate::progress::{Progress, Unwatched};
use crate::tail::{Tail, TailError};
use schemas::StoredEvent;
use serde::Serialize;
use sqlx::{Executor, PgConnection};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Concurrent transactions of a read model whose rows each belong to one aggregate.
const LANES: usize = 2;

/// How a replay reads while catching up: the trade between speed and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Events per read while catching up (the last stretch, under the fence, reads the
    /// tail's usual batches).
    pub batch: i64,
    /// Batches waiting for the slowest read model, the one being read included: with one,
    /// the next batch is read while that model applies the current one, and at most two
    /// batches are in memory.
    pub read_ahead: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            // Measured with `bench replay --all` (BENCHMARKS.md): an event read from the log
            // takes ~13 KB of memory as a generic JSON value, so two batches of 5,000 keep
            // the peak under 200 MB, and halving the batch cost no throughput there.
            batch: 5_000,
            read_ahead: 1,
        }
    }
}

/// What a finished replay did.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// The projection rebuilt.
    pub projection: String,
    /// Events applied to the rebuilt tables.
    pub events: u64,
    /// The checkpoint the live consumer now has.
    pub checkpoint: Checkpoint,
    /// Wall-clock time, in milliseconds.
    pub elapsed_ms: u64,
    /// Time spent in this read model's transactions while catching up, in milliseconds
    /// (they run alongside the other read models' in a replay of several).
    pub applying_ms: u64,
}

/// Why a replay did not happen or did not finish (the live model is then untouched).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The handler declares no tables: it is not a read model (e.g. the event chain).
    #[error("{0} is not a replayable read model")]
    NotReplayable(String),
    /// Another replay of the same projection is running.
    #[error("a replay of {0} is already running")]
    AlreadyRunning(String),
    /// The handler failed on a batch of events; fix it and replay again.
    #[error("the handler failed on the batch starting at position {position}: {message}")]
    Handler {
        /// The first event of the failing batch.
        position: i64,
        /// The handler's error.
        message: String,
    },
    /// The replay ended behind the live consumer, which must not happen.
    #[error("the replay reached {replay:?} but the live consumer is at {live:?}")]
    Behind {
        /// Where the replay got to.
        replay: Checkpoint,
        /// Where the live consumer is.
        live: Checkpoint,
    },
    /// One of the replay's tasks (the reader, a read model's) ended without an answer: it
    /// panicked.
    #[error("a task of the replay stopped: {0}")]
    Task(String),
    /// Reading the log failed.
    #[error("reading the event log failed")]
    Tail(#[from] TailError),
    /// The database failed.
    #[error("database error during the replay")]
    Database(#[from] sqlx::Error),
}

/// Rebuilds `handler`'s tables from position 0 and swaps them in atomically.
#[tracing::instrument(name = "replaying a projection from the start of the log", skip_all, fields(projection = handler.name()))]
pub async fn replay(
    tail: &Tail,
    handler: Arc<dyn EventHandler>,
) -> Result<ReplayReport, ReplayError> {
    let name = handler.name().to_owned();
    let mut reports = replay_all(tail, &[handler]).await?;
    reports.pop().ok_or(ReplayError::NotReplayable(name))
}

/// Rebuilds the tables of every handler from position 0, reading the log once for all of
/// them (each batch is applied to every shadow concurrently, one transaction each), then
/// swaps each in atomically. Any failure leaves every live model untouched.
#[tracing::instrument(name = "replaying projections from the start of the log", skip_all, fields(projections = handlers.len()))]
pub async fn replay_all(
    tail: &Tail,
    handlers: &[Arc<dyn EventHandler>],
) -> Result<Vec<ReplayReport>, ReplayError> {
    replay_all_watched(tail, handlers, Arc::new(Unwatched)).await
}

/// [`replay_all`], telling `watcher` the log's head position when it starts (the events to
/// read, but for the few positions a rolled-back append skipped) and the events read so
/// far as it catches up.
pub async fn replay_all_watched(
    tail: &Tail,
    handlers: &[Arc<dyn EventHandler>],
    watcher: Arc<dyn Progress>,
) -> Result<Vec<ReplayReport>, ReplayError> {
    replay_all_tuned(tail, handlers, Tuning::default(), watcher).await
}

/// [`replay_all_watched`] reading as `tuning` says (benchmarks compare settings).
pub async fn replay_all_tuned(
    tail: &Tail,
    handlers: &[Arc<dyn EventHandler>],
    tuning: Tuning,
    watcher: Arc<dyn Progress>,
) -> Result<Vec<ReplayReport>, ReplayError> {
    if let Some(h) = handlers.iter().find(|h| h.tables().is_empty()) {
        return Err(ReplayError::NotReplayable(h.name().to_owned()));
    }
    let started = Instant::now();
    let mut guards = Vec::with_capacity(handlers.len());
    for h in handlers {
        match shadow::Guard::acquire(tail.pool(), h.name()).await {
            Ok(g) => guards.push(g),
            Err(e) => {
                for g in guards {
                    g.release().await;
                }
                return Err(e);
            }
        }
    }
    let names: Vec<String> = handlers.iter().map(|h| h.name().to_owned()).collect();
    let outcome = match tail.head_position().await {
        Ok(target) => {
            progress::begin(tail.pool(), &names, target).await;
            watcher.total(u64::try_from(target).unwrap_or(0));
            let outcome = run(tail, handlers, &guards, started, &names, tuning, watcher).await;
            let failure = outcome.as_ref().err().map(ToString::to_string);
            progress::end(tail.pool(), &names, failure).await;
            outcome
        }
        Err(e) => Err(e.into()),
    };
    for g in guards {
        if outcome.is_err() {
            g.discard_shadow().await;
        }
        g.release().await;
    }
    let reports = outcome?;
    tracing::info!("the projections were rebuilt and swapped in");
    Ok(reports)
}

async fn run(
    tail: &Tail,
    handlers: &[Arc<dyn EventHandler>],
    guards: &[shadow::Guard],
    started: Instant,
    names: &[String],
    tuning: Tuning,
    watcher: Arc<dyn Progress>,
) -> Result<Vec<ReplayReport>, ReplayError> {
    for (h, g) in handlers.iter().zip(guards) {
        g.create_shadow(h.tables()).await?;
    }
    let (at, events, applying) = catch_up(tail, handlers, guards, names, tuning, watcher).await?;
    let mut reports = Vec::with_capacity(handlers.len());
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    for ((h, g), applying) in handlers.iter().zip(guards).zip(applying) {
        let (more, checkpoint) = finish(tail, h.as_ref(), g, at).await?;
        reports.push(ReplayReport {
            projection: h.name().to_owned(),
            events: events + more,
            checkpoint,
            elapsed_ms: ms(started.elapsed()),
            applying_ms: ms(applying),
        });
    }
    Ok(reports)
}

/// Applies the log to every shadow in ordinary transactions (the live runners are not held
/// back meanwhile), up to where a short read says the end is near: stopping there rather
/// than at an empty read keeps writers that append faster than the replay applies from
/// postponing the swap forever. Returns where it got to, how many events it read and each
/// read model's time in its transactions.
///
/// A task of its own reads ahead while the read models apply, each at its own speed, so the
/// slowest one never leaves the others (or the reader) waiting for it batch by batch. A read
/// model whose rows each belong to one aggregate is applied in [`LANES`] concurrent
/// transactions, each taking the events of its share of the aggregates.
async fn catch_up(
    tail: &Tail,
    handlers: &[Arc<dyn EventHandler>],
    guards: &[shadow::Guard],
    names: &[String],
    tuning: Tuning,
    watcher: Arc<dyn Progress>,
) -> Result<(Checkpoint, u64, Vec<Duration>), ReplayError> {
    let appliers: Vec<(usize, Option<usize>)> = handlers
        .iter()
        .enumerate()
        .flat_map(|(i, h)| {
            let lanes: Vec<Option<usize>> = if h.rows_per_aggregate() {
                (0..LANES).map(Some).collect()
            } else {
                vec![None]
            };
            lanes.into_iter().map(move |lane| (i, lane))
        })
        .collect();
    let (senders, receivers): (Vec<_>, Vec<_>) = appliers
        .iter()
        .map(|_| mpsc::channel::<Arc<Vec<StoredEvent>>>(tuning.read_ahead.max(1)))
        .unzip();
    // Large reads: a batch's cost is mostly per row it touches, and a read model's rows
    // (one per conversation, per tenant and day) are touched once per batch however many of
    // their events it holds.
    let reader = tail.clone().with_batch_size(tuning.batch);
    let names = names.to_vec();
    let reading = tokio::spawn(async move {
        let mut at = Checkpoint::START;
        let mut events = 0;
        loop {
            // A place in every read model's queue first, then the read: a batch read while
            // a queue is full would wait in memory on top of the queued ones.
            let mut places = Vec::with_capacity(senders.len());
            for s in &senders {
                match s.reserve().await {
                    Ok(place) => places.push(place),
                    // A read model that stopped reports its own error.
                    Err(_) => return Ok((at, events)),
                }
            }
            let batch = reader.read_after(at).await?;
            if batch.is_empty() {
                break;
            }
            let short = (batch.len() as i64) < reader.batch_size();
            at = checkpoint_of(&batch);
            events += batch.len() as u64;
            progress::advance(reader.pool(), &names, at.position, events).await;
            watcher.done(events);
            let batch = Arc::new(batch);
            for place in places {
                place.send(batch.clone());
            }
            if short {
                break;
            }
        }
        Ok::<_, TailError>((at, events))
    });
    let applying: Vec<_> = appliers
        .iter()
        .zip(receivers)
        .map(|(&(i, lane), mut batches)| {
            let h = handlers[i].clone();
            let pool = tail.pool().clone();
            let search_path = guards[i].search_path();
            // A task each: the read models' own work (decoding, folding, encoding) runs on
            // every core, not on the caller's one.
            tokio::spawn(async move {
                let mut took = Duration::ZERO;
                while let Some(batch) = batches.recv().await {
                    // A lane picks its aggregates' events out of the shared batch.
                    let picked: Option<Vec<&StoredEvent>> = lane.map(|lane| {
                        batch
                            .iter()
                            .filter(|e| lane_of(&e.aggregate_id) == lane && h.wants(e))
                            .collect()
                    });
                    let wanted = match &picked {
                        Some(events) => !events.is_empty(),
                        None => batch.iter().any(|e| h.wants(e)),
                    };
                    if !wanted {
                        continue;
                    }
                    let began = Instant::now();
                    let mut tx = pool.begin().await?;
                    tx.execute(search_path.as_str()).await?;
                    // Durable once the swap's own commit is: WAL is flushed in order.
                    tx.execute("SET LOCAL synchronous_commit TO off").await?;
                    match &picked {
                        Some(events) => apply_picked(&mut tx, h.as_ref(), events).await?,
                        None => {
                            apply(&mut tx, h.as_ref(), &batch).await?;
                        }
                    }
                    tx.commit().await?;
                    took += began.elapsed();
                }
                Ok::<_, ReplayError>((i, took))
            })
        })
        .collect();
    let mut took = vec![Duration::ZERO; handlers.len()];
    let mut failed = None;
    // Every task is awaited (a failed one drops its queue, which ends the reader and, when
    // the queues close, the others), so none still writes to a shadow about to be dropped.
    for task in applying {
        match task.await {
            Ok(Ok((i, t))) => took[i] += t,
            Ok(Err(e)) => failed = failed.or(Some(e)),
            Err(e) => failed = failed.or(Some(ReplayError::Task(e.to_string()))),
        }
    }
    let read = reading.await.map_err(|e| ReplayError::Task(e.to_string()));
    if let Some(e) = failed {
        return Err(e);
    }
    let (at, events) = read??;
    Ok((at, events, took))
}

/// The lane of an aggregate: the same in every batch, so its events stay in order.
fn lane_of(aggregate_id: &str) -> usize {
    let hash = aggregate_id
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    (hash % LANES as u64) as usize
}

/// The last stretch after `at` and the swap, with the live runner paused on the fence.
async fn finish(
    tail: &Tail,
    handler: &dyn EventHandler,
    guard: &shadow::Guard,
    mut at: Checkpoint,
) -> Result<(u64, Checkpoint), ReplayError> {
    let name = handler.name();
    let mut events = 0;
    let mut tx = tail.pool().begin().await?;
    crate::fence(&mut tx, name).await?;
    guard.point_at_shadow(&mut tx).await?;
    loop {
        let batch = tail.read_after(at).await?;
        if batch.is_empty() {
            break;
        }
        at = apply(&mut tx, handler, &batch).await?;
        events += batch.len() as u64;
    }
    let live = checkpoint::load(&mut *tx, name).await?;
    if at < live {
        return Err(ReplayError::Behind { replay: at, live });
    }
    guard.swap(&mut tx, handler.tables()).await?;
    checkpoint::save(&mut *tx, name, at).await?;
    // A Kafka consumer of this model skips by its dedup rows, not the checkpoint: they
    // must say what the swapped-in model holds, or it would apply again the events the
    // replay applied that it had not seen yet (it lags the log), and skip none it should.
    // A handler that needs commit order always reads the tail and has none.
    if !handler.needs_commit_order() {
        crate::kafka::reset_dedup(&mut tx, name, handler.aggregate_types(), at).await?;
    }
    // Every event up to `at` is now applied to the model, parked ones included.
    sqlx::query("DELETE FROM parked_events WHERE consumer = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((events, at))
}

async fn apply_picked(
    db: &mut PgConnection,
    handler: &dyn EventHandler,
    events: &[&StoredEvent],
) -> Result<(), ReplayError> {
    let Some(first) = events.first() else {
        return Ok(());
    };
    handler
        .handle_picked(db, events)
        .await
        .map_err(|e| failed_at(first, e))
}

/// The handler's failure on the batch starting with `first`.
fn failed_at(first: &StoredEvent, e: crate::HandlerError) -> ReplayError {
    ReplayError::Handler {
        position: first.position,
        message: e.to_string(),
    }
}

fn checkpoint_of(batch: &[StoredEvent]) -> Checkpoint {
    batch.last().map_or(Checkpoint::START, |last| Checkpoint {
        tx_id: last.tx_id,
        position: last.position,
    })
}

async fn apply(
    db: &mut PgConnection,
    handler: &dyn EventHandler,
    batch: &[StoredEvent],
) -> Result<Checkpoint, ReplayError> {
    let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
        return Ok(Checkpoint::START);
    };
    handler
        .handle_batch(db, batch)
        .await
        .map_err(|e| failed_at(first, e))?;
    Ok(Checkpoint {
        tx_id: last.tx_id,
        position: last.position,
    })
}

//! Rebuilding a read model from the start of the log (F48) while the live one keeps serving.
//!
//! The replay builds the model's tables in a schema of its own, `replay_<name>`, running the
//! very same handler with `search_path` pointing there first, so handler code needs no table
//! mapping. Once caught up it takes the consumer's fence (which pauses the live runner
//! between transactions), applies what is left, and in that same transaction drops the live
//! tables, moves the rebuilt ones in and sets the checkpoint to where the replay got to. The
//! live runner then finds its checkpoint moved and resumes from it: nothing is applied twice.

mod shadow;

use crate::stream::checkpoint::{self, Checkpoint};
use crate::stream::handler::EventHandler;
use crate::stream::tail::{Tail, TailError};
use schemas::StoredEvent;
use serde::Serialize;
use sqlx::PgConnection;
use std::time::{Duration, Instant};

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
    /// Reading the log failed.
    #[error("reading the event log failed")]
    Tail(#[from] TailError),
    /// The database failed.
    #[error("database error during the replay")]
    Database(#[from] sqlx::Error),
}

/// Rebuilds `handler`'s tables from position 0 and swaps them in atomically.
#[tracing::instrument(name = "replaying a projection from the start of the log", skip_all, fields(projection = handler.name()))]
pub async fn replay(tail: &Tail, handler: &dyn EventHandler) -> Result<ReplayReport, ReplayError> {
    let mut reports = replay_all(tail, &[handler]).await?;
    reports
        .pop()
        .ok_or_else(|| ReplayError::NotReplayable(handler.name().to_owned()))
}

/// Rebuilds the tables of every handler from position 0, reading the log once for all of
/// them (each batch is applied to every shadow concurrently, one transaction each), then
/// swaps each in atomically. Any failure leaves every live model untouched.
#[tracing::instrument(name = "replaying projections from the start of the log", skip_all, fields(projections = handlers.len()))]
pub async fn replay_all(
    tail: &Tail,
    handlers: &[&dyn EventHandler],
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
    let outcome = run(tail, handlers, &guards, started).await;
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
    handlers: &[&dyn EventHandler],
    guards: &[shadow::Guard],
    started: Instant,
) -> Result<Vec<ReplayReport>, ReplayError> {
    for (h, g) in handlers.iter().zip(guards) {
        g.create_shadow(h.tables()).await?;
    }
    let mut at = Checkpoint::START;
    let mut events = 0;
    let mut applying = vec![Duration::ZERO; handlers.len()];
    // Catching up in ordinary transactions: the live runners are not held back meanwhile. A
    // short batch means the end is near; stopping there (rather than at an empty read) keeps
    // writers that append faster than the replay applies from postponing the swap forever.
    loop {
        let batch = tail.read_after(at).await?;
        if batch.is_empty() {
            break;
        }
        let applied = handlers.iter().zip(guards).map(|(h, g)| async {
            let began = Instant::now();
            if !batch.iter().any(|e| h.wants(e)) {
                return Ok(Duration::ZERO);
            }
            let mut tx = tail.pool().begin().await?;
            g.point_at_shadow(&mut tx).await?;
            apply(&mut tx, *h, &batch).await?;
            tx.commit().await?;
            Ok::<_, ReplayError>(began.elapsed())
        });
        let took = futures::future::try_join_all(applied).await?;
        for (total, t) in applying.iter_mut().zip(took) {
            *total += t;
        }
        at = checkpoint_of(&batch);
        events += batch.len() as u64;
        if (batch.len() as i64) < tail.batch_size() {
            break;
        }
    }
    let mut reports = Vec::with_capacity(handlers.len());
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    for ((h, g), applying) in handlers.iter().zip(guards).zip(applying) {
        let (more, checkpoint) = finish(tail, *h, g, at).await?;
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
    crate::stream::fence(&mut tx, name).await?;
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
    // Every event up to `at` is now applied to the model, parked ones included.
    sqlx::query("DELETE FROM parked_events WHERE consumer = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((events, at))
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
        .map_err(|e| ReplayError::Handler {
            position: first.position,
            message: e.to_string(),
        })?;
    Ok(Checkpoint {
        tx_id: last.tx_id,
        position: last.position,
    })
}

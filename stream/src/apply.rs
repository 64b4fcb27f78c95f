//! One transaction of a runner: a batch, a single event, or parking an event.
//!
//! Every transaction first takes the consumer's fence (a transaction-level advisory lock)
//! and re-reads the stored checkpoint. A replay swaps a read model in while holding the same
//! lock and moves the checkpoint; a runner that finds the checkpoint moved drops its batch and
//! resumes from the stored one, so no event is applied twice across the swap.

use super::checkpoint::{self, Checkpoint};
use super::handler::EventHandler;
use super::parked;
use schemas::StoredEvent;
use sqlx::{PgConnection, PgPool};

/// Why a runner transaction did not commit.
#[derive(Debug)]
pub(crate) enum ApplyError {
    /// Someone else (a replay) moved the checkpoint; resume from here.
    Moved(Checkpoint),
    /// The handler or the database failed.
    Failed(String),
}

impl From<sqlx::Error> for ApplyError {
    fn from(e: sqlx::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

/// Takes the consumer's fence for the rest of the transaction.
pub(crate) async fn fence(db: &mut PgConnection, consumer: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('stream_consumer:' || $1))")
        .bind(consumer)
        .execute(db)
        .await?;
    Ok(())
}

/// Takes the fence and checks that the stored checkpoint is still `from`.
async fn fenced(db: &mut PgConnection, consumer: &str, from: Checkpoint) -> Result<(), ApplyError> {
    fence(db, consumer).await?;
    check_from(db, consumer, from).await
}

/// `BEGIN`, the relaxed commit when asked, and the consumer's fence as one simple-protocol
/// statement, for consumer names that need no quoting (all of ours).
fn begin_fenced(consumer: &str, relaxed: bool) -> Option<String> {
    let plain = consumer
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| {
        let setting = if relaxed {
            " SET LOCAL synchronous_commit = off;"
        } else {
            ""
        };
        format!(
            "BEGIN;{setting} SELECT pg_advisory_xact_lock(hashtext('stream_consumer:{consumer}'))"
        )
    })
}

/// Checks, under the fence, that the stored checkpoint is still `from`.
async fn check_from(
    db: &mut PgConnection,
    consumer: &str,
    from: Checkpoint,
) -> Result<(), ApplyError> {
    let stored = checkpoint::load(&mut *db, consumer).await?;
    if stored != from {
        return Err(ApplyError::Moved(stored));
    }
    Ok(())
}

pub(crate) fn at(event: &StoredEvent) -> Checkpoint {
    Checkpoint {
        tx_id: event.tx_id,
        position: event.position,
    }
}

/// Applies `events` (those of the read the handler wants) and moves the checkpoint to `to`
/// (the end of the read), in one transaction; with no events it only moves the checkpoint.
#[tracing::instrument(name = "applying a batch of events", skip_all, fields(consumer = handler.name(), events = events.len()))]
pub(crate) async fn batch(
    handler: &dyn EventHandler,
    pool: &PgPool,
    from: Checkpoint,
    events: &[StoredEvent],
    to: Checkpoint,
) -> Result<Checkpoint, ApplyError> {
    if to == from {
        return Ok(from);
    }
    // A read model is a function of the log: a crash that loses its last commits loses each
    // effect together with its checkpoint, so they are simply applied again (and a checkpoint
    // moved past unwanted events only). It need not wait for the WAL flush, which is most of
    // a batch's latency (and of the time its transaction holds back every tail's snapshot
    // xmin) next to the write side's commits.
    let relaxed = !handler.tables().is_empty() || events.is_empty();
    let mut tx = match begin_fenced(handler.name(), relaxed) {
        // One round trip for BEGIN, the setting and the fence: on a busy machine each round
        // trip is a wake-up of a server process, and a batch has few statements.
        Some(begin) => {
            let mut tx = pool.begin_with(begin).await?;
            check_from(&mut tx, handler.name(), from).await?;
            tx
        }
        None => {
            let mut tx = pool.begin().await?;
            if relaxed {
                sqlx::query("SET LOCAL synchronous_commit = off")
                    .execute(&mut *tx)
                    .await?;
            }
            fenced(&mut tx, handler.name(), from).await?;
            tx
        }
    };
    if let (Some(first), Some(last)) = (events.first(), events.last()) {
        handler.handle_batch(&mut tx, events).await.map_err(|e| {
            ApplyError::Failed(format!(
                "events at positions {}..={}: {e}",
                first.position, last.position
            ))
        })?;
    }
    checkpoint::save(&mut *tx, handler.name(), to).await?;
    tx.commit().await?;
    Ok(to)
}

/// Records `event` as parked and moves the checkpoint past it, in one transaction.
#[tracing::instrument(name = "parking an event the handler keeps failing on", skip_all, fields(consumer = handler.name(), position = event.position))]
pub(crate) async fn park(
    handler: &dyn EventHandler,
    pool: &PgPool,
    from: Checkpoint,
    event: &StoredEvent,
    error: &str,
    attempts: i32,
) -> Result<Checkpoint, ApplyError> {
    let mut tx = pool.begin().await?;
    fenced(&mut tx, handler.name(), from).await?;
    parked::park(&mut tx, handler.name(), event, error, attempts).await?;
    let to = at(event);
    checkpoint::save(&mut *tx, handler.name(), to).await?;
    tx.commit().await?;
    tracing::warn!(
        error,
        attempts,
        "an event was parked; the consumer moves on"
    );
    Ok(to)
}

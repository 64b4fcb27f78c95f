//! Drives one handler over the stream, exactly once per event.

use super::checkpoint::{self, Checkpoint};
use super::tail::Tail;
use schemas::StoredEvent;
use serde::Serialize;
use sqlx::PgConnection;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A handler could not apply an event; the runner retries it with backoff.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The handler's own database work failed.
    #[error("database error while applying the event")]
    Database(#[from] sqlx::Error),
    /// The event could not be understood (unknown version, malformed payload).
    #[error("cannot apply event: {0}")]
    Rejected(String),
}

/// Something that reacts to stored events: a projection or a worker.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Stable consumer name; its checkpoint is stored under it.
    fn name(&self) -> &'static str;

    /// Applies one event using `db`, the runner's open transaction. The runner commits it
    /// together with the checkpoint, so the effect happens exactly once.
    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError>;
}

/// What a runner reports to /health.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConsumerStatus {
    /// The consumer's name.
    pub name: String,
    /// The last checkpoint it committed.
    pub checkpoint: Checkpoint,
    /// Events applied since the process started.
    pub applied: u64,
    /// The last error, cleared by the next success.
    pub last_error: Option<String>,
}

/// Runs one handler over the tail until told to stop.
#[derive(Debug)]
pub struct Runner;

/// A running runner: its live status and its task.
#[derive(Debug)]
pub struct RunnerHandle {
    status: Arc<Mutex<ConsumerStatus>>,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl RunnerHandle {
    /// A copy of the current status.
    pub fn status(&self) -> ConsumerStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A shared view of the status, for health reporting.
    pub fn status_view(&self) -> Arc<Mutex<ConsumerStatus>> {
        self.status.clone()
    }

    /// Stops after the batch in hand and waits for the task.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Runner {
    /// Starts `handler` on `tail` from the handler's stored checkpoint.
    pub fn spawn<H: EventHandler>(handler: H, tail: Tail) -> RunnerHandle {
        let status = Arc::new(Mutex::new(ConsumerStatus {
            name: handler.name().to_owned(),
            ..Default::default()
        }));
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(run(handler, tail, status.clone(), stop_rx));
        RunnerHandle { status, stop, task }
    }
}

async fn run<H: EventHandler>(
    handler: H,
    mut tail: Tail,
    status: Arc<Mutex<ConsumerStatus>>,
    mut stop: watch::Receiver<bool>,
) {
    let name = handler.name();
    let mut backoff = Duration::from_millis(100);
    let mut at = loop {
        match checkpoint::load(tail.pool(), name).await {
            Ok(c) => break c,
            Err(e) => {
                tracing::warn!(consumer = name, error = %e, "loading the consumer checkpoint failed");
                if sleep_or_stop(&mut stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    set(&status, |s| s.checkpoint = at);
    loop {
        let batch = tokio::select! {
            b = tail.next_batch(at) => b,
            _ = stop.changed() => return,
        };
        let outcome = match batch {
            Ok(events) => apply_batch(&handler, &tail, at, &events).await,
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok((next, n)) => {
                at = next;
                backoff = Duration::from_millis(100);
                set(&status, |s| {
                    s.checkpoint = at;
                    s.applied += n;
                    s.last_error = None;
                });
            }
            Err(e) => {
                tracing::warn!(consumer = name, error = %e, retry_in = ?backoff, "applying events failed; retrying");
                set(&status, |s| s.last_error = Some(e));
                if sleep_or_stop(&mut stop, backoff).await {
                    return;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        if *stop.borrow() {
            return;
        }
    }
}

#[tracing::instrument(name = "applying a batch of events", skip_all, fields(consumer = handler.name(), events = events.len()))]
async fn apply_batch<H: EventHandler>(
    handler: &H,
    tail: &Tail,
    from: Checkpoint,
    events: &[StoredEvent],
) -> Result<(Checkpoint, u64), String> {
    let mut tx = tail.pool().begin().await.map_err(|e| e.to_string())?;
    let mut at = from;
    for event in events {
        handler
            .handle(&mut tx, event)
            .await
            .map_err(|e| format!("event at position {}: {e}", event.position))?;
        at = Checkpoint {
            tx_id: event.tx_id,
            position: event.position,
        };
    }
    checkpoint::save(&mut *tx, handler.name(), at)
        .await
        .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok((at, events.len() as u64))
}

fn set(status: &Mutex<ConsumerStatus>, f: impl FnOnce(&mut ConsumerStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

/// Sleeps, returning true when asked to stop meanwhile.
async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => *stop.borrow(),
        _ = stop.changed() => true,
    }
}

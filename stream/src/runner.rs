//! Drives one handler over the stream, exactly once per event, parking what keeps failing.

use super::apply::{self, ApplyError};
use super::checkpoint::{self, Checkpoint};
pub use super::handler::{EventHandler, HandlerError};
use super::tail::Tail;
use crate::handle::{Handle, Stop};
use schemas::StoredEvent;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a runner reports to /health.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConsumerStatus {
    /// The consumer's name.
    pub name: String,
    /// The last checkpoint it committed.
    pub checkpoint: Checkpoint,
    /// Events applied since the process started.
    pub applied: u64,
    /// Events parked since the process started.
    pub parked: u64,
    /// Transactions it committed since the process started (batches applied).
    pub batches: u64,
    /// Time spent in those transactions, in milliseconds: with `batches`, where a busy
    /// machine's stream time goes.
    pub busy_ms: u64,
    /// The last error, cleared by the next success.
    pub last_error: Option<String>,
}

/// How hard a runner tries before parking an event.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts at a whole batch before going event by event.
    pub batch_attempts: u32,
    /// Attempts at one event before parking it.
    pub event_attempts: u32,
    /// The first backoff; it doubles per failure up to 30 s.
    pub backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            batch_attempts: 3,
            event_attempts: 5,
            backoff: Duration::from_millis(100),
        }
    }
}

/// Runs one handler over the tail until told to stop.
#[derive(Debug)]
pub struct Runner;

pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl Runner {
    /// Starts `handler` on `tail` from the handler's stored checkpoint, with the default
    /// retry policy.
    pub fn spawn<H: EventHandler>(handler: H, tail: Tail) -> Handle {
        Self::spawn_with(handler, tail, RetryPolicy::default())
    }

    /// Starts `handler` on `tail` with `policy`.
    pub fn spawn_with<H: EventHandler>(handler: H, tail: Tail, policy: RetryPolicy) -> Handle {
        let status = Arc::new(Mutex::new(ConsumerStatus {
            name: handler.name().to_owned(),
            ..Default::default()
        }));
        let view = status.clone();
        Handle::spawn(move |stop| run(handler, tail, policy, status, stop)).with_status(view)
    }
}

struct Ctx<'a> {
    handler: &'a dyn EventHandler,
    tail: &'a Tail,
    policy: RetryPolicy,
    status: &'a Mutex<ConsumerStatus>,
}

/// How long a runner may move past unwanted events without storing its checkpoint.
const SKIP_SAVE_EVERY: Duration = Duration::from_secs(1);

async fn run<H: EventHandler>(
    handler: H,
    mut tail: Tail,
    policy: RetryPolicy,
    status: Arc<Mutex<ConsumerStatus>>,
    mut stop: Stop,
) {
    let name = handler.name();
    let mut backoff = policy.backoff;
    // `saved` is the stored checkpoint every transaction is fenced on; `at` is where the
    // runner has read to, ahead of it when only unwanted events followed.
    let mut saved = loop {
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
    let mut at = saved;
    let mut saved_at = Instant::now();
    let mut started: Option<Instant> = None;
    set(&status, |s| s.checkpoint = at);
    let mut failures = 0;
    loop {
        if let Some(wait) = started.map(|t| handler.pace().saturating_sub(t.elapsed())) {
            if !wait.is_zero() && sleep_or_stop(&mut stop, wait).await {
                break;
            }
        }
        // Moved past unwanted events only: store that within a second even if nothing more
        // comes, so a restart does not read them again and the stored position is current.
        let behind = at != saved;
        let batch = tokio::select! {
            b = tail.next_batch(at) => Some(b),
            _ = tokio::time::sleep(SKIP_SAVE_EVERY), if behind => None,
            _ = stop.wait() => break,
        };
        started = Some(Instant::now());
        let ctx = Ctx {
            handler: &handler,
            tail: &tail,
            policy,
            status: &status,
        };
        let outcome = match batch {
            None => apply::batch(&handler, tail.pool(), saved, &[], at)
                .await
                .map(|to| (to, 0)),
            Some(Ok(events)) => {
                let end = events.last().map_or(at, apply::at);
                let wanted: Vec<StoredEvent> =
                    events.into_iter().filter(|e| handler.wants(e)).collect();
                if wanted.is_empty() && saved_at.elapsed() < SKIP_SAVE_EVERY {
                    at = end;
                    set(&status, |s| s.checkpoint = at);
                    continue;
                }
                if failures >= policy.batch_attempts && handler.can_park() && !wanted.is_empty() {
                    one_by_one(&ctx, saved, &wanted, &mut stop).await
                } else {
                    let r = apply::batch(&handler, tail.pool(), saved, &wanted, end)
                        .await
                        .map(|to| (to, wanted.len() as u64));
                    if r.is_ok() {
                        let took = started.map_or(0, |t| t.elapsed().as_millis() as u64);
                        set(&status, |s| {
                            s.batches += 1;
                            s.busy_ms += took;
                        });
                    }
                    r
                }
            }
            Some(Err(e)) => Err(ApplyError::Failed(e.to_string())),
        };
        match outcome {
            Ok((next, n)) => {
                (at, saved, saved_at) = (next, next, Instant::now());
                failures = 0;
                backoff = policy.backoff;
                set(&status, |s| {
                    s.checkpoint = at;
                    s.applied += n;
                    s.last_error = None;
                });
            }
            Err(ApplyError::Moved(stored)) => {
                tracing::info!(consumer = name, ?stored, "the checkpoint moved under the runner (a replay swapped the read model); resuming from it");
                (at, saved) = (stored, stored);
                failures = 0;
                set(&status, |s| s.checkpoint = at);
            }
            Err(ApplyError::Failed(e)) => {
                failures += 1;
                tracing::warn!(consumer = name, error = %e, retry_in = ?backoff, "applying events failed; retrying");
                set(&status, |s| s.last_error = Some(e));
                if sleep_or_stop(&mut stop, backoff).await {
                    break;
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        if stop.requested() {
            break;
        }
    }
    // Stopping with unwanted events read past but not stored: store them now, so the
    // stored checkpoint is where the runner got to and the next start does not read them
    // again.
    if at != saved {
        if let Err(e) = apply::batch(&handler, tail.pool(), saved, &[], at).await {
            tracing::info!(consumer = name, error = ?e, "storing the checkpoint at shutdown failed; the next start reads those events again");
        }
    }
    tracing::debug!(consumer = name, checkpoint = ?at, "stopped");
}

/// Applies `events` one per transaction so a bad one is isolated, parking each that fails
/// `event_attempts` times. Returns where it got to and how many events it applied; stops
/// early (without error) when asked to stop.
async fn one_by_one(
    ctx: &Ctx<'_>,
    from: Checkpoint,
    events: &[StoredEvent],
    stop: &mut Stop,
) -> Result<(Checkpoint, u64), ApplyError> {
    let mut at = from;
    let mut applied = 0;
    for event in events {
        let mut backoff = ctx.policy.backoff;
        let mut attempt = 0;
        at = loop {
            attempt += 1;
            match apply::batch(
                ctx.handler,
                ctx.tail.pool(),
                at,
                std::slice::from_ref(event),
                apply::at(event),
            )
            .await
            {
                Ok(to) => {
                    applied += 1;
                    break to;
                }
                Err(ApplyError::Failed(e)) if attempt >= ctx.policy.event_attempts => {
                    let attempts = i32::try_from(attempt).unwrap_or(i32::MAX);
                    let to =
                        apply::park(ctx.handler, ctx.tail.pool(), at, event, &e, attempts).await?;
                    set(ctx.status, |s| s.parked += 1);
                    break to;
                }
                Err(ApplyError::Failed(e)) => {
                    set(ctx.status, |s| s.last_error = Some(e));
                    if sleep_or_stop(stop, backoff).await {
                        return Ok((at, applied));
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                Err(moved) => return Err(moved),
            }
        };
    }
    Ok((at, applied))
}

pub(crate) fn set(status: &Mutex<ConsumerStatus>, f: impl FnOnce(&mut ConsumerStatus)) {
    if let Ok(mut s) = status.lock() {
        f(&mut s);
    }
}

/// Sleeps, returning true when asked to stop meanwhile.
pub(crate) async fn sleep_or_stop(stop: &mut Stop, d: Duration) -> bool {
    stop.sleep(d).await
}

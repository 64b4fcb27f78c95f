//! The retention job (F9): message content older than the retention period becomes
//! unreadable, by destroying the daily contact keys that sealed it.

use aggregates::Clock;
use commands::privacy::{KeyError, KeyRing};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Destroys expired keys now; returns how many. Idempotent: a second run the same day
/// finds nothing left to destroy.
#[tracing::instrument(
    name = "destroying keys past retention",
    skip_all,
    fields(retention_days)
)]
pub async fn run_once(
    keys: &KeyRing,
    clock: &dyn Clock,
    retention_days: u32,
) -> Result<u64, KeyError> {
    let destroyed = keys
        .destroy_expired(clock.now().date_naive(), retention_days)
        .await?;
    if destroyed > 0 {
        tracing::info!(destroyed, "keys past retention destroyed");
    }
    Ok(destroyed)
}

/// Runs the job at start and then every `every` (the day boundary is what matters, so an
/// hourly run keeps content readable at most an hour past its last retention day).
pub fn spawn(
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    retention_days: u32,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = run_once(&keys, clock.as_ref(), retention_days).await {
                tracing::warn!(error = %e, "the retention job failed; retrying at the next tick");
            }
        }
    })
}

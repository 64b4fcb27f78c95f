//! The retention job (F9): message content older than the retention period becomes
//! unreadable, by destroying the daily contact keys that sealed it; read models that keep
//! a clear copy of what those keys sealed (the conversations' contacts) then forget it.
//! The same run drops the buyer details of Stripe checkouts never paid for, and the security
//! records (sign-in attempts, refused requests, reset links) past their keeping.

use aggregates::Clock;
use chrono::{NaiveTime, TimeZone, Utc};
use commands::privacy::{KeyError, KeyRing};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::Handle;

/// Destroys expired keys now, then clears the read models' clear copies of what they
/// sealed; returns how many keys were destroyed. Idempotent: a second run the same day
/// finds nothing left to destroy.
#[tracing::instrument(
    name = "destroying keys past retention",
    skip_all,
    fields(retention_days)
)]
pub async fn run_once(
    pool: &PgPool,
    keys: &KeyRing,
    clock: &dyn Clock,
    retention_days: u32,
) -> Result<u64, KeyError> {
    let today = clock.now().date_naive();
    let destroyed = keys.destroy_expired(today, retention_days).await?;
    if destroyed > 0 {
        tracing::info!(destroyed, "keys past retention destroyed");
    }
    // The keys of days before this one are gone (the same cutoff `destroy_expired` uses).
    let cutoff = Utc.from_utc_datetime(
        &(today - chrono::Days::new(u64::from(retention_days))).and_time(NaiveTime::MIN),
    );
    let forgotten = projections::conversations::forget_expired(pool, cutoff).await?;
    if forgotten > 0 {
        tracing::info!(forgotten, "contacts past retention forgotten");
    }
    let abandoned = forget_abandoned_checkouts(pool, clock).await?;
    if abandoned > 0 {
        tracing::info!(abandoned, "buyers of checkouts never paid for forgotten");
    }
    Ok(destroyed)
}

/// How long the buyer of a completed but unpaid checkout is remembered. Stripe's boleto,
/// the slowest way to pay a checkout, expires after 3 days unless told otherwise; an
/// invoice paid later still provisions, from its own customer e-mail, without the business
/// name and language the checkout gave.
pub const ABANDONED_CHECKOUT_DAYS: i64 = 30;

/// Deletes the e-mail, business name and language kept for checkouts that were never paid.
async fn forget_abandoned_checkouts(pool: &PgPool, clock: &dyn Clock) -> Result<u64, sqlx::Error> {
    let cutoff = clock.now() - chrono::TimeDelta::days(ABANDONED_CHECKOUT_DAYS);
    commands::checkout_owners::forget_recorded_before(pool, cutoff).await
}

/// Runs the job at start and then every `every` (the day boundary is what matters, so an
/// hourly run keeps content readable at most an hour past its last retention day); a stop
/// lets the run in hand finish.
pub fn spawn(
    pool: PgPool,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    retention_days: u32,
    security_log_days: u32,
    every: Duration,
) -> Handle {
    Handle::spawn(move |mut stop| async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait() => return,
            }
            if let Err(e) = run_once(&pool, &keys, clock.as_ref(), retention_days).await {
                tracing::warn!(error = %e, "the retention job failed; retrying at the next tick");
            }
            match commands::users::prune_security_records(&pool, clock.now(), security_log_days)
                .await
            {
                Ok(pruned) if pruned != Default::default() => {
                    tracing::info!(?pruned, "old security records pruned");
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "pruning security records failed; retrying at the next tick")
                }
            }
        }
    })
}

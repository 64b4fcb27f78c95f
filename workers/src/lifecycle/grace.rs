//! The grace-period timer: a deadline per past-due subscription, stored in
//! `billing_grace_deadlines`, so it survives restarts; each due one fires `ExpireGrace`
//! once and is deleted. The aggregate ignores an expiry that comes late, twice, or after the
//! customer paid, so several processes may run the timer.

use aggregates::{Clock, ErrorKind, SubscriptionCommand};
use chrono::{DateTime, Utc};
use commands::{CommandBus, CommandError};
use schemas::{Actor, CommandMetadata};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use stream::Handle;
use uuid::Uuid;

/// Fires every deadline due at the clock's now; returns how many fired.
#[tracing::instrument(name = "ending due grace periods", skip_all)]
pub async fn expire_due(
    pool: &PgPool,
    bus: &CommandBus,
    clock: &dyn Clock,
) -> anyhow::Result<usize> {
    let due: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT tenant_id, due_at FROM billing_grace_deadlines WHERE due_at <= $1
          ORDER BY due_at LIMIT 100",
    )
    .bind(clock.now())
    .fetch_all(pool)
    .await?;
    let mut fired = 0;
    for (tenant, due_at) in due {
        let md = CommandMetadata::new(Actor::system("grace_timer"), Some(tenant))
            .with_idempotency_key(format!("grace:{tenant}:{}", due_at.timestamp()));
        match bus
            .subscriptions
            .execute(&tenant.to_string(), SubscriptionCommand::ExpireGrace, &md)
            .await
        {
            Ok(())
            | Err(CommandError::Rejected {
                kind: ErrorKind::NotFound,
                ..
            }) => {}
            Err(e) => {
                // Kept: the next tick tries again.
                tracing::warn!(%tenant, error = %e, "a grace period could not be ended");
                continue;
            }
        }
        sqlx::query("DELETE FROM billing_grace_deadlines WHERE tenant_id = $1 AND due_at = $2")
            .bind(tenant)
            .bind(due_at)
            .execute(pool)
            .await?;
        fired += 1;
    }
    if fired > 0 {
        tracing::info!(fired, "grace periods ended");
    }
    Ok(fired)
}

/// Checks for due deadlines every `every`; a stop lets the check in hand finish.
pub fn spawn_grace_timer(
    pool: PgPool,
    bus: Arc<CommandBus>,
    clock: Arc<dyn Clock>,
    every: Duration,
) -> Handle {
    Handle::spawn(move |mut stop| async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait() => return,
            }
            if let Err(e) = expire_due(&pool, &bus, clock.as_ref()).await {
                tracing::warn!(error = %e, "the grace timer failed; retrying at the next tick");
            }
        }
    })
}

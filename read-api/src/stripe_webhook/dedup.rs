//! Which Stripe events were handled already (by `event.id`).

use super::payload::Envelope;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Whether the event with `id` was handled already.
pub(super) async fn seen(pool: &PgPool, id: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM stripe_webhook_events WHERE event_id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
}

/// Records `event` as handled; a concurrent delivery that recorded it first wins quietly.
pub(super) async fn record(pool: &PgPool, event: &Envelope) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stripe_webhook_events (event_id, event_type, object_id, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(&event.kind)
    .bind(event.object_id())
    .bind(event.created_at())
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether an event of `kind` about `object_id` created after `created` was handled: an
/// older `customer.subscription.updated` arriving late must not undo a newer one.
pub(super) async fn newer_handled(
    pool: &PgPool,
    kind: &str,
    object_id: &str,
    created: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM stripe_webhook_events
                         WHERE object_id = $1 AND event_type = $2 AND created_at > $3)",
    )
    .bind(object_id)
    .bind(kind)
    .bind(created)
    .fetch_one(pool)
    .await
}

//! The projection runtime: parking events a handler keeps failing on, retrying them, and
//! rebuilding read models from the log while the live ones keep serving.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod durability;
mod parking;
mod replay;
mod selective;

use schemas::StoredEvent;
use sqlx::{PgConnection, PgPool};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use stream::{Checkpoint, EventHandler, HandlerError, RetryPolicy, Tail};

/// Appends one event in its own transaction.
async fn append(pool: &PgPool, aggregate: &str, sequence: i64, event_type: &str) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('ticket', $1, $2, $3, '1', jsonb_build_object('n', $2), '{}')",
    )
    .bind(aggregate)
    .bind(sequence)
    .bind(event_type)
    .execute(pool)
    .await
    .unwrap();
}

/// Appends `n` events spread over five tickets, continuing from event `from`.
async fn append_many(pool: &PgPool, from: i64, n: i64) {
    for i in from..from + n {
        append(
            pool,
            &format!("ticket-{}", i % 5),
            i / 5 + 1,
            "TicketCommented",
        )
        .await;
    }
}

fn tail(pool: &PgPool) -> Tail {
    Tail::new(pool.clone())
        .with_idle_poll(Duration::from_millis(10))
        .with_batch_size(16)
}

fn fast() -> RetryPolicy {
    RetryPolicy {
        batch_attempts: 3,
        event_attempts: 5,
        backoff: Duration::from_millis(1),
    }
}

/// The newest event in tail order.
async fn head(pool: &PgPool) -> Checkpoint {
    let (tx_id, position): (i64, i64) = sqlx::query_as(
        "SELECT tx_id::text::bigint, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    Checkpoint { tx_id, position }
}

/// Waits until `consumer`'s stored checkpoint reaches the newest event.
async fn caught_up(pool: &PgPool, consumer: &str) {
    let target = head(pool).await;
    for _ in 0..2000 {
        if stream::checkpoint::load(pool, consumer).await.unwrap() >= target {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{consumer} did not catch up with {target:?}");
}

/// A read model of every position it saw, failing on `Poison` events while `broken`.
/// Its plain INSERT fails on a duplicate, so an event applied twice cannot go unnoticed.
struct Ledger {
    broken: AtomicBool,
}

impl Ledger {
    async fn create_table(pool: &PgPool) {
        sqlx::query(
            "CREATE TABLE ledger (position bigint PRIMARY KEY, aggregate_id text NOT NULL)",
        )
        .execute(pool)
        .await
        .unwrap();
    }

    fn fix(&self) {
        self.broken.store(false, Ordering::SeqCst);
    }
}

#[async_trait::async_trait]
impl EventHandler for Ledger {
    fn name(&self) -> &'static str {
        "ledger"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.event_type == "Poison" && self.broken.load(Ordering::SeqCst) {
            return Err(HandlerError::Rejected("poison".into()));
        }
        sqlx::query("INSERT INTO ledger (position, aggregate_id) VALUES ($1, $2)")
            .bind(event.position)
            .bind(&event.aggregate_id)
            .execute(db)
            .await?;
        Ok(())
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ledger"]
    }
}

/// Positions in the ledger, ascending.
async fn ledger(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM ledger ORDER BY position")
        .fetch_all(pool)
        .await
        .unwrap()
}

/// Every event position, ascending.
async fn all_positions(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM events ORDER BY position")
        .fetch_all(pool)
        .await
        .unwrap()
}

//! Consumers that react to a few event types, and consumers nobody waits on, cost fewer
//! transactions without missing or repeating an event.

use super::{append, caught_up, fast, head, tail};
use schemas::StoredEvent;
use sqlx::{PgConnection, PgPool};
use std::time::Duration;
use stream::{EventHandler, HandlerError, Runner};

/// Keeps the positions of `Wanted` events; refuses to be handed anything else.
struct Picky {
    pace: Duration,
}

#[async_trait::async_trait]
impl EventHandler for Picky {
    fn name(&self) -> &'static str {
        "picky"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.event_type != "Wanted" {
            return Err(HandlerError::Rejected(format!(
                "handed an unwanted {} at {}",
                event.event_type, event.position
            )));
        }
        sqlx::query("INSERT INTO picked (position) VALUES ($1)")
            .bind(event.position)
            .execute(db)
            .await?;
        Ok(())
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.event_type == "Wanted"
    }

    fn pace(&self) -> Duration {
        self.pace
    }
}

async fn picked(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM picked ORDER BY position")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn wanted_positions(pool: &PgPool) -> Vec<i64> {
    sqlx::query_scalar("SELECT position FROM events WHERE event_type = 'Wanted' ORDER BY position")
        .fetch_all(pool)
        .await
        .unwrap()
}

async fn setup() -> testkit::TestDatabase {
    let db = testkit::test_database().await.unwrap();
    sqlx::query("CREATE TABLE picked (position bigint PRIMARY KEY)")
        .execute(&db.pool)
        .await
        .unwrap();
    db
}

#[tokio::test]
async fn a_consumer_opens_no_transaction_for_events_it_does_not_want_and_still_stores_its_position()
{
    let db = setup().await;
    // Given forty events the consumer does not want, then three it does
    for i in 1..=40 {
        append(&db.pool, &format!("other-{i}"), 1, "Unwanted").await;
    }
    for i in 1..=3 {
        append(&db.pool, &format!("mine-{i}"), 1, "Wanted").await;
    }

    // When it runs over them, sixteen events per read
    let runner = Runner::spawn_with(
        Picky {
            pace: Duration::ZERO,
        },
        tail(&db.pool),
        fast(),
    );
    caught_up(&db.pool, "picky").await;

    // Then it applied exactly the wanted ones, once, and was never handed another
    assert_eq!(picked(&db.pool).await, wanted_positions(&db.pool).await);
    let status = runner.status();
    assert_eq!(status.last_error, None);
    assert_eq!(status.parked, 0);
    // in one transaction, not one per read of sixteen
    assert_eq!(status.batches, 1, "{status:?}");

    // And unwanted events after them are passed over, the stored position following within
    // seconds though no transaction had work to do
    append(&db.pool, "other-41", 1, "Unwanted").await;
    caught_up(&db.pool, "picky").await;
    assert_eq!(runner.status().checkpoint, head(&db.pool).await);
    assert_eq!(picked(&db.pool).await.len(), 3);
    runner.stop().await;
}

#[tokio::test]
async fn a_paced_consumer_takes_what_arrived_meanwhile_in_one_transaction() {
    let db = setup().await;
    let runner = Runner::spawn_with(
        Picky {
            pace: Duration::from_millis(400),
        },
        tail(&db.pool),
        fast(),
    );
    // Given one wanted event applied
    append(&db.pool, "mine-0", 1, "Wanted").await;
    caught_up(&db.pool, "picky").await;
    let before = runner.status().batches;

    // When ten more commit one by one, 20 ms apart (each visible to the next poll)
    for i in 1..=10 {
        append(&db.pool, &format!("mine-{i}"), 1, "Wanted").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    caught_up(&db.pool, "picky").await;

    // Then all are applied once, in at most two transactions instead of about ten
    assert_eq!(picked(&db.pool).await, wanted_positions(&db.pool).await);
    let batches = runner.status().batches - before;
    assert!(batches <= 2, "{batches} transactions for ten commits");
    runner.stop().await;
}

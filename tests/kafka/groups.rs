//! Consumer groups: two workers share the partitions and apply every event once.

use crate::support::*;
use schemas::StoredEvent;
use sqlx::PgConnection;
use std::sync::Arc;
use std::time::Duration;
use stream::{EventHandler, HandlerError, KafkaRunner, RetryPolicy, Tail};
use testkit::kafka::Tansu;

/// Writes one row per event it applies, with no unique key: a duplicate would show.
struct Counter;

#[async_trait::async_trait]
impl EventHandler for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO counted (aggregate_type, aggregate_id, sequence) VALUES ($1, $2, $3)",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }
}

#[tokio::test]
async fn two_workers_in_one_group_share_the_partitions_and_apply_every_event_once() {
    let db = testkit::test_database().await.unwrap();
    sqlx::query("CREATE TABLE counted (aggregate_type text NOT NULL, aggregate_id text NOT NULL, sequence bigint NOT NULL)")
        .execute(&db.pool)
        .await
        .unwrap();
    let broker = Tansu::start().await.unwrap();
    let config = kafka_config(&broker);
    stream::kafka::ensure_topics(&config).await.unwrap();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            KafkaRunner::spawn(
                Arc::new(Counter),
                db.pool.clone(),
                config.clone(),
                RetryPolicy::default(),
            )
            .unwrap()
        })
        .collect();
    // Both members join before anything is published, so the work is split from the start.
    tokio::time::sleep(Duration::from_secs(8)).await;

    let app = start_app(&db.pool, None, true).await;
    drive(&app.bus, 12, 3).await;
    let total = event_count(&db.pool).await;
    let relay = workers::relay::spawn(Tail::new(db.pool.clone()), config).unwrap();

    let pool = &db.pool;
    eventually(
        "every event is counted",
        Duration::from_secs(60),
        || async move {
            let n: i64 = sqlx::query_scalar("SELECT count(*) FROM counted")
                .fetch_one(pool)
                .await
                .unwrap();
            n >= total
        },
    )
    .await;
    // A little longer: a duplicate arriving late would still be caught.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rows, distinct): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT (aggregate_type, aggregate_id, sequence)) FROM counted",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!((rows, distinct), (total, total));
    let applied: Vec<u64> = workers.iter().map(|w| w.status().applied).collect();
    assert!(
        applied.iter().all(|&n| n > 0),
        "one worker did all the work: {applied:?}"
    );
    assert_eq!(applied.iter().sum::<u64>(), u64::try_from(total).unwrap());
    relay.stop().await;
    for w in workers {
        w.stop().await;
    }
    app.stop().await.unwrap();
}

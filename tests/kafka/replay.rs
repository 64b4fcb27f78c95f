//! `atende replay` with a Kafka consumer running the projection: the rebuilt model is handed
//! over to the consumer without losing or applying an event twice.

use crate::support::*;
use schemas::StoredEvent;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use stream::kafka::AGGREGATE_TYPES;
use stream::{EventHandler, HandlerError, KafkaRunner, RetryPolicy, Tail};
use testkit::kafka::Tansu;

/// A read model of one row per event applied, with no unique key: an event applied twice
/// shows as two rows, one missed as none.
struct Ledger;

#[async_trait::async_trait]
impl EventHandler for Ledger {
    fn name(&self) -> &'static str {
        "ledger"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["ledger"]
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        sqlx::query(
            "INSERT INTO ledger (aggregate_type, aggregate_id, sequence) VALUES ($1, $2, $3)",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(event.sequence)
        .execute(db)
        .await?;
        Ok(())
    }
}

/// The consumer recorded, for every aggregate in the log, its last event as applied.
async fn consumer_caught_up(pool: &PgPool) -> bool {
    consumer_applied_all(pool, "ledger", &AGGREGATE_TYPES).await
}

/// The ledger's rows against the log's events, as (missing, doubled) counts: a model
/// built from scratch has neither.
async fn missing_and_doubled(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "WITH l AS (SELECT aggregate_type, aggregate_id, sequence, count(*) AS n
                      FROM ledger GROUP BY 1, 2, 3)
         SELECT (SELECT count(*) FROM events e WHERE NOT EXISTS (
                     SELECT 1 FROM l WHERE (l.aggregate_type, l.aggregate_id, l.sequence)
                                         = (e.aggregate_type, e.aggregate_id, e.sequence))),
                (SELECT coalesce(sum(n - 1), 0)::bigint FROM l)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_replay_while_a_kafka_consumer_runs_hands_over_without_losing_or_doubling_an_event() {
    log_relay_to_test_output();
    let db = testkit::test_database().await.unwrap();
    sqlx::query(
        "CREATE TABLE ledger (aggregate_type text NOT NULL, aggregate_id text NOT NULL,
                              sequence bigint NOT NULL)",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    let broker = Tansu::start().await.unwrap();
    let config = kafka_config(&broker);
    stream::kafka::ensure_topics(&config).await.unwrap();
    let consumer = KafkaRunner::spawn(
        Arc::new(Ledger),
        db.pool.clone(),
        config.clone(),
        RetryPolicy::default(),
    )
    .unwrap();
    let app = start_app(&db.pool, None, true).await;
    let tail = || Tail::new(db.pool.clone()).with_idle_poll(Duration::from_millis(20));
    let relay = workers::relay::spawn(tail(), config.clone()).unwrap();
    drive(&app.bus, 2, 3).await;
    eventually(
        "the consumer applies the first events",
        Duration::from_secs(60),
        || consumer_caught_up(&db.pool),
    )
    .await;

    // Events the consumer has not seen yet (the relay lags) when the replay swaps in a model
    // that holds them: the consumer must not apply them again when they arrive.
    relay.stop().await;
    drive(&app.bus, 2, 3).await;
    let report = stream::replay::replay(&tail(), Arc::new(Ledger))
        .await
        .unwrap();
    assert_eq!(
        report.events,
        u64::try_from(event_count(&db.pool).await).unwrap()
    );
    assert_eq!(missing_and_doubled(&db.pool).await, (0, 0));

    // And the consumer goes on from there: the lagging events and new ones, once each.
    let relay = workers::relay::spawn(tail(), config).unwrap();
    drive(&app.bus, 2, 3).await;
    eventually(
        "the consumer applies every event after the replay",
        Duration::from_secs(60),
        || consumer_caught_up(&db.pool),
    )
    .await;
    assert_eq!(missing_and_doubled(&db.pool).await, (0, 0));

    relay.stop().await;
    consumer.stop().await;
    app.stop().await.unwrap();
}

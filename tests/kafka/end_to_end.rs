//! Commands → relay → Kafka → projections: the same read models as the in-process tail.

use crate::support::*;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::time::Duration;
use stream::{CheckpointStore, EventHandler, EventSource, Registry, Tail};
use testkit::kafka::Tansu;

/// Every table of the read models that Kafka feeds, as sorted JSON rows.
async fn snapshot(pool: &PgPool, registry: &Registry) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for handler in registry.iter().filter(|h| !h.needs_commit_order()) {
        for table in handler.tables() {
            let rows: serde_json::Value = sqlx::query_scalar(&format!(
                "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]')
                   FROM {table} t"
            ))
            .fetch_one(pool)
            .await
            .unwrap();
            out.insert((*table).to_owned(), rows);
        }
    }
    out
}

#[tokio::test]
async fn read_models_fed_through_kafka_equal_those_fed_by_the_in_process_tail() {
    let db = testkit::test_database().await.unwrap();
    let broker = Tansu::start().await.unwrap();

    // The in-process path.
    let app = start_app(&db.pool, None, false).await;
    drive(&app.bus, 5, 8).await;
    let registry = projections::builtin::registry(std::sync::Arc::new(
        atende::subject_keys::RingKeys(app.keys.clone()),
    ));
    let last: (i64, i64) = sqlx::query_as(
        "SELECT tx_id::text::bigint, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let store = CheckpointStore::new(db.pool.clone());
    let names: Vec<&str> = registry.iter().map(|h| h.name()).collect();
    eventually(
        "the tail's projections catch up",
        Duration::from_secs(30),
        || async {
            let all = store.all().await.unwrap();
            names.iter().all(|n| {
                all.iter()
                    .any(|(c, at)| c == n && (at.tx_id, at.position) == last)
            })
        },
    )
    .await;
    app.stop().await.unwrap();
    let expected = snapshot(&db.pool, &registry).await;
    assert!(expected.values().any(|rows| rows != &serde_json::json!([])));

    // The same log, through Kafka, into emptied read models.
    for table in expected.keys() {
        sqlx::query(&format!("TRUNCATE {table}"))
            .execute(&db.pool)
            .await
            .unwrap();
    }
    let config = kafka_config(&broker);
    let tail = Tail::new(db.pool.clone()).with_idle_poll(Duration::from_millis(20));
    let relay = workers::relay::spawn(tail.clone(), config.clone()).unwrap();
    let kafka_fed = Registry::new(registry.iter().filter(|h| !h.needs_commit_order()).cloned());
    let runners = kafka_fed
        .spawn_on(&EventSource::Kafka { config, tail })
        .unwrap();
    // Each consumer reads the topics of the aggregate types it names, and sees all of them.
    let pool = &db.pool;
    let mut expected_applied = 0;
    for handler in kafka_fed.iter() {
        let types: Vec<String> = handler
            .aggregate_types()
            .iter()
            .map(|t| (*t).to_owned())
            .collect();
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_type = ANY($1)")
                .bind(&types)
                .fetch_one(pool)
                .await
                .unwrap();
        expected_applied += n;
    }
    assert!(expected_applied > event_count(pool).await);
    eventually(
        "every Kafka consumer applied every event of its topics",
        Duration::from_secs(60),
        || async move {
            let applied: i64 = sqlx::query_scalar(
                "SELECT coalesce(sum(last_sequence), 0)::bigint FROM stream_dedup",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            applied == expected_applied
        },
    )
    .await;
    assert_eq!(snapshot(&db.pool, &registry).await, expected);

    relay.stop().await;
    for r in runners {
        r.stop().await;
    }
}

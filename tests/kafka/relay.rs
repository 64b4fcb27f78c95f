//! The relay: every event, in order, with its headers; an outage pauses it without loss.

use crate::support::*;
use schemas::StoredEvent;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use stream::Tail;
use testkit::kafka::Tansu;

#[tokio::test]
async fn the_relay_publishes_every_event_in_aggregate_order_with_its_headers() {
    let db = testkit::test_database().await.unwrap();
    let broker = Tansu::start().await.unwrap();
    let app = start_app(&db.pool, Some(&broker), false).await;

    drive(&app.bus, 4, 6).await;
    let total = event_count(&db.pool).await;
    let received = read_topics(
        &kafka_config(&broker),
        usize::try_from(total).unwrap(),
        Duration::from_secs(30),
    )
    .await;

    let tail = Tail::new(db.pool.clone());
    let mut seen = HashSet::new();
    let mut last_sequence: HashMap<(String, String), i64> = HashMap::new();
    let mut partition_of: HashMap<(String, String), i32> = HashMap::new();
    for m in &received {
        let event: StoredEvent = serde_json::from_value(m.value.clone()).unwrap();
        let stored = tail.read_at(event.position).await.unwrap().unwrap();
        // The message is the event as stored, personal fields sealed as they are at rest.
        assert_eq!(event, stored);
        assert_eq!(m.topic, format!("atende.{}", stored.aggregate_type));
        assert_eq!(m.key, stored.aggregate_id);
        assert_eq!(m.headers["event_type"], stored.event_type);
        assert_eq!(m.headers["event_version"], stored.event_version);
        assert_eq!(m.headers["position"], stored.position.to_string());
        assert_eq!(
            m.headers["correlation_id"],
            stored.metadata["correlation_id"]
        );
        assert_eq!(m.headers["tenant_id"], stored.metadata["tenant_id"]);
        // One aggregate's events come in sequence order, in one partition.
        // A tenant and its subscription share an id: an aggregate is its type and id.
        let aggregate = (stored.aggregate_type.clone(), stored.aggregate_id.clone());
        let previous = last_sequence.insert(aggregate.clone(), stored.sequence);
        assert_eq!(previous.unwrap_or(0) + 1, stored.sequence, "{m:?}");
        let partition = *partition_of.entry(aggregate).or_insert(m.partition);
        assert_eq!(
            partition, m.partition,
            "one aggregate's events spread over partitions"
        );
        seen.insert(stored.position);
    }
    assert_eq!(seen.len(), received.len());
    let plain = received
        .iter()
        .any(|m| m.value.to_string().contains("@loja.example"));
    assert!(!plain, "an owner's e-mail left the store unsealed");
    assert_valid_against_the_schema_files(&received);
    app.stop().await.unwrap();
}

/// An outside consumer (Python's `jsonschema`, knowing only the checked-in files) accepts
/// every message.
fn assert_valid_against_the_schema_files(received: &[Received]) {
    use std::io::Write;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/json");
    let mut child = std::process::Command::new("python3")
        .arg(format!("{dir}/validate_messages.py"))
        .arg(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 (with jsonschema: pip install jsonschema) runs");
    let mut stdin = child.stdin.take().unwrap();
    for m in received {
        let line = serde_json::json!({"topic": m.topic, "headers": m.headers, "value": m.value});
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "schema validation failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!("{n} of {n} messages valid", n = received.len());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&expected));
}

#[tokio::test]
async fn a_broker_outage_pauses_the_relay_and_it_resumes_without_losing_an_event() {
    log_relay_to_test_output();
    let db = testkit::test_database().await.unwrap();
    let mut broker = Tansu::start().await.unwrap();
    // The relay alone: the outage is about it.
    let app = start_app(&db.pool, None, true).await;
    let relay = workers::relay::spawn(
        Tail::new(db.pool.clone()).with_idle_poll(Duration::from_millis(20)),
        kafka_config(&broker),
    )
    .unwrap();
    drive(&app.bus, 2, 3).await;
    eventually("the relay catches up", Duration::from_secs(30), || {
        relay_caught_up(&db.pool)
    })
    .await;
    let before = relayed_position(&db.pool).await;

    broker.stop().await.unwrap();
    drive(&app.bus, 3, 4).await;
    // Not a fixed pause: the relay has tried to publish the new events and failed.
    eventually(
        "the relay fails to publish during the outage",
        Duration::from_secs(60),
        || async { relay.status().last_error.is_some() },
    )
    .await;
    assert_eq!(
        relayed_position(&db.pool).await,
        before,
        "the relay moved its checkpoint without a broker"
    );
    broker.restart().await.unwrap();

    eventually(
        "the relay resumes and catches up",
        Duration::from_secs(150),
        || relay_caught_up(&db.pool),
    )
    .await;
    // The restarted broker kept nothing (memory storage): what it holds now is what the
    // relay sent after the outage, which must include every event written during it.
    let during: Vec<i64> =
        sqlx::query_scalar("SELECT position FROM events WHERE position > $1 ORDER BY position")
            .bind(before)
            .fetch_all(&db.pool)
            .await
            .unwrap();
    // Read until every one of them arrived, not until as many messages as there are events:
    // a batch the relay sent again (acknowledged in part before a timeout) leaves
    // duplicates, which would count for missing events.
    let received = read_topics_until(&kafka_config(&broker), Duration::from_secs(60), |got| {
        let positions: HashSet<i64> = got.iter().map(position_of).collect();
        during.iter().all(|p| positions.contains(p))
    })
    .await;
    let positions: HashSet<i64> = received.iter().map(position_of).collect();
    for p in during {
        assert!(positions.contains(&p), "event at position {p} was lost");
    }
    relay.stop().await;
    app.stop().await.unwrap();
}

fn position_of(m: &Received) -> i64 {
    m.headers["position"].parse().unwrap()
}

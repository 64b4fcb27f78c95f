//! Test support for the metrics, usage and report projections: an in-memory event log with
//! positions and per-aggregate sequences, and table dumps to compare states.

use chrono::{DateTime, Utc};
use schemas::StoredEvent;
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;
use stream::EventHandler;

/// `2026-03-01T10:00:00Z`-style timestamps.
pub(crate) fn ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 timestamp")
        .with_timezone(&Utc)
}

/// Events in log order.
#[derive(Default)]
pub(crate) struct Log {
    sequences: HashMap<String, i64>,
    pub(crate) events: Vec<StoredEvent>,
}

impl Log {
    /// Appends `body` (`{"EventType": {...}}`) to the aggregate's stream.
    pub(crate) fn push(&mut self, aggregate_type: &str, aggregate_id: &str, body: Value) {
        let event_type = body
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .expect("a tagged payload");
        let seq = self.sequences.entry(aggregate_id.to_owned()).or_default();
        *seq += 1;
        let position = self.events.len() as i64 + 1;
        self.events.push(StoredEvent {
            position,
            tx_id: position,
            recorded_at: Utc::now(),
            aggregate_type: aggregate_type.into(),
            aggregate_id: aggregate_id.into(),
            sequence: *seq,
            event_type,
            event_version: "1".into(),
            payload: body,
            metadata: Default::default(),
        });
    }
}

/// Applies `events` in order, as a runner would.
pub(crate) async fn apply(
    handler: &dyn EventHandler,
    db: &mut PgConnection,
    events: &[StoredEvent],
) {
    for e in events {
        handler.handle(db, e).await.expect("the event applies");
    }
}

/// Every row of `tables`, as JSON in a stable order.
pub(crate) async fn dump(db: &mut PgConnection, tables: &[&str]) -> Vec<Value> {
    let mut out = Vec::new();
    for table in tables {
        let rows: Value = sqlx::query_scalar(&format!(
            "SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY to_jsonb(t)::text), '[]')
               FROM {table} t"
        ))
        .fetch_one(&mut *db)
        .await
        .expect("a dump");
        out.push(rows);
    }
    out
}

/// Stores `events` in the event log, in order, as the write side would.
pub(crate) async fn store(pool: &sqlx::PgPool, events: &[StoredEvent]) {
    for e in events {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                 event_version, payload, metadata)
             VALUES ($1, $2, $3, $4, '1', $5, '{}')",
        )
        .bind(&e.aggregate_type)
        .bind(&e.aggregate_id)
        .bind(e.sequence)
        .bind(&e.event_type)
        .bind(&e.payload)
        .execute(pool)
        .await
        .expect("the event is stored");
    }
}

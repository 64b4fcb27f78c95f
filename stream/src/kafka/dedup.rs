//! Which events a Kafka consumer already applied: the last sequence per aggregate.

use crate::checkpoint::Checkpoint;
use schemas::StoredEvent;
use sqlx::PgConnection;
use std::collections::HashMap;

/// The events of `events` not applied yet by `consumer`, in order, without repeats.
///
/// Locks the consumer's rows of the aggregates involved, so a worker that just took over a
/// partition waits for the previous owner's transaction instead of applying the same event.
pub(crate) async fn fresh(
    db: &mut PgConnection,
    consumer: &str,
    events: Vec<StoredEvent>,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let (types, ids): (Vec<&str>, Vec<&str>) = events
        .iter()
        .map(|e| (e.aggregate_type.as_str(), e.aggregate_id.as_str()))
        .unzip();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT d.aggregate_type, d.aggregate_id, d.last_sequence
           FROM stream_dedup d
           JOIN unnest($2::text[], $3::text[]) AS a(aggregate_type, aggregate_id)
             ON d.aggregate_type = a.aggregate_type AND d.aggregate_id = a.aggregate_id
          WHERE d.consumer = $1
          ORDER BY d.aggregate_type, d.aggregate_id
            FOR UPDATE OF d",
    )
    .bind(consumer)
    .bind(&types)
    .bind(&ids)
    .fetch_all(&mut *db)
    .await?;
    let mut last: HashMap<(String, String), i64> =
        rows.into_iter().map(|(t, i, s)| ((t, i), s)).collect();
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
        let seen = last.get(&key).copied().unwrap_or(0);
        if event.sequence > seen {
            last.insert(key, event.sequence);
            out.push(event);
        }
    }
    Ok(out)
}

/// Records `events` as applied by `consumer`; call it in the transaction of their effect.
pub(crate) async fn record(
    db: &mut PgConnection,
    consumer: &str,
    events: &[StoredEvent],
) -> Result<(), sqlx::Error> {
    let mut last: HashMap<(&str, &str), i64> = HashMap::new();
    for e in events {
        let s = last
            .entry((e.aggregate_type.as_str(), e.aggregate_id.as_str()))
            .or_insert(0);
        *s = (*s).max(e.sequence);
    }
    let mut types = Vec::with_capacity(last.len());
    let mut ids = Vec::with_capacity(last.len());
    let mut sequences = Vec::with_capacity(last.len());
    for ((t, i), s) in last {
        types.push(t);
        ids.push(i);
        sequences.push(s);
    }
    sqlx::query(
        "INSERT INTO stream_dedup (consumer, aggregate_type, aggregate_id, last_sequence)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[])
         ON CONFLICT (consumer, aggregate_type, aggregate_id) DO UPDATE
           SET last_sequence = GREATEST(stream_dedup.last_sequence, EXCLUDED.last_sequence)",
    )
    .bind(consumer)
    .bind(&types)
    .bind(&ids)
    .bind(&sequences)
    .execute(db)
    .await?;
    Ok(())
}

/// Makes `consumer`'s dedup rows say that every event of `aggregate_types` up to `at` (in
/// the tail's order) is applied, and none after it. A replay calls it in the transaction
/// that swaps in the model it rebuilt up to `at` (under the consumer's fence, having read
/// the tail to its end), so the running Kafka consumer skips exactly what the rebuilt model
/// holds, whatever it had applied to the dropped one.
pub(crate) async fn reset_to(
    db: &mut PgConnection,
    consumer: &str,
    aggregate_types: &[&str],
    at: Checkpoint,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM stream_dedup WHERE consumer = $1")
        .bind(consumer)
        .execute(&mut *db)
        .await?;
    sqlx::query(
        "INSERT INTO stream_dedup (consumer, aggregate_type, aggregate_id, last_sequence)
         SELECT $1, aggregate_type, aggregate_id, max(sequence) FROM events
          WHERE aggregate_type = ANY($2)
            AND (tx_id, position) <= ($3::bigint::text::xid8, $4)
          GROUP BY aggregate_type, aggregate_id",
    )
    .bind(consumer)
    .bind(aggregate_types)
    .bind(at.tx_id)
    .bind(at.position)
    .execute(db)
    .await?;
    Ok(())
}

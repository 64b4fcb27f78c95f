//! Loading one aggregate's state: its snapshot and the events after it, in one round trip.
//!
//! Why not `PersistedEventStore::load_aggregate`: it asks for the snapshot, then for the
//! events after it — two statements, each its own snapshot of the database — and parses
//! every event's metadata, which loading never uses. Cold loads are most of what the
//! webhook ingest and the AI responder ask of the database.

use cqrs_es::persist::{EventStoreAggregateContext, PersistenceError};
use cqrs_es::{Aggregate, AggregateError};
use sqlx::PgPool;

/// The snapshot (a row with no `sequence`) first, then the events after it, in order.
const LOAD: &str = "
    WITH s AS (SELECT last_sequence, current_snapshot, payload FROM snapshots
                WHERE aggregate_type = $1 AND aggregate_id = $2 AND $3)
    SELECT NULL::bigint AS sequence, s.last_sequence, s.current_snapshot, s.payload::text
      FROM s
    UNION ALL
    SELECT e.sequence, NULL, NULL, e.payload::text
      FROM events e
     WHERE e.aggregate_type = $1 AND e.aggregate_id = $2
       AND e.sequence > COALESCE((SELECT last_sequence FROM s), 0)
     ORDER BY 1 NULLS FIRST";

type Row = (Option<i64>, Option<i64>, Option<i64>, String);

fn corrupt<E: std::error::Error>(e: serde_json::Error) -> AggregateError<E> {
    AggregateError::from(PersistenceError::from(e))
}

fn unsigned(n: i64) -> usize {
    usize::try_from(n).unwrap_or_default()
}

/// `id`'s current stored state. A snapshot that no longer parses (the aggregate's shape
/// changed) is ignored and the state rebuilt from every event, as cqrs-es does.
pub(super) async fn load<A: Aggregate>(
    pool: &PgPool,
    id: &str,
) -> Result<EventStoreAggregateContext<A>, AggregateError<A::Error>> {
    for use_snapshot in [true, false] {
        if let Some(context) = load_from(pool, id, use_snapshot).await? {
            return Ok(context);
        }
    }
    Err(AggregateError::UnexpectedError(
        "a load without a snapshot has no snapshot to reject".into(),
    ))
}

/// `None` when the snapshot did not parse.
async fn load_from<A: Aggregate>(
    pool: &PgPool,
    id: &str,
    use_snapshot: bool,
) -> Result<Option<EventStoreAggregateContext<A>>, AggregateError<A::Error>> {
    let rows: Vec<Row> = sqlx::query_as(LOAD)
        .bind(A::TYPE)
        .bind(id)
        .bind(use_snapshot)
        .fetch_all(pool)
        .await
        .map_err(|e| AggregateError::DatabaseConnectionError(Box::new(e)))?;
    let mut context = EventStoreAggregateContext {
        aggregate_id: id.to_owned(),
        aggregate: A::default(),
        current_sequence: 0,
        current_snapshot: None,
    };
    for (sequence, last_sequence, snapshot, payload) in rows {
        match sequence {
            None => {
                let Ok(aggregate) = serde_json::from_str(&payload) else {
                    return Ok(None);
                };
                context.aggregate = aggregate;
                context.current_sequence = last_sequence.map_or(0, unsigned);
                context.current_snapshot = snapshot.map(unsigned);
            }
            Some(sequence) => {
                let event = serde_json::from_str(&payload).map_err(corrupt)?;
                context.aggregate.apply(event);
                context.current_sequence = unsigned(sequence);
            }
        }
    }
    Ok(Some(context))
}

//! Single-event appends, grouped into one `INSERT … ON CONFLICT DO NOTHING` whose
//! `RETURNING` says which landed. An append that finds its place taken reports a conflict,
//! as its own INSERT would have, and its command is decided again on fresh state.
//!
//! Only single-event appends are grouped: with `DO NOTHING`, a command of several events
//! could land partly (its first place taken, a later one free), which one event cannot.

use super::{Answer, GroupWrite};
use cqrs_es::persist::SerializedEvent;
use sqlx::{PgPool, Postgres};
use std::collections::HashSet;
use std::sync::Arc;

/// Appends of one event each; the answer is whether it landed (`false`: its aggregate
/// already had that sequence).
pub(crate) struct EventAppends;

/// Inserts the events bound as arrays, in array order. One text whatever the count: a
/// prepared statement per connection, not one per count (each planned anew).
macro_rules! insert_sql {
    () => {
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                              $6::jsonb[], $7::jsonb[])"
    };
}

/// Appends that fail as a whole on a taken place (a unique violation).
pub(crate) const APPEND: &str = insert_sql!();

/// Appends that skip taken places and return the places that were free.
const APPEND_FREE: &str = concat!(
    insert_sql!(),
    " ON CONFLICT (aggregate_type, aggregate_id, sequence) DO NOTHING
      RETURNING aggregate_type, aggregate_id, sequence"
);

/// `sql` (one of the texts above) bound to `events`, in order.
pub(crate) fn insert_events<'a>(
    sql: &'static str,
    events: impl IntoIterator<Item = &'a SerializedEvent>,
) -> Query<'static> {
    let events: Vec<&SerializedEvent> = events.into_iter().collect();
    let texts = |f: fn(&SerializedEvent) -> &String| {
        events.iter().map(|e| f(e).clone()).collect::<Vec<_>>()
    };
    sqlx::query(sql)
        .bind(texts(|e| &e.aggregate_type))
        .bind(texts(|e| &e.aggregate_id))
        .bind(events.iter().map(|e| e.sequence as i64).collect::<Vec<_>>())
        .bind(texts(|e| &e.event_type))
        .bind(texts(|e| &e.event_version))
        .bind(events.iter().map(|e| e.payload.clone()).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| e.metadata.clone())
                .collect::<Vec<_>>(),
        )
}

/// A bound statement.
type Query<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

pub(super) fn place(e: &SerializedEvent) -> (String, String, i64) {
    (
        e.aggregate_type.clone(),
        e.aggregate_id.clone(),
        e.sequence as i64,
    )
}

impl GroupWrite for EventAppends {
    const NAME: &'static str = "events";
    type Item = SerializedEvent;
    type Output = bool;

    #[tracing::instrument(name = "appending a group of events", skip_all, fields(events = items.len()))]
    async fn write(pool: &PgPool, items: Vec<SerializedEvent>) -> Vec<Answer<bool>> {
        // Two appends for one place: the later one loses without trying, as it would
        // against the earlier one's row (and `RETURNING` could not tell the two apart).
        let mut places = HashSet::new();
        let first: Vec<bool> = items.iter().map(|e| places.insert(place(e))).collect();
        // Every group takes its places' index locks in one order: two groups holding each
        // other's next place would otherwise deadlock.
        let mut order: Vec<usize> = (0..items.len()).filter(|&i| first[i]).collect();
        order.sort_by_key(|&i| place(&items[i]));
        let free = insert_events(APPEND_FREE, order.iter().map(|&i| &items[i]));
        let landed: Result<Vec<(String, String, i64)>, _> = free
            .try_map(|row: sqlx::postgres::PgRow| {
                use sqlx::Row;
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
            })
            .fetch_all(pool)
            .await;
        answers(items.iter(), first, landed)
    }
}

/// Each append's answer: whether it was the first for its place (`first`) and its place is
/// among the `landed` rows the statement returned.
pub(super) fn answers<'a>(
    appends: impl Iterator<Item = &'a SerializedEvent>,
    first: Vec<bool>,
    landed: Result<Vec<(String, String, i64)>, sqlx::Error>,
) -> Vec<Answer<bool>> {
    match landed {
        Ok(rows) => {
            let landed: HashSet<_> = rows.into_iter().collect();
            appends
                .zip(first)
                .map(|(e, first)| Ok(first && landed.contains(&place(e))))
                .collect()
        }
        // Nothing landed; each command is decided again, as after a taken place. A safety
        // net: the sorted order of a group leaves no cycle among our own appends.
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some(DEADLOCK) => {
            tracing::warn!("a group of appends deadlocked; its commands are retried");
            first.iter().map(|_| Ok(false)).collect()
        }
        Err(e) => {
            let e = Arc::new(e);
            first.iter().map(|_| Err(e.clone())).collect()
        }
    }
}

/// PostgreSQL's `deadlock_detected`.
const DEADLOCK: &str = "40P01";

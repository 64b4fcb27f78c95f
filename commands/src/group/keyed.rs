//! A new contact's first event, grouped with the others in flight: each event lands with
//! the key that seals it, in one statement for the group, or neither lands.
//!
//! Every webhook from a customer never seen before is such an append; alone, each was a
//! statement, a transaction and a WAL flush of its own.

use super::events::{answers, place};
use super::{Answer, GroupWrite};
use crate::privacy::NewKeyRow;
use cqrs_es::persist::SerializedEvent;
use sqlx::{PgPool, Row};
use std::collections::HashSet;

/// Single-event appends, each with its subject's new key; the answer is whether both were
/// stored (`false`: the subject already had a key for the period, or the place was taken,
/// and nothing of this append was written).
pub(crate) struct KeyedAppends;

/// The keys go first (a CTE), then the events whose key was stored; the events' statement
/// trigger fires before the keys' rows give the transaction its id, so events are still the
/// first thing the transaction writes. A key stored with an event whose place was taken
/// stays: it is the subject's key for the period either way (one per subject and period).
const APPEND_WITH_KEYS: &str = "
    WITH k AS (
        INSERT INTO subject_keys (key_id, subject, period, rotates, tenant_id, wrapped)
        SELECT * FROM unnest($8::uuid[], $9::text[], $10::date[], $11::boolean[],
                             $12::uuid[], $13::bytea[])
        ON CONFLICT (subject, period) DO NOTHING
        RETURNING key_id)
    INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                        payload, metadata)
    SELECT e.t, e.i, e.s, e.et, e.ev, e.p, e.m
    FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::jsonb[],
                $7::jsonb[], $8::uuid[]) WITH ORDINALITY AS e(t, i, s, et, ev, p, m, key_id, n)
    WHERE e.key_id IN (SELECT key_id FROM k)
    ORDER BY e.n
    ON CONFLICT (aggregate_type, aggregate_id, sequence) DO NOTHING
    RETURNING aggregate_type, aggregate_id, sequence";

impl GroupWrite for KeyedAppends {
    const NAME: &'static str = "keyed_events";
    type Item = (SerializedEvent, NewKeyRow);
    type Output = bool;

    #[tracing::instrument(name = "appending a group of first events with their keys", skip_all, fields(events = items.len()))]
    async fn write(pool: &PgPool, items: Vec<Self::Item>) -> Vec<Answer<bool>> {
        // The second append for a place or a subject's key loses without trying, as it
        // would against the first one's rows.
        let mut places = HashSet::new();
        let mut subjects = HashSet::new();
        let first: Vec<bool> = items
            .iter()
            .map(|(e, k)| places.insert(place(e)) & subjects.insert((&k.subject, k.period)))
            .collect();
        // One lock order for every group (see `EventAppends`).
        let mut order: Vec<usize> = (0..items.len()).filter(|&i| first[i]).collect();
        order.sort_by(|&a, &b| {
            let (ea, ka) = &items[a];
            let (eb, kb) = &items[b];
            (&ka.subject, ka.period, place(ea)).cmp(&(&kb.subject, kb.period, place(eb)))
        });
        let chosen: Vec<&(SerializedEvent, NewKeyRow)> = order.iter().map(|&i| &items[i]).collect();
        let landed = super::insert_events(APPEND_WITH_KEYS, chosen.iter().map(|(e, _)| e))
            .bind(chosen.iter().map(|(_, k)| k.key_id).collect::<Vec<_>>())
            .bind(
                chosen
                    .iter()
                    .map(|(_, k)| k.subject.clone())
                    .collect::<Vec<_>>(),
            )
            .bind(chosen.iter().map(|(_, k)| k.period).collect::<Vec<_>>())
            .bind(chosen.iter().map(|(_, k)| k.rotates).collect::<Vec<_>>())
            .bind(chosen.iter().map(|(_, k)| k.tenant_id).collect::<Vec<_>>())
            .bind(
                chosen
                    .iter()
                    .map(|(_, k)| k.wrapped.clone())
                    .collect::<Vec<_>>(),
            )
            .try_map(|row: sqlx::postgres::PgRow| {
                Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
            })
            .fetch_all(pool)
            .await;
        answers(items.iter().map(|(e, _)| e), first, landed)
    }
}

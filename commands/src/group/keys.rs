//! New subject keys, grouped: one statement inserts every candidate whose subject has no
//! key for the period yet and returns, for each, the key that holds the place (the
//! candidate, or the one stored before).

use super::{Answer, GroupWrite};
use chrono::NaiveDate;
use sqlx::PgPool;
use std::sync::Arc;
use uuid::Uuid;

/// A candidate key for a subject and period, wrapped by the master key.
pub(crate) struct NewKey {
    pub key_id: Uuid,
    pub subject: String,
    pub period: NaiveDate,
    pub rotates: bool,
    pub tenant_id: Option<Uuid>,
    pub wrapped: Vec<u8>,
}

/// Candidate keys; the answer is the stored key's id and wrapped bytes, or `None` when a
/// concurrent first writer's key is not visible yet (ask again alone).
pub(crate) struct KeyInserts;

type Row = (String, NaiveDate, Uuid, Vec<u8>);

impl GroupWrite for KeyInserts {
    type Item = NewKey;
    type Output = Option<(Uuid, Vec<u8>)>;

    #[tracing::instrument(name = "storing a group of subject keys", skip_all, fields(keys = items.len()))]
    async fn write(pool: &PgPool, items: Vec<NewKey>) -> Vec<Answer<Self::Output>> {
        let rows: Result<Vec<Row>, _> = sqlx::query_as(
            "WITH req AS (
                 SELECT * FROM unnest($1::uuid[], $2::text[], $3::date[], $4::bool[],
                                      $5::uuid[], $6::bytea[])
                          AS r(key_id, subject, period, rotates, tenant_id, wrapped)),
             ins AS (
                 INSERT INTO subject_keys (key_id, subject, period, rotates, tenant_id, wrapped)
                 SELECT * FROM req
                 ON CONFLICT (subject, period) DO NOTHING
                 RETURNING subject, period, key_id, wrapped)
             SELECT subject, period, key_id, wrapped FROM ins
             UNION ALL
             -- One index probe per candidate: a join would scan the whole table.
             SELECT k.subject, k.period, k.key_id, k.wrapped
               FROM req r CROSS JOIN LATERAL (
                    SELECT * FROM subject_keys k
                     WHERE k.subject = r.subject AND k.period = r.period) k",
        )
        .bind(items.iter().map(|k| k.key_id).collect::<Vec<_>>())
        .bind(items.iter().map(|k| k.subject.clone()).collect::<Vec<_>>())
        .bind(items.iter().map(|k| k.period).collect::<Vec<_>>())
        .bind(items.iter().map(|k| k.rotates).collect::<Vec<_>>())
        .bind(items.iter().map(|k| k.tenant_id).collect::<Vec<_>>())
        .bind(items.iter().map(|k| k.wrapped.clone()).collect::<Vec<_>>())
        .fetch_all(pool)
        .await;
        match rows {
            Ok(rows) => items
                .iter()
                .map(|k| {
                    Ok(rows
                        .iter()
                        .find(|(s, p, _, _)| *s == k.subject && *p == k.period)
                        .map(|(_, _, id, wrapped)| (*id, wrapped.clone())))
                })
                .collect(),
            Err(e) => {
                let e = Arc::new(e);
                items.iter().map(|_| Err(e.clone())).collect()
            }
        }
    }
}

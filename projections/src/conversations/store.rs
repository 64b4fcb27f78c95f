//! Reading the rows a batch touches and writing back what it did, a statement per table.

use super::model::{rank, DeliveryRow, Effects, Row, COLUMNS};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;
use std::collections::HashMap;
use stream::HandlerError;
use uuid::Uuid;

/// The rows of `ids`, locked: the retention sweep writes these rows outside the runner, and
/// must not clear a contact between our read and our write (nor be undone by it).
pub(super) async fn load(
    db: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Row>, HandlerError> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM conversations WHERE conversation_id = ANY($1)
          ORDER BY conversation_id FOR UPDATE"
    ))
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.conversation_id, r)).collect())
}

/// Writes the batch's messages, provider ids and statuses.
pub(super) async fn write_effects(db: &mut PgConnection, fx: &Effects) -> Result<(), HandlerError> {
    if !fx.messages.is_empty() {
        let m = &fx.messages;
        sqlx::query(
            "INSERT INTO conversation_messages (conversation_id, sequence, direction, author,
                 agent_id, kind, media_type, purpose, body, provider_message_id, outbound_id,
                 at, position)
             SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::uuid[],
                 $6::text[], $7::text[], $8::text[], $9::jsonb[], $10::text[], $11::uuid[],
                 $12::timestamptz[], $13::bigint[])
             ON CONFLICT DO NOTHING",
        )
        .bind(m.iter().map(|x| x.conversation_id).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.sequence).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.direction).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.author).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.agent_id).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.kind).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.media_type.clone()).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.purpose).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.body.clone()).collect::<Vec<_>>())
        .bind(
            m.iter()
                .map(|x| x.provider_message_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(m.iter().map(|x| x.outbound_id).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.at).collect::<Vec<_>>())
        .bind(m.iter().map(|x| x.position).collect::<Vec<_>>())
        .execute(&mut *db)
        .await?;
    }
    if !fx.sent.is_empty() {
        let s = &fx.sent;
        sqlx::query(
            "UPDATE conversation_messages m SET provider_message_id = u.p
               FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS u(c, o, p)
              WHERE m.conversation_id = u.c AND m.outbound_id = u.o",
        )
        .bind(s.iter().map(|x| x.conversation_id).collect::<Vec<_>>())
        .bind(s.iter().map(|x| x.outbound_id).collect::<Vec<_>>())
        .bind(
            s.iter()
                .map(|x| x.provider_message_id.clone())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *db)
        .await?;
    }
    if !fx.deliveries.is_empty() {
        // One row per message (an upsert may not touch a row twice): the first status of the
        // highest rank, as applying them one by one would keep.
        let mut best: Vec<&DeliveryRow> = Vec::new();
        for d in &fx.deliveries {
            let same = best.iter_mut().find(|b| {
                b.conversation_id == d.conversation_id
                    && b.provider_message_id == d.provider_message_id
            });
            match same {
                Some(b) if rank(&d.status) > rank(&b.status) => *b = d,
                Some(_) => {}
                None => best.push(d),
            }
        }
        sqlx::query(
            "INSERT INTO conversation_deliveries AS d
                 (conversation_id, provider_message_id, status, status_at, error)
             SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[],
                 $5::text[])
             ON CONFLICT (conversation_id, provider_message_id) DO UPDATE SET
                 status = EXCLUDED.status, status_at = EXCLUDED.status_at, error = EXCLUDED.error
             WHERE array_position(ARRAY['sent', 'delivered', 'read', 'failed'], EXCLUDED.status)
                 > array_position(ARRAY['sent', 'delivered', 'read', 'failed'], d.status)",
        )
        .bind(best.iter().map(|x| x.conversation_id).collect::<Vec<_>>())
        .bind(
            best.iter()
                .map(|x| x.provider_message_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(best.iter().map(|x| x.status.clone()).collect::<Vec<_>>())
        .bind(best.iter().map(|x| x.at).collect::<Vec<_>>())
        .bind(best.iter().map(|x| x.error.clone()).collect::<Vec<_>>())
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

fn col<T: Clone>(rows: &[&Row], f: impl Fn(&Row) -> T) -> Vec<T> {
    rows.iter().map(|r| f(r)).collect()
}

/// Writes the changed conversation rows whole.
pub(super) async fn write_rows(db: &mut PgConnection, rows: &[&Row]) -> Result<(), HandlerError> {
    if rows.is_empty() {
        return Ok(());
    }
    let times = |f: fn(&Row) -> Option<DateTime<Utc>>| col(rows, f);
    sqlx::query(&format!(
        "INSERT INTO conversations ({COLUMNS})
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::uuid[], $8::timestamptz[], $9::jsonb[], $10::text[],
             $11::timestamptz[], $12::int[], $13::uuid[], $14::timestamptz[], $15::timestamptz[],
             $16::timestamptz[], $17::timestamptz[], $18::bigint[], $19::bigint[])
         ON CONFLICT (conversation_id) DO UPDATE SET
             tenant_id = EXCLUDED.tenant_id, status = EXCLUDED.status,
             contact_phone = EXCLUDED.contact_phone, contact_name = EXCLUDED.contact_name,
             contact_search = EXCLUDED.contact_search, contact_key_id = EXCLUDED.contact_key_id,
             contact_seen_at = EXCLUDED.contact_seen_at,
             last_message_preview = EXCLUDED.last_message_preview,
             last_message_direction = EXCLUDED.last_message_direction,
             last_message_at = EXCLUDED.last_message_at,
             unanswered_count = EXCLUDED.unanswered_count,
             assigned_agent = EXCLUDED.assigned_agent, window_ends_at = EXCLUDED.window_ends_at,
             handed_off_at = EXCLUDED.handed_off_at, created_at = EXCLUDED.created_at,
             updated_at = EXCLUDED.updated_at, last_sequence = EXCLUDED.last_sequence,
             last_position = EXCLUDED.last_position"
    ))
    .bind(col(rows, |r| r.conversation_id))
    .bind(col(rows, |r| r.tenant_id))
    .bind(col(rows, |r| r.status.clone()))
    .bind(col(rows, |r| r.contact_phone.clone()))
    .bind(col(rows, |r| r.contact_name.clone()))
    .bind(col(rows, |r| r.contact_search.clone()))
    .bind(col(rows, |r| r.contact_key_id))
    .bind(times(|r| r.contact_seen_at))
    .bind(col::<Option<Value>>(rows, |r| {
        r.last_message_preview.clone()
    }))
    .bind(col(rows, |r| r.last_message_direction.clone()))
    .bind(times(|r| r.last_message_at))
    .bind(col(rows, |r| r.unanswered_count))
    .bind(col(rows, |r| r.assigned_agent))
    .bind(times(|r| r.window_ends_at))
    .bind(times(|r| r.handed_off_at))
    .bind(col(rows, |r| r.created_at))
    .bind(col(rows, |r| r.updated_at))
    .bind(col(rows, |r| r.last_sequence))
    .bind(col(rows, |r| r.last_position))
    .execute(db)
    .await?;
    Ok(())
}

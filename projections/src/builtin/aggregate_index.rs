//! `aggregate_index`: each aggregate's tenant, last sequence and last event.

use chrono::{DateTime, Utc};
use schemas::StoredEvent;
use sqlx::PgConnection;
use std::collections::HashMap;
use stream::handler::{EventHandler, HandlerError};
use uuid::Uuid;

/// Keeps `aggregate_index` up to date.
#[derive(Debug, Clone, Copy)]
pub struct AggregateIndex;

/// One aggregate's row as a batch leaves it.
struct Row<'a> {
    event: &'a StoredEvent,
    tenant_id: Option<Uuid>,
    first_seen_at: DateTime<Utc>,
}

fn tenant_of(event: &StoredEvent) -> Option<Uuid> {
    // Tenant aggregates are their own tenant; others name it in their metadata.
    if event.aggregate_type == "tenant" {
        Uuid::parse_str(&event.aggregate_id).ok()
    } else {
        event
            .metadata
            .get("tenant_id")
            .and_then(|t| Uuid::parse_str(t).ok())
    }
}

#[async_trait::async_trait]
impl EventHandler for AggregateIndex {
    fn name(&self) -> &'static str {
        "aggregate_index"
    }

    fn pace(&self) -> std::time::Duration {
        stream::handler::BACKGROUND_PACE
    }

    fn tables(&self) -> &'static [&'static str] {
        &["aggregate_index"]
    }

    fn rows_per_aggregate(&self) -> bool {
        true
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        self.handle_batch(db, std::slice::from_ref(event)).await
    }

    async fn handle_batch(
        &self,
        db: &mut PgConnection,
        events: &[StoredEvent],
    ) -> Result<(), HandlerError> {
        let events: Vec<&StoredEvent> = events.iter().collect();
        self.handle_picked(db, &events).await
    }

    /// Folds the batch to one row per aggregate, as applying its events one by one would
    /// leave it, and upserts them in one statement: a replay runs at bulk speed.
    async fn handle_picked(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        let mut rows: HashMap<(&str, &str), Row<'_>> = HashMap::new();
        for &event in events {
            let key = (event.aggregate_type.as_str(), event.aggregate_id.as_str());
            let tenant_id = tenant_of(event);
            match rows.get_mut(&key) {
                // Same guard as the upsert: an older sequence never moves the row back.
                Some(row) if row.event.sequence < event.sequence => {
                    row.tenant_id = row.tenant_id.or(tenant_id);
                    row.event = event;
                }
                Some(_) => {}
                None => {
                    rows.insert(
                        key,
                        Row {
                            event,
                            tenant_id,
                            first_seen_at: event.recorded_at,
                        },
                    );
                }
            }
        }
        let n = rows.len();
        let (mut types, mut ids, mut tenants, mut sequences) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut event_types, mut positions, mut firsts, mut updated) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for row in rows.into_values() {
            types.push(row.event.aggregate_type.as_str());
            ids.push(row.event.aggregate_id.as_str());
            tenants.push(row.tenant_id);
            sequences.push(row.event.sequence);
            event_types.push(row.event.event_type.as_str());
            positions.push(row.event.position);
            firsts.push(row.first_seen_at);
            updated.push(row.event.recorded_at);
        }
        // The sequence guard keeps a redelivered older event from moving the row back.
        sqlx::query(
            "INSERT INTO aggregate_index AS a (aggregate_type, aggregate_id, tenant_id, last_sequence,
                 last_event_type, last_position, first_seen_at, updated_at)
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::uuid[], $4::bigint[], $5::text[],
                                  $6::bigint[], $7::timestamptz[], $8::timestamptz[])
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
               SET tenant_id = COALESCE(a.tenant_id, EXCLUDED.tenant_id),
                   last_sequence = EXCLUDED.last_sequence,
                   last_event_type = EXCLUDED.last_event_type,
                   last_position = EXCLUDED.last_position,
                   updated_at = EXCLUDED.updated_at
             WHERE a.last_sequence < EXCLUDED.last_sequence",
        )
        .bind(types)
        .bind(ids)
        .bind(tenants)
        .bind(sequences)
        .bind(event_types)
        .bind(positions)
        .bind(firsts)
        .bind(updated)
        .execute(db)
        .await?;
        Ok(())
    }
}

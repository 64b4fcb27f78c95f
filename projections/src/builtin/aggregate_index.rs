//! `aggregate_index`: each aggregate's tenant, last sequence and last event.

use crate::stream::runner::{EventHandler, HandlerError};
use schemas::StoredEvent;
use sqlx::PgConnection;
use uuid::Uuid;

/// Keeps `aggregate_index` up to date.
#[derive(Debug, Clone, Copy)]
pub struct AggregateIndex;

#[async_trait::async_trait]
impl EventHandler for AggregateIndex {
    fn name(&self) -> &'static str {
        "aggregate_index"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        // Tenant aggregates are their own tenant; others name it in their metadata.
        let tenant_id = if event.aggregate_type == "tenant" {
            Uuid::parse_str(&event.aggregate_id).ok()
        } else {
            event
                .metadata
                .get("tenant_id")
                .and_then(|t| Uuid::parse_str(t).ok())
        };
        // The sequence guard keeps a redelivered older event from moving the row back.
        sqlx::query(
            "INSERT INTO aggregate_index AS a (aggregate_type, aggregate_id, tenant_id, last_sequence,
                 last_event_type, last_position, first_seen_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
             ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
               SET tenant_id = COALESCE(a.tenant_id, EXCLUDED.tenant_id),
                   last_sequence = EXCLUDED.last_sequence,
                   last_event_type = EXCLUDED.last_event_type,
                   last_position = EXCLUDED.last_position,
                   updated_at = EXCLUDED.updated_at
             WHERE a.last_sequence < EXCLUDED.last_sequence",
        )
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(tenant_id)
        .bind(event.sequence)
        .bind(&event.event_type)
        .bind(event.position)
        .bind(event.recorded_at)
        .execute(db)
        .await?;
        Ok(())
    }
}

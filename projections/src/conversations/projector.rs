//! The `conversations` projection: how each conversation event changes the read model.

use super::change::{ConversationChange, CHANNEL};
use super::fields::contact_key_ids;
use super::keys::SubjectKeys;
use super::model::{self, conversation_id, Effects, Row};
use super::store;
use schemas::personal::KeySet;
use schemas::StoredEvent;
use sqlx::PgConnection;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Keeps `conversations`, `conversation_messages` and `conversation_deliveries` up to date
/// and announces every change on [`CHANNEL`].
#[derive(Clone)]
pub struct Conversations {
    keys: Arc<dyn SubjectKeys>,
}

impl std::fmt::Debug for Conversations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conversations").finish_non_exhaustive()
    }
}

impl Conversations {
    /// The projection, opening contact fields with `keys`.
    pub fn new(keys: Arc<dyn SubjectKeys>) -> Self {
        Self { keys }
    }

    async fn keys_for(&self, events: &[&StoredEvent]) -> Result<KeySet, HandlerError> {
        let mut ids = Vec::new();
        for e in events.iter().filter(|e| e.event_type == "MessageReceived") {
            contact_key_ids(e, &mut ids);
        }
        if ids.is_empty() {
            return Ok(KeySet::default());
        }
        ids.sort_unstable();
        ids.dedup();
        self.keys
            .keys(&ids)
            .await
            .map_err(|e| HandlerError::Rejected(e.to_string()))
    }
}

/// Announces the changes when the transaction commits; not from a replay, whose changes
/// the live projection already announced.
async fn announce(db: &mut PgConnection, changes: &[String]) -> Result<(), HandlerError> {
    if changes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n
          WHERE current_schema() NOT LIKE 'replay\\_%'",
    )
    .bind(CHANNEL)
    .bind(changes)
    .execute(db)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl EventHandler for Conversations {
    fn name(&self) -> &'static str {
        "conversations"
    }

    fn pace(&self) -> std::time::Duration {
        stream::handler::LIVE_PACE
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["conversation"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.aggregate_type == "conversation"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "conversations",
            "conversation_messages",
            "conversation_deliveries",
        ]
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

    #[tracing::instrument(name = "projecting events into the conversations", skip_all,
        fields(events = events.len()))]
    async fn handle_picked(
        &self,
        db: &mut PgConnection,
        events: &[&StoredEvent],
    ) -> Result<(), HandlerError> {
        let events: Vec<&StoredEvent> = events
            .iter()
            .copied()
            .filter(|e| e.aggregate_type == "conversation")
            .collect();
        if events.is_empty() {
            return Ok(());
        }
        let keys = self.keys_for(&events).await?;
        let mut ids = events
            .iter()
            .map(|e| conversation_id(e))
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        ids.dedup();
        let mut rows: HashMap<Uuid, Option<Row>> = ids.iter().map(|id| (*id, None)).collect();
        for (id, row) in store::load(db, &ids).await? {
            rows.insert(id, Some(row));
        }
        let mut effects = Effects::default();
        let mut changed = BTreeSet::new();
        let mut changes = Vec::new();
        for e in events {
            let id = conversation_id(e)?;
            let slot = rows.entry(id).or_insert(None);
            if !model::apply(slot, e, &keys, &mut effects)? {
                continue;
            }
            changed.insert(id);
            if let Some(row) = slot {
                let change = ConversationChange {
                    tenant_id: row.tenant_id,
                    conversation_id: id,
                    status: row.status.clone(),
                    updated_at: row.updated_at,
                    position: e.position,
                };
                changes.push(
                    serde_json::to_string(&change)
                        .map_err(|e| HandlerError::Rejected(e.to_string()))?,
                );
            }
        }
        store::write_effects(db, &effects).await?;
        let written: Vec<&Row> = changed
            .iter()
            .filter_map(|id| rows.get(id)?.as_ref())
            .collect();
        store::write_rows(db, &written).await?;
        announce(db, &changes).await
    }
}

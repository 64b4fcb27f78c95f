//! LGPD operations on a WhatsApp contact: export everything held, erase it.

use super::{KeyError, KeyRing, Subject};
use crate::{CommandBus, CommandError};
use aggregates::ConversationCommand;
use schemas::personal::{open_json, sealed_key_ids};
use schemas::{
    conversation_id, AnyEvent, CommandMetadata, ConversationEvent, EventType, StoredEvent,
};
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

/// A privacy operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    /// No conversation exists between this tenant and contact.
    #[error("no data is held about this contact of this tenant")]
    UnknownSubject,
    /// Keys could not be read or destroyed.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// Recording the erasure failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// Reading events failed.
    #[error("reading the subject's events failed")]
    Database(#[from] sqlx::Error),
}

/// One event as exported: personal fields in clear, or `[erased]`.
#[derive(Debug, Serialize)]
pub struct ExportedEvent {
    /// Global position.
    pub position: i64,
    /// Sequence within the conversation.
    pub sequence: i64,
    /// Event type.
    pub event_type: String,
    /// When it was recorded.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// The event, opened.
    pub payload: serde_json::Value,
}

/// Everything held about a contact (LGPD access and portability).
#[derive(Debug, Serialize)]
pub struct SubjectExport {
    /// The tenant.
    pub tenant_id: Uuid,
    /// The conversation that holds the contact's data.
    pub conversation_id: Uuid,
    /// Its events, oldest first.
    pub events: Vec<ExportedEvent>,
}

/// Exports every event about `contact` of `tenant`, personal fields opened.
#[tracing::instrument(name = "exporting a contact's data", skip_all, fields(%tenant))]
pub async fn export_contact(
    pool: &PgPool,
    keys: &KeyRing,
    tenant: Uuid,
    contact: &str,
) -> Result<SubjectExport, PrivacyError> {
    let conversation = conversation_id(tenant, contact);
    let rows: Vec<(
        i64,
        i64,
        String,
        chrono::DateTime<chrono::Utc>,
        serde_json::Value,
    )> = sqlx::query_as(
        "SELECT position, sequence, event_type, recorded_at, payload FROM events
          WHERE aggregate_type = 'conversation' AND aggregate_id = $1 ORDER BY sequence",
    )
    .bind(conversation.to_string())
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Err(PrivacyError::UnknownSubject);
    }
    let mut ids = Vec::new();
    rows.iter().for_each(|r| sealed_key_ids(&r.4, &mut ids));
    ids.sort();
    ids.dedup();
    let opener = keys.keys(&ids).await?;
    let events = rows
        .into_iter()
        .map(
            |(position, sequence, event_type, recorded_at, mut payload)| {
                open_json(&mut payload, &opener);
                ExportedEvent {
                    position,
                    sequence,
                    event_type,
                    recorded_at,
                    payload,
                }
            },
        )
        .collect();
    Ok(SubjectExport {
        tenant_id: tenant,
        conversation_id: conversation,
        events,
    })
}

/// What an erasure did.
#[derive(Debug, Serialize)]
pub struct Erasure {
    /// The conversation whose contact was erased.
    pub conversation_id: Uuid,
    /// How many keys were destroyed.
    pub keys_destroyed: u64,
}

/// Destroys every key of `contact` of `tenant` and records `SubjectErased`.
///
/// The fact is recorded first: if destroying the keys then fails, running the erasure again
/// records it again and finishes the job, and no erasure ever happens unrecorded.
#[tracing::instrument(name = "erasing a contact's personal data", skip_all, fields(%tenant))]
pub async fn erase_contact(
    bus: &CommandBus,
    keys: &KeyRing,
    tenant: Uuid,
    contact: &str,
    reason: &str,
    metadata: &CommandMetadata,
) -> Result<Erasure, PrivacyError> {
    let conversation = conversation_id(tenant, contact);
    let id = conversation.to_string();
    let (_, sequence) = bus.conversations.load(&id).await?;
    if sequence == 0 {
        return Err(PrivacyError::UnknownSubject);
    }
    bus.conversations
        .execute(
            &id,
            ConversationCommand::EraseSubject {
                reason: reason.to_owned(),
            },
            metadata,
        )
        .await?;
    let keys_destroyed = keys
        .destroy_subject(&Subject::contact(&id, Some(tenant)).id)
        .await?;
    tracing::info!(keys_destroyed, "contact erased");
    Ok(Erasure {
        conversation_id: conversation,
        keys_destroyed,
    })
}

/// One recorded erasure, as the admins' privacy page lists it. The contact's number is
/// gone with their keys: the conversation id is what identifies it.
#[derive(Debug, Clone, Serialize)]
pub struct ErasureRecord {
    /// The `SubjectErased` event's position in the log.
    pub position: i64,
    /// The tenant.
    pub tenant_id: Option<Uuid>,
    /// The conversation whose contact was erased.
    pub conversation_id: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Who asked (an admin's user id).
    pub actor_id: String,
    /// The HTTP request it came from.
    pub request_id: Uuid,
}

#[derive(sqlx::FromRow)]
struct ErasureRow {
    position: i64,
    tx_id: i64,
    recorded_at: chrono::DateTime<chrono::Utc>,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: serde_json::Value,
    metadata: serde_json::Value,
}

/// Up to `limit` erasures recorded before position `before` (all when `None`), newest first.
#[tracing::instrument(name = "listing recorded erasures", skip(pool))]
pub async fn erasures(
    pool: &PgPool,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ErasureRecord>, PrivacyError> {
    let rows: Vec<ErasureRow> = sqlx::query_as(
        "SELECT position, tx_id::text::bigint AS tx_id, recorded_at, aggregate_type, aggregate_id,
                sequence, event_type, event_version, payload, metadata
           FROM events
          WHERE event_type = $1 AND ($2::bigint IS NULL OR position < $2)
          ORDER BY position DESC LIMIT $3",
    )
    .bind(EventType::SubjectErased.as_str())
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let metadata: std::collections::HashMap<String, String> =
            serde_json::from_value(row.metadata).unwrap_or_default();
        let event = StoredEvent {
            position: row.position,
            tx_id: row.tx_id,
            recorded_at: row.recorded_at,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            event_type: row.event_type,
            event_version: row.event_version,
            payload: row.payload,
            metadata,
        };
        let Ok(AnyEvent::Conversation(ConversationEvent::SubjectErased { reason, at })) =
            event.decode()
        else {
            tracing::warn!(
                position = event.position,
                "an erasure event does not decode"
            );
            continue;
        };
        let md = CommandMetadata::from_map(&event.metadata).ok();
        out.push(ErasureRecord {
            position: event.position,
            tenant_id: md.as_ref().and_then(|m| m.tenant_id),
            conversation_id: event.aggregate_id,
            reason,
            at,
            actor_id: md.as_ref().map(|m| m.actor.id.clone()).unwrap_or_default(),
            request_id: md.map(|m| m.request_id).unwrap_or_default(),
        });
    }
    Ok(out)
}

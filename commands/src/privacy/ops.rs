//! LGPD operations on a WhatsApp contact: export everything held, erase it.

use super::{KeyError, KeyRing, Subject};
use crate::{CommandBus, CommandError};
use aggregates::ConversationCommand;
use schemas::personal::{open_json, sealed_key_ids};
use schemas::{conversation_id, CommandMetadata};
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

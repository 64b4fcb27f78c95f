//! The `knowledge_indexer` worker: indexes each `KnowledgeReplaced` version.

use super::KnowledgeBase;
use schemas::StoredEvent;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Consumer name of the indexer (its checkpoint).
pub const INDEXER: &str = "knowledge_indexer";

/// Chunks, embeds and indexes every new knowledge version, dropping the tenant's older one.
/// The version check in [`KnowledgeBase::index_version`] makes a redelivery, a restart
/// before the checkpoint, or a replay harmless.
#[derive(Debug, Clone)]
pub struct KnowledgeIndexer {
    base: KnowledgeBase,
}

impl KnowledgeIndexer {
    /// An indexer into `base`.
    pub fn new(base: KnowledgeBase) -> Self {
        Self { base }
    }
}

#[async_trait::async_trait]
impl EventHandler for KnowledgeIndexer {
    fn name(&self) -> &'static str {
        INDEXER
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.event_type == "KnowledgeReplaced"
    }

    // A tenant's knowledge is part of the tenant aggregate.
    fn aggregate_types(&self) -> &'static [&'static str] {
        &["tenant"]
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.event_type != "KnowledgeReplaced" {
            return Ok(());
        }
        let body = event.payload.get("KnowledgeReplaced");
        let version = body
            .and_then(|b| b.get("version"))
            .and_then(serde_json::Value::as_u64)
            .and_then(|v| u32::try_from(v).ok());
        let text = body
            .and_then(|b| b.get("text"))
            .and_then(serde_json::Value::as_str);
        let (Some(version), Some(text), Ok(tenant)) =
            (version, text, Uuid::parse_str(&event.aggregate_id))
        else {
            return Err(HandlerError::Rejected(
                "KnowledgeReplaced without a version, a text or a tenant id".into(),
            ));
        };
        self.base
            .index_version(db, tenant, version, text)
            .await
            .map(|_| ())
            .map_err(|e| HandlerError::Rejected(e.to_string()))
    }
}

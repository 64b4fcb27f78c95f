//! The `knowledge` read model: each tenant's current knowledge text (F10), as
//! `GET /api/v1/knowledge` shows it.

use schemas::StoredEvent;
use sqlx::PgConnection;
use stream::{EventHandler, HandlerError};
use uuid::Uuid;

/// Keeps `knowledge_documents` up to date.
#[derive(Debug, Clone, Copy)]
pub struct KnowledgeDocuments;

#[async_trait::async_trait]
impl EventHandler for KnowledgeDocuments {
    fn name(&self) -> &'static str {
        "knowledge"
    }

    fn aggregate_types(&self) -> &'static [&'static str] {
        &["tenant"]
    }

    fn wants(&self, event: &StoredEvent) -> bool {
        event.event_type == "KnowledgeReplaced"
    }

    async fn handle(&self, db: &mut PgConnection, event: &StoredEvent) -> Result<(), HandlerError> {
        if event.event_type != "KnowledgeReplaced" {
            return Ok(());
        }
        let body = event.payload.get("KnowledgeReplaced");
        let int = |name: &str| {
            body.and_then(|b| b.get(name))
                .and_then(serde_json::Value::as_i64)
                .and_then(|v| i32::try_from(v).ok())
        };
        let text = body
            .and_then(|b| b.get("text"))
            .and_then(serde_json::Value::as_str);
        let (Some(version), Some(char_count), Some(text), Ok(tenant)) = (
            int("version"),
            int("char_count"),
            text,
            Uuid::parse_str(&event.aggregate_id),
        ) else {
            return Err(HandlerError::Rejected(
                "KnowledgeReplaced without a version, a count, a text or a tenant id".into(),
            ));
        };
        // Only forward: a redelivered older version changes nothing.
        sqlx::query(
            "INSERT INTO knowledge_documents (tenant_id, version, text, char_count, replaced_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id) DO UPDATE
                SET version = EXCLUDED.version, text = EXCLUDED.text,
                    char_count = EXCLUDED.char_count, replaced_at = EXCLUDED.replaced_at
              WHERE knowledge_documents.version < EXCLUDED.version",
        )
        .bind(tenant)
        .bind(version)
        .bind(text)
        .bind(char_count)
        .bind(event.recorded_at)
        .execute(db)
        .await?;
        Ok(())
    }

    fn tables(&self) -> &'static [&'static str] {
        &["knowledge_documents"]
    }
}

//! The response cache (F14): the same question over the same knowledge and passages gets
//! the same answer without a model call, for 7 days.
//!
//! Keyed by SHA-256 of tenant ‖ knowledge version ‖ normalized question ‖ context hash,
//! where the context hash is SHA-256 of the passages' ids and texts in order, so a changed
//! knowledge text, or a different retrieval, never serves an old answer.

use chrono::{DateTime, Duration, Utc};
use knowledge::RetrievedChunk;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// A cached answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedAnswer {
    /// The answer's text.
    pub answer: String,
    /// The model that wrote it.
    pub model: String,
    /// The passages it came from.
    pub sources: Vec<String>,
}

fn field(h: &mut Sha256, bytes: &[u8]) {
    // Length-prefixed, so no two different field lists hash alike.
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// The cache key of `normalized_question` asked of `tenant`'s knowledge `version` with
/// `chunks` as context.
pub fn cache_key(
    tenant: Uuid,
    version: u32,
    normalized_question: &str,
    chunks: &[RetrievedChunk],
) -> String {
    let mut context = Sha256::new();
    for c in chunks {
        field(&mut context, c.chunk_id.as_bytes());
        field(&mut context, c.text.as_bytes());
    }
    let mut key = Sha256::new();
    field(&mut key, tenant.as_bytes());
    field(&mut key, &version.to_be_bytes());
    field(&mut key, normalized_question.as_bytes());
    field(&mut key, &context.finalize());
    hex::encode(key.finalize())
}

/// The live answer under `key`, counting the hit.
pub async fn lookup(
    pool: &PgPool,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<CachedAnswer>, sqlx::Error> {
    let row: Option<(String, String, serde_json::Value)> = sqlx::query_as(
        "UPDATE ai_response_cache SET hits = hits + 1, last_hit_at = $2
          WHERE cache_key = $1 AND expires_at > $2
          RETURNING answer, model, sources",
    )
    .bind(key)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(answer, model, sources)| CachedAnswer {
        answer,
        model,
        sources: serde_json::from_value(sources).unwrap_or_default(),
    }))
}

/// What to store under a key.
#[derive(Debug)]
pub struct NewEntry<'a> {
    /// The key ([`cache_key`]).
    pub key: &'a str,
    /// The tenant.
    pub tenant: Uuid,
    /// The knowledge version answered from.
    pub version: u32,
    /// The answer and where it came from.
    pub answer: &'a CachedAnswer,
    /// The confidence it was given with.
    pub confidence: f64,
}

/// Stores an answer for `ttl`, replacing an expired one, and drops the tenant's expired
/// entries.
pub async fn store(
    pool: &PgPool,
    entry: &NewEntry<'_>,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ai_response_cache (cache_key, tenant_id, knowledge_version, answer, model,
             sources, confidence, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (cache_key) DO UPDATE SET answer = EXCLUDED.answer,
             model = EXCLUDED.model, sources = EXCLUDED.sources,
             confidence = EXCLUDED.confidence, created_at = EXCLUDED.created_at,
             expires_at = EXCLUDED.expires_at, hits = 0, last_hit_at = NULL
         WHERE ai_response_cache.expires_at <= EXCLUDED.created_at",
    )
    .bind(entry.key)
    .bind(entry.tenant)
    .bind(i32::try_from(entry.version).unwrap_or(i32::MAX))
    .bind(&entry.answer.answer)
    .bind(&entry.answer.model)
    .bind(serde_json::json!(entry.answer.sources))
    .bind(entry.confidence)
    .bind(now)
    .bind(now + ttl)
    .execute(pool)
    .await?;
    sqlx::query("DELETE FROM ai_response_cache WHERE tenant_id = $1 AND expires_at <= $2")
        .bind(entry.tenant)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(id: &str, text: &str) -> RetrievedChunk {
        RetrievedChunk {
            chunk_id: id.into(),
            knowledge_version: 1,
            text: text.into(),
            score: 0.9,
        }
    }

    #[test]
    fn the_key_changes_with_the_knowledge_version_the_question_and_the_context() {
        let t = Uuid::from_u128(1);
        let c = [chunk("a", "Abrimos às 8h.")];
        let base = cache_key(t, 1, "que horas abre", &c);
        assert_eq!(base, cache_key(t, 1, "que horas abre", &c));
        assert_ne!(base, cache_key(t, 2, "que horas abre", &c));
        assert_ne!(base, cache_key(t, 1, "que horas fecha", &c));
        assert_ne!(
            base,
            cache_key(t, 1, "que horas abre", &[chunk("a", "Abrimos às 9h.")])
        );
        assert_ne!(base, cache_key(Uuid::from_u128(2), 1, "que horas abre", &c));
    }
}

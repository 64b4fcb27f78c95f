//! The in-process exact index: vectors kept in PostgreSQL (`knowledge_chunks`), searched in
//! memory by comparing the query with every chunk of the tenant's version.
//!
//! A tenant has at most ~80 chunks (50,000 characters, 640 new ones per chunk), so an exact
//! scan is cheap; a tenant's vectors are cached after the first search of a version.

use super::{chunk_id, EmbeddedChunk, VectorIndex};
use crate::{cosine, pg_int, KnowledgeError, RetrievedChunk};
use quick_cache::sync::Cache;
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use uuid::Uuid;

/// Tenants whose vectors stay in memory at once.
const CACHED_TENANTS: usize = 256;

type Loaded = Arc<Vec<(i32, String, Vec<f32>)>>;

/// The in-process index.
pub struct MemoryIndex {
    pool: PgPool,
    cache: Cache<(Uuid, u32), Loaded>,
}

impl std::fmt::Debug for MemoryIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryIndex")
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

impl MemoryIndex {
    /// An index over `pool`'s `knowledge_chunks`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            cache: Cache::new(CACHED_TENANTS),
        }
    }

    async fn load(&self, tenant_id: Uuid, version: u32) -> Result<Loaded, KnowledgeError> {
        if let Some(hit) = self.cache.get(&(tenant_id, version)) {
            return Ok(hit);
        }
        let rows: Vec<(i32, String, Vec<f32>)> = sqlx::query_as(
            "SELECT position, text, embedding FROM knowledge_chunks
              WHERE tenant_id = $1 AND version = $2 ORDER BY position",
        )
        .bind(tenant_id)
        .bind(pg_int(version))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| KnowledgeError::Index(e.to_string()))?;
        let loaded = Arc::new(rows);
        self.cache.insert((tenant_id, version), loaded.clone());
        Ok(loaded)
    }
}

#[async_trait::async_trait]
impl VectorIndex for MemoryIndex {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn replace(
        &self,
        db: &mut PgConnection,
        tenant_id: Uuid,
        version: u32,
        chunks: &[EmbeddedChunk],
    ) -> Result<(), KnowledgeError> {
        let err = |e: sqlx::Error| KnowledgeError::Index(e.to_string());
        sqlx::query("DELETE FROM knowledge_chunks WHERE tenant_id = $1")
            .bind(tenant_id)
            .execute(&mut *db)
            .await
            .map_err(err)?;
        for c in chunks {
            sqlx::query(
                "INSERT INTO knowledge_chunks (tenant_id, version, position, text, embedding)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(tenant_id)
            .bind(pg_int(version))
            .bind(pg_int(c.position))
            .bind(&c.text)
            .bind(&c.vector)
            .execute(&mut *db)
            .await
            .map_err(err)?;
        }
        // The same version may be re-embedded (another embedder): forget what was cached.
        self.cache.remove(&(tenant_id, version));
        Ok(())
    }

    async fn search(
        &self,
        tenant_id: Uuid,
        version: u32,
        vector: &[f32],
        k: usize,
    ) -> Result<Vec<RetrievedChunk>, KnowledgeError> {
        let chunks = self.load(tenant_id, version).await?;
        let mut scored: Vec<RetrievedChunk> = chunks
            .iter()
            .map(|(position, text, v)| RetrievedChunk {
                chunk_id: chunk_id(tenant_id, version, u32::try_from(*position).unwrap_or(0)),
                knowledge_version: version,
                text: text.clone(),
                score: cosine(vector, v),
            })
            .collect();
        scored.sort_by(|a, b| b.score.total_cmp(&a.score));
        scored.truncate(k);
        Ok(scored)
    }
}
